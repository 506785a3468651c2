-- Named queries of the demo driver (xbot_core/demo/driver.py): where the simulated plan stands.

-- name: demo_plan_start
-- Day 1 of the plan: the day of the demo account's first decision (days 1-2 run no experiment).
SELECT min(scheduled_at) FROM content_metadata WHERE account_id = %(account_id)s;

-- name: demo_next_queued
-- When the posting step next has work: a queued post comes due, or a claim's lease runs out (reconcile).
SELECT min(CASE status WHEN 'queued' THEN scheduled_at ELSE lease_expires_at END) FROM content_metadata
 WHERE account_id = %(account_id)s AND generation_source = 'real'
   AND (status = 'queued' OR (status = 'posting' AND lease_expires_at IS NOT NULL));

-- name: demo_next_pass_due
SELECT min(due) FROM (
    SELECT p.posted_at + interval '1 hour' AS due FROM posted_decisions p
     WHERE p.account_id = %(account_id)s
       AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.decision_id = p.decision_id AND o.collected_pass = 1)
    UNION ALL
    SELECT p.posted_at + interval '24 hours' FROM posted_decisions p
     WHERE p.account_id = %(account_id)s
       AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.decision_id = p.decision_id AND o.collected_pass = 2)
) AS d;

-- name: demo_decisions_between
SELECT count(*) FROM content_metadata
 WHERE account_id = %(account_id)s AND scheduled_at >= %(start)s AND scheduled_at < %(end)s;

-- name: demo_last_posted_at
SELECT max(posted_at) FROM posted_decisions WHERE account_id = %(account_id)s;

-- name: demo_summary
SELECT (SELECT count(*) FROM content_metadata WHERE account_id = %(account_id)s) AS decisions,
       (SELECT count(*) FROM content_metadata WHERE account_id = %(account_id)s AND status = 'queued') AS queued,
       (SELECT count(*) FROM content_metadata WHERE account_id = %(account_id)s AND status = 'skipped') AS skipped,
       (SELECT count(*) FROM content_metadata WHERE account_id = %(account_id)s AND status = 'failed') AS failed,
       (SELECT count(*) FROM posted_decisions WHERE account_id = %(account_id)s) AS posted,
       (SELECT count(*) FROM outcomes WHERE account_id = %(account_id)s AND collected_pass = 1) AS pass1,
       (SELECT count(*) FROM outcomes WHERE account_id = %(account_id)s AND collected_pass = 2) AS pass2,
       (SELECT count(*) FROM training_runs WHERE account_id = %(account_id)s AND status = 'trained') AS trainings,
       (SELECT max(followers) - min(followers) FROM follower_snapshots
         WHERE account_id = %(account_id)s) AS follower_growth;

-- name: demo_fingerprint
-- What a run decided and measured, per table, as md5 digests of its rows in a fixed order (no generated ids,
-- no wall-clock columns, post URLs without the sandbox's host and port): two runs with the same seed must give
-- the same digests.
SELECT
  (SELECT md5(coalesce(string_agg(concat_ws(',', c.decision_id, c.content, c.content_hash, c.status,
                                            c.skip_reason, c.simulated, c.scheduled_at, c.content_type,
                                            c.hook_pattern, c.timing_slot, c.policy, c.p_content_type,
                                            c.p_hook_pattern, c.p_timing_slot, c.propensity, e.name,
                                            c.novelty, c.dup_penalty, c.readability_score, c.sentiment),
                                  '|' ORDER BY c.decision_id), ''))
     FROM content_metadata c LEFT JOIN experiments e USING (experiment_id)
    WHERE c.account_id = %(account_id)s) AS decisions,
  (SELECT md5(coalesce(string_agg(concat_ws(',', e.name, a.decision_id, a.variant, a.arm, a.probability),
                                  '|' ORDER BY e.name, a.decision_id), ''))
     FROM experiment_assignments a JOIN experiments e USING (experiment_id)
    WHERE e.account_id = %(account_id)s) AS assignments,
  (SELECT md5(coalesce(string_agg(concat_ws(',', decision_id, tweet_id, regexp_replace(post_url, '^[a-z]+://[^/]*', ''),
                                            posted_at, reconciled),
                                  '|' ORDER BY decision_id), ''))
     FROM posted_decisions WHERE account_id = %(account_id)s) AS posted,
  (SELECT md5(coalesce(string_agg(concat_ws(',', decision_id, collected_pass, status, unavailable_reason,
                                            due_at, collected_at, impressions, likes, retweets, replies, quotes,
                                            bookmarks, profile_visits, link_clicks, follows, follows_source,
                                            follows_confidence, er, fpki, retweet_rate, reply_rate,
                                            reward_composite, reward_version, simulated),
                                  '|' ORDER BY decision_id, collected_pass), ''))
     FROM outcomes WHERE account_id = %(account_id)s) AS outcomes,
  (SELECT md5(coalesce(string_agg(concat_ws(',', taken_at, followers, source, simulated),
                                  '|' ORDER BY taken_at), ''))
     FROM follower_snapshots WHERE account_id = %(account_id)s) AS snapshots,
  (SELECT md5(coalesce(string_agg(concat_ws(',', simulated, scope, arm, alpha, beta, successes, failures,
                                            pulls, sum_reward, provisional, reward_version),
                                  '|' ORDER BY simulated, scope, arm), ''))
     FROM bandit_arms WHERE account_id = %(account_id)s) AS bandit,
  (SELECT md5(coalesce(string_agg(concat_ws(',', simulated, status, reward_version, outcomes_used,
                                            arms_trained, explore_ratio, message, ran_at),
                                  '|' ORDER BY ran_at, run_id), ''))
     FROM training_runs WHERE account_id = %(account_id)s) AS learning;

-- name: demo_reset_outcomes
DELETE FROM outcomes WHERE account_id = %(account_id)s;

-- name: demo_reset_posted
DELETE FROM posted_decisions WHERE account_id = %(account_id)s;

-- name: demo_reset_assignments
DELETE FROM experiment_assignments a USING experiments e
 WHERE a.experiment_id = e.experiment_id AND e.account_id = %(account_id)s;

-- name: demo_reset_decisions
DELETE FROM content_metadata WHERE account_id = %(account_id)s;

-- name: demo_reset_experiments
DELETE FROM experiments WHERE account_id = %(account_id)s;

-- name: demo_reset_learning
DELETE FROM bandit_arms WHERE account_id = %(account_id)s;

-- name: demo_reset_training
DELETE FROM training_runs WHERE account_id = %(account_id)s;

-- name: demo_reset_snapshots
DELETE FROM follower_snapshots WHERE account_id = %(account_id)s;

-- name: demo_reset_llm_usage
-- LLM usage is per workspace; the demo's rows are those of its virtual days.
DELETE FROM llm_usage WHERE budget_day >= %(start)s AND budget_day < %(end)s;

-- name: demo_reset_llm_days
DELETE FROM llm_budget_days WHERE budget_day >= %(start)s AND budget_day < %(end)s;

-- Named queries of learning: reward versions, the learner, bandit arms, training runs, planning, experiments.

-- name: reward_versions_all
SELECT version, w_fpki, w_retweet, w_reply, w_novelty, w_dup_penalty, scale_fpki, scale_retweet, scale_reply,
       exposure_cap, created_at, note, is_active
  FROM reward_versions
 ORDER BY version;

-- name: reward_version_lock
-- Serialise version creation/activation across processes (released at commit).
SELECT pg_advisory_xact_lock(hashtext('xbot.reward_versions'));

-- name: reward_version_next
SELECT coalesce(max(version), 0) + 1 AS version FROM reward_versions;

-- name: reward_version_insert
INSERT INTO reward_versions (version, w_fpki, w_retweet, w_reply, w_novelty, w_dup_penalty,
                             scale_fpki, scale_retweet, scale_reply, exposure_cap, is_active, note)
VALUES (%(version)s, %(w_fpki)s, %(w_retweet)s, %(w_reply)s, %(w_novelty)s, %(w_dup_penalty)s,
        %(scale_fpki)s, %(scale_retweet)s, %(scale_reply)s, %(exposure_cap)s, false, %(note)s)
ON CONFLICT (version) DO NOTHING
RETURNING created_at;

-- name: reward_version_deactivate_all
UPDATE reward_versions SET is_active = false WHERE is_active AND version <> %(version)s;

-- name: reward_version_activate
UPDATE reward_versions SET is_active = true WHERE version = %(version)s;

-- name: learning_outcomes
-- Every collected (status ok) outcome of the account of one kind (real or simulated), with the decision's
-- arms and content features; both passes, so the learner can keep the latest and stamp rewards on all.
SELECT o.decision_id, o.collected_pass, o.collected_at, o.impressions, o.follows, o.retweets, o.replies,
       c.novelty, c.dup_penalty, c.content_type, c.hook_pattern, c.timing_slot
  FROM outcomes o
  JOIN content_metadata c USING (decision_id)
 WHERE o.account_id = %(account_id)s
   AND o.simulated = %(simulated)s
   AND c.simulated = %(simulated)s
   AND o.status = 'ok'
 ORDER BY o.collected_at, o.decision_id, o.collected_pass;

-- name: outcome_set_rewards
-- Stamp recomputed rewards on many outcome rows in one statement (NULL reward → NULL version).
UPDATE outcomes o
   SET reward_composite = u.reward, reward_version = u.version, updated_at = now()
  FROM unnest(%(decision_ids)s::uuid[], %(passes)s::smallint[], %(rewards)s::double precision[],
              %(versions)s::integer[]) AS u (decision_id, collected_pass, reward, version)
 WHERE o.decision_id = u.decision_id AND o.collected_pass = u.collected_pass
   AND (o.reward_composite IS DISTINCT FROM u.reward OR o.reward_version IS DISTINCT FROM u.version);

-- name: bandit_arms_delete
DELETE FROM bandit_arms WHERE account_id = %(account_id)s AND simulated = %(simulated)s;

-- name: bandit_arm_insert
INSERT INTO bandit_arms (account_id, scope, arm, simulated, alpha, beta, successes, failures, pulls,
                         sum_reward, provisional, reward_version, updated_at)
VALUES (%(account_id)s, %(scope)s, %(arm)s, %(simulated)s, %(alpha)s, %(beta)s, %(successes)s, %(failures)s,
        %(pulls)s, %(sum_reward)s, %(provisional)s, %(reward_version)s, %(updated_at)s);

-- name: bandit_arms_for_account
SELECT scope, arm, alpha, beta, successes, failures, pulls, sum_reward, provisional
  FROM bandit_arms
 WHERE account_id = %(account_id)s AND simulated = %(simulated)s
 ORDER BY scope, arm;

-- name: training_run_insert
INSERT INTO training_runs (account_id, simulated, status, reward_version, outcomes_used, arms_trained,
                           explore_ratio, message, ran_at, outcomes_incomplete, drift)
VALUES (%(account_id)s, %(simulated)s, %(status)s, %(reward_version)s, %(outcomes_used)s, %(arms_trained)s,
        %(explore_ratio)s, %(message)s, %(ran_at)s, %(outcomes_incomplete)s, %(drift)s)
RETURNING run_id;

-- name: account_timezone
SELECT timezone FROM accounts WHERE account_id = %(account_id)s;

-- name: experiment_insert
-- An experiment window (planning, the simulated history); status NULL: a new row is 'planned' and a stored
-- one keeps its status, a given status is set on either. Returns the row's id.
INSERT INTO experiments (account_id, name, scope, treatment_arm, share, starts_at, ends_at, status)
VALUES (%(account_id)s, %(name)s, %(scope)s, %(treatment_arm)s, %(share)s, %(starts_at)s, %(ends_at)s,
        COALESCE(%(status)s::text, 'planned'))
ON CONFLICT (account_id, name, starts_at) DO UPDATE
   SET status = COALESCE(%(status)s::text, experiments.status)
RETURNING experiment_id;

-- name: experiments_for_account
SELECT experiment_id, name, scope, treatment_arm, share, starts_at, ends_at
  FROM experiments
 WHERE account_id = %(account_id)s
 ORDER BY starts_at, experiment_id;

-- name: experiments_active
-- Experiments running at a moment (stopped or rolled-back ones no longer assign).
SELECT experiment_id, name, scope, treatment_arm, share, starts_at, ends_at
  FROM experiments
 WHERE account_id = %(account_id)s
   AND starts_at <= %(now)s AND ends_at > %(now)s
   AND status IN ('planned', 'running')
 ORDER BY starts_at, experiment_id;

-- name: experiment_by_id
SELECT experiment_id, name, scope, treatment_arm, share, starts_at, ends_at
  FROM experiments
 WHERE experiment_id = %(experiment_id)s;

-- name: experiments_advance_status
-- planned → running while the window is open → analysing once it closed; decided states are left alone.
UPDATE experiments
   SET status = CASE WHEN %(now)s::timestamptz >= ends_at THEN 'analysing' ELSE 'running' END
 WHERE account_id = %(account_id)s
   AND status IN ('planned', 'running')
   AND starts_at <= %(now)s::timestamptz
   AND status IS DISTINCT FROM CASE WHEN %(now)s::timestamptz >= ends_at THEN 'analysing' ELSE 'running' END;

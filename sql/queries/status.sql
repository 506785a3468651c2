-- Read queries of the observability API (xbot_core/services/read/status.py). Read-only, computed at request time;
-- each endpoint runs one or two of these, never one per post. The account is resolved by handle (no row → the
-- empty figures). Metrics follow DESIGN.md: NULL when impressions is 0 or unknown, latest ok pass per decision.

-- name: status_arms
-- Every persisted bandit arm of the account and dataset (real or simulated).
SELECT b.scope, b.arm, b.alpha, b.beta, b.successes, b.failures, b.pulls, b.sum_reward, b.updated_at
  FROM bandit_arms b
  JOIN accounts a ON a.account_id = b.account_id
 WHERE a.handle = %(handle)s AND b.simulated = %(simulated)s
 ORDER BY b.scope, b.arm;

-- name: status_learning_summary
-- Latest training run, latest trained run's reward version and drift alarm, outcome counts and today's LLM
-- budget row.
WITH acct AS (SELECT account_id FROM accounts WHERE handle = %(handle)s),
latest_run AS (
    SELECT r.run_id, r.status, r.reward_version, r.outcomes_used, r.arms_trained, r.explore_ratio, r.message,
           r.ran_at
      FROM training_runs r
     WHERE r.account_id = (SELECT account_id FROM acct) AND r.simulated = %(simulated)s
     ORDER BY r.ran_at DESC, r.run_id DESC
     LIMIT 1),
counted AS (
    SELECT count(DISTINCT o.decision_id) AS total,
           count(DISTINCT o.decision_id) FILTER (WHERE NOT o.simulated) AS real,
           count(*) FILTER (WHERE o.simulated = %(simulated)s) AS passes,
           count(*) FILTER (WHERE o.simulated = %(simulated)s AND NOT o.complete) AS incomplete
      FROM outcomes o
     WHERE o.account_id = (SELECT account_id FROM acct) AND o.status = 'ok'),
latest_trained AS (
    SELECT r.run_id, r.reward_version, r.drift
      FROM training_runs r
     WHERE r.account_id = (SELECT account_id FROM acct) AND r.simulated = %(simulated)s
       AND r.status = 'trained'
     ORDER BY r.ran_at DESC, r.run_id DESC
     LIMIT 1)
SELECT (SELECT to_jsonb(latest_run) FROM latest_run) AS last_run,
       (SELECT reward_version FROM latest_trained) AS trained_reward_version,
       (SELECT run_id FROM latest_trained) AS trained_run_id,
       (SELECT drift FROM latest_trained) AS trained_drift,
       (SELECT version FROM reward_versions WHERE is_active) AS active_reward_version,
       counted.total, counted.real, counted.passes, counted.incomplete,
       d.limit_usd, d.used_usd, d.reserved_usd, d.circuit_open
  FROM counted
  LEFT JOIN llm_budget_days d ON d.budget_day = %(budget_day)s;

-- name: status_growth
-- Growth figures at as_of: follower deltas from snapshots, 7-day figures over posts published in
-- (as_of - 7 days, as_of] with their mature outcome (the ok T+24h pass, collected by as_of; a post without one
-- counts in total_posts_7d and maturing_posts_7d, never in a rate), the previous 7 days for the reply uplift,
-- and the top posts by follows as a JSON array. The rates are pooled in xbot_core.domain.metrics from the
-- mature posts' counts (mature_posts: both weeks, flagged this_week), never averaged here. One statement.
WITH acct AS (
    SELECT account_id, timezone FROM accounts WHERE handle = %(handle)s),
bounds AS (
    SELECT a.account_id,
           %(as_of)s::timestamptz AS as_of,
           (date_trunc('day', %(as_of)s::timestamptz AT TIME ZONE a.timezone)) AT TIME ZONE a.timezone
               AS day_start,
           %(as_of)s::timestamptz - interval '7 days' AS week_start,
           %(as_of)s::timestamptz - interval '14 days' AS prev_start
      FROM acct a),
posts AS (
    SELECT p.tweet_id, p.posted_at, c.content, c.novelty, o.impressions, o.likes, o.retweets, o.replies,
           o.follows, o.reward_composite,
           p.posted_at > b.week_start AS this_week,
           CASE WHEN o.impressions > 0
                THEN (o.likes + o.retweets + o.replies)::double precision / o.impressions END AS er,
           CASE WHEN o.impressions > 0 THEN 1000.0 * o.follows / o.impressions END AS fpki,
           o.found IS NOT NULL AS mature,
           EXISTS (SELECT 1 FROM outcomes y
                    WHERE y.decision_id = p.decision_id AND y.collected_pass = 2 AND y.collected_at <= b.as_of
                      AND y.simulated = %(simulated)s) AS pass2_stored
      FROM bounds b
      JOIN posted_decisions p
        ON p.account_id = b.account_id AND p.posted_at > b.prev_start AND p.posted_at <= b.as_of
      JOIN content_metadata c ON c.decision_id = p.decision_id AND c.simulated = %(simulated)s
      LEFT JOIN LATERAL (
            SELECT true AS found, x.impressions, x.likes, x.retweets, x.replies, x.follows, x.reward_composite
              FROM outcomes x
             WHERE x.decision_id = p.decision_id AND x.status = 'ok' AND x.collected_at <= b.as_of
               AND x.simulated = %(simulated)s AND x.collected_pass = 2) o ON true),
snaps AS (
    SELECT (SELECT s.followers FROM follower_snapshots s
             WHERE s.account_id = b.account_id AND s.simulated = %(simulated)s AND s.taken_at <= b.as_of
             ORDER BY s.taken_at DESC LIMIT 1) AS latest,
           (SELECT s.followers FROM follower_snapshots s
             WHERE s.account_id = b.account_id AND s.simulated = %(simulated)s AND s.taken_at <= b.day_start
             ORDER BY s.taken_at DESC LIMIT 1) AS at_day_start,
           (SELECT s.followers FROM follower_snapshots s
             WHERE s.account_id = b.account_id AND s.simulated = %(simulated)s AND s.taken_at <= b.week_start
             ORDER BY s.taken_at DESC LIMIT 1) AS at_week_start
      FROM bounds b),
agg AS (
    SELECT count(*) FILTER (WHERE this_week) AS total_posts_7d,
           count(*) FILTER (WHERE this_week AND mature) AS mature_posts_7d,
           count(*) FILTER (WHERE this_week AND NOT pass2_stored) AS maturing_posts_7d,
           sum(impressions) FILTER (WHERE this_week) AS total_impressions_7d,
           avg(reward_composite) FILTER (WHERE this_week) AS avg_reward_7d,
           avg(novelty) FILTER (WHERE this_week) AS novelty_avg_7d,
           coalesce(jsonb_agg(jsonb_build_object('this_week', this_week, 'impressions', impressions,
                                                 'likes', likes, 'retweets', retweets, 'replies', replies,
                                                 'follows', follows)) FILTER (WHERE mature), '[]'::jsonb)
               AS mature_posts
      FROM posts)
SELECT snaps.latest - snaps.at_day_start AS followers_today,
       snaps.latest - snaps.at_week_start AS followers_7d,
       agg.*,
       (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.follows DESC, t.impressions DESC NULLS LAST, t.tweet_id),
                        '[]'::jsonb)
          FROM (SELECT tweet_id, content, follows, impressions, fpki, er, reward_composite
                  FROM posts
                 WHERE this_week AND follows IS NOT NULL
                 ORDER BY follows DESC, impressions DESC NULLS LAST, tweet_id
                 LIMIT %(limit)s) t) AS top_posts
  FROM agg
  LEFT JOIN snaps ON true;

-- name: status_ops
-- Operational counters of the account and dataset, plus the workspace's LLM calls of one budget day.
WITH acct AS (SELECT account_id FROM accounts WHERE handle = %(handle)s),
cm AS (
    SELECT status, skip_reason, last_error
      FROM content_metadata
     WHERE account_id = (SELECT account_id FROM acct) AND simulated = %(simulated)s),
usage AS (
    SELECT status, cost_usd, prompt_tokens, completion_tokens
      FROM llm_usage
     WHERE budget_day = %(budget_day)s)
SELECT
    (SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb)
       FROM (SELECT status, count(*) AS n FROM cm GROUP BY status) s) AS posts,
    (SELECT coalesce(jsonb_object_agg(skip_reason, n), '{}'::jsonb)
       FROM (SELECT skip_reason, count(*) AS n FROM cm WHERE status = 'skipped' GROUP BY skip_reason) s)
        AS skip_reasons,
    (SELECT coalesce(jsonb_agg(jsonb_build_object('error', last_error, 'count', n) ORDER BY n DESC, last_error),
                     '[]'::jsonb)
       FROM (SELECT last_error, count(*) AS n FROM cm WHERE last_error IS NOT NULL
              GROUP BY last_error ORDER BY n DESC, last_error LIMIT %(max_errors)s) s) AS posting_errors,
    (SELECT count(*) FROM cm WHERE last_error IS NOT NULL) AS posting_errors_total,
    (SELECT coalesce(jsonb_object_agg(collected_pass::text || ':' || status, n), '{}'::jsonb)
       FROM (SELECT collected_pass, status, count(*) AS n
               FROM outcomes
              WHERE account_id = (SELECT account_id FROM acct) AND simulated = %(simulated)s
              GROUP BY collected_pass, status) s) AS outcomes,
    (SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb)
       FROM (SELECT status, count(*) AS n FROM usage GROUP BY status) s) AS llm_calls,
    (SELECT coalesce(sum(cost_usd), 0) FROM usage) AS llm_cost_usd,
    (SELECT coalesce(sum(prompt_tokens), 0) + coalesce(sum(completion_tokens), 0) FROM usage) AS llm_tokens;

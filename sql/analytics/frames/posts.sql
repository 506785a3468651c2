-- DuckDB queries over frames loaded by xbot_core.services.analytics (frame names = keyword names passed).

-- name: posts
-- One row per published decision: its arms and features with its latest 'ok' outcome (pass 2 over pass 1)
-- and the pass-1 reward kept alongside for calibration. Posts with no outcome yet keep NULL metrics.
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY decision_id ORDER BY collected_pass DESC) AS rn
      FROM outcomes
     WHERE status = 'ok'
), pass1 AS (
    SELECT decision_id, reward_composite AS reward_pass1, impressions AS impressions_pass1
      FROM outcomes
     WHERE status = 'ok' AND collected_pass = 1
)
SELECT d.decision_id, d.posted_at, d.tweet_id, d.content_type, d.hook_pattern, d.timing_slot, d.policy,
       d.p_content_type, d.p_hook_pattern, d.p_timing_slot, d.propensity, d.experiment_id, d.p_unusable_scope,
       d.novelty, d.dup_penalty, d.excerpt,
       r.collected_pass, r.collected_at, r.impressions, r.likes, r.retweets, r.replies, r.quotes,
       r.bookmarks, r.profile_visits, r.link_clicks, r.follows, r.follows_confidence,
       r.er AS er_stored, r.fpki AS fpki_stored, r.reward_composite, r.reward_version,
       p1.reward_pass1, p1.impressions_pass1
  FROM decisions d
  LEFT JOIN ranked r ON r.decision_id = d.decision_id AND r.rn = 1
  LEFT JOIN pass1 p1 ON p1.decision_id = d.decision_id
 ORDER BY d.posted_at;

-- name: arms
-- Per scope and arm: n, exposure-weighted reward, FPKI and ER from sums, and the exposure-weighted sums of each
-- reward term (so a reward under any weights is Σ w_k · term_k / weight, computed exactly in the browser).
WITH long AS (
    UNPIVOT (SELECT * FROM posts WHERE reward IS NOT NULL)
        ON content_type, hook_pattern, timing_slot INTO NAME scope VALUE arm
)
SELECT scope, arm,
       count(*) AS n,
       sum(exposure_weight) AS weight,
       sum(exposure_weight * reward) / nullif(sum(exposure_weight), 0) AS weighted_reward,
       1000.0 * sum(follows) / nullif(sum(impressions), 0)::DOUBLE AS fpki,
       sum(likes + retweets + replies)::DOUBLE / nullif(sum(impressions), 0) AS er,
       sum(exposure_weight * fpki_n) AS sum_fpki_n,
       sum(exposure_weight * retweet_n) AS sum_retweet_n,
       sum(exposure_weight * reply_n) AS sum_reply_n,
       sum(exposure_weight * novelty) AS sum_novelty,
       sum(exposure_weight * dup_penalty) AS sum_dup_penalty
  FROM long
 GROUP BY scope, arm
 ORDER BY scope, weighted_reward DESC;

-- name: top_posts
-- The day's best posts by follows (ties by impressions).
SELECT posted_at, excerpt, content_type, hook_pattern, timing_slot, impressions, follows,
       round(1000.0 * follows / nullif(impressions, 0), 3)::DOUBLE AS fpki, round(reward, 4) AS reward
  FROM posts
 WHERE follows IS NOT NULL
 ORDER BY follows DESC, impressions DESC
 LIMIT 10;

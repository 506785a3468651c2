-- Published decisions of the account in [since, until): arms, logged propensities, features, a text excerpt.
-- p_unusable_scope: the scope whose logged propensity is not the marginal probability of its arm (a treatment
-- post logged before migration 0004); off-policy evaluation treats that scope's propensity as missing.
SELECT c.decision_id,
       p.posted_at,
       p.tweet_id,
       c.scheduled_at,
       c.content_type, c.hook_pattern, c.timing_slot,
       c.policy,
       c.p_content_type, c.p_hook_pattern, c.p_timing_slot, c.propensity,
       c.experiment_id,
       CASE WHEN c.propensity_basis = 'not_marginal' THEN e.scope END AS p_unusable_scope,
       c.novelty, c.dup_penalty, c.readability_score, c.sentiment,
       c.generation_source,
       left(c.content, 140) AS excerpt
  FROM content_metadata c
  JOIN posted_decisions p ON p.decision_id = c.decision_id
  LEFT JOIN experiments e ON e.experiment_id = c.experiment_id
 WHERE p.account_id = :'account_id'::bigint
   AND c.simulated = :'simulated'::boolean
   AND p.posted_at >= :'since'::timestamptz
   AND p.posted_at < :'until'::timestamptz;

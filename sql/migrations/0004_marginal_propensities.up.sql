-- 0004: experiment posts log the MARGINAL propensity of their arm in the experiment's scope,
--   P(arm) = share·1[arm = treatment arm] + (1 − share)·π_bandit(arm),
-- so off-policy evaluation can use every post. Before this, the planner logged P(variant, arm): share for a
-- treatment post and (1 − share)·π_bandit(arm) for a control post. Back-fill of existing rows:
--   control, arm ≠ treatment arm: already the marginal value (unchanged);
--   control, arm = treatment arm: share + logged value;
--   treatment: needs π_bandit(treatment arm), which was never logged: left as logged and marked 'not_marginal'
--     (analysis treats that scope's propensity of the post as missing);
--   synthetic history (services/history_sim): its control arm never is the treatment arm, so its logged values
--     are already marginal (unchanged).
-- `propensity` (the product over scopes) follows its factor. Idempotent: only rows with no basis are touched.
ALTER TABLE content_metadata ADD COLUMN IF NOT EXISTS propensity_basis text
    CHECK (propensity_basis IN ('marginal', 'not_marginal'));

WITH exp AS (
    SELECT c.decision_id, e.scope, e.share, a.variant,
           CASE e.scope WHEN 'content_type' THEN c.content_type
                        WHEN 'hook_pattern' THEN c.hook_pattern
                        ELSE c.timing_slot END = e.treatment_arm AS is_treatment_arm,
           CASE e.scope WHEN 'content_type' THEN c.p_content_type
                        WHEN 'hook_pattern' THEN c.p_hook_pattern
                        ELSE c.p_timing_slot END AS p_old
      FROM content_metadata c
      JOIN experiments e ON e.experiment_id = c.experiment_id
      JOIN experiment_assignments a ON a.experiment_id = c.experiment_id AND a.decision_id = c.decision_id
     WHERE c.propensity_basis IS NULL AND c.generation_source = 'real'
), fixed AS (
    SELECT decision_id, scope, variant, p_old,
           CASE WHEN variant = 'control' AND is_treatment_arm THEN share + p_old ELSE p_old END AS p_new
      FROM exp
)
UPDATE content_metadata c
   SET p_content_type = CASE WHEN f.scope = 'content_type' THEN f.p_new ELSE c.p_content_type END,
       p_hook_pattern = CASE WHEN f.scope = 'hook_pattern' THEN f.p_new ELSE c.p_hook_pattern END,
       p_timing_slot = CASE WHEN f.scope = 'timing_slot' THEN f.p_new ELSE c.p_timing_slot END,
       propensity = CASE WHEN f.p_old > 0 THEN c.propensity * f.p_new / f.p_old ELSE c.propensity END,
       propensity_basis = CASE WHEN f.variant = 'treatment' THEN 'not_marginal' ELSE 'marginal' END
  FROM fixed f
 WHERE f.decision_id = c.decision_id;

UPDATE content_metadata SET propensity_basis = 'marginal' WHERE propensity_basis IS NULL;
-- new rows: the planner logs marginal propensities
ALTER TABLE content_metadata ALTER COLUMN propensity_basis SET DEFAULT 'marginal';
ALTER TABLE content_metadata ALTER COLUMN propensity_basis SET NOT NULL;

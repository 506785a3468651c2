-- Rollback of 0004: experiment posts of real generation back to P(variant, arm) in the experiment's scope
-- (control on the treatment arm: marginal − share; treatment: share), then the basis column goes.
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
     WHERE c.propensity_basis = 'marginal' AND c.generation_source = 'real'
), fixed AS (
    SELECT decision_id, scope, p_old,
           CASE WHEN p_old IS NULL THEN NULL
                WHEN variant = 'treatment' THEN share
                WHEN is_treatment_arm THEN p_old - share
                ELSE p_old END AS p_new
      FROM exp
)
UPDATE content_metadata c
   SET p_content_type = CASE WHEN f.scope = 'content_type' THEN f.p_new ELSE c.p_content_type END,
       p_hook_pattern = CASE WHEN f.scope = 'hook_pattern' THEN f.p_new ELSE c.p_hook_pattern END,
       p_timing_slot = CASE WHEN f.scope = 'timing_slot' THEN f.p_new ELSE c.p_timing_slot END,
       propensity = CASE WHEN f.p_old > 0 THEN c.propensity * f.p_new / f.p_old ELSE c.propensity END
  FROM fixed f
 WHERE f.decision_id = c.decision_id;

ALTER TABLE content_metadata DROP COLUMN IF EXISTS propensity_basis;

-- Experiment assignments of the account's decisions scheduled in [since, until) (published or not: SRM needs all).
SELECT a.experiment_id, a.decision_id, a.variant, a.arm, a.probability, a.assigned_at,
       c.status, c.scheduled_at
  FROM experiment_assignments a
  JOIN content_metadata c ON c.decision_id = a.decision_id
 WHERE c.account_id = :'account_id'::bigint AND c.simulated = :'simulated'::boolean
   AND c.scheduled_at >= :'since'::timestamptz AND c.scheduled_at < :'until'::timestamptz;

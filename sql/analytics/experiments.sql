-- Experiments of the account overlapping [since, until).
SELECT experiment_id, name, scope, treatment_arm, share, starts_at, ends_at, status
  FROM experiments
 WHERE account_id = :'account_id'::bigint
   AND starts_at < :'until'::timestamptz AND ends_at > :'since'::timestamptz
 ORDER BY starts_at, experiment_id;

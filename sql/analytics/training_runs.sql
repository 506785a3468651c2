-- Learning runs of the account up to `until` (status, outcomes used, explore ratio).
SELECT run_id, ran_at, status, reward_version, outcomes_used, arms_trained, explore_ratio, message
  FROM training_runs
 WHERE account_id = :'account_id'::bigint AND simulated = :'simulated'::boolean
   AND ran_at < :'until'::timestamptz
 ORDER BY ran_at;

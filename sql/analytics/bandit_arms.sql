-- Current posterior of every arm of the account (real or simulated bandit).
SELECT scope, arm, alpha, beta, successes, failures, pulls, sum_reward, provisional, reward_version, updated_at
  FROM bandit_arms
 WHERE account_id = :'account_id'::bigint AND simulated = :'simulated'::boolean
 ORDER BY scope, arm;

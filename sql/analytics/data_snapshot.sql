-- Lineage: row counts and newest timestamps of what a report read (one account, real or simulated).
SELECT 'content_metadata' AS table_name, count(*) AS row_count, max(updated_at) AS max_timestamp
  FROM content_metadata WHERE account_id = :'account_id'::bigint AND simulated = :'simulated'::boolean
UNION ALL
SELECT 'posted_decisions', count(*), max(p.posted_at)
  FROM posted_decisions p JOIN content_metadata c USING (decision_id)
 WHERE p.account_id = :'account_id'::bigint AND c.simulated = :'simulated'::boolean
UNION ALL
SELECT 'outcomes', count(*), max(collected_at)
  FROM outcomes WHERE account_id = :'account_id'::bigint AND simulated = :'simulated'::boolean
UNION ALL
SELECT 'follower_snapshots', count(*), max(taken_at)
  FROM follower_snapshots WHERE account_id = :'account_id'::bigint AND simulated = :'simulated'::boolean
UNION ALL
SELECT 'bandit_arms', count(*), max(updated_at)
  FROM bandit_arms WHERE account_id = :'account_id'::bigint AND simulated = :'simulated'::boolean
UNION ALL
SELECT 'training_runs', count(*), max(ran_at)
  FROM training_runs WHERE account_id = :'account_id'::bigint AND simulated = :'simulated'::boolean;

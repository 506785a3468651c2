-- Follower counts of the account in [since, until), plus the last snapshot before `since` as a baseline.
(SELECT taken_at, followers, source
   FROM follower_snapshots
  WHERE account_id = :'account_id'::bigint AND simulated = :'simulated'::boolean
    AND taken_at < :'since'::timestamptz
  ORDER BY taken_at DESC
  LIMIT 1)
UNION ALL
SELECT taken_at, followers, source
  FROM follower_snapshots
 WHERE account_id = :'account_id'::bigint AND simulated = :'simulated'::boolean
   AND taken_at >= :'since'::timestamptz AND taken_at < :'until'::timestamptz
 ORDER BY taken_at;

-- Named queries of the collection service (xbot_core/services/loop/collection.py).

-- name: posts_between
-- Every post of the account live between two instants (the windows that may share follower growth).
SELECT decision_id, posted_at
  FROM posted_decisions
 WHERE account_id = %(account_id)s AND posted_at >= %(since)s AND posted_at <= %(until)s
 ORDER BY posted_at;

-- name: snapshots_between
SELECT taken_at, followers
  FROM follower_snapshots
 WHERE account_id = %(account_id)s AND taken_at >= %(since)s AND taken_at <= %(until)s
 ORDER BY taken_at;

-- name: outcome_counts
-- Stored passes per status (collection summary and the operations guide).
SELECT collected_pass, status, count(*) AS n, max(collected_at) AS last_collected
  FROM outcomes
 WHERE account_id = %(account_id)s
 GROUP BY collected_pass, status
 ORDER BY collected_pass, status;

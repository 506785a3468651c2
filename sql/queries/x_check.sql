-- Named queries of the deep X check (xbot_core/services/operations/x_check.py).

-- name: latest_posted
-- The account's most recent published post.
SELECT tweet_id, post_url, posted_at
  FROM posted_decisions
 WHERE account_id = %(account_id)s
 ORDER BY posted_at DESC, recorded_at DESC
 LIMIT 1;

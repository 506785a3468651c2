-- Named queries of the history prior (`xbot learn --prior-from-history`): the account's imported posts.

-- name: history_prior_posts
-- The account's imported posts, latest read each (view imported_posts), oldest first, with its time zone.
SELECT p.tweet_id, p.posted_at, p.time_known, p.text, p.is_reply, p.impressions, p.follows, p.reposts,
       p.replies, a.timezone
  FROM imported_posts p
  JOIN accounts a USING (account_id)
 WHERE p.account_id = %(account_id)s
 ORDER BY p.posted_at, p.tweet_id;

-- Every read of an account's imported posts (one row per post per export day): growth between exports.
--   psql "$(xbot db url)" -v handle=MauroJPelle -f sql/analytics/imported_reads.sql
SELECT r.tweet_id, r.as_of, r.impressions, r.likes, r.follows, r.profile_visits
  FROM imported_reads r
  JOIN accounts a USING (account_id)
 WHERE a.handle = :'handle'
 ORDER BY r.tweet_id, r.as_of;

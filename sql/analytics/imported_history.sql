-- An account's imported posts (latest read each, see the imported_posts view) posted in [since, until), with
-- the account's time zone: the input of the history analysis. Imported data is always real (never simulated).
--   psql "$(xbot db url)" -v handle=MauroJPelle -v since=2026-01-01 -v until=2027-01-01 \
--        -f sql/analytics/imported_history.sql
SELECT p.tweet_id, p.posted_at, p.time_known, p.text, p.is_reply, p.impressions, p.likes, p.replies,
       p.reposts, p.bookmarks, p.follows, p.profile_visits, p.url_clicks, p.as_of, a.timezone
  FROM imported_posts p
  JOIN accounts a USING (account_id)
 WHERE p.account_handle = :'handle'
   AND p.posted_at >= :'since'::timestamptz
   AND p.posted_at < :'until'::timestamptz
 ORDER BY p.posted_at;

-- Named queries of the X analytics import (xbot_core/services/operations/imports.py).

-- name: import_account_timezone
SELECT account_id, timezone FROM accounts WHERE handle = %(handle)s;

-- name: import_ensure_account
-- The account row for an imported handle; an existing row is left as it is.
WITH ins AS (
    INSERT INTO accounts (handle, x_base_url, timezone)
    VALUES (%(handle)s, %(x_base_url)s, %(timezone)s)
    ON CONFLICT (handle) DO NOTHING
    RETURNING account_id
)
SELECT account_id FROM ins
UNION ALL
SELECT account_id FROM accounts WHERE handle = %(handle)s
LIMIT 1;

-- name: import_clear_stage
-- Staged rows live only inside the importing transaction: it empties the stage before it commits.
DELETE FROM imported_stage;

-- name: import_lock_account
-- Imports of one account run one at a time: each diffs against what is stored, then writes.
SELECT account_id FROM accounts WHERE account_id = %(account_id)s FOR UPDATE;

-- name: import_bulk_reference_plan
-- A large batch: the reference triggers of migration 0009 check it with a merge anti-join (sort the new rows,
-- walk the posts' primary key once) instead of the planner's hash anti-join over every stored post, and the
-- transition rows and that sort get 64 MB before spilling to temp files. Measured on the 1M-row bench
-- import (bench/import_x_analytics.py, load 16-21): the reads trigger 8.5-9.0 s -> 2.0-4.3 s wall. For a
-- small batch into a large history a nested loop (a few index probes) is cheaper: the importer decides.
-- Transaction-scoped (SET LOCAL).
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_nestloop = off;
SET LOCAL work_mem = '64MB';

-- name: import_existing_posts
SELECT tweet_id, time_known FROM imported_post_rows WHERE account_id = %(account_id)s;

-- name: import_existing_reads
SELECT tweet_id, as_of, impressions, engagements, likes, replies, reposts, bookmarks, shares, follows,
       profile_visits, url_clicks, hashtag_clicks, detail_expands, permalink_clicks, media_views,
       media_engagements
  FROM imported_reads
 WHERE account_id = %(account_id)s AND as_of = ANY(%(days)s::date[]);

-- name: import_time_from_stage
-- A day-only post gets its time of day when an export that has it arrives (the stage holds those posts).
UPDATE imported_post_rows p
   SET posted_at = s.posted_at, time_known = true
  FROM imported_stage s
 WHERE p.account_id = %(account_id)s AND p.tweet_id = s.tweet_id AND NOT p.time_known AND s.time_known;

-- name: import_reads_from_stage
-- A corrected export for a day already read replaces that read (the stage holds the changed reads).
UPDATE imported_reads r
   SET export_format = s.export_format, source_file = s.source_file, impressions = s.impressions,
       engagements = s.engagements, likes = s.likes, replies = s.replies, reposts = s.reposts,
       bookmarks = s.bookmarks, shares = s.shares, follows = s.follows, profile_visits = s.profile_visits,
       url_clicks = s.url_clicks, hashtag_clicks = s.hashtag_clicks, detail_expands = s.detail_expands,
       permalink_clicks = s.permalink_clicks, media_views = s.media_views,
       media_engagements = s.media_engagements, imported_at = now()
  FROM imported_stage s
 WHERE r.account_id = %(account_id)s AND r.tweet_id = s.tweet_id AND r.as_of = s.as_of;

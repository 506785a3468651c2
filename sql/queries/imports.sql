-- Named queries of the X analytics import (xbot_core/services/imports.py).

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

-- name: import_upsert_posts
-- A post seen again keeps its row; a day-only post gets its time of day when an export that has it arrives.
WITH up AS (
    INSERT INTO imported_post_rows (account_id, tweet_id, posted_at, time_known, text, is_reply)
    SELECT DISTINCT ON (tweet_id) %(account_id)s, tweet_id, posted_at, time_known, text, is_reply
      FROM imported_stage
     ORDER BY tweet_id, time_known DESC
    ON CONFLICT (account_id, tweet_id) DO UPDATE
       SET posted_at = EXCLUDED.posted_at, time_known = true
     WHERE NOT imported_post_rows.time_known AND EXCLUDED.time_known
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up;

-- name: import_upsert_reads
-- One read per post and as_of; the same export again changes nothing, a corrected one replaces that read.
WITH up AS (
    INSERT INTO imported_reads (
        account_id, tweet_id, as_of, export_format, source_file, impressions, engagements, likes, replies,
        reposts, bookmarks, shares, follows, profile_visits, url_clicks, hashtag_clicks, detail_expands,
        permalink_clicks, media_views, media_engagements)
    SELECT %(account_id)s, tweet_id, as_of, export_format, source_file, impressions, engagements, likes,
           replies, reposts, bookmarks, shares, follows, profile_visits, url_clicks, hashtag_clicks,
           detail_expands, permalink_clicks, media_views, media_engagements
      FROM imported_stage
    ON CONFLICT (account_id, tweet_id, as_of) DO UPDATE
       SET export_format = EXCLUDED.export_format, source_file = EXCLUDED.source_file,
           impressions = EXCLUDED.impressions, engagements = EXCLUDED.engagements, likes = EXCLUDED.likes,
           replies = EXCLUDED.replies, reposts = EXCLUDED.reposts, bookmarks = EXCLUDED.bookmarks,
           shares = EXCLUDED.shares, follows = EXCLUDED.follows, profile_visits = EXCLUDED.profile_visits,
           url_clicks = EXCLUDED.url_clicks, hashtag_clicks = EXCLUDED.hashtag_clicks,
           detail_expands = EXCLUDED.detail_expands, permalink_clicks = EXCLUDED.permalink_clicks,
           media_views = EXCLUDED.media_views, media_engagements = EXCLUDED.media_engagements,
           imported_at = now()
     WHERE (imported_reads.impressions, imported_reads.engagements, imported_reads.likes,
            imported_reads.replies, imported_reads.reposts, imported_reads.bookmarks, imported_reads.shares,
            imported_reads.follows, imported_reads.profile_visits, imported_reads.url_clicks,
            imported_reads.hashtag_clicks, imported_reads.detail_expands, imported_reads.permalink_clicks,
            imported_reads.media_views, imported_reads.media_engagements)
           IS DISTINCT FROM
           (EXCLUDED.impressions, EXCLUDED.engagements, EXCLUDED.likes, EXCLUDED.replies, EXCLUDED.reposts,
            EXCLUDED.bookmarks, EXCLUDED.shares, EXCLUDED.follows, EXCLUDED.profile_visits,
            EXCLUDED.url_clicks, EXCLUDED.hashtag_clicks, EXCLUDED.detail_expands,
            EXCLUDED.permalink_clicks, EXCLUDED.media_views, EXCLUDED.media_engagements)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up;

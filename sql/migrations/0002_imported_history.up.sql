-- 0002 imported history: an account's own posts from X's analytics exports, and every read of their metrics.
-- Real data of the account, marked imported; never bot decisions (no propensity, no arms chosen, not in
-- content_metadata), so OPE and learning from logged decisions never see them. Idempotent.
-- No per-row foreign keys on these two tables: with them, bench/import_x_analytics.py's 1M-row import used
-- 17.7 s of CPU (client + server backend), without them 10.1 s. The importer is their only writer and writes
-- an account's row, its posts and their reads in one transaction (services/imports.py; tests/db/test_imports.py
-- checks there are no orphans).

CREATE TABLE IF NOT EXISTS imported_post_rows (
    account_id     bigint NOT NULL,
    tweet_id       text COLLATE "C" NOT NULL CHECK (tweet_id ~ '^[0-9]{1,25}$'),  -- C collation: byte-order compares, cheap to index in bulk
    posted_at      timestamptz NOT NULL,
    time_known     boolean NOT NULL,   -- false: the export gave a day only (midnight in the account's zone)
    text           text NOT NULL,
    is_reply       boolean NOT NULL,
    source         text NOT NULL DEFAULT 'x_analytics_export' CHECK (source = 'x_analytics_export'),
    simulated      boolean NOT NULL DEFAULT false CHECK (NOT simulated),
    imported_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, tweet_id)
);

-- One row per post per as_of (the day the export was taken); NULL where the format has no such column.
CREATE TABLE IF NOT EXISTS imported_reads (
    account_id         bigint NOT NULL,
    tweet_id           text COLLATE "C" NOT NULL,
    as_of              date NOT NULL,
    export_format      text NOT NULL CHECK (export_format IN ('legacy_tweet_activity', 'content')),
    source_file        text NOT NULL,
    impressions        bigint NOT NULL CHECK (impressions >= 0),
    engagements        bigint CHECK (engagements >= 0),
    likes              bigint CHECK (likes >= 0),
    replies            bigint CHECK (replies >= 0),
    reposts            bigint CHECK (reposts >= 0),
    bookmarks          bigint CHECK (bookmarks >= 0),
    shares             bigint CHECK (shares >= 0),
    follows            bigint CHECK (follows >= 0),
    profile_visits     bigint CHECK (profile_visits >= 0),
    url_clicks         bigint CHECK (url_clicks >= 0),
    hashtag_clicks     bigint CHECK (hashtag_clicks >= 0),
    detail_expands     bigint CHECK (detail_expands >= 0),
    permalink_clicks   bigint CHECK (permalink_clicks >= 0),
    media_views        bigint CHECK (media_views >= 0),
    media_engagements  bigint CHECK (media_engagements >= 0),
    imported_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, tweet_id, as_of)
);

-- The bulk path: COPY lands here, upserts read from here, and the importing transaction empties it before it
-- commits (so no other session ever sees a staged row). Unlogged: nothing in it outlives a transaction.
CREATE UNLOGGED TABLE IF NOT EXISTS imported_stage (
    tweet_id text, posted_at timestamptz, time_known boolean, text text, is_reply boolean,
    impressions bigint, engagements bigint, likes bigint, replies bigint, reposts bigint, bookmarks bigint,
    shares bigint, follows bigint, profile_visits bigint, url_clicks bigint, hashtag_clicks bigint,
    detail_expands bigint, permalink_clicks bigint, media_views bigint, media_engagements bigint,
    line bigint, as_of date, export_format text, source_file text
);

-- One row per post with its latest read: what psql users and the history report see.
CREATE OR REPLACE VIEW imported_posts AS
SELECT a.handle AS account_handle, p.account_id, p.tweet_id, p.posted_at, p.time_known, p.text, p.is_reply,
       r.impressions, r.likes, r.replies, r.reposts, r.bookmarks, r.follows, r.profile_visits, r.url_clicks,
       r.as_of
  FROM imported_post_rows p
  JOIN accounts a USING (account_id)
  JOIN LATERAL (
        SELECT * FROM imported_reads r
         WHERE r.account_id = p.account_id AND r.tweet_id = p.tweet_id
         ORDER BY r.as_of DESC
         LIMIT 1) r ON true;

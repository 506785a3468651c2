-- outcomes.sql's rows and columns, written for DuckDB's postgres_scanner (adapters/db/pg_scanner.py): both
-- tables are scanned in parallel page ranges (the account and side filters pushed into each scan) and joined
-- in DuckDB. analytics.load(source, "outcomes") reads a wide window this way.
SELECT o.decision_id,
       o.collected_pass,
       p.posted_at,
       o.collected_at,
       o.status,
       o.impressions, o.likes, o.retweets, o.replies, o.quotes, o.bookmarks, o.profile_visits, o.link_clicks,
       o.follows, o.follows_source, o.follows_confidence,
       o.er, o.fpki, o.retweet_rate, o.reply_rate,
       o.reward_composite, o.reward_version
  FROM pg.public.outcomes o
  JOIN pg.public.posted_decisions p ON p.decision_id = o.decision_id
 WHERE o.account_id = :'account_id'::bigint
   AND o.simulated = :'simulated'::boolean
   AND p.account_id = :'account_id'::bigint
   AND p.posted_at >= :'since'::timestamptz
   AND p.posted_at < :'until'::timestamptz

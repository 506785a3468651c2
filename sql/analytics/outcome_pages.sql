-- The account's real or simulated outcomes stored in table pages [from_tid, to_tid), without the post's time.
-- analytics.load(source, "outcomes") reads a wide window as several such page ranges on parallel connections
-- sharing one snapshot (Postgres runs a TID range scan per range) plus posted_times.sql, and joins them
-- in-process: the result is outcomes.sql's, given that an outcome carries its post's account (the collector
-- writes it from the post).
SELECT o.decision_id,
       o.collected_pass,
       o.collected_at,
       o.status,
       o.impressions, o.likes, o.retweets, o.replies, o.quotes, o.bookmarks, o.profile_visits, o.link_clicks,
       o.follows, o.follows_source, o.follows_confidence,
       o.er, o.fpki, o.retweet_rate, o.reply_rate,
       o.reward_composite, o.reward_version
  FROM outcomes o
 WHERE o.ctid >= :'from_tid'::tid
   AND o.ctid < :'to_tid'::tid
   AND o.account_id = :'account_id'::bigint
   AND o.simulated = :'simulated'::boolean;

-- One pass (1 = T+1h, 2 = T+24h) of the account's real or simulated outcomes, without the post's time.
-- analytics.load(source, "outcomes") reads both passes and posted_times.sql on three connections at once and
-- joins them in-process (Postgres runs the one-query join of outcomes.sql on a single core); the result is
-- outcomes.sql's, given that an outcome carries its post's account (the collector writes it from the post).
SELECT o.decision_id,
       o.collected_pass,
       o.collected_at,
       o.status,
       o.impressions, o.likes, o.retweets, o.replies, o.quotes, o.bookmarks, o.profile_visits, o.link_clicks,
       o.follows, o.follows_source, o.follows_confidence,
       o.er, o.fpki, o.retweet_rate, o.reply_rate,
       o.reward_composite, o.reward_version
  FROM outcomes o
 WHERE o.account_id = :'account_id'::bigint
   AND o.simulated = :'simulated'::boolean
   AND o.collected_pass = :'collected_pass'::smallint;

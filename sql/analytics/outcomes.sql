-- Outcomes (both passes) of the account's posts published in [since, until), real or simulated only.
SELECT o.decision_id,
       o.collected_pass,
       p.posted_at,
       o.collected_at,
       o.status,
       o.impressions, o.likes, o.retweets, o.replies, o.quotes, o.bookmarks, o.profile_visits, o.link_clicks,
       o.follows, o.follows_source, o.follows_confidence,
       o.er, o.fpki, o.retweet_rate, o.reply_rate,
       o.reward_composite, o.reward_version
  FROM outcomes o
  JOIN posted_decisions p ON p.decision_id = o.decision_id
 WHERE p.account_id = :'account_id'::bigint
   AND o.simulated = :'simulated'::boolean
   AND p.posted_at >= :'since'::timestamptz
   AND p.posted_at < :'until'::timestamptz;

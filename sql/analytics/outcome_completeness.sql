-- Collected (ok) passes of the account's posts published in [since, until) and how many are incomplete
-- (lacking a metric the reward version needed when stored: outcomes.missing_metrics), real or simulated only.
SELECT count(*) AS passes,
       count(*) FILTER (WHERE NOT o.complete) AS incomplete,
       count(*) FILTER (WHERE 'follows' = ANY (o.missing_metrics)) AS missing_follows,
       count(*) FILTER (WHERE 'impressions' = ANY (o.missing_metrics)) AS missing_impressions,
       count(*) FILTER (WHERE 'retweets' = ANY (o.missing_metrics)) AS missing_retweets,
       count(*) FILTER (WHERE 'replies' = ANY (o.missing_metrics)) AS missing_replies
  FROM outcomes o
  JOIN posted_decisions p ON p.decision_id = o.decision_id
 WHERE p.account_id = :'account_id'::bigint
   AND o.simulated = :'simulated'::boolean
   AND o.status = 'ok'
   AND p.posted_at >= :'since'::timestamptz
   AND p.posted_at < :'until'::timestamptz;

-- When each of the account's posts published in [since, until) went out (the other half of outcomes.sql).
SELECT p.decision_id, p.posted_at
  FROM posted_decisions p
 WHERE p.account_id = :'account_id'::bigint
   AND p.posted_at >= :'since'::timestamptz
   AND p.posted_at < :'until'::timestamptz;

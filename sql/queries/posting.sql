-- Named queries of the posting, collection and ops services (xbot_core/services/loop/{posting,collection}.py, services/operations/ops.py).

-- name: lock_account_posting
-- Serialises the cap check + claim of one account across workers and machines (released at commit).
SELECT pg_advisory_xact_lock(7001, %(account_id)s::int);

-- name: posting_rate
-- Posts in the last hour and the latest post time, counting claims in flight (they may already be live).
SELECT (SELECT count(*) FROM posted_decisions
         WHERE account_id = %(account_id)s
           AND posted_at > %(now)s::timestamptz - interval '1 hour')
     + (SELECT count(*) FROM content_metadata
         WHERE account_id = %(account_id)s AND status = 'posting'
           AND claimed_at > %(now)s::timestamptz - interval '1 hour') AS last_hour,
       greatest((SELECT max(posted_at) FROM posted_decisions WHERE account_id = %(account_id)s),
                (SELECT max(claimed_at) FROM content_metadata
                  WHERE account_id = %(account_id)s AND status = 'posting')) AS last_post_at;

-- name: skip_due_decisions
-- Shadow mode: due queued decisions are closed as skipped (they would have been posted now), never published.
UPDATE content_metadata
   SET status = 'skipped', skip_reason = %(reason)s, updated_at = now()
 WHERE account_id = %(account_id)s
   AND status = 'queued'
   AND generation_source = 'real'
   AND scheduled_at <= %(now)s::timestamptz + make_interval(secs => %(grace_s)s)
RETURNING decision_id;

-- name: note_claim_error
-- Keep the error of a publish whose outcome is unknown; the row stays in `posting` for reconciliation.
UPDATE content_metadata
   SET last_error = %(error)s, updated_at = now()
 WHERE decision_id = %(decision_id)s AND status = 'posting';

-- name: claim_attempts
SELECT attempts FROM content_metadata WHERE decision_id = %(decision_id)s;

-- name: posted_tweet_ids
-- Tweet ids already recorded for the account: a timeline post matching one of them belongs to another decision.
SELECT tweet_id FROM posted_decisions WHERE account_id = %(account_id)s AND tweet_id = ANY(%(tweet_ids)s);

-- name: decision_status
SELECT c.status, c.claimed_by, c.lease_expires_at, c.attempts, c.last_error, p.tweet_id, p.reconciled
  FROM content_metadata c
  LEFT JOIN posted_decisions p USING (decision_id)
 WHERE c.decision_id = %(decision_id)s;

-- name: queue_summary
-- What `xbot post --status` and the stuck-queue runbook show: counts per status and the oldest claim.
SELECT status, count(*) AS n, min(scheduled_at) AS oldest_scheduled, min(lease_expires_at) AS oldest_lease
  FROM content_metadata
 WHERE account_id = %(account_id)s
 GROUP BY status
 ORDER BY status;

-- name: posting_work
-- Whether a posting run has anything to do (due queued rows, expired claims) before a browser is opened.
SELECT count(*) FILTER (WHERE status = 'queued' AND generation_source = 'real'
                          AND scheduled_at <= %(now)s::timestamptz + make_interval(secs => %(grace_s)s)) AS due,
       count(*) FILTER (WHERE status = 'posting' AND lease_expires_at < %(now)s) AS expired
  FROM content_metadata
 WHERE account_id = %(account_id)s AND status IN ('queued', 'posting');

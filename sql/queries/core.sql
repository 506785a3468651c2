-- Named queries of the core repositories (xbot_core/adapters/db/repositories.py).

-- name: ensure_account
INSERT INTO accounts (handle, x_base_url, session_file, timezone)
VALUES (%(handle)s, %(x_base_url)s, %(session_file)s, %(timezone)s)
ON CONFLICT (handle) DO UPDATE
   SET x_base_url = EXCLUDED.x_base_url, session_file = EXCLUDED.session_file, timezone = EXCLUDED.timezone
RETURNING account_id;

-- name: insert_decision
INSERT INTO content_metadata (
    decision_id, account_id, content, content_hash, status, skip_reason, generation_source, simulated,
    scheduled_at, content_type, hook_pattern, timing_slot, policy, p_content_type, p_hook_pattern,
    p_timing_slot, propensity, experiment_id, novelty, dup_penalty, readability_score, sentiment,
    llm_model, prompt_template)
VALUES (
    %(decision_id)s, %(account_id)s, %(content)s, %(content_hash)s, %(status)s, %(skip_reason)s,
    %(generation_source)s, %(simulated)s, %(scheduled_at)s, %(content_type)s, %(hook_pattern)s,
    %(timing_slot)s, %(policy)s, %(p_content_type)s, %(p_hook_pattern)s, %(p_timing_slot)s, %(propensity)s,
    %(experiment_id)s, %(novelty)s, %(dup_penalty)s, %(readability_score)s, %(sentiment)s, %(llm_model)s,
    %(prompt_template)s)
ON CONFLICT (decision_id) DO NOTHING;

-- name: insert_assignment
INSERT INTO experiment_assignments (experiment_id, decision_id, variant, arm, probability)
VALUES (%(experiment_id)s, %(decision_id)s, %(variant)s, %(arm)s, %(probability)s)
ON CONFLICT (experiment_id, decision_id) DO NOTHING;

-- name: posting_queue
-- The posting queue: queued real rows due by now + grace, oldest first; a claimed row is skipped by others.
SELECT decision_id, account_id, content, content_hash, scheduled_at, simulated
  FROM content_metadata
 WHERE account_id = %(account_id)s
   AND status = 'queued'
   AND generation_source = 'real'
   AND scheduled_at <= %(now)s::timestamptz + make_interval(secs => %(grace_s)s)
 ORDER BY scheduled_at, created_at
 LIMIT %(limit)s
   FOR UPDATE SKIP LOCKED;

-- name: claim_decision
UPDATE content_metadata
   SET status = 'posting', claimed_by = %(worker)s, claimed_at = %(now)s,
       lease_expires_at = %(now)s::timestamptz + make_interval(secs => %(lease_s)s),
       attempts = attempts + 1, updated_at = now()
 WHERE decision_id = %(decision_id)s AND status = 'queued';

-- name: expired_leases
SELECT decision_id, account_id, content, content_hash, scheduled_at, simulated, claimed_by, claimed_at
  FROM content_metadata
 WHERE account_id = %(account_id)s AND status = 'posting' AND lease_expires_at < %(now)s
 ORDER BY claimed_at
   FOR UPDATE SKIP LOCKED;

-- name: insert_posted
INSERT INTO posted_decisions (decision_id, account_id, tweet_id, post_url, posted_at, reconciled)
VALUES (%(decision_id)s, %(account_id)s, %(tweet_id)s, %(post_url)s, %(posted_at)s, %(reconciled)s);

-- name: mark_posted
UPDATE content_metadata
   SET status = 'posted', lease_expires_at = NULL, updated_at = now()
 WHERE decision_id = %(decision_id)s AND status = 'posting' AND claimed_by = %(worker)s;

-- name: mark_posted_reconciled
-- Reconciliation found the post on X after the lease ran out: whoever claimed it, it is posted.
UPDATE content_metadata
   SET status = 'posted', lease_expires_at = NULL, updated_at = now()
 WHERE decision_id = %(decision_id)s AND status = 'posting';

-- name: release_claim
-- Back to the queue (reconciliation found nothing published) or failed, with the error kept.
UPDATE content_metadata
   SET status = %(status)s, claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL,
       last_error = %(error)s, updated_at = now()
 WHERE decision_id = %(decision_id)s AND status = 'posting';

-- name: upsert_outcome
INSERT INTO outcomes (
    decision_id, collected_pass, account_id, status, unavailable_reason, due_at, collected_at,
    impressions, likes, retweets, replies, quotes, bookmarks, profile_visits, link_clicks,
    follows, follows_source, follows_confidence, er, fpki, retweet_rate, reply_rate,
    reward_composite, reward_version, simulated, missing_metrics)
VALUES (
    %(decision_id)s, %(collected_pass)s, %(account_id)s, %(status)s, %(unavailable_reason)s, %(due_at)s,
    %(collected_at)s, %(impressions)s, %(likes)s, %(retweets)s, %(replies)s, %(quotes)s, %(bookmarks)s,
    %(profile_visits)s, %(link_clicks)s, %(follows)s, %(follows_source)s, %(follows_confidence)s, %(er)s,
    %(fpki)s, %(retweet_rate)s, %(reply_rate)s, %(reward_composite)s, %(reward_version)s, %(simulated)s,
    %(missing_metrics)s)
ON CONFLICT (decision_id, collected_pass) DO UPDATE SET
    status = EXCLUDED.status, unavailable_reason = EXCLUDED.unavailable_reason,
    collected_at = EXCLUDED.collected_at, impressions = EXCLUDED.impressions, likes = EXCLUDED.likes,
    retweets = EXCLUDED.retweets, replies = EXCLUDED.replies, quotes = EXCLUDED.quotes,
    bookmarks = EXCLUDED.bookmarks, profile_visits = EXCLUDED.profile_visits,
    link_clicks = EXCLUDED.link_clicks, follows = EXCLUDED.follows, follows_source = EXCLUDED.follows_source,
    follows_confidence = EXCLUDED.follows_confidence, er = EXCLUDED.er, fpki = EXCLUDED.fpki,
    retweet_rate = EXCLUDED.retweet_rate, reply_rate = EXCLUDED.reply_rate,
    reward_composite = EXCLUDED.reward_composite, reward_version = EXCLUDED.reward_version,
    missing_metrics = EXCLUDED.missing_metrics, updated_at = now();

-- name: pending_passes
-- The collection queue: every posted decision whose pass is due and not stored yet, however late.
SELECT p.decision_id, p.account_id, p.tweet_id, p.post_url, p.posted_at, c.simulated, s.pass AS collected_pass,
       p.posted_at + CASE s.pass WHEN 1 THEN interval '1 hour' ELSE interval '24 hours' END AS due_at
  FROM posted_decisions p
  JOIN content_metadata c USING (decision_id)
 CROSS JOIN (VALUES (1), (2)) AS s (pass)
 WHERE p.account_id = %(account_id)s
   AND p.posted_at + CASE s.pass WHEN 1 THEN interval '1 hour' ELSE interval '24 hours' END <= %(now)s
   AND NOT EXISTS (SELECT 1 FROM outcomes o
                    WHERE o.decision_id = p.decision_id AND o.collected_pass = s.pass)
 ORDER BY due_at, p.decision_id
 LIMIT %(limit)s;

-- name: insert_follower_snapshot
INSERT INTO follower_snapshots (account_id, taken_at, followers, source, simulated)
VALUES (%(account_id)s, %(taken_at)s, %(followers)s, %(source)s, %(simulated)s)
ON CONFLICT (account_id, taken_at) DO UPDATE SET followers = EXCLUDED.followers;

-- name: get_control
SELECT enabled, reason, updated_by, updated_at FROM ops_control WHERE name = %(name)s;

-- name: set_control
INSERT INTO ops_control (name, enabled, reason, updated_by, updated_at)
VALUES (%(name)s, %(enabled)s, %(reason)s, %(updated_by)s, now())
ON CONFLICT (name) DO UPDATE
   SET enabled = EXCLUDED.enabled, reason = EXCLUDED.reason, updated_by = EXCLUDED.updated_by,
       updated_at = now();

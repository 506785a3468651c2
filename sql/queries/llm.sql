-- Named queries of the LLM budget (xbot_core/adapters/llm/budget_repo.py) and generation.

-- name: budget_day_ensure
INSERT INTO llm_budget_days (budget_day, limit_usd)
VALUES (%(budget_day)s, %(limit_usd)s)
ON CONFLICT (budget_day) DO NOTHING;

-- name: budget_day_lock
-- Serialises every reservation of the day: two workers can never both pass the limit check.
SELECT budget_day, limit_usd, used_usd, reserved_usd, circuit_open, circuit_reason
  FROM llm_budget_days
 WHERE budget_day = %(budget_day)s
   FOR UPDATE;

-- name: budget_day_get
SELECT budget_day, limit_usd, used_usd, reserved_usd, circuit_open, circuit_reason
  FROM llm_budget_days
 WHERE budget_day = %(budget_day)s;

-- name: budget_reserve
UPDATE llm_budget_days SET reserved_usd = reserved_usd + %(amount)s, updated_at = now()
 WHERE budget_day = %(budget_day)s;

-- name: budget_settle
-- Move a reservation to spend: the reservation is released and the actual cost (maybe 0) is added.
UPDATE llm_budget_days
   SET reserved_usd = GREATEST(0, reserved_usd - %(reserved)s),
       used_usd = used_usd + GREATEST(0, %(cost)s),
       updated_at = now()
 WHERE budget_day = %(budget_day)s;

-- name: budget_open_circuit
UPDATE llm_budget_days SET circuit_open = true, circuit_reason = %(reason)s, updated_at = now()
 WHERE budget_day = %(budget_day)s;

-- name: llm_usage_insert
INSERT INTO llm_usage (budget_day, account_id, decision_id, purpose, model, status, reserved_usd, error)
VALUES (%(budget_day)s, %(account_id)s, %(decision_id)s, %(purpose)s, %(model)s, %(status)s, %(reserved_usd)s,
        %(error)s)
RETURNING usage_id;

-- name: llm_account_day
-- One account's spend of a budget day (migration 0010): settled cost, and what its open calls reserve.
-- Read under the day's row lock (budget_day_lock), so it cannot change between the check and the reserve.
SELECT COALESCE(sum(cost_usd) FILTER (WHERE status <> 'reserved'), 0) AS used_usd,
       COALESCE(sum(reserved_usd) FILTER (WHERE status = 'reserved'), 0) AS reserved_usd
  FROM llm_usage
 WHERE account_id = %(account_id)s AND budget_day = %(budget_day)s;

-- name: llm_usage_finish
UPDATE llm_usage
   SET status = %(status)s, attempts = %(attempts)s, prompt_tokens = %(prompt_tokens)s,
       completion_tokens = %(completion_tokens)s, cost_usd = %(cost_usd)s, error = %(error)s,
       settled_at = now()
 WHERE usage_id = %(usage_id)s;

-- name: recent_account_posts
-- The account's posts (queued or live) scheduled in the window: the novelty reference set.
SELECT content
  FROM content_metadata
 WHERE account_id = %(account_id)s
   AND content IS NOT NULL
   AND status IN ('queued', 'posting', 'posted')
   AND scheduled_at >= %(since)s
 ORDER BY scheduled_at DESC
 LIMIT %(limit)s;

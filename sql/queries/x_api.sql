-- Named queries of the X API cost budget (adapters/x_api/budget.py).

-- name: x_api_day_ensure
INSERT INTO x_api_budget_days (budget_day, limit_usd)
VALUES (%(budget_day)s, %(limit_usd)s)
ON CONFLICT (budget_day) DO NOTHING;

-- name: x_api_day_lock
-- Serialises every reservation of the day: two workers can never both pass the limit check.
SELECT budget_day, limit_usd, used_usd, reserved_usd
  FROM x_api_budget_days
 WHERE budget_day = %(budget_day)s
   FOR UPDATE;

-- name: x_api_day_get
SELECT budget_day, limit_usd, used_usd, reserved_usd
  FROM x_api_budget_days
 WHERE budget_day = %(budget_day)s;

-- name: x_api_day_set_limit
UPDATE x_api_budget_days SET limit_usd = %(limit_usd)s, updated_at = now()
 WHERE budget_day = %(budget_day)s AND limit_usd <> %(limit_usd)s;

-- name: x_api_reserve
UPDATE x_api_budget_days SET reserved_usd = reserved_usd + %(amount)s, updated_at = now()
 WHERE budget_day = %(budget_day)s;

-- name: x_api_settle
UPDATE x_api_budget_days
   SET reserved_usd = GREATEST(0, reserved_usd - %(reserved)s),
       used_usd = used_usd + GREATEST(0, %(cost)s),
       updated_at = now()
 WHERE budget_day = %(budget_day)s;

-- name: x_api_usage_insert
INSERT INTO x_api_usage (budget_day, operation, resources, has_url, status, reserved_usd, error)
VALUES (%(budget_day)s, %(operation)s, %(resources)s, %(has_url)s, %(status)s, %(reserved_usd)s, %(error)s)
RETURNING usage_id;

-- name: x_api_usage_finish
UPDATE x_api_usage
   SET status = %(status)s, billed_resources = %(billed)s, cost_usd = %(cost_usd)s, settled_at = now()
 WHERE usage_id = %(usage_id)s;

-- name: x_api_usage_by_operation
SELECT operation, count(*) AS calls, coalesce(sum(cost_usd), 0) AS cost_usd
  FROM x_api_usage
 WHERE budget_day = %(budget_day)s
 GROUP BY operation
 ORDER BY operation;

-- The workspace's LLM budget days in [since, until) with their usage by status (the budget is per workspace).
SELECT d.budget_day, d.limit_usd::float8 AS limit_usd, d.used_usd::float8 AS used_usd,
       d.reserved_usd::float8 AS reserved_usd, d.circuit_open, d.circuit_reason,
       count(u.usage_id) AS calls,
       count(u.usage_id) FILTER (WHERE u.status = 'succeeded') AS succeeded,
       coalesce(sum(u.prompt_tokens), 0) AS prompt_tokens,
       coalesce(sum(u.completion_tokens), 0) AS completion_tokens
  FROM llm_budget_days d
  LEFT JOIN llm_usage u ON u.budget_day = d.budget_day
 WHERE d.budget_day >= :'since'::date AND d.budget_day < :'until'::date
 GROUP BY d.budget_day
 ORDER BY d.budget_day;

-- 0003: the X API's pay-per-use cost, counted like the LLM's (llm_budget_days / llm_usage): a daily USD
-- limit reserved under the day's row lock before every call and settled from what X billed after it.
CREATE TABLE IF NOT EXISTS x_api_budget_days (
    budget_day    date PRIMARY KEY,
    limit_usd     numeric(12, 6) NOT NULL CHECK (limit_usd >= 0),
    used_usd      numeric(12, 6) NOT NULL DEFAULT 0 CHECK (used_usd >= 0),
    reserved_usd  numeric(12, 6) NOT NULL DEFAULT 0 CHECK (reserved_usd >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS x_api_usage (
    usage_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    budget_day        date NOT NULL REFERENCES x_api_budget_days (budget_day),
    operation         text NOT NULL CHECK (operation IN ('create', 'lookup', 'analytics', 'me', 'timeline')),
    resources         integer NOT NULL CHECK (resources >= 0),
    has_url           boolean NOT NULL DEFAULT false,
    status            text NOT NULL
                      CHECK (status IN ('reserved', 'succeeded', 'failed', 'rate_limited', 'budget_exceeded')),
    reserved_usd      numeric(12, 6) NOT NULL DEFAULT 0 CHECK (reserved_usd >= 0),
    billed_resources  integer CHECK (billed_resources >= 0),
    cost_usd          numeric(12, 6) CHECK (cost_usd >= 0),
    error             text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    settled_at        timestamptz
);
CREATE INDEX IF NOT EXISTS x_api_usage_day ON x_api_usage (budget_day, status);

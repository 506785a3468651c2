-- The rest of an account's own settings (issue 18): X backend and its API token file, reward version and
-- LLM budget share. NULL means "the workspace's XBOT_ setting" (XBOT_X_BACKEND, XBOT_X_API_TOKEN_FILE,
-- XBOT_REWARD_VERSION / the active version, the whole daily LLM budget). llm_usage records the account of
-- each call, so an account's share of the day can be checked under the day's lock.
ALTER TABLE accounts
    ADD COLUMN IF NOT EXISTS x_backend        text CHECK (x_backend IN ('browser', 'api')),
    ADD COLUMN IF NOT EXISTS x_api_token_file text,   -- a path to the 0600 OAuth token file, never its contents
    ADD COLUMN IF NOT EXISTS reward_version   integer REFERENCES reward_versions (version),
    ADD COLUMN IF NOT EXISTS llm_budget_share numeric(7, 6)
                             CHECK (llm_budget_share > 0 AND llm_budget_share <= 1);

ALTER TABLE llm_usage ADD COLUMN IF NOT EXISTS account_id bigint REFERENCES accounts (account_id);
CREATE INDEX IF NOT EXISTS llm_usage_account_day ON llm_usage (account_id, budget_day)
    WHERE account_id IS NOT NULL;

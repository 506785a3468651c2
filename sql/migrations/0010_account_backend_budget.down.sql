DROP INDEX IF EXISTS llm_usage_account_day;
ALTER TABLE llm_usage DROP COLUMN IF EXISTS account_id;
ALTER TABLE accounts
    DROP COLUMN IF EXISTS x_backend,
    DROP COLUMN IF EXISTS x_api_token_file,
    DROP COLUMN IF EXISTS reward_version,
    DROP COLUMN IF EXISTS llm_budget_share;

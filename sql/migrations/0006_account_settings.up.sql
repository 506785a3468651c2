-- Accounts as rows with their own settings (issue 18). NULL in a setting column means "the workspace's
-- XBOT_ setting"; the configured account (XBOT_ACCOUNT_HANDLE) is the default account.
ALTER TABLE accounts
    ADD COLUMN IF NOT EXISTS enabled             boolean NOT NULL DEFAULT true,
    ADD COLUMN IF NOT EXISTS max_posts_per_hour  integer CHECK (max_posts_per_hour >= 0),
    ADD COLUMN IF NOT EXISTS min_post_interval_s integer CHECK (min_post_interval_s >= 0),
    ADD COLUMN IF NOT EXISTS experiment_plan     text,    -- path of a TOML plan; NULL: XBOT_EXPERIMENT_PLAN
    ADD COLUMN IF NOT EXISTS updated_at          timestamptz NOT NULL DEFAULT now();

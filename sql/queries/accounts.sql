-- Accounts as rows with their own settings (migrations 0006 and 0010; xbot_core/adapters/db/accounts_repo.py).
-- A NULL setting column means "the workspace's XBOT_ setting".

-- name: account_insert
INSERT INTO accounts (handle, x_base_url, session_file, timezone, max_posts_per_hour, min_post_interval_s,
                      experiment_plan, x_backend, x_api_token_file, reward_version, llm_budget_share)
VALUES (%(handle)s, %(x_base_url)s, %(session_file)s, %(timezone)s, %(max_posts_per_hour)s,
        %(min_post_interval_s)s, %(experiment_plan)s, %(x_backend)s, %(x_api_token_file)s, %(reward_version)s,
        %(llm_budget_share)s)
RETURNING account_id;

-- name: account_by_handle
SELECT account_id, handle, x_base_url, session_file, timezone, enabled, max_posts_per_hour,
       min_post_interval_s, experiment_plan, x_backend, x_api_token_file, reward_version,
       llm_budget_share::float8 AS llm_budget_share
  FROM accounts WHERE handle = %(handle)s;

-- name: account_list
SELECT account_id, handle, x_base_url, session_file, timezone, enabled, max_posts_per_hour,
       min_post_interval_s, experiment_plan, x_backend, x_api_token_file, reward_version,
       llm_budget_share::float8 AS llm_budget_share
  FROM accounts ORDER BY handle;

-- name: account_set_enabled
UPDATE accounts SET enabled = %(enabled)s, updated_at = now() WHERE handle = %(handle)s RETURNING account_id;

ALTER TABLE accounts
    DROP COLUMN IF EXISTS enabled,
    DROP COLUMN IF EXISTS max_posts_per_hour,
    DROP COLUMN IF EXISTS min_post_interval_s,
    DROP COLUMN IF EXISTS experiment_plan,
    DROP COLUMN IF EXISTS updated_at;

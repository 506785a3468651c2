-- The drift alarm of a learning run as data (issue 16): the thresholds it was checked with and every arm that
-- raised it, so /api/learning/status shows it as a field instead of inside the run's message. NULL: the run
-- did not check drift (insufficient data, or recorded before this migration).
-- {"recent_days": 7, "min_posts": 5, "z_alarm": 3.0,
--  "arms": [{"scope", "arm", "n_recent", "n_before", "mean_recent", "mean_before", "z"}]}
ALTER TABLE training_runs ADD COLUMN IF NOT EXISTS drift jsonb;
ALTER TABLE training_runs DROP CONSTRAINT IF EXISTS training_runs_drift_shape;
ALTER TABLE training_runs ADD CONSTRAINT training_runs_drift_shape
    CHECK (drift IS NULL OR (jsonb_typeof(drift) = 'object' AND jsonb_typeof(drift -> 'arms') = 'array'));

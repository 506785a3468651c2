-- Rollback of 0008: the completeness columns go (raw metrics stay, so it can be recomputed).
ALTER TABLE training_runs DROP COLUMN IF EXISTS outcomes_incomplete;
ALTER TABLE outcomes DROP CONSTRAINT IF EXISTS outcomes_missing_metrics_ok_only;
ALTER TABLE outcomes DROP CONSTRAINT IF EXISTS outcomes_missing_metrics_known;
ALTER TABLE outcomes DROP COLUMN IF EXISTS complete;
ALTER TABLE outcomes DROP COLUMN IF EXISTS missing_metrics;

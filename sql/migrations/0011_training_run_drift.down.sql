-- Rollback of 0011: the drift alarms stay readable in each run's message (drift_alarm=…).
ALTER TABLE training_runs DROP CONSTRAINT IF EXISTS training_runs_drift_shape;
ALTER TABLE training_runs DROP COLUMN IF EXISTS drift;

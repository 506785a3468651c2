-- Rollback of 0001: drops the whole core schema (data included).
DROP TABLE IF EXISTS ops_control;
DROP TABLE IF EXISTS llm_usage;
DROP TABLE IF EXISTS llm_budget_days;
DROP TABLE IF EXISTS training_runs;
DROP TABLE IF EXISTS bandit_arms;
DROP TABLE IF EXISTS follower_snapshots;
DROP TABLE IF EXISTS outcomes;
DROP TABLE IF EXISTS posted_decisions;
DROP TABLE IF EXISTS experiment_assignments;
DROP TABLE IF EXISTS content_metadata;
DROP TABLE IF EXISTS experiments;
DROP TRIGGER IF EXISTS reward_versions_immutable ON reward_versions;
DROP FUNCTION IF EXISTS reward_versions_immutable();
DROP TABLE IF EXISTS reward_versions;
DROP TABLE IF EXISTS accounts;

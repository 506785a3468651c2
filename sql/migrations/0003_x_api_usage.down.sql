-- Rollback of 0003: drops the X API cost tables (their rows included).
DROP TABLE IF EXISTS x_api_usage;
DROP TABLE IF EXISTS x_api_budget_days;

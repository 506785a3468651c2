-- Named queries of the simulated history generator (xbot_core/services/simulation/history.py).

-- name: history_simulated_rows
SELECT count(*) FROM content_metadata WHERE account_id = %(account_id)s AND simulated;

-- name: history_real_rows
SELECT count(*) FROM content_metadata WHERE account_id = %(account_id)s AND NOT simulated;

-- name: history_clear_simulated
-- Remove one account's simulated history (FKs are NO ACTION: checked at the end of this one statement).
WITH sim AS (
    SELECT decision_id FROM content_metadata WHERE account_id = %(account_id)s AND simulated
), d_outcomes AS (
    DELETE FROM outcomes WHERE decision_id IN (SELECT decision_id FROM sim)
), d_posted AS (
    DELETE FROM posted_decisions WHERE decision_id IN (SELECT decision_id FROM sim)
), d_assign AS (
    DELETE FROM experiment_assignments WHERE decision_id IN (SELECT decision_id FROM sim)
), d_decisions AS (
    DELETE FROM content_metadata WHERE decision_id IN (SELECT decision_id FROM sim)
), d_snap AS (
    DELETE FROM follower_snapshots WHERE account_id = %(account_id)s AND simulated
), d_arms AS (
    DELETE FROM bandit_arms WHERE account_id = %(account_id)s AND simulated
)
DELETE FROM training_runs WHERE account_id = %(account_id)s AND simulated;

-- name: history_clear_experiments
-- Experiments of the account that no real decision refers to (run after history_clear_simulated).
DELETE FROM experiments e
 WHERE e.account_id = %(account_id)s
   AND NOT EXISTS (SELECT 1 FROM content_metadata c WHERE c.experiment_id = e.experiment_id)
   AND NOT EXISTS (SELECT 1 FROM experiment_assignments a WHERE a.experiment_id = e.experiment_id);

-- 0008 outcome completeness: a collected pass names the reward metrics it lacks (domain/completeness.py), so a
-- missing reward term is never lost silently; learning runs record how many incomplete passes they left out.
ALTER TABLE outcomes ADD COLUMN IF NOT EXISTS missing_metrics text[];
ALTER TABLE outcomes ADD COLUMN IF NOT EXISTS complete boolean
    GENERATED ALWAYS AS (cardinality(missing_metrics) = 0) STORED;
ALTER TABLE outcomes DROP CONSTRAINT IF EXISTS outcomes_missing_metrics_known;
ALTER TABLE outcomes ADD CONSTRAINT outcomes_missing_metrics_known
    CHECK (missing_metrics <@ ARRAY['impressions', 'follows', 'retweets', 'replies']::text[]);
ALTER TABLE outcomes DROP CONSTRAINT IF EXISTS outcomes_missing_metrics_ok_only;
ALTER TABLE outcomes ADD CONSTRAINT outcomes_missing_metrics_ok_only
    CHECK (status = 'ok' OR missing_metrics IS NULL);

-- Passes stored before this migration, judged under the active version (same rule as the domain module).
UPDATE outcomes o
   SET missing_metrics = ARRAY(
        SELECT m.name
          FROM (VALUES (1, 'impressions', o.impressions IS NULL
                                          AND greatest(abs(v.w_fpki), abs(v.w_retweet), abs(v.w_reply)) > 0),
                       (2, 'follows', o.follows IS NULL AND v.w_fpki <> 0),
                       (3, 'retweets', o.retweets IS NULL AND v.w_retweet <> 0),
                       (4, 'replies', o.replies IS NULL AND v.w_reply <> 0)) AS m (ord, name, lacking)
         WHERE m.lacking
         ORDER BY m.ord)
  FROM reward_versions v
 WHERE v.is_active AND o.status = 'ok' AND o.missing_metrics IS NULL;

ALTER TABLE training_runs ADD COLUMN IF NOT EXISTS outcomes_incomplete integer NOT NULL DEFAULT 0
    CHECK (outcomes_incomplete >= 0);

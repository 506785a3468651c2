-- Reward versions bounded in the database as in xbot_core/domain/reward.py (issue 17): every weight within
-- ±10 (the duplicate penalty in [-10, 0]), every reference scale in [1e-6, 1e6], the exposure cap in [1, 1e9],
-- so no row written around the code (psql, another tool) can make reward() overflow or divide by ~0.
-- NaN and ±Infinity fall outside every range. A database already holding an out-of-bounds version is not
-- silently grandfathered: the migration stops, naming the versions to look at.
DO $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(version::text, ', ' ORDER BY version) INTO bad
      FROM reward_versions
     WHERE NOT (w_fpki BETWEEN -10 AND 10 AND w_retweet BETWEEN -10 AND 10 AND w_reply BETWEEN -10 AND 10
                AND w_novelty BETWEEN -10 AND 10 AND w_dup_penalty BETWEEN -10 AND 0
                AND scale_fpki BETWEEN 1e-6 AND 1e6 AND scale_retweet BETWEEN 1e-6 AND 1e6
                AND scale_reply BETWEEN 1e-6 AND 1e6 AND exposure_cap BETWEEN 1 AND 1e9);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'reward_versions % are out of the bounds migration 0007 adds (weights within ±10, '
                        'scales in [1e-6, 1e6], exposure cap in [1, 1e9]); remove them or fix them first', bad
            USING ERRCODE = 'check_violation';
    END IF;
END $$;

ALTER TABLE reward_versions DROP CONSTRAINT IF EXISTS reward_versions_weights_bounded;
ALTER TABLE reward_versions ADD CONSTRAINT reward_versions_weights_bounded CHECK (
    w_fpki BETWEEN -10 AND 10 AND w_retweet BETWEEN -10 AND 10 AND w_reply BETWEEN -10 AND 10
    AND w_novelty BETWEEN -10 AND 10 AND w_dup_penalty BETWEEN -10 AND 0);
ALTER TABLE reward_versions DROP CONSTRAINT IF EXISTS reward_versions_scales_bounded;
ALTER TABLE reward_versions ADD CONSTRAINT reward_versions_scales_bounded CHECK (
    scale_fpki BETWEEN 1e-6 AND 1e6 AND scale_retweet BETWEEN 1e-6 AND 1e6 AND scale_reply BETWEEN 1e-6 AND 1e6);
ALTER TABLE reward_versions DROP CONSTRAINT IF EXISTS reward_versions_exposure_cap_bounded;
ALTER TABLE reward_versions ADD CONSTRAINT reward_versions_exposure_cap_bounded CHECK (
    exposure_cap BETWEEN 1 AND 1e9);

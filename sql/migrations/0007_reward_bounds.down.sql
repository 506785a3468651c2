ALTER TABLE reward_versions DROP CONSTRAINT IF EXISTS reward_versions_exposure_cap_bounded;
ALTER TABLE reward_versions DROP CONSTRAINT IF EXISTS reward_versions_scales_bounded;
ALTER TABLE reward_versions DROP CONSTRAINT IF EXISTS reward_versions_weights_bounded;

-- Every reward version (immutable weights and reference scales).
SELECT version, w_fpki, w_retweet, w_reply, w_novelty, w_dup_penalty,
       scale_fpki, scale_retweet, scale_reply, exposure_cap, is_active, note, created_at
  FROM reward_versions
 ORDER BY version;

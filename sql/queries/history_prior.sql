-- Named queries of the history prior (`xbot learn --prior-from-history`) and of the LLM content-type labels.

-- name: history_prior_posts
-- The account's imported posts, latest read each (view imported_posts), oldest first, with its time zone.
SELECT p.tweet_id, p.posted_at, p.time_known, p.text, p.is_reply, p.impressions, p.follows, p.reposts,
       p.replies, a.timezone
  FROM imported_posts p
  JOIN accounts a USING (account_id)
 WHERE p.account_id = %(account_id)s
 ORDER BY p.posted_at, p.tweet_id;

-- name: classify_unlabelled_texts
-- The account's imported original posts (replies carry no arms), one row per text, oldest first.
SELECT p.tweet_id, p.text
  FROM imported_post_rows p
 WHERE p.account_id = %(account_id)s AND NOT p.is_reply
 ORDER BY p.posted_at, p.tweet_id;

-- name: content_type_labels_for
SELECT text_hash, content_type FROM content_type_labels WHERE text_hash = ANY(%(hashes)s);

-- name: content_type_label_insert
INSERT INTO content_type_labels (text_hash, content_type, raw_label, valid, model)
VALUES (%(text_hash)s, %(content_type)s, %(raw_label)s, %(valid)s, %(model)s)
ON CONFLICT (text_hash) DO NOTHING;

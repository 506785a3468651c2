-- The content types an LLM gave imported texts (`xbot import x-analytics --classify llm`), per text hash
-- (domain/text.py content_hash), answers in the catalog only: an answer outside it is stored as 'unknown' and
-- the rules label that post. Workspace-wide, like the cache itself. The history report reads it.
--   psql "$(xbot db url)" -f sql/analytics/content_type_labels.sql
SELECT text_hash, content_type, model, labelled_at
  FROM content_type_labels
 WHERE valid AND content_type <> 'unknown'
 ORDER BY text_hash;

-- 0008 content-type labels: what the LLM said a text's content type is (`xbot import x-analytics --classify
-- llm`), cached per text hash (domain.text.content_hash: sha256 of the normalised text) so re-importing or
-- re-labelling the same text never pays twice. Workspace-wide, like the LLM budget. `content_type` is a
-- catalog type or 'unknown' (an answer outside the catalog is stored as 'unknown' with its raw words, so it
-- is counted, never guessed). Idempotent.

CREATE TABLE IF NOT EXISTS content_type_labels (
    text_hash     text PRIMARY KEY CHECK (text_hash ~ '^[0-9a-f]{64}$'),
    content_type  text NOT NULL
                  CHECK (content_type IN ('tip', 'insight', 'story', 'hot_take', 'resource', 'unknown')),
    raw_label     text NOT NULL,  -- the model's answer, trimmed to 200 characters
    valid         boolean NOT NULL,  -- false: the answer was no known content type
    model         text NOT NULL,
    labelled_at   timestamptz NOT NULL DEFAULT now()
);

"""`xbot import x-analytics ... --classify llm`: content types of an account's imported original posts
labelled through the budgeted LLM client (a reservation per call, as generation does), cached per text hash in
`content_type_labels` (migration 0008), so a re-import or a second run calls nothing for a text seen before.

Runs after the import committed: a budget or circuit refusal stops the labelling (what was labelled stays
cached; the next run continues), never the import."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg
from psycopg_pool import ConnectionPool

from xbot_core.adapters.db import history_repo
from xbot_core.domain.content_labels import MAX_TOKENS, PURPOSE, UNKNOWN, messages, parse_label
from xbot_core.domain.text import content_hash
from xbot_core.errors import BudgetExceededError, CircuitOpenError

if TYPE_CHECKING:  # a type only: the openai package takes over a CPU second to import (each report kernel)
    from xbot_core.adapters.llm.client import ChatLLM

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassifyResult:
    """What a labelling run did: texts labelled now, found in the cache, answers outside the catalog, left."""

    texts: int
    labelled: int
    cached: int
    invalid: int
    left: int
    stopped: str | None = None  # why labelling stopped early (budget or circuit), else None

    @property
    def message(self) -> str:
        line = (
            f"content types by LLM: {self.texts} texts, {self.labelled} labelled now, {self.cached} from the "
            f"cache, {self.invalid} answers outside the catalog stored as unknown"
        )
        if self.stopped:
            line += f"; stopped with {self.left} left ({self.stopped}): run again to continue"
        return line


def classify_account(pool: ConnectionPool, llm: ChatLLM, account_id: int) -> ClassifyResult:
    """Label every imported original post of the account whose text is not cached yet."""
    with pool.connection() as conn:
        rows = history_repo.unlabelled_texts(conn, account_id)
        texts: dict[str, str] = {}
        for _, text in rows:
            texts.setdefault(content_hash(text), text)
        known = {h for h, _ in history_repo.labels_for(conn, list(texts))}
    todo = [(h, t) for h, t in texts.items() if h not in known]
    return _label(pool, llm, todo, total=len(texts), cached=len(known))


def _label(
    pool: ConnectionPool, llm: ChatLLM, todo: Sequence[tuple[str, str]], *, total: int, cached: int
) -> ClassifyResult:
    labelled = invalid = 0
    for i, (text_hash, text) in enumerate(todo):
        try:
            result = llm.complete(messages(text), purpose=PURPOSE, max_tokens=MAX_TOKENS, seed=0)
        except (BudgetExceededError, CircuitOpenError) as exc:
            log.warning("content-type labelling stopped: %s", exc)
            return ClassifyResult(total, labelled, cached, invalid, len(todo) - i, str(exc))
        label = parse_label(result.text)
        invalid += not label.valid
        with pool.connection() as conn:
            history_repo.insert_label(
                conn,
                text_hash=text_hash,
                content_type=label.content_type,
                raw_label=label.raw,
                valid=label.valid,
                model=result.model,
            )
        labelled += 1
    return ClassifyResult(total, labelled, cached, invalid, 0)


def cached_labels(conn: psycopg.Connection, texts: Sequence[str]) -> dict[str, str]:
    """{text: content type} of the texts an LLM labelled (valid answers only; rules apply to the rest)."""
    hashes = {content_hash(t): t for t in texts}
    rows = history_repo.labels_for(conn, list(hashes))
    return {hashes[h]: ct for h, ct in rows if ct != UNKNOWN}

"""Every named query is prepared against the migrated schema, so SQL and schema cannot drift apart."""

from __future__ import annotations

import re

import psycopg
import pytest

from xbot_core.adapters.db.queries import load_queries, parse_queries

pytestmark = pytest.mark.db

_PARAM = re.compile(r"%\((\w+)\)s|%s")


def to_dollar_params(text: str) -> str:
    """psycopg's %(name)s / %s placeholders as PREPARE's $n (same name → same number)."""
    numbers: dict[str, int] = {}
    counter = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal counter
        key = m.group(1) or f"__positional_{counter}"
        if key not in numbers:
            counter += 1
            numbers[key] = counter
        return f"${numbers[key]}"

    return _PARAM.sub(sub, text)


def test_there_are_named_queries() -> None:
    assert {"posting_queue", "claim_decision", "upsert_outcome", "pending_passes"} <= set(load_queries())


@pytest.mark.parametrize("name", sorted(load_queries()))
def test_named_query_prepares_against_schema(db_url: str, name: str) -> None:
    sql_text = to_dollar_params(load_queries()[name])
    with psycopg.connect(db_url) as conn:
        conn.execute(f"PREPARE q_check AS {sql_text}")  # parse + plan against the real catalog
        conn.rollback()


def test_parse_rejects_duplicates_and_empty() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        parse_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;")
    with pytest.raises(ValueError, match="empty"):
        parse_queries("-- name: a\n\n-- name: b\nSELECT 1")

"""Every named query is prepared against the migrated schema, so SQL and schema cannot drift apart."""

from __future__ import annotations

import re

import psycopg
import pytest

from xbot_core.adapters.db.queries import load_queries, parse_queries

pytestmark = pytest.mark.db

_PARAM = re.compile(r"%\((\w+)\)s|%s")
_COMMENT = re.compile(r"--[^\n]*")


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
    text = load_queries()[name]
    with psycopg.connect(db_url) as conn:
        if is_settings_only(text):
            # SET LOCAL cannot be prepared: run it in a transaction that is rolled back, so the server
            # checks every parameter name and value.
            conn.execute(text)
        else:
            conn.execute(f"PREPARE q_check AS {to_dollar_params(text)}")  # parse + plan against the catalog
        conn.rollback()


def is_settings_only(text: str) -> bool:
    """Every statement of the query is a SET (transaction-scoped planner settings)."""
    statements = [s.strip() for s in _COMMENT.sub("", text).split(";") if s.strip()]
    return bool(statements) and all(s.upper().startswith("SET ") for s in statements)


def test_settings_only_is_told_apart() -> None:
    assert is_settings_only("-- why\nSET LOCAL work_mem = '64MB';\nSET LOCAL enable_nestloop = off;")
    assert not is_settings_only("SET LOCAL work_mem = '64MB'; SELECT 1;")
    assert not is_settings_only("SELECT 1 -- SET x")


def test_parse_rejects_duplicates_and_empty() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        parse_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;")
    with pytest.raises(ValueError, match="empty"):
        parse_queries("-- name: a\n\n-- name: b\nSELECT 1")

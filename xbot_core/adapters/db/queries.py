"""Named SQL queries loaded from sql/queries/*.sql (`-- name: posting_queue` then the statement)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from xbot_core.package_data import QUERIES_DIR

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse_queries(text: str, source: str = "<string>") -> dict[str, str]:
    """Split a file into {name: sql}; duplicate names are an error."""
    parts = _NAME.split(text)
    out: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in out:
            raise ValueError(f"duplicate query name {name!r} in {source}")
        sql = body.strip().rstrip(";").strip()
        if not sql:
            raise ValueError(f"query {name!r} in {source} is empty")
        out[name] = sql
    return out


@cache
def load_queries(directory: Path = QUERIES_DIR) -> dict[str, str]:
    """Every named query of every file in the directory; names are unique across files."""
    out: dict[str, str] = {}
    for path in sorted(directory.glob("*.sql")):
        for name, sql in parse_queries(path.read_text(encoding="utf-8"), str(path)).items():
            if name in out:
                raise ValueError(f"query name {name!r} defined twice (again in {path.name})")
            out[name] = sql
    return out


def query(name: str) -> str:
    """The SQL of a named query."""
    try:
        return load_queries()[name]
    except KeyError:
        raise KeyError(f"no named query {name!r} in {QUERIES_DIR}") from None

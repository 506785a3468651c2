"""`--classify llm`: content types of the real current-format fixture labelled through the budgeted LLM client
against the sandbox's OpenAI-compatible endpoint (real openai client over HTTP), validated, cached per text:
a re-import and a second run call nothing; a refused budget stops the labelling, never the import."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from tests.cli_run import run_xbot
from tests.plugins.llm import LLMEndpoint
from tests.x_analytics_data import CURRENT_FILE, exports_dir
from xbot_core.domain.content_labels import PURPOSE
from xbot_core.domain.history_arms import UNKNOWN, content_type
from xbot_core.domain.text import content_hash
from xbot_core.services import wiring
from xbot_core.services.operations.classify import cached_labels, classify_account
from xbot_core.services.operations.imports import import_exports
from xbot_core.settings import load_settings

pytestmark = pytest.mark.db


def _import(conn: psycopg.Connection) -> int:
    return import_exports(
        conn,
        [exports_dir() / CURRENT_FILE],
        handle="MauroJPelle",
        x_base_url="https://x.com",
        default_timezone="UTC",
        as_of=None,
        today=date(2026, 12, 2),
    ).account_id


def _usage(conn: psycopg.Connection) -> list[tuple[str, int]]:
    return conn.execute(
        "SELECT status, count(*) FROM llm_usage WHERE purpose = %s GROUP BY status ORDER BY status",
        (PURPOSE,),
    ).fetchall()


def test_labels_are_budgeted_validated_and_cached(
    db_pool: ConnectionPool,
    clean_db: str,
    llm_endpoint: LLMEndpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with psycopg.connect(clean_db) as conn:
        account_id = _import(conn)
        texts = [r[0] for r in conn.execute("SELECT text FROM imported_posts WHERE NOT is_reply").fetchall()]
    assert len(texts) == 46  # 70 rows, 24 replies
    unique = list({content_hash(t): t for t in texts}.values())
    assert len(unique) == 45  # two posts share one text: labelled (and paid for) once
    # the sandbox answers the rules' type, and `other` (outside the list) where the rules cannot tell
    outside = sum(content_type(t) == UNKNOWN for t in unique)
    assert 0 < outside < len(unique)
    llm = wiring.budgeted_llm(db_pool, load_settings(openai_base_url=llm_endpoint.base_url))

    first = classify_account(db_pool, llm, account_id)
    assert (first.texts, first.labelled, first.cached, first.invalid, first.left) == (45, 45, 0, outside, 0)
    assert llm_endpoint.stats()["completions"] == 45
    with psycopg.connect(clean_db) as conn:
        rows = conn.execute("SELECT content_type, raw_label, valid FROM content_type_labels").fetchall()
        assert _usage(conn) == [("succeeded", 45)]  # one reservation per call, settled from usage
        labels = cached_labels(conn, texts)
    assert len(rows) == 45 and sum(not v for _, _, v in rows) == outside
    assert {(c, r) for c, r, v in rows if not v} == {(UNKNOWN, "other")}
    assert labels == {t: content_type(t) for t in texts if content_type(t) != UNKNOWN}

    # the same export again through the command, labelling again: nothing is called, nothing is paid
    args = ["import", "x-analytics", str(exports_dir() / CURRENT_FILE), "--account", "MauroJPelle"]
    r = run_xbot(
        monkeypatch,
        [*args, "--classify", "llm"],
        database_url=clean_db,
        openai_base_url=llm_endpoint.base_url,
        data_dir=tmp_path / "data",
    )
    assert r.exit_code == 0, r.output
    assert "content types by LLM: 45 texts, 0 labelled now, 45 from the cache" in r.output
    assert llm_endpoint.stats()["completions"] == 45
    with psycopg.connect(clean_db) as conn:
        assert _usage(conn) == [("succeeded", 45)]


def test_a_refused_budget_stops_labelling_and_keeps_the_import(
    db_pool: ConnectionPool, clean_db: str, llm_endpoint: LLMEndpoint
) -> None:
    with psycopg.connect(clean_db) as conn:
        account_id = _import(conn)
    llm = wiring.budgeted_llm(
        db_pool, load_settings(openai_base_url=llm_endpoint.base_url, llm_daily_budget_usd=0.0)
    )
    result = classify_account(db_pool, llm, account_id)
    assert (result.labelled, result.left) == (0, 45) and "daily LLM budget" in (result.stopped or "")
    assert "stopped with 45 left" in result.message and "run again to continue" in result.message
    assert llm_endpoint.stats()["requests"] == 0  # refused before any HTTP request
    with psycopg.connect(clean_db) as conn:
        assert conn.execute("SELECT count(*) FROM imported_posts").fetchone() == (70,)
        assert conn.execute("SELECT count(*) FROM content_type_labels").fetchone() == (0,)

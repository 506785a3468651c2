"""Incomplete passes in the daily report: the share of collected passes lacking a reward metric."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import psycopg
import pytest

from tests.db.learning_data import T0, posted_decision
from xbot_core.adapters.db import repositories as repo
from xbot_core.services.read import analytics
from xbot_core.services.reporting import report_daily

pytestmark = pytest.mark.db


def _mark(conn: psycopg.Connection, decision_id: uuid.UUID, collected_pass: int, missing: list[str]) -> None:
    conn.execute(
        "UPDATE outcomes SET missing_metrics = %s WHERE decision_id = %s AND collected_pass = %s",
        (missing, decision_id, collected_pass),
    )


def test_daily_report_counts_incomplete_passes_of_the_window(clean_db: str, account_id: int) -> None:
    full = {"impressions": 1000, "follows": 2.0, "retweets": 5, "replies": 1}
    with psycopg.connect(clean_db) as conn:
        a = posted_decision(conn, account_id, passes={1: full, 2: full})
        b = posted_decision(conn, account_id, passes={1: {**full, "follows": None}, 2: full})
        c = posted_decision(conn, account_id, passes={2: {**full, "follows": None, "replies": None}})
        old = posted_decision(  # outside the 7-day window: not counted
            conn, account_id, posted_at=T0 - timedelta(days=20), passes={2: {**full, "follows": None}}
        )
        for d, k in ((a, 1), (a, 2), (b, 2)):
            _mark(conn, d, k, [])
        _mark(conn, b, 1, ["follows"])
        _mark(conn, c, 2, ["follows", "replies"])
        _mark(conn, old, 2, ["follows"])
        conn.commit()
        complete = dict(
            ((str(d), k), ok)
            for d, k, ok in conn.execute("SELECT decision_id, collected_pass, complete FROM outcomes")
        )
    assert complete[(str(b), 1)] is False and complete[(str(b), 2)] is True
    source = analytics.Source(url=clean_db, account_id=account_id, handle="x", simulated=False)
    report = report_daily.build(source, T0.date() + timedelta(days=1))
    kpi = {metric: value for metric, value, *_ in report.kpis.iter_rows()}
    # by hand: 5 ok passes in the window (a1 a2 b1 b2 c2), 2 incomplete (b1, c2)
    assert kpi["incomplete passes 7d"] == 2.0
    assert kpi["incomplete share 7d"] == pytest.approx(0.4)


def test_an_unavailable_pass_cannot_be_called_incomplete(clean_db: str, account_id: int) -> None:
    with psycopg.connect(clean_db) as conn:
        d = posted_decision(conn, account_id)
        conn.commit()
        row = repo.OutcomeRow(
            decision_id=d,
            collected_pass=1,
            account_id=account_id,
            due_at=T0,
            collected_at=T0,
            simulated=False,
            status="unavailable",
            unavailable_reason="deleted: gone",
        )
        with pytest.raises(psycopg.errors.CheckViolation):
            repo.upsert_outcome(conn, dataclasses.replace(row, missing_metrics=["follows"]))
        conn.rollback()
        with pytest.raises(psycopg.errors.CheckViolation):
            repo.upsert_outcome(conn, dataclasses.replace(row, status="ok", missing_metrics=["likes"]))

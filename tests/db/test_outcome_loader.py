"""The outcomes load path against a simple reference read: one outcomes.sql query through ADBC.

Both strategies (DuckDB's postgres_scanner, key lookups) and the automatic choice must return exactly the
reference frame (rows, column types, values, NULLs) for real and simulated rows, never mixing the two.
"""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from typing import Any

import polars as pl
import psycopg
import pytest
from polars.testing import assert_frame_equal

from tests.db.learning_data import T0, posted_decision
from xbot_core.adapters.db import pg_scanner
from xbot_core.adapters.db.repositories import ensure_account
from xbot_core.errors import DatabaseError
from xbot_core.services.read import analytics, outcome_loader

pytestmark = pytest.mark.db

KEY = ["decision_id", "collected_pass"]


def _metrics(rng: random.Random) -> dict[str, Any]:
    """Pass metrics with some unknown (NULL) values, the way a scrape can miss them."""
    impressions = rng.choice([None, 0, rng.randint(1, 5000)])
    likes = rng.choice([None, rng.randint(0, 50)])
    return {
        "impressions": impressions,
        "likes": likes,
        "retweets": rng.randint(0, 9),
        "replies": rng.choice([None, rng.randint(0, 9)]),
        "follows": rng.choice([None, rng.random() * 3]),
        "er": None if not impressions or likes is None else likes / impressions,
    }


@pytest.fixture()
def history(clean_db: str, account_id: int) -> dict[str, int]:
    """60 real and 60 simulated posts over 12 days (pass 1, pass 2, neither), a second account's posts, and
    a re-collected pass (a moved row version) for each side."""
    rng = random.Random(19)
    with psycopg.connect(clean_db) as conn:
        other = ensure_account(conn, "someone_else", "http://127.0.0.1:1", None)
        ids: list[tuple[Any, bool]] = []
        for i in range(120):
            simulated = i % 2 == 1
            passes = rng.choice([{1: _metrics(rng), 2: _metrics(rng)}, {1: _metrics(rng)}, {}])
            at = T0 + timedelta(hours=2.4 * i)
            ids.append(
                (
                    posted_decision(conn, account_id, simulated=simulated, posted_at=at, passes=passes),
                    simulated,
                )
            )
            posted_decision(conn, other, simulated=simulated, posted_at=at, passes={1: _metrics(rng)})
        for simulated in (False, True):
            decision_id = next(d for d, s in ids if s is simulated)
            conn.execute(
                "UPDATE outcomes SET impressions = 77, likes = NULL"
                " WHERE decision_id = %s AND collected_pass = 1",
                (decision_id,),
            )
    return {"account_id": account_id}


def _reference(source: analytics.Source, **window: Any) -> pl.DataFrame:
    return analytics.load_sql(source.url, analytics.analytics_sql("outcomes"), {**source.params, **window})


WINDOWS = [
    {"since": "2000-01-01", "until": "2100-01-01"},
    {"since": T0 + timedelta(days=3), "until": T0 + timedelta(days=5)},
    {"since": T0 - timedelta(days=9), "until": T0},
]


@pytest.mark.parametrize("simulated", [False, True])
@pytest.mark.parametrize("window", range(len(WINDOWS)))
def test_every_strategy_returns_the_reference_frame(
    clean_db: str, history: dict[str, int], simulated: bool, window: int
) -> None:
    source = analytics.open_source("xbot_test", simulated=simulated, url=clean_db)
    params = {**source.params, **WINDOWS[window]}
    ref = _reference(source, **WINDOWS[window]).sort(KEY)
    if window == 0:  # the whole history: real or simulated rows only, NULLs included
        assert ref.height > 40 and ref["impressions"].null_count() > 0 and ref["likes"].null_count() > 0
        assert 77 in ref["impressions"].to_list()
    if window == 2:
        assert ref.is_empty()
    got = outcome_loader.load_outcomes(clean_db, params, force="scan")
    assert_frame_equal(got.sort(KEY), ref)
    assert_frame_equal(outcome_loader.load_outcomes(clean_db, params, force="lookup").sort(KEY), ref)
    assert_frame_equal(analytics.load(source, "outcomes", **WINDOWS[window]).sort(KEY), ref)


def test_decisions_by_key_lookup_or_hash_join_return_the_reference_frame(
    clean_db: str, history: dict[str, int]
) -> None:
    key = ["decision_id"]
    for simulated, window in itertools.product((False, True), WINDOWS):
        source = analytics.open_source("xbot_test", simulated=simulated, url=clean_db)
        ref = analytics.load_sql(
            clean_db, analytics.analytics_sql("decisions"), {**source.params, **window}
        ).sort(key)
        if window is WINDOWS[1]:  # two days of the twelve: some posts, not all
            assert 0 < ref.height < 30
        for narrow in (True, False, None):
            got = outcome_loader.load_decisions(clean_db, {**source.params, **window}, narrow=narrow)
            assert_frame_equal(got.sort(key), ref)
        assert_frame_equal(analytics.load(source, "decisions", **window).sort(key), ref)


def test_real_and_simulated_frames_are_disjoint(clean_db: str, history: dict[str, int]) -> None:
    frames = [
        analytics.load(
            analytics.open_source("xbot_test", simulated=s, url=clean_db), "outcomes", **WINDOWS[0]
        )
        for s in (False, True)
    ]
    with psycopg.connect(clean_db) as conn:
        counts = dict(
            conn.execute(
                "SELECT simulated, count(*) FROM outcomes WHERE account_id = %s GROUP BY simulated",
                (history["account_id"],),
            ).fetchall()
        )
    assert [f.height for f in frames] == [counts[False], counts[True]]
    assert set(frames[0]["decision_id"]).isdisjoint(frames[1]["decision_id"])


def test_a_scan_that_cannot_attach_names_the_database_without_its_password() -> None:
    url = "postgresql://xbot:s3cret-pw@127.0.0.1:1/xbot"
    with pytest.raises(DatabaseError, match=r"cannot attach .*127\.0\.0\.1") as caught:
        pg_scanner.scan(url, "SELECT 1")
    assert "s3cret-pw" not in str(caught.value) and caught.value.__cause__ is None

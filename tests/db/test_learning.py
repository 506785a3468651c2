"""The learn step against the real schema: pinned posteriors, pass 2 replaces pass 1, real ≠ simulated."""

from __future__ import annotations

import logging
import re
import uuid

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from tests.db.learning_data import T0, posted_decision
from xbot_core.services.loop import learning
from xbot_core.services.operations import rewards

pytestmark = pytest.mark.db
NOW = T0.replace(day=7)


def _m(impressions: int, follows: float | None, retweets: int = 0, replies: int = 0) -> dict[str, object]:
    return {"impressions": impressions, "follows": follows, "retweets": retweets, "replies": replies}


def seed_five(conn: psycopg.Connection, account_id: int, simulated: bool = False) -> dict[str, uuid.UUID]:
    """Five usable decisions + one without follows; rewards by hand in the test below."""
    ids = {
        "d1": posted_decision(
            conn, account_id, simulated=simulated, passes={1: _m(1000, 2), 2: _m(2000, 2, 20, 10)}
        ),
        "d2": posted_decision(
            conn, account_id, simulated=simulated, novelty=1.0, passes={2: _m(500, 0, 5, 0)}
        ),
        "d3": posted_decision(
            conn,
            account_id,
            simulated=simulated,
            content_type="insight",
            hook_pattern="bold_claim",
            timing_slot="midday",
            passes={1: _m(4000, 20)},
        ),
        "d4": posted_decision(
            conn,
            account_id,
            simulated=simulated,
            content_type="insight",
            hook_pattern="bold_claim",
            timing_slot="midday",
            dup_penalty=1.0,
            passes={2: _m(250, 0)},
        ),
        "d5": posted_decision(
            conn, account_id, simulated=simulated, content_type="story", passes={2: _m(1000, 1, 5, 5)}
        ),
        "d6": posted_decision(conn, account_id, simulated=simulated, passes={2: _m(1000, None, 5, 5)}),
    }
    conn.commit()
    return ids


def arms(conn: psycopg.Connection, account_id: int, simulated: bool) -> dict[tuple[str, str], dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT * FROM bandit_arms WHERE account_id = %s AND simulated = %s", (account_id, simulated)
        ).fetchall()
    return {(r["scope"], r["arm"]): r for r in rows}


def test_learn_pinned_posteriors_and_log(
    db_pool: ConnectionPool, clean_db: str, account_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    with psycopg.connect(clean_db) as conn:
        ids = seed_five(conn, account_id)
    with caplog.at_level(logging.INFO, logger="xbot_core.services.loop.learning"):
        result = learning.learn(db_pool, account_id, simulated=False, now=NOW)
    # arms with data: content_type tip/insight/story, hook how_to/bold_claim, slot morning/midday
    assert (result.status, result.reward_version, result.outcomes_used, result.arms_trained) == (
        "trained",
        1,
        5,
        7,
    )
    assert re.fullmatch(r"coeffs_updated=v1 arms_trained=7 explore_ratio=0\.\d{3}", result.message)
    assert result.message in caplog.messages
    # d6 has no follows: left out, counted in the run and named in the log
    assert "learn (reward v1): incomplete_passes_left_out=1 (missing: follows 1)" in caplog.messages
    assert 0 < result.explore_ratio < 1  # type: ignore[operator]
    with psycopg.connect(clean_db) as conn:
        a = arms(conn, account_id, simulated=False)
        # by hand (reward, exposure weight):
        # d1 pass 2: fpki 1 → 0.25, rt 1% → 0.3, reply 0.5% → 0.15 = 0.7, w 1 (pass 1's 0.5 is replaced)
        # d2: rt 1% → 0.3 + novelty 0.05 = 0.35, w 0.5;  d3: fpki 5 → 1.25, w 1
        # d4: −0.1 → clipped to 0, w 0.25;  d5: 0.25 + 0.15 + 0.15 = 0.55, w 1;  d6: follows unknown → unused
        # each enters the Beta update as reward / 3 (bandit.REWARD_SCALE):
        # tip alpha 1 + 0.7/3 + 0.5·0.35/3 = 1.29167, beta 1 + (1 − 0.7/3) + 0.5·(1 − 0.35/3) = 2.20833
        tip = a[("content_type", "tip")]
        assert (round(tip["alpha"], 5), round(tip["beta"], 5), tip["pulls"], round(tip["sum_reward"], 5)) == (
            1.29167,
            2.20833,
            2,
            1.05,
        )
        # insight alpha 1 + 1.25/3 = 1.41667, beta 1 + (1 − 1.25/3) + 0.25 = 1.83333
        ins = a[("content_type", "insight")]
        assert (
            round(ins["alpha"], 5),
            round(ins["beta"], 5),
            ins["provisional"],
            round(ins["sum_reward"], 5),
        ) == (1.41667, 1.83333, 1, 1.15)
        how = a[("hook_pattern", "how_to")]
        # how_to: d1, d2, d5: alpha 1 + (0.7 + 0.175 + 0.55)/3 = 1.475, beta 1 + 2.5 − 0.475 = 3.025
        assert (round(how["alpha"], 5), round(how["beta"], 5), how["pulls"]) == (1.475, 3.025, 3)
        untouched = a[("content_type", "resource")]
        assert (untouched["alpha"], untouched["beta"], untouched["pulls"]) == (1.0, 1.0, 0)
        assert len(a) == 5 + 5 + 4 and {r["reward_version"] for r in a.values()} == {1}
        stamped = dict(
            ((str(d), p), (None if r is None else round(r, 5), v))
            for d, p, r, v in conn.execute(
                "SELECT decision_id, collected_pass, reward_composite, reward_version FROM outcomes"
            ).fetchall()
        )
        assert stamped[(str(ids["d1"]), 1)] == (0.5, 1)
        assert stamped[(str(ids["d1"]), 2)] == (0.7, 1)
        assert stamped[(str(ids["d4"]), 2)] == (-0.1, 1)
        assert stamped[(str(ids["d6"]), 2)] == (None, None)
        run = conn.execute(
            "SELECT status, outcomes_used, arms_trained, message, outcomes_incomplete FROM training_runs"
        ).fetchall()
        assert run == [("trained", 5, 7, result.message, 1)]
    # learning again from the same data rebuilds the same posteriors (nothing counts twice)
    learning.learn(db_pool, account_id, simulated=False, now=NOW)
    with psycopg.connect(clean_db) as conn:
        again = arms(conn, account_id, simulated=False)
    assert {k: (r["alpha"], r["beta"], r["pulls"]) for k, r in again.items()} == {
        k: (r["alpha"], r["beta"], r["pulls"]) for k, r in a.items()
    }


def test_insufficient_real_outcomes_does_nothing(
    db_pool: ConnectionPool, clean_db: str, account_id: int
) -> None:
    with psycopg.connect(clean_db) as conn:
        for _ in range(4):
            posted_decision(conn, account_id, passes={2: _m(1000, 2)})
        for _ in range(8):  # plenty of simulated outcomes must not make up for missing real ones
            posted_decision(conn, account_id, simulated=True, passes={2: _m(1000, 2)})
        conn.commit()
    result = learning.learn(db_pool, account_id, simulated=False, now=NOW)
    assert (result.status, result.message, result.outcomes_used) == (
        "insufficient_data",
        "insufficient real outcomes",
        4,
    )
    with psycopg.connect(clean_db) as conn:
        assert arms(conn, account_id, simulated=False) == {}
        assert conn.execute(
            "SELECT count(*) FROM outcomes WHERE reward_composite IS NOT NULL"
        ).fetchone() == (0,)
        assert conn.execute("SELECT status, message FROM training_runs").fetchall() == [
            ("insufficient_data", "insufficient real outcomes: 4 usable of 5 needed")
        ]


def test_real_and_simulated_are_never_mixed(db_pool: ConnectionPool, clean_db: str, account_id: int) -> None:
    with psycopg.connect(clean_db) as conn:
        for _ in range(5):
            posted_decision(conn, account_id, hook_pattern="question_cta", passes={2: _m(1000, 2)})
        for _ in range(6):
            posted_decision(
                conn, account_id, simulated=True, hook_pattern="bold_claim", passes={2: _m(1000, 0)}
            )
        conn.commit()
    real = learning.learn(db_pool, account_id, simulated=False, now=NOW)
    assert real.outcomes_used == 5
    with psycopg.connect(clean_db) as conn:
        r = arms(conn, account_id, simulated=False)
        assert r[("hook_pattern", "question_cta")]["pulls"] == 5
        assert r[("hook_pattern", "bold_claim")]["pulls"] == 0
        assert arms(conn, account_id, simulated=True) == {}
    sim = learning.learn(db_pool, account_id, simulated=True, now=NOW)
    assert sim.outcomes_used == 6
    with psycopg.connect(clean_db) as conn:
        s = arms(conn, account_id, simulated=True)
        assert s[("hook_pattern", "bold_claim")]["pulls"] == 6
        assert s[("hook_pattern", "question_cta")]["pulls"] == 0
        # the real arms are untouched by the simulated run
        assert arms(conn, account_id, simulated=False) == r


def test_learn_uses_the_active_reward_version(
    db_pool: ConnectionPool, clean_db: str, account_id: int
) -> None:
    with psycopg.connect(clean_db) as conn:
        ids = seed_five(conn, account_id)
        rewards.create_version(
            conn, w_fpki=1.0, w_retweet=0, w_reply=0, w_novelty=0, w_dup_penalty=0, activate=True
        )
        conn.commit()
    result = learning.learn(db_pool, account_id, simulated=False, now=NOW)
    assert result.reward_version == 2 and result.message.startswith("coeffs_updated=v2 ")
    with psycopg.connect(clean_db) as conn:
        got = conn.execute(
            "SELECT round(reward_composite::numeric, 5), reward_version FROM outcomes"
            " WHERE decision_id = %s AND collected_pass = 2",
            (ids["d1"],),
        ).fetchone()
        # by hand: 1.0 · fpki 1 / scale 2 = 0.5
        assert got is not None and (float(got[0]), got[1]) == (0.5, 2)
        tip = arms(conn, account_id, simulated=False)[("content_type", "tip")]
        # d1: 0.5 / 3 (w 1) → s 0.16667 f 0.83333; d2: fpki 0 → 0 (w 0.5) → f 0.5
        assert (round(tip["alpha"], 5), round(tip["beta"], 5)) == (1.16667, 2.33333)


def test_learn_cli_learns_the_configured_data_kind(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer import Typer
    from typer.testing import CliRunner

    from xbot_core.adapters.db.repositories import ensure_account
    from xbot_core.commands.learn import learn as learn_cmd
    from xbot_core.settings import get_settings

    monkeypatch.setenv("XBOT_DATABASE_URL", clean_db)
    monkeypatch.setenv("XBOT_CLOCK", "system")
    monkeypatch.setenv("XBOT_X_BASE_URL", "https://x.com")  # real X: the data kind is real
    get_settings.cache_clear()
    app = Typer()
    app.command()(learn_cmd)
    app.command("noop")(lambda: None)  # keep `learn` a sub-command, as mounted in cli.py
    try:
        runner = CliRunner()
        first = runner.invoke(app, ["learn"])
        assert first.exit_code == 0, first.output
        assert first.output.strip() == "insufficient real outcomes"
        s = get_settings()
        with psycopg.connect(clean_db) as conn:
            account_id = ensure_account(conn, s.account_handle, s.x_base_url, str(s.session_file), s.timezone)
            for _ in range(5):
                posted_decision(conn, account_id, simulated=True, passes={2: _m(1000, 2)})
            conn.commit()
        assert runner.invoke(app, ["learn"]).output.strip() == "insufficient real outcomes"
        monkeypatch.setenv("XBOT_X_BASE_URL", "http://127.0.0.1:8765")  # the sandbox: simulated, no probe
        get_settings.cache_clear()
        sim = runner.invoke(app, ["learn"])
        assert sim.exit_code == 0, sim.output
        assert re.fullmatch(r"coeffs_updated=v1 arms_trained=3 explore_ratio=0\.\d{3}", sim.output.strip())
    finally:
        get_settings.cache_clear()

"""`xbot learn --prior-from-history`: the posteriors start from the imported history, down-weighted, through
the learn step; posterior numbers checked by hand, the run log says so, real history never feeds simulated."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from tests.cli_run import run_xbot
from tests.db.test_learning import NOW, arms, seed_five
from tests.x_analytics_data import import_legacy
from xbot_core.errors import ConfigError
from xbot_core.services.loop import learning
from xbot_core.services.operations.imports import import_exports

pytestmark = pytest.mark.db

HEADER = (
    "Post id,Date,Post text,Post Link,Impressions,Likes,Engagements,Bookmarks,Shares,New follows,Replies,"
    "Reposts,Profile visits,Detail Expands,URL Clicks,Hashtag Clicks,Permalink Clicks\n"
)
# id, day, text, impressions, follows, replies, reposts. Days > 30 apart: no recent post, novelty 1, dup 0.
POSTS = [
    (11, "Mon, Jan 5, 2026", "Write one test before you fix a bug.", 1000, 1, 2, 3),  # tip, how_to
    (12, "Tue, Feb 10, 2026", "Write the docs first, then the code.", 500, 0, 1, 0),  # tip, how_to
    (13, "Fri, Mar 20, 2026", "Our build is slow because the cache is cold.", 2000, 0, 0, 10),  # insight
    (14, "Fri, May 1, 2026", "Why do teams skip tests?", 100, 0, 0, 0),  # question_cta
    (15, "Sat, May 2, 2026", "@someone thanks, will do", 50, 1, 1, 1),  # a reply: left out
]


def _import(conn: psycopg.Connection, tmp_path: Path) -> None:
    path = tmp_path / "account_analytics_content_2026-01-01_2026-05-31.csv"
    rows = "".join(
        f'{i},"{d}","{t}",https://x.com/xbot_test/status/{i},{imp},0,0,0,0,{f},{rep},{rp},0,0,0,0,0\n'
        for i, d, t, imp, f, rep, rp in POSTS
    )
    path.write_text(HEADER + rows, encoding="utf-8")
    import_exports(
        conn,
        [path],
        handle="xbot_test",
        x_base_url="http://127.0.0.1:1",
        default_timezone="UTC",
        as_of=None,
        today=date(2026, 12, 2),
    )


# Rewards by hand under the default version (0.5·fpki/2 + 0.3·rt/0.01 + 0.15·reply/0.005 + 0.05·novelty):
#   11: 0.5·1/2 + 0.3·0.3 + 0.15·0.4 + 0.05 = 0.45  → r = 0.45/3 = 0.15,     exposure weight 1
#   12: 0.15·0.4 + 0.05               = 0.11  → r = 0.036667,             weight 0.5
#   13: 0.3·0.5 + 0.05                = 0.20  → r = 0.066667,             weight 1
#   14: 0.05                          = 0.05  → r = 0.016667,             weight 0.1
# With W = 0.5 and the Beta(1, 1) prior:
#   tip / how_to: alpha = 1 + 0.5·(0.15 + 0.5·0.036667) = 1.084167,
#                 beta  = 1 + 0.5·(0.85 + 0.5·0.963333) = 1.665833
#   insight:      alpha = 1 + 0.5·0.066667 = 1.033333, beta = 1 + 0.5·0.933333 = 1.466667
#   question_cta: alpha = 1 + 0.5·0.1·0.016667 = 1.000833, beta = 1 + 0.5·0.1·0.983333 = 1.049167
HAND = {
    ("content_type", "tip"): (1.084167, 1.665833),
    ("hook_pattern", "how_to"): (1.084167, 1.665833),
    ("content_type", "insight"): (1.033333, 1.466667),
    ("hook_pattern", "question_cta"): (1.000833, 1.049167),
    ("content_type", "story"): (1.0, 1.0),
    ("timing_slot", "morning"): (1.0, 1.0),  # day-only dates: no slot, never an invented hour
}


def test_prior_alone_before_any_live_outcome(
    db_pool: ConnectionPool, clean_db: str, account_id: int, tmp_path: Path
) -> None:
    with psycopg.connect(clean_db) as conn:
        _import(conn, tmp_path)
    result = learning.learn(db_pool, account_id, simulated=False, now=NOW, history_prior_weight=0.5)
    assert result.status == "insufficient_data"
    assert "arms set from the history prior: prior=history posts=4 weight=0.5" in result.message
    assert "(left out: replies 1, no reward 0)" in result.message
    with psycopg.connect(clean_db) as conn:
        got = arms(conn, account_id, simulated=False)
        run = conn.execute(
            "SELECT status, message FROM training_runs ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
    assert run is not None and run[0] == "insufficient_data" and "prior=history posts=4 weight=0.5" in run[1]
    for key, (alpha, beta) in HAND.items():
        assert (round(got[key]["alpha"], 6), round(got[key]["beta"], 6)) == (alpha, beta), key
        assert got[key]["pulls"] == 0 and got[key]["successes"] == 0  # live evidence stays live


def test_prior_adds_to_live_evidence_and_never_to_simulated(
    db_pool: ConnectionPool, clean_db: str, account_id: int, tmp_path: Path
) -> None:
    with psycopg.connect(clean_db) as conn:
        seed_five(conn, account_id)
    learning.learn(db_pool, account_id, simulated=False, now=NOW)
    with psycopg.connect(clean_db) as conn:
        live = arms(conn, account_id, simulated=False)
        _import(conn, tmp_path)
    result = learning.learn(db_pool, account_id, simulated=False, now=NOW, history_prior_weight=0.5)
    assert result.status == "trained" and result.message.endswith(
        "prior=history posts=4 weight=0.5 (left out: replies 1, no reward 0)"
    )
    with psycopg.connect(clean_db) as conn:
        both = arms(conn, account_id, simulated=False)
    for key, (alpha, beta) in HAND.items():  # live posterior + the history's pseudo-counts, nothing else
        assert round(both[key]["alpha"] - live[key]["alpha"], 6) == round(alpha - 1, 6), key
        assert round(both[key]["beta"] - live[key]["beta"], 6) == round(beta - 1, 6), key
        assert both[key]["successes"] == live[key]["successes"] and both[key]["pulls"] == live[key]["pulls"]
    with pytest.raises(ConfigError, match="never mixed"):
        learning.learn(db_pool, account_id, simulated=True, now=NOW, history_prior_weight=0.5)
    with pytest.raises(ConfigError, match="prior weight must be in"):
        learning.learn(db_pool, account_id, simulated=False, now=NOW, history_prior_weight=1.5)


def test_cli_prior_from_the_real_fixtures(
    clean_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(clean_db) as conn:
        import_legacy(conn)
    r = run_xbot(
        monkeypatch,
        ["learn", "--account", "rOpenSci", "--prior-from-history"],
        database_url=clean_db,
        data_dir=tmp_path / "data",
    )
    assert r.exit_code == 0, r.output
    # 374 posts: 66 replies left out, every original has follows (legacy export) → 308 in the prior
    assert "arms set from the history prior: prior=history posts=308 weight=0.1" in r.output
    with psycopg.connect(clean_db) as conn:
        n = conn.execute(
            "SELECT count(*) FROM bandit_arms b JOIN accounts a USING (account_id) "
            "WHERE a.handle = 'rOpenSci' AND NOT b.simulated AND b.alpha + b.beta > 2"
        ).fetchone()
    assert n is not None and n[0] > 0

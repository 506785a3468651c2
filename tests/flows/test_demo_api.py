"""`xbot demo --x-backend api`: the whole loop through the X API backend, every pass complete."""

from __future__ import annotations

import psycopg
import pytest

from tests.flows.test_demo import demo_env, run_demo

pytestmark = [pytest.mark.flows, pytest.mark.db, pytest.mark.slow]

__all__ = ["demo_env"]  # the fixture, shared with test_demo


def test_two_day_demo_through_the_api_backend(demo_env: dict[str, str], clean_db: str) -> None:
    with psycopg.connect(clean_db, autocommit=True) as conn:
        conn.execute("TRUNCATE x_api_usage, x_api_budget_days RESTART IDENTITY CASCADE")
    out = run_demo(
        demo_env, "--days", "2", "--fresh", "--seed", "3", "--posts-per-day", "5", "--x-backend", "api"
    )
    assert "plan 2026-01-05 → 2026-01-07 (2 days)" in out

    with psycopg.connect(clean_db) as conn:
        one = lambda q: conn.execute(q).fetchone()[0]  # noqa: E731
        posted = one("SELECT count(*) FROM posted_decisions")
        assert posted >= 8
        end = "'2026-01-07T00:00:00+00:00'::timestamptz"
        due1 = one(f"SELECT count(*) FROM posted_decisions WHERE posted_at + interval '1 hour' <= {end}")
        due2 = one(f"SELECT count(*) FROM posted_decisions WHERE posted_at + interval '24 hours' <= {end}")
        assert one("SELECT count(*) FROM outcomes WHERE collected_pass = 1") == due1
        assert one("SELECT count(*) FROM outcomes WHERE collected_pass = 2") == due2
        # every pass complete: follows from /2/tweets/analytics, profile visits and link clicks read
        assert one("SELECT count(*) FROM outcomes WHERE status = 'ok'") == due1 + due2
        assert (
            one(
                "SELECT count(*) FROM outcomes WHERE follows_source = 'analytics' AND follows IS NOT NULL"
                " AND profile_visits IS NOT NULL AND link_clicks IS NOT NULL AND impressions IS NOT NULL"
            )
            == due1 + due2
        )
        assert one("SELECT count(*) FROM follower_snapshots") >= posted
        # every X API call counted: one create per post, nothing left reserved, spend within the limit
        assert one("SELECT count(*) FROM x_api_usage WHERE operation = 'create'") == posted
        assert one("SELECT count(*) FROM x_api_usage WHERE status = 'reserved'") == 0
        assert one("SELECT sum(used_usd) FROM x_api_budget_days") > 0
        assert one("SELECT sum(reserved_usd) FROM x_api_budget_days") == 0

"""The wiring builds the steps' dependencies once from settings; the data kind follows configuration alone."""

from __future__ import annotations

import asyncio

import pytest

from xbot_core.adapters.clock import SandboxClock, SystemClock
from xbot_core.services import steps, wiring
from xbot_core.settings import Settings, load_settings

pytestmark = [pytest.mark.db]


def settings_for(db: str, x_base_url: str, **extra: object) -> Settings:
    return load_settings(_env_file=None, database_url=db, x_base_url=x_base_url, db_pool_max=2, **extra)


def test_real_x_means_real_data_and_the_system_clock(clean_db: str) -> None:
    with wiring.open_deps(settings_for(clean_db, "https://x.com")) as deps:
        assert deps.simulated is False and isinstance(deps.clock, SystemClock)
        assert deps.settings.x_base_url == "https://x.com"
        with deps.pool.connection() as conn:
            row = conn.execute(
                "SELECT handle, x_base_url FROM accounts WHERE account_id = %s", (deps.account_id,)
            )
            assert row.fetchone() == ("xbot_demo", "https://x.com")


def test_a_sandbox_that_is_down_still_means_simulated_data(clean_db: str) -> None:
    # nothing listens on port 9: no request is made to decide the data kind
    s = settings_for(clean_db, "http://127.0.0.1:9", clock="sandbox")
    with wiring.open_deps(s) as deps:
        assert deps.simulated is True and isinstance(deps.clock, SandboxClock)
        # the learn step reads the configured kind: no simulated outcomes yet
        result = steps.learn_step(deps, now=SystemClock().now())
        assert (result.status, result.simulated) == ("insufficient_data", True)
        assert result.message == "insufficient simulated outcomes"


def test_nothing_to_post_opens_no_browser(clean_db: str) -> None:
    # an X that cannot be reached: the post step must not need it when nothing is due
    with wiring.open_deps(settings_for(clean_db, "http://127.0.0.1:9", mode="live")) as deps:
        report = asyncio.run(steps.post_step(deps, max_posts=3, now=SystemClock().now()))
    assert report.as_dict() == {
        "mode": "live",
        "skipped": 0,
        "reconciled": {},
        "posts": [],
        "note": "nothing due, no expired claims",
    }

"""Posting/collection fixtures: settings aimed at the test database and the sandbox, the sandbox account row,
and a helper that queues real decisions (as the generator would write them)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from tests.plugins.sandbox import sandbox_clock
from xbot_core.adapters.clock import SandboxClock
from xbot_core.adapters.db import repositories as repo
from xbot_core.domain.text import content_hash
from xbot_core.settings import Settings, load_settings

SANDBOX_HANDLE = "xbot_demo"


@dataclass
class PostingEnv:
    """What a posting/collection test needs: settings, a pool, the account, the sandbox's virtual clock."""

    settings: Settings
    pool: ConnectionPool
    account_id: int
    clock: SandboxClock
    db_url: str

    def now(self) -> datetime:
        return self.clock.now()

    def queue(self, text: str, at: datetime | None = None, *, simulated: bool = True) -> uuid.UUID:
        """Insert a queued real decision due at `at` (default: the virtual now)."""
        row = repo.DecisionRow(
            decision_id=uuid.uuid4(),
            account_id=self.account_id,
            content=text,
            content_hash=content_hash(text),
            status="queued",
            skip_reason=None,
            generation_source="real",
            simulated=simulated,
            scheduled_at=at or self.now(),
            content_type="tip",
            hook_pattern="how_to",
            timing_slot="morning",
            policy="thompson",
            p_content_type=0.5,
            p_hook_pattern=0.5,
            p_timing_slot=0.5,
            propensity=0.125,
        )
        with psycopg.connect(self.db_url) as conn:
            assert repo.insert_decision(conn, row)
        return row.decision_id

    def rows(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with psycopg.connect(self.db_url) as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def status(self, decision_id: uuid.UUID) -> str:
        return str(self.rows("SELECT status FROM content_metadata WHERE decision_id = %s", decision_id)[0][0])


@pytest.fixture
def make_posting_env(clean_db: str, sandbox_url: str) -> Iterator[Callable[..., PostingEnv]]:
    """`make_posting_env(**settings_overrides)`: live mode, no caps unless asked, the sandbox account row."""
    pools: list[ConnectionPool] = []

    def make(**overrides: object) -> PostingEnv:
        base: dict[str, object] = {
            "database_url": clean_db,
            "x_base_url": sandbox_url,
            "account_handle": SANDBOX_HANDLE,
            "clock": "sandbox",
            "mode": "live",
            "max_posts_per_hour": 100,
            "min_post_interval_s": 0,
            "lease_seconds": 60,
            "collect_concurrency": 2,
            "_env_file": None,
        }
        settings = load_settings(**(base | overrides))
        pool = ConnectionPool(clean_db, min_size=1, max_size=4, open=False, timeout=5)
        pool.open(wait=True, timeout=15)
        pools.append(pool)
        with psycopg.connect(clean_db) as conn:
            account_id = repo.ensure_account(conn, SANDBOX_HANDLE, sandbox_url, None)
        return PostingEnv(settings, pool, account_id, sandbox_clock(sandbox_url), clean_db)

    yield make
    for p in pools:
        p.close()

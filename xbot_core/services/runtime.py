"""Wiring from settings: the pool, the account row, the clock, the X client and the budgeted LLM.

One place decides the implementations (STYLE 13); flows, the CLI and the demo open a Runtime and pass its
parts to the services. A Runtime can be shared (`use_runtime`) so many flow runs in one process (the demo)
reuse one pool and one browser instead of opening their own each time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg_pool import ConnectionPool

from xbot_core.adapters.clock import Clock, make_clock
from xbot_core.adapters.db.connection import database_url, open_pool
from xbot_core.adapters.db.repositories import ensure_account
from xbot_core.adapters.x_browser.models import XClient
from xbot_core.settings import Settings, get_settings


@dataclass
class Runtime:
    """Everything a flow needs, opened once. `x` is set while a browser is open (`open_x`)."""

    settings: Settings
    pool: ConnectionPool
    account_id: int
    clock: Clock
    simulated: bool
    x: XClient | None = None

    def now(self, override: datetime | None = None) -> datetime:
        """The explicit time when given, else the configured clock (system or sandbox virtual time)."""
        return override if override is not None else self.clock.now()

    def llm(self) -> Any:
        """The budgeted LLM over the OpenAI client (the sandbox endpoint by default)."""
        from xbot_core.adapters.llm.client import OpenAIChatClient
        from xbot_core.services.budget import BudgetedLLM

        return BudgetedLLM(
            self.pool, OpenAIChatClient.from_settings(self.settings), self.settings, now=self.clock.now
        )


_shared: ContextVar[Runtime | None] = ContextVar("xbot_shared_runtime", default=None)


def is_simulated(settings: Settings) -> bool:
    """Data is simulated when X is the sandbox (it answers /admin/health as the sandbox)."""
    from xbot_core.adapters.x_browser.session import is_sandbox

    return is_sandbox(settings.x_base_url)


@contextlib.contextmanager
def open_runtime(settings: Settings | None = None) -> Iterator[Runtime]:
    """The shared runtime if one is in use, else a fresh pool + account + clock for this block."""
    shared = _shared.get()
    if shared is not None:
        yield shared
        return
    settings = settings or get_settings()
    with open_pool(database_url(settings), max_size=settings.db_pool_max) as pool:
        with pool.connection() as conn:
            account_id = ensure_account(
                conn,
                settings.account_handle,
                settings.x_base_url,
                str(settings.session_file),
                settings.timezone,
            )
        yield Runtime(settings, pool, account_id, make_clock(settings), is_simulated(settings))


@contextlib.asynccontextmanager
async def open_x(rt: Runtime) -> AsyncIterator[XClient]:
    """The runtime's open X client, or a new one of XBOT_X_BACKEND for this block (closed at its end)."""
    if rt.x is not None:
        yield rt.x
        return
    from xbot_core.services.x_backend import open_x_client

    async with open_x_client(rt.settings, rt.pool, rt.clock) as client:
        yield client


@contextlib.contextmanager
def use_runtime(rt: Runtime) -> Iterator[Runtime]:
    """Make `rt` (with its open browser, if any) the runtime every flow in this context uses."""
    token = _shared.set(rt)
    try:
        yield rt
    finally:
        _shared.reset(token)

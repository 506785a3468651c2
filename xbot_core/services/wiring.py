"""Wiring from settings: the pool, the account row, the clock, the X client and the budgeted LLM.

An account's row is laid over the XBOT_ settings here (`accounts.resolve`): its X backend and files, time
zone, caps, plan, reward version and LLM budget share reach every step through `StepDeps.settings`.

The one place that chooses the implementations (STYLE 13) and builds the `StepDeps` every step takes. Flows,
the CLI and the demo call `open_deps(settings)` once and pass the result to the steps; the demo keeps one
browser open for all its steps with `shared_browser`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import TYPE_CHECKING

from psycopg_pool import ConnectionPool

from xbot_core.adapters.clock import Clock, make_clock
from xbot_core.adapters.db.connection import database_url, open_pool
from xbot_core.adapters.db.repositories import ensure_account
from xbot_core.adapters.x_browser.models import XClient
from xbot_core.domain.bandit import BanditConfig
from xbot_core.domain.drift import DriftConfig
from xbot_core.services.operations import accounts
from xbot_core.services.read import analytics
from xbot_core.services.read.analytics import Source
from xbot_core.services.steps import StepDeps
from xbot_core.settings import Settings

if TYPE_CHECKING:
    from xbot_core.services.loop.generation import GenerationLLM


def analytics_source(settings: Settings, handle: str | None = None, *, simulated: bool) -> Source:
    """The notebooks' and reports' data source: `handle` (default: the configured account) in the configured
    database, one kind of data (`simulated` or real)."""
    return analytics.open_source(
        handle or settings.account_handle, simulated=simulated, url=database_url(settings)
    )


@contextlib.contextmanager
def open_deps(settings: Settings, account: str | None = None) -> Iterator[StepDeps]:
    """A pool for this block and the steps' dependencies over it, for `account` (default: the configured
    one, whose row is ensured from settings; another handle's row supplies its own settings)."""
    with open_pool(database_url(settings), max_size=settings.db_pool_max) as pool:
        yield deps_for(settings, pool, account)


def deps_for(settings: Settings, pool: ConnectionPool, account: str | None = None) -> StepDeps:
    """The steps' dependencies over an open pool: account, clock, browser and LLM factories, data kind."""
    settings, account_id = accounts.resolve(pool, settings, account)
    if account_id is None:
        with pool.connection() as conn:
            account_id = ensure_account(
                conn,
                settings.account_handle,
                settings.x_base_url,
                str(settings.session_file),
                settings.timezone,
            )
    clock = make_clock(settings)
    return StepDeps(
        pool=pool,
        account_id=account_id,
        clock=clock,
        open_x=partial(_open_x, settings, pool, clock),
        make_llm=partial(_budgeted_llm, pool, settings, clock, account_id),
        simulated=settings.x_is_sandbox,
        settings=settings,
        bandit=bandit_config(settings),
        drift=drift_config(settings),
    )


def bandit_config(settings: Settings) -> BanditConfig:
    """The bandit's tunables with the configured recency discount and sliding window (unset: neither)."""
    return BanditConfig(discount=settings.bandit_discount, window_days=settings.bandit_window_days)


def drift_config(settings: Settings) -> DriftConfig:
    """The drift alarm's recent period, smallest sample per period and |z| threshold, from settings."""
    return DriftConfig(
        recent_days=settings.drift_recent_days,
        min_posts=settings.drift_min_posts,
        z_alarm=settings.drift_z_alarm,
    )


def _open_x(settings: Settings, pool: ConnectionPool, clock: Clock) -> AbstractAsyncContextManager[XClient]:
    """The X client XBOT_X_BACKEND chooses (browser, or the API with its cost meter)."""
    from xbot_core.services.x_backend import open_x_client

    return open_x_client(settings, pool, clock)


def budgeted_llm(pool: ConnectionPool, settings: Settings, account_id: int | None = None) -> GenerationLLM:
    """The budgeted LLM outside a step (`xbot import x-analytics --classify llm`), on the configured clock;
    with `account_id`, under that account's share of the day's budget too."""
    return _budgeted_llm(pool, settings, make_clock(settings), account_id)


def _budgeted_llm(
    pool: ConnectionPool, settings: Settings, clock: Clock, account_id: int | None
) -> GenerationLLM:
    """The LLM under the day's budget and the account's share of it (settings carry the share)."""
    from xbot_core.adapters.llm.client import OpenAIChatClient
    from xbot_core.services.operations.budget import BudgetedLLM

    return BudgetedLLM(
        pool, OpenAIChatClient.from_settings(settings), settings, now=clock.now, account_id=account_id
    )


@contextlib.asynccontextmanager
async def shared_browser(deps: StepDeps) -> AsyncIterator[StepDeps]:
    """`deps` whose browser stays open for the whole block: every step in it borrows the same client."""
    async with deps.open_x() as client:

        @contextlib.asynccontextmanager
        async def borrow() -> AsyncIterator[XClient]:
            yield client

        yield dataclasses.replace(deps, open_x=borrow)

"""The X client of XBOT_X_BACKEND, for whichever wiring opens it: the browser, or the API with its cost meter.

`open_x_client(settings, pool, clock)` is the one call a wiring needs (an async context manager yielding an
XClient); the API backend refuses to start while its cost tables (migration 0003) are missing.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from psycopg_pool import ConnectionPool

from xbot_core.adapters.clock import Clock
from xbot_core.adapters.x_api import XApiClient, make_api_client
from xbot_core.adapters.x_api.budget import XApiBudget
from xbot_core.adapters.x_browser.models import XClient
from xbot_core.settings import Settings


def open_api_client(settings: Settings, pool: ConnectionPool, clock: Clock) -> XApiClient:
    """The API backend with every call counted against XBOT_X_API_DAILY_BUDGET_USD in Postgres."""
    meter = XApiBudget(pool, settings, now=clock.now)
    meter.check_schema()
    return make_api_client(settings, clock=clock, meter=meter)


def open_x_client(
    settings: Settings, pool: ConnectionPool, clock: Clock
) -> AbstractAsyncContextManager[XClient]:
    """The XClient XBOT_X_BACKEND chooses, not yet entered (`async with open_x_client(...) as x:`)."""
    if settings.x_backend == "api":
        return open_api_client(settings, pool, clock)
    from xbot_core.adapters.x_browser.client import PlaywrightXClient

    return PlaywrightXClient.from_settings(settings, clock=clock)

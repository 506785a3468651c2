"""What time it is for the bot: the system clock, or the sandbox's virtual clock (a 7-day plan in minutes)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Protocol

import httpx

from xbot_core.errors import ConfigError, XbotError
from xbot_core.settings import Settings


class Clock(Protocol):
    """Source of the current time; always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SandboxClock:
    """The sandbox's virtual time, read from GET {base_url}/admin/clock on every call.

    One HTTP client per clock: a new one per call (httpx.get) builds an SSL context each time, which cost
    30 ms to 0.7 s per read on the shared 2-core machine, and the demo reads the clock hundreds of times.
    """

    def __init__(self, base_url: str, *, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout_s
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self._timeout)
            return self._client

    def now(self) -> datetime:
        url = f"{self.base_url}/admin/clock"
        try:
            resp = self._http().get(url)
            resp.raise_for_status()
            value = datetime.fromisoformat(resp.json()["now"])
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise XbotError(f"cannot read the sandbox clock at {url}: {exc}") from exc
        if value.tzinfo is None:
            raise XbotError(f"the sandbox clock at {url} returned a naive time {value.isoformat()}")
        return value.astimezone(UTC)


def make_clock(settings: Settings) -> Clock:
    """The clock chosen by XBOT_CLOCK: 'system' or 'sandbox' (virtual time of XBOT_X_BASE_URL)."""
    if settings.clock == "system":
        return SystemClock()
    if settings.clock == "sandbox":
        return SandboxClock(settings.x_base_url)
    raise ConfigError(f"XBOT_CLOCK={settings.clock!r}: expected 'system' or 'sandbox'")

"""What time it is for the bot: the system clock, or the sandbox's virtual clock (a 7-day plan in minutes)."""

from __future__ import annotations

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
    """The sandbox's virtual time, read from GET {base_url}/admin/clock on every call."""

    def __init__(self, base_url: str, *, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout_s

    def now(self) -> datetime:
        url = f"{self.base_url}/admin/clock"
        try:
            resp = httpx.get(url, timeout=self._timeout)
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

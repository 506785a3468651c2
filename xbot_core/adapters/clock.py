"""What time it is for the bot: the system clock, or the sandbox's virtual clock (a 7-day plan in minutes)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx

from xbot_core.errors import ConfigError, XbotError
from xbot_core.sandbox.token import bearer, read_admin_token, token_file_for
from xbot_core.settings import Settings


class Clock(Protocol):
    """Source of the current time; always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SandboxClock:
    """The sandbox's virtual time, read from GET {base_url}/admin/clock on every call, with the sandbox's
    admin token: `token`, or read from `token_file` on each call (a restarted sandbox writes a new one).

    One HTTP client per clock: a new one per call (httpx.get) builds an SSL context each time, which cost
    30 ms to 0.7 s per read on the shared 2-core machine, and the demo reads the clock hundreds of times.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token_file: Path | None = None,
        token: str | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token_file = token_file
        self._token = token
        self._timeout = timeout_s
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self._timeout)
            return self._client

    def _headers(self) -> dict[str, str]:
        if self._token is not None:
            return bearer(self._token)
        return bearer(read_admin_token(self._token_file)) if self._token_file is not None else {}

    def now(self) -> datetime:
        url = f"{self.base_url}/admin/clock"
        try:
            resp = self._http().get(url, headers=self._headers())
            if resp.status_code == 401:
                raise XbotError(
                    f"the sandbox at {self.base_url} refused its clock: its admin token is not in "
                    f"{self._token_file} (is that sandbox started with another XBOT_DATA_DIR?)"
                )
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
    if settings.clock == "sandbox":  # only with a sandbox X (settings refuse it otherwise)
        token_file = token_file_for(settings.x_base_url, settings.data_dir)
        return SandboxClock(settings.x_base_url, token_file=token_file)
    raise ConfigError(f"XBOT_CLOCK={settings.clock!r}: expected 'system' or 'sandbox'")

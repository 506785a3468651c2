"""Sandbox fixtures: the real sandbox app served by uvicorn on 127.0.0.1, its admin API, and a logged-in
PlaywrightXClient driving real Chromium against it.

Browser objects live on one event loop in a background thread (one Chromium per test session); tests call
`browser_runner.run(x_client.publish(...))`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from xbot_core.adapters.clock import SandboxClock
from xbot_core.adapters.x_browser.browser import launch_chromium
from xbot_core.adapters.x_browser.client import PlaywrightXClient
from xbot_core.adapters.x_browser.session import sandbox_login
from xbot_core.sandbox.app import create_app
from xbot_core.sandbox.config import SandboxConfig
from xbot_core.sandbox.token import remove_admin_token, token_file_for, write_admin_token
from xbot_core.settings import Settings

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def token(self) -> str:
        """The sandbox's per-process admin token (every /admin request needs it)."""
        return str(self.app.state.admin_token)

    def write_token(self, data_dir: Path) -> Path:
        """Write the token where `xbot sandbox` would with XBOT_DATA_DIR=data_dir (XBOT_CLOCK reads it)."""
        path = token_file_for(self.url, data_dir)
        write_admin_token(path, self.token)
        return path

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_in_thread(app: FastAPI, name: str = "sandbox") -> RunningServer:
    """Serve an ASGI app with uvicorn on a free 127.0.0.1 port in a daemon thread; returns once it listens."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the {name} server did not start")
        time.sleep(0.02)
    running = RunningServer(f"http://127.0.0.1:{port}", app, server, thread)
    if getattr(app.state, "admin_token", None):
        _TOKENS[running.url] = running.token
    return running


_TOKENS: dict[str, str] = {}  # base URL -> admin token of each sandbox this test session serves


def sandbox_clock(url: str) -> SandboxClock:
    """The virtual clock of a sandbox served by this test session, reading it with that sandbox's token."""
    return SandboxClock(url, token=_TOKENS[url])


def write_sandbox_token(url: str, data_dir: Path) -> None:
    """Put the token of this session's sandbox at `url` where XBOT_CLOCK=sandbox reads it for `data_dir`."""
    write_admin_token(token_file_for(url, data_dir), _TOKENS[url])


def default_data_dirs() -> list[Path]:
    """XBOT_DATA_DIR as a test's settings or subprocess may see it: the default, and the environment's."""
    dirs = [Settings.model_fields["data_dir"].default]
    if os.environ.get("XBOT_DATA_DIR"):
        dirs.append(Path(os.environ["XBOT_DATA_DIR"]))
    return dirs


def start_sandbox(
    config: SandboxConfig | None = None, *, seed: int = 7, state_dir: Path | None = None
) -> RunningServer:
    return serve_in_thread(create_app(config or SandboxConfig(latency_ms=0), seed=seed, state_dir=state_dir))


class SandboxAdmin:
    """Thin httpx helper over the sandbox's /admin endpoints (tests and diagnostics only)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10, headers={"Authorization": f"Bearer {token}"})

    def _ok(self, resp: httpx.Response) -> Any:
        resp.raise_for_status()
        return resp.json()

    def reset(self) -> None:
        self._ok(self.http.post("/admin/reset"))

    def now(self) -> str:
        return str(self._ok(self.http.get("/admin/clock"))["now"])

    def set_clock(self, iso: str) -> str:
        return str(self._ok(self.http.post("/admin/clock", json={"set": iso}))["now"])

    def advance(self, seconds: float) -> str:
        return str(self._ok(self.http.post("/admin/clock", json={"advance_seconds": seconds}))["now"])

    def faults(self, **change: Any) -> dict[str, Any]:
        return dict(self._ok(self.http.post("/admin/faults", json=change)))

    def ground_truth(self) -> dict[str, Any]:
        return dict(self._ok(self.http.get("/admin/ground_truth")))

    def post_truth(self, tweet_id: str) -> dict[str, Any]:
        for post in self.ground_truth()["posts"]:
            if post["tweet_id"] == tweet_id:
                return dict(post)
        raise KeyError(f"sandbox has no post {tweet_id}")

    def close(self) -> None:
        self.http.close()


class LoopThread:
    """An asyncio loop in a daemon thread, so session-scoped browser objects outlive single tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="browser-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningServer]:
    """The session's sandbox; its admin token is written where XBOT_CLOCK=sandbox reads it with the default
    data dir (tests with their own XBOT_DATA_DIR call `write_token`), and removed at the end."""
    running = start_sandbox()
    files = [running.write_token(d) for d in default_data_dirs()]
    yield running
    running.stop()
    for f in files:
        remove_admin_token(f, running.token)


@pytest.fixture(scope="session")
def sandbox_url(sandbox_server: RunningServer) -> str:
    """Base URL of a real sandbox (X site, admin, /v1) on 127.0.0.1 with page latency 0."""
    return sandbox_server.url


@pytest.fixture
def sandbox_admin(sandbox_server: RunningServer) -> Iterator[SandboxAdmin]:
    """Admin helper; the sandbox is reset to its initial state before each test that uses it."""
    admin = SandboxAdmin(sandbox_server.url, sandbox_server.token)
    admin.reset()
    yield admin
    admin.close()


@pytest.fixture(scope="session")
def browser_runner() -> Iterator[LoopThread]:
    runner = LoopThread()
    yield runner
    runner.stop()


@pytest.fixture(scope="session")
def sandbox_browser(browser_runner: LoopThread) -> Iterator[Any]:
    """One real Chromium for the whole session (on browser_runner's loop)."""
    from playwright.async_api import async_playwright

    async def start() -> tuple[Any, Any]:
        pw = await async_playwright().start()
        return pw, await launch_chromium(pw, None)

    pw, browser = browser_runner.run(start())
    yield browser

    async def stop() -> None:
        await browser.close()
        await pw.stop()

    browser_runner.run(stop())


def make_x_client(
    runner: LoopThread,
    browser: Any,
    url: str,
    session_file: Path,
    *,
    handle: str = "xbot_demo",
    concurrency: int = 4,
) -> PlaywrightXClient:
    """Log in to the sandbox at `url` (writing session_file) and return an entered PlaywrightXClient."""
    runner.run(sandbox_login(browser, url, handle, session_file))
    client = PlaywrightXClient(
        base_url=url,
        handle=handle,
        session_file=session_file,
        browser=browser,
        clock=sandbox_clock(url),
        concurrency=concurrency,
        timeout_ms=10_000,
    )
    runner.run(client.__aenter__())
    return client


@pytest.fixture
def x_client(
    browser_runner: LoopThread, sandbox_browser: Any, sandbox_admin: SandboxAdmin, tmp_path: Path
) -> Iterator[PlaywrightXClient]:
    """A PlaywrightXClient logged in to the freshly reset sandbox (session file under tmp_path)."""
    client = make_x_client(browser_runner, sandbox_browser, sandbox_admin.url, tmp_path / "session.json")
    yield client
    browser_runner.run(client.close())

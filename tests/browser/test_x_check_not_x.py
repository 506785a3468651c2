"""`xbot x check` against a site that is not X: one config error naming the URL and what X's home page shows
(exit 2), never a raw Playwright error. Real Chromium against a real local HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from tests.cli_run import run_xbot
from tests.plugins.sandbox import LoopThread, RunningServer, serve_in_thread
from xbot_core.adapters.x_browser.pages import HomePage
from xbot_core.adapters.x_browser.session import (
    check_session,
    cookie_storage_state,
    sandbox_login,
    write_session_file,
)
from xbot_core.errors import BrowserError

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def not_x() -> Iterator[RunningServer]:
    """Any page answers 200 with a plain document (no X markup); under /gone every page answers 404, under
    /app with a page whose script renders something else (an app X's home might have been)."""
    app = FastAPI()

    @app.get("/app/{rest:path}")
    async def scripted(rest: str) -> HTMLResponse:
        return HTMLResponse(
            "<html><body><div id=r></div><script>r.textContent = 'An app'</script></body></html>"
        )

    @app.get("/gone/{rest:path}")
    async def gone(rest: str) -> HTMLResponse:
        return HTMLResponse("<html><body>Not found</body></html>", 404)

    @app.get("/{rest:path}")
    async def page(rest: str) -> HTMLResponse:
        return HTMLResponse("<html><body><h1>Some local service</h1></body></html>")

    server = serve_in_thread(app, "not-x")
    yield server
    server.stop()


def _check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, base_url: str) -> tuple[int, str]:
    session = tmp_path / "session.json"
    write_session_file(session, cookie_storage_state(base_url, {"auth_token": "a", "ct0": "b"}))
    r = run_xbot(monkeypatch, ["x", "check"], x_base_url=base_url, x_session_file=session, data_dir=tmp_path)
    return r.exit_code, r.output


def test_x_check_on_a_page_without_x_markup_names_the_url_and_what_was_expected(
    not_x: RunningServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, out = _check(monkeypatch, tmp_path, not_x.url)
    assert code == 2, out
    assert out.startswith(f"error: {not_x.url}/home is not X's home page: neither its timeline "), out
    assert HomePage.TIMELINE in out and HomePage.LOGIN_FORM in out and "XBOT_X_BASE_URL" in out
    assert "which runs no script" in out  # said at once: nothing on a script-less page appears later
    assert "Traceback" not in out and "TimeoutError" not in out and "logged in" not in out


def test_x_check_on_a_page_that_answers_404_says_so_at_once(
    not_x: RunningServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, out = _check(monkeypatch, tmp_path, f"{not_x.url}/gone")
    assert code == 2, out
    assert out.startswith(f"error: {not_x.url}/gone/home answered HTTP 404, not X's home page"), out


def test_the_home_page_object_tells_logged_in_logged_out_and_not_x(
    not_x: RunningServer,
    sandbox_url: str,
    browser_runner: LoopThread,
    sandbox_browser: Any,
    tmp_path: Path,
) -> None:
    def check(base_url: str, session: Path) -> bool:
        return browser_runner.run(check_session(sandbox_browser, base_url, session, timeout_ms=500))

    session = tmp_path / "session.json"
    browser_runner.run(sandbox_login(sandbox_browser, sandbox_url, "xbot_demo", session))
    assert check(sandbox_url, session) is True
    stale = tmp_path / "stale.json"
    write_session_file(stale, cookie_storage_state(sandbox_url, {"auth_token": "gone", "ct0": "gone"}))
    assert check(sandbox_url, stale) is False  # sent to the login flow
    with pytest.raises(BrowserError, match=r"/app/home is not X's home page: .* appeared within 0\.5 s; "):
        check(f"{not_x.url}/app", stale)  # a page with a script is given the time to render

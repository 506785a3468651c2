"""Notebook fixtures: a seeded simulated history in the test database, the reports rendered from it once per
session, and an offline Chromium page (every request that is not file:// is aborted and recorded)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

SIM_HANDLE = "xbot_nb_sim"
SIM_END = date(2026, 1, 7)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def sim_history(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """14 days × 16 posts of simulated history (seed 7) and its ground-truth JSON file."""
    from xbot_core.services.simulation import history

    cfg = history.HistoryConfig(seed=7, handle=SIM_HANDLE, end_day=SIM_END, days=14, posts_per_day=16)
    with psycopg.connect(db_url) as conn:
        result = history.generate(conn, cfg, replace=True)
    truth = result.write_ground_truth(tmp_path_factory.mktemp("truth") / "ground_truth.json")
    return {"result": result, "config": cfg, "ground_truth": truth}


@pytest.fixture(scope="session")
def report_env(
    db_url: str, sim_history: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """Settings for rendering (database from XBOT_DATABASE_URL, never a parameter); yields the out dir."""
    from xbot_core.settings import get_settings

    out = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XBOT_DATABASE_URL", db_url)
        mp.setenv("XBOT_ACCOUNT_HANDLE", SIM_HANDLE)
        mp.setenv("XBOT_REPORTS_DIR", str(out))
        get_settings.cache_clear()
        yield out
    get_settings.cache_clear()


@dataclass
class OfflinePage:
    """A Chromium page that may only load file:// URLs; console errors and blocked requests are kept."""

    page: Any
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def open(self, path: Path) -> None:
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")

    def wait_for_charts(self, timeout_ms: int = 20_000) -> int:
        """Wait until every chart div holds an svg or canvas; return the number of charts."""
        self.page.wait_for_function(
            """() => {
                const charts = [...document.querySelectorAll('.xbot-chart')];
                return charts.length > 0 && charts.every((c) => c.querySelector('svg, canvas'));
            }""",
            timeout=timeout_ms,
        )
        return int(self.page.evaluate("document.querySelectorAll('.xbot-chart').length"))


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    path = os.environ.get("XBOT_CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.fail(f"Chromium not found at {path} (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture()
def offline_page(chromium: Any) -> Iterator[OfflinePage]:
    context = chromium.new_context()
    page = context.new_page()
    wrapper = OfflinePage(page=page)

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            wrapper.blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("console", lambda m: wrapper.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: wrapper.errors.append(str(e)))
    yield wrapper
    context.close()

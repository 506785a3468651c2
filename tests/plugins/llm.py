"""LLM fixtures: the sandbox app (with its OpenAI-compatible endpoint) served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from xbot_core.sandbox.app import create_app


@dataclass
class LLMEndpoint:
    """A running sandbox: base URL for the openai client, LLM fault admin, its state (perceived content)."""

    url: str
    state: Any  # xbot_core.sandbox.state.SandboxState
    token: str = ""  # the sandbox's admin token (every /admin request needs it)

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def faults(self, **spec: Any) -> dict[str, Any]:
        r = httpx.post(self.url + "/admin/llm/faults", json=spec, headers=self._auth, timeout=5)
        r.raise_for_status()
        return r.json()

    def stats(self) -> dict[str, Any]:
        r = httpx.get(self.url + "/admin/llm/stats", headers=self._auth, timeout=5)
        r.raise_for_status()
        return r.json()

    def reset(self) -> None:
        httpx.delete(self.url + "/admin/llm/faults", headers=self._auth, timeout=5).raise_for_status()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def _llm_server() -> Iterator[LLMEndpoint]:
    app = create_app()  # the whole sandbox (X site + audience + LLM endpoint), as `xbot sandbox` serves it
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="llm-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the LLM sandbox endpoint did not start")
        time.sleep(0.02)
    yield LLMEndpoint(url=f"http://127.0.0.1:{port}", state=app.state.sandbox, token=app.state.admin_token)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture()
def llm_endpoint(_llm_server: LLMEndpoint) -> LLMEndpoint:
    """The endpoint with no pending faults and zeroed counters."""
    _llm_server.reset()
    return _llm_server


def reserve_until_refused(
    db_url: str, limit_usd: float, amount: str, day_iso: str, barrier: Any, results: Any
) -> None:
    """Worker of the two-process budget test: reserve `amount` until the budget refuses; puts how many."""
    from datetime import date
    from decimal import Decimal

    from psycopg_pool import ConnectionPool

    from xbot_core.errors import BudgetExceededError
    from xbot_core.services.operations.budget import BudgetedLLM
    from xbot_core.settings import load_settings

    class _NoCalls:
        model = "gpt-4o-mini"

        def complete(self, *a: Any, **k: Any) -> Any:
            raise AssertionError("reservation only")

    settings = load_settings(llm_daily_budget_usd=limit_usd)
    n = 0
    with ConnectionPool(db_url, min_size=1, max_size=2, open=True) as pool:
        llm = BudgetedLLM(pool, _NoCalls(), settings)  # type: ignore[arg-type]
        barrier.wait(timeout=30)
        while True:
            try:
                llm.reserve(date.fromisoformat(day_iso), "race", None, Decimal(amount))
            except BudgetExceededError:
                results.put(n)
                return
            n += 1

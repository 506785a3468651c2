"""API fixtures: the real app served by uvicorn on a free 127.0.0.1 port in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from tests.plugins.api_dataset import ACCOUNT_TZ, API_HANDLE, AS_OF, ApiDataset, api_dataset
from xbot_core.api import create_app
from xbot_core.settings import Settings, load_settings

__all__ = ["ACCOUNT_TZ", "AS_OF", "ApiDataset", "api_dataset", "api_server", "api_settings", "serve_api"]


@contextmanager
def serve_api(settings: Settings) -> Iterator[str]:
    """Serve create_app(settings) until the block ends; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture()
def api_settings(clean_db: str) -> Callable[..., Settings]:
    """Settings pointing at the clean test database for the API test account; overrides as keywords."""

    def make(**overrides: object) -> Settings:
        base: dict[str, object] = {"database_url": clean_db, "account_handle": API_HANDLE}
        return load_settings(**(base | overrides))

    return make


@pytest.fixture()
def api_server(api_settings: Callable[..., Settings]) -> Callable[..., Iterator[str]]:
    """`with api_server(**settings_overrides) as base_url:` starts a real server on 127.0.0.1."""

    def start(**overrides: object) -> Iterator[str]:
        return serve_api(api_settings(**overrides))  # type: ignore[return-value]

    return start

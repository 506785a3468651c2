"""API holes found by the probe (issue 17): empty tokens, what /health tells strangers, echoed 422 inputs."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.plugins.api import serve_api
from tests.plugins.api_dataset import ApiDataset
from xbot_core.api import ECHO_CAP, check_bind
from xbot_core.errors import ConfigError
from xbot_core.settings import load_settings

TOKEN = "0123456789abcdef0123456789abcdef-hardening"


def test_empty_or_short_token_is_a_configuration_error() -> None:
    for bad in ("", "   ", "x" * 31):
        with pytest.raises(ConfigError, match="XBOT_API_TOKEN"):
            load_settings(api_token=bad)
    load_settings(api_token="x" * 32)


def test_non_local_bind_refuses_an_empty_token_even_if_settings_were_built_around_validation() -> None:
    empty = load_settings().model_copy(update={"api_token": SecretStr("")})
    with pytest.raises(ConfigError, match="at least 32 characters"):
        check_bind("0.0.0.0", empty)


@pytest.mark.db
def test_empty_bearer_never_authenticates(api_settings: Callable[..., Any]) -> None:
    """An empty token slipped past settings (model_copy): `Bearer ` is refused, b"" == b"" no more."""
    settings = api_settings().model_copy(update={"api_token": SecretStr("")})
    with serve_api(settings) as base:
        with httpx.Client(base_url=base) as http:
            assert http.get("/api/metrics", headers={"Authorization": "Bearer"}).status_code == 401
        # httpx refuses a header value with trailing space; send the probe's exact `Bearer ` raw
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"GET /api/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \r\n"
                b"Connection: close\r\n\r\n"
            )
            status_line = sock.makefile("rb").readline()
    assert status_line.split()[1] == b"401", status_line


@pytest.mark.db
def test_health_without_token_says_only_up_and_kill_switch(
    api_dataset: ApiDataset, api_server: Callable[..., Any]
) -> None:
    with api_server(api_token=TOKEN, mode="shadow") as base, httpx.Client(base_url=base) as http:
        public = http.get("/health")
        wrong = http.get("/health", headers={"Authorization": "Bearer nope"})
        full = http.get("/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert public.status_code == 200 and public.json() == {"status": "ok", "kill_switch": True}
    assert wrong.json() == public.json()
    assert "seeded stop" not in public.text and "seeded stop" not in wrong.text
    assert full.json()["kill_switch_reason"] == "seeded stop" and full.json()["mode"] == "shadow"


@pytest.mark.db
def test_health_without_token_when_database_down(api_server: Callable[..., Any], tmp_path: Any) -> None:
    dead = f"postgresql://postgres@/postgres?host={tmp_path}&connect_timeout=1"
    with (
        api_server(api_token=TOKEN, database_url=dead) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        health = http.get("/health")
    assert health.status_code == 503 and health.json() == {"status": "degraded", "kill_switch": None}


@pytest.mark.db
def test_422_echoes_a_capped_input(api_server: Callable[..., Any]) -> None:
    huge = "A" * 60_000
    with api_server() as base, httpx.Client(base_url=base) as http:
        r = http.get("/api/growth", params={"as_of": huge})
        short = http.get("/api/growth", params={"as_of": "yesterday"})
    assert r.status_code == 422
    assert len(r.content) < 2_000, len(r.content)
    echoed = r.json()["detail"][0]["input"]
    assert echoed.startswith("A" * ECHO_CAP) and "60000 characters" in echoed
    assert short.json()["detail"][0]["input"] == "yesterday"  # short inputs unchanged

"""API security: bearer token on every route but /health, and no non-loopback bind without a token."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner

from xbot_core.api import check_bind, is_local_host
from xbot_core.commands import api as api_command
from xbot_core.errors import ConfigError
from xbot_core.settings import get_settings, load_settings

TOKEN = "s3cret-token-for-tests-0123456789abcdef"
PROTECTED = ["/api/learning/status", "/api/growth", "/api/metrics", "/metrics", "/docs", "/openapi.json"]


@pytest.mark.db
def test_token_required_everywhere_but_health(
    api_server: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with api_server(api_token=TOKEN) as base, httpx.Client(base_url=base) as http:
        for path in PROTECTED:
            assert http.get(path).status_code == 401, path
            wrong = http.get(path, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer", path
            basic = http.get(path, headers={"Authorization": f"Basic {TOKEN}"})
            assert basic.status_code == 401, path
            ok = http.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
            assert ok.status_code == 200, (path, ok.text)
        assert http.get("/health").status_code == 200
        schema = http.get("/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert schema["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    assert "security" not in schema["paths"]["/health"]["get"]
    assert schema["paths"]["/api/growth"]["get"]["security"] == [{"bearer": []}]
    assert TOKEN not in caplog.text


@pytest.mark.db
def test_without_token_everything_is_open(api_server: Callable[..., Any]) -> None:
    with api_server() as base, httpx.Client(base_url=base) as http:
        for path in [*PROTECTED, "/health"]:
            assert http.get(path).status_code == 200, path


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_only_loopback_counts_as_local(host: str, local: bool) -> None:
    assert is_local_host(host) is local


def test_non_local_bind_needs_a_token() -> None:
    check_bind("127.0.0.1", load_settings(api_token=None))
    check_bind("0.0.0.0", load_settings(api_token=TOKEN))
    with pytest.raises(ConfigError, match=r"'0\.0\.0\.0' without XBOT_API_TOKEN"):
        check_bind("0.0.0.0", load_settings(api_token=None))


def test_cli_refuses_non_local_bind_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """`xbot api --host 0.0.0.0` with no token stops with a clear error and never starts uvicorn."""
    monkeypatch.delenv("XBOT_API_TOKEN", raising=False)
    get_settings.cache_clear()
    app = typer.Typer()
    app.command(name="api")(api_command.serve)
    app.command(name="noop")(lambda: None)  # two commands so the Typer app takes a command name
    try:
        result = CliRunner().invoke(app, ["api", "--host", "0.0.0.0", "--port", "8123"])
    finally:
        get_settings.cache_clear()
    assert isinstance(result.exception, ConfigError)
    assert "without XBOT_API_TOKEN" in str(result.exception)
    assert "xbot api on" not in result.output

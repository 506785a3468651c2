"""The data kind (simulated or real) comes from configuration alone: one rule, `is_sandbox_target`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_run import run_xbot
from xbot_core.adapters.x_api import DEFAULT_CLIENT_ID, oauth2_config
from xbot_core.errors import ConfigError
from xbot_core.settings import is_sandbox_target, load_settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8765", True),  # the embedded default
        ("http://127.0.0.1:40123", True),  # a test sandbox on another port
        ("http://127.9.9.9:80", True),  # all of 127.0.0.0/8 is loopback
        ("http://localhost:8765", True),
        ("http://LOCALHOST:8765", True),
        ("http://[::1]:8765", True),
        ("https://x.com", False),
        ("https://twitter.com", False),
        ("http://10.0.0.5:8765", False),  # a LAN host is not the sandbox unless configured as such
        ("http://localhost.example.com", False),
    ],
)
def test_loopback_x_is_the_sandbox(url: str, expected: bool) -> None:
    assert is_sandbox_target(url, "127.0.0.1", 8765) is expected


def test_a_sandbox_on_another_interface_is_named_by_host_and_port() -> None:
    assert is_sandbox_target("http://10.0.0.5:9000", "10.0.0.5", 9000) is True
    assert is_sandbox_target("http://10.0.0.5:9001", "10.0.0.5", 9000) is False
    assert is_sandbox_target("http://10.0.0.6:9000", "10.0.0.5", 9000) is False


def test_settings_carry_the_rule_without_touching_the_network() -> None:
    # nothing listens on these addresses: the answer must not depend on a probe
    assert load_settings(_env_file=None, x_base_url="http://127.0.0.1:1").x_is_sandbox is True
    assert load_settings(_env_file=None, x_base_url="https://x.com").x_is_sandbox is False
    assert load_settings(_env_file=None).x_is_sandbox is True  # the embedded default is the sandbox


def test_sandbox_only_urls_have_a_base_only_when_x_is_the_sandbox() -> None:
    assert load_settings(_env_file=None, x_base_url="https://x.com").sandbox_x_url is None
    local = load_settings(_env_file=None, x_base_url="http://127.0.0.1:40123/")
    assert local.sandbox_x_url == "http://127.0.0.1:40123"


def test_a_sandbox_clock_with_real_x_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="XBOT_CLOCK=sandbox needs XBOT_X_BASE_URL"):
        load_settings(_env_file=None, clock="sandbox", x_base_url="https://x.com")
    ok = load_settings(_env_file=None, clock="sandbox", x_base_url="http://127.0.0.1:40123")
    assert ok.clock == "sandbox"


def test_x_api_login_needs_the_client_id_unless_x_is_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the sandbox keeps its stand-in id; a configured id is used as given; X (either backend's) needs one
    sandbox = load_settings(_env_file=None, x_base_url="http://127.0.0.1:1")
    assert oauth2_config(sandbox).client_id == DEFAULT_CLIENT_ID
    mine = load_settings(_env_file=None, x_base_url="https://x.com", x_api_client_id="my-app")
    assert oauth2_config(mine).client_id == "my-app"
    api = load_settings(_env_file=None, x_backend="api", x_api_base_url="https://api.x.com")
    with pytest.raises(ConfigError, match=r"^XBOT_X_API_CLIENT_ID is not set: X at https://api\.x\.com "):
        oauth2_config(api)
    # through the CLI: one config error naming the setting (exit 2), no request made, no token file
    r = run_xbot(monkeypatch, ["x", "login", "--api"], data_dir=tmp_path, x_base_url="https://x.com")
    assert r.exit_code == 2, r.output
    assert "error: XBOT_X_API_CLIENT_ID is not set: X at https://x.com needs" in r.output
    assert DEFAULT_CLIENT_ID not in r.output and not (tmp_path / "x_api").exists()

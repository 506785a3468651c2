"""Session-file handling, cookie import, Chromium discovery and CreateTweet parsing (pure, no browser)."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xbot_core.adapters.clock import SandboxClock, SystemClock, make_clock
from xbot_core.adapters.x_browser.browser import find_chromium
from xbot_core.adapters.x_browser.client import parse_create_tweet
from xbot_core.adapters.x_browser.session import cookie_storage_state, parse_cookie_arg, write_session_file
from xbot_core.errors import ConfigError, PublishError
from xbot_core.settings import load_settings


def test_cookie_import_writes_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.json"
    state = cookie_storage_state("https://x.com", parse_cookie_arg("auth_token=abc123, ct0=def456"))
    write_session_file(path, state)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    cookies = {c["name"]: c for c in json.loads(path.read_text())["cookies"]}
    assert cookies["auth_token"]["domain"] == ".x.com" and cookies["auth_token"]["httpOnly"]
    assert cookies["ct0"]["secure"] and not cookies["ct0"]["httpOnly"]
    local = cookie_storage_state("http://127.0.0.1:8765", {"auth_token": "a", "ct0": "b"})
    assert local["cookies"][0]["domain"] == "127.0.0.1" and not local["cookies"][0]["secure"]


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("auth_token=secretvalue", "missing ct0"),
        ("secretvalue", "must look like"),
        ("auth_token=secretvalue,ct0=x,kdt=y", "unexpected names"),
    ],
)
def test_bad_cookie_args_never_echo_values(arg: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_cookie_arg(arg)
    assert "secretvalue" not in str(info.value)


def test_chromium_discovery_order(tmp_path: Path) -> None:
    exe = tmp_path / "chrome"
    exe.write_text("")
    assert find_chromium(exe, system=tmp_path / "none") == exe
    with pytest.raises(ConfigError, match="XBOT_CHROMIUM_PATH"):
        find_chromium(tmp_path / "missing")
    assert find_chromium(None, system=exe) == exe
    assert find_chromium(None, system=tmp_path / "none") is None


def test_parse_create_tweet() -> None:
    body = {
        "data": {
            "create_tweet": {
                "tweet_results": {
                    "result": {
                        "rest_id": "2008055861867450368",
                        "core": {"user_results": {"result": {"legacy": {"screen_name": "xbot_demo"}}}},
                        "legacy": {"full_text": "hi", "created_at": "Mon Jan 05 06:00:00 +0000 2026"},
                    }
                }
            }
        }
    }
    assert parse_create_tweet(body) == (
        "2008055861867450368",
        "xbot_demo",
        datetime(2026, 1, 5, 6, tzinfo=UTC),
    )
    with pytest.raises(PublishError, match="no rest_id"):
        parse_create_tweet({"errors": [{"message": "nope"}]})
    body["data"]["create_tweet"]["tweet_results"]["result"]["rest_id"] = "abc"
    with pytest.raises(PublishError, match="non-numeric"):
        parse_create_tweet(body)


def test_make_clock_follows_settings() -> None:
    assert isinstance(make_clock(load_settings(clock="system")), SystemClock)
    clock = make_clock(load_settings(clock="sandbox", x_base_url="http://127.0.0.1:9/"))
    assert isinstance(clock, SandboxClock) and clock.base_url == "http://127.0.0.1:9"
    assert SystemClock().now().tzinfo is not None

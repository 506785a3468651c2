"""XBOT_MODE and the replaced system's flags POSTING_DISABLED / LIVE_POSTS: shadow always wins."""

from __future__ import annotations

import pytest

from xbot_core.errors import ConfigError
from xbot_core.settings import legacy_mode, load_settings


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"POSTING_DISABLED": "true"}, "shadow"),
        ({"POSTING_DISABLED": "0"}, None),
        ({"LIVE_POSTS": "false"}, "shadow"),
        ({"LIVE_POSTS": "1"}, "live"),
        ({"LIVE_POSTS": "yes", "POSTING_DISABLED": "on"}, "shadow"),
    ],
)
def test_legacy_flags(env: dict[str, str], expected: str | None) -> None:
    assert legacy_mode(env) == expected


def test_legacy_flag_that_is_not_a_boolean_is_named() -> None:
    with pytest.raises(ConfigError, match="LIVE_POSTS='maybe'"):
        legacy_mode({"LIVE_POSTS": "maybe"})


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "live"),
        ({"POSTING_DISABLED": "1"}, "shadow"),
        ({"POSTING_DISABLED": "1", "XBOT_MODE": "live"}, "shadow"),  # a stop flag is never overridden
        ({"LIVE_POSTS": "true", "XBOT_MODE": "shadow"}, "shadow"),
        ({"LIVE_POSTS": "true"}, "live"),
        ({"XBOT_MODE": "shadow"}, "shadow"),
    ],
)
def test_settings_mode(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for name in ("XBOT_MODE", "POSTING_DISABLED", "LIVE_POSTS"):
        monkeypatch.delenv(name, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert load_settings(_env_file=None).mode == expected


def test_explicit_keyword_still_subject_to_the_stop_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTING_DISABLED", "true")
    assert load_settings(mode="live").mode == "shadow"

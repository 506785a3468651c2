"""Every XBOT_ setting is validated at start: a bad value is one ConfigError line naming the setting.

The property test draws bad values for every field of Settings (a new field without a bad-value strategy here
fails the coverage test), so no setting is accepted only to crash later.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from xbot_core.adapters.db.connection import checked, redact
from xbot_core.errors import ConfigError
from xbot_core.settings import Settings, load_settings

NOT_A_DIR = f"{Path(__file__).resolve()}/xbot"  # a path under a regular file can never be created
LONG_TOKEN = "t" * 32

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)
_not_int = _text.filter(lambda s: not s.strip().lstrip("+-").replace("_", "").isdigit())
_non_finite = st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e400"])
_not_bool = _text.filter(
    lambda s: (
        s.strip().lower() not in {"0", "1", "true", "false", "yes", "no", "on", "off", "t", "f", "y", "n"}
    )
)


def _ints_outside(lo: int | None, hi: int | None) -> st.SearchStrategy[str]:
    options: list[st.SearchStrategy[str]] = [_not_int]
    if lo is not None:
        options.append(st.integers(max_value=lo - 1).map(str))
    if hi is not None:
        options.append(st.integers(min_value=hi + 1).map(str))
    return st.one_of(options)


_bad_url = st.one_of(
    _text.filter(lambda s: not s.startswith(("http://", "https://"))),
    st.integers(min_value=65536, max_value=10**12).map(lambda p: f"https://x.com:{p}"),
    st.sampled_from(["http://", "https://:80", "http://[::1", "https://x.com:-1", "http://h:port"]),
)
_bad_dir = st.sampled_from([NOT_A_DIR, NOT_A_DIR + "/deeper"])
_bad_file = st.sampled_from(["/nonexistent/plan.toml", "/etc", NOT_A_DIR])
_bad_tz = st.sampled_from(["Mars/Olympus", "UTC+25", "", "../etc/passwd", "Europe/"])
_bad_host = st.sampled_from(["", " ", "a b", "http://x", "host/path", "user@host"])
_bad_price_json = st.one_of(
    st.sampled_from(
        [
            "{bad",
            "[1, 2]",
            "{}",
            '{"gpt-4o-mini": [-1, -5]}',
            '{"gpt-4o-mini": [NaN, Infinity]}',
            '{"gpt-4o-mini": [1]}',
            '{"gpt-4o-mini": "cheap"}',
            '{"": [1, 1]}',
        ]
    ),
    st.floats(max_value=-1e-9).map(lambda p: f'{{"gpt-4o-mini": [{p!r}, 0.6]}}'),
)
_bad_db_url = st.sampled_from(
    [
        "postgresql://u:S3cret%zzPW@127.0.0.1/db",
        "garbage url",
        "postgresql://u:pw@[::1/db",
        "postgresql://u:pw@127.0.0.1:99999/db",
        "mysql://u:pw@h/db",
        " ",
    ]
)

BAD: dict[str, st.SearchStrategy[str]] = {
    "database_url": _bad_db_url,
    "data_dir": _bad_dir,
    "db_pool_max": _ints_outside(1, 100),
    "account_handle": st.one_of(
        st.just(""),
        st.text(min_size=16, max_size=20, alphabet="abc"),
        st.sampled_from(["@me", "has space", "dash-ed", "ü"]),
    ),
    "x_base_url": _bad_url,
    "x_session_file": st.sampled_from([NOT_A_DIR + "/s.json"]),
    "chromium_path": _bad_file,
    "browser_headless": _not_bool,
    "collect_concurrency": _ints_outside(1, 32),
    "sandbox_host": _bad_host,
    "sandbox_port": _ints_outside(1, 65535),
    "sandbox_seed": _ints_outside(0, 2**32 - 1),
    "openai_api_key": st.just(""),
    "openai_base_url": _bad_url,
    "openai_model": st.sampled_from(["", "gpt-unknown"]),
    "openai_timeout_s": st.one_of(_non_finite, st.sampled_from(["0", "-1", "3601", "soon"])),
    "openai_max_tokens": _ints_outside(16, 4096),
    "llm_daily_budget_usd": st.one_of(_non_finite, st.sampled_from(["-0.01", "lots", "1e7"])),
    "llm_budget_share": st.one_of(_non_finite, st.sampled_from(["0", "-0.1", "1.01", "half"])),
    "history_prior_weight": st.one_of(_non_finite, st.sampled_from(["0", "-0.5", "1.5", "tenth"])),
    "llm_budget_timezone": _bad_tz,
    "llm_pricing": _bad_price_json,
    "allow_hashtags": _not_bool,
    "mode": _text.filter(lambda s: s not in {"shadow", "live"}),
    "real_metrics_enabled": _not_bool,
    "clock": _text.filter(lambda s: s not in {"system", "sandbox"}),
    "timezone": _bad_tz,
    "max_posts_per_hour": _ints_outside(0, 1000),
    "min_post_interval_s": _ints_outside(0, 86_400 * 7),
    "lease_seconds": _ints_outside(5, 86_400),
    "reward_version": _ints_outside(1, 2**31 - 1),
    "experiment_plan": _bad_file,
    "reports_dir": _bad_dir,
    "api_host": _bad_host,
    "api_port": _ints_outside(1, 65535),
    "api_token": st.one_of(st.just(""), st.text(alphabet="abcdef0123456789", max_size=31)),
    "prefect_database_url": st.sampled_from(["", "sqlite:///p.db", "postgresql://u@127.0.0.1/prefect", "x"]),
    "prefect_port": _ints_outside(1, 65535),
    "x_backend": _text.filter(lambda s: s not in {"browser", "api"}),
    "x_api_base_url": _bad_url,
    "x_api_timeout_s": st.one_of(_non_finite, st.sampled_from(["0", "-1", "121", "soon"])),
    "x_api_client_id": st.sampled_from(["", " ", "has space"]),
    "x_api_client_secret": st.sampled_from(["", "  "]),
    "x_api_redirect_uri": _bad_url,
    "x_api_token_file": st.sampled_from([NOT_A_DIR + "/t.json"]),
    "x_api_consumer_key": st.sampled_from(["", "  "]),
    "x_api_consumer_secret": st.sampled_from(["", "  "]),
    "x_api_access_token": st.sampled_from(["", "  "]),
    "x_api_access_token_secret": st.sampled_from(["", "  "]),
    "x_api_daily_budget_usd": st.one_of(_non_finite, st.sampled_from(["-0.01", "lots", "1e7"])),
    "bandit_discount": st.one_of(
        _non_finite,
        st.sampled_from(["", "0", "-0.5", "soon"]),
        st.floats(min_value=1.0, exclude_min=True, allow_infinity=False).map(repr),
        st.floats(max_value=0.0, allow_infinity=False, allow_nan=False).map(repr),
    ),
    "bandit_window_days": _ints_outside(1, 3650),
    "drift_recent_days": _ints_outside(1, 365),
    "drift_min_posts": _ints_outside(2, 10_000),
    "drift_z_alarm": st.one_of(_non_finite, st.sampled_from(["0", "-3", "101", "high"])),
}


def test_every_setting_has_a_bad_value_strategy() -> None:
    assert set(BAD) == set(Settings.model_fields)


def _assert_one_line_naming(monkeypatch: pytest.MonkeyPatch, field: str, value: str) -> None:
    env = f"XBOT_{field.upper()}"
    monkeypatch.setenv(env, value)
    try:
        with pytest.raises(ConfigError) as info:
            load_settings()
    finally:
        monkeypatch.delenv(env)
    message = str(info.value)
    assert "\n" not in message and env in message, message
    assert "Traceback" not in message
    if field == "database_url":
        assert "S3cret" not in message and (not value.strip() or value not in message)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_bad_value_of_any_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data: st.DataObject
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    field = data.draw(st.sampled_from(sorted(BAD)), label="field")
    value = data.draw(BAD[field], label="value")
    _assert_one_line_naming(monkeypatch, field, value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("llm_pricing", "{bad"),
        ("llm_pricing", '{"gpt-4o-mini": [-1, -5]}'),
        ("llm_pricing", '{"gpt-4o-mini": [NaN, Infinity]}'),
        ("llm_daily_budget_usd", "inf"),
        ("openai_timeout_s", "inf"),
        ("x_base_url", "https://x.com:99999999"),
        ("openai_base_url", "http://127.0.0.1:0/v1"),
        ("experiment_plan", "/nonexistent/plan.toml"),
        ("data_dir", NOT_A_DIR),
        ("api_token", ""),
        ("api_token", "short-token"),
        ("database_url", "postgresql://u:S3cret%zzPW@127.0.0.1/db"),
    ],
)
def test_values_the_probe_found_accepted_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, field: str, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    _assert_one_line_naming(monkeypatch, field, value)


def test_good_edge_values_still_load(tmp_path: Path) -> None:
    s = load_settings(
        data_dir=tmp_path / "new" / "dir",  # creatable
        api_token=LONG_TOKEN,
        x_base_url="https://x.com:443/",
        llm_pricing={"gpt-4o-mini": (0.0, 0.0)},
        database_url="postgresql://u:p%40ss@127.0.0.1:5432/db",
        sandbox_seed=0,
    )
    assert s.x_base_url == "https://x.com:443" and s.api_token is not None


def test_redact_never_fails_nor_shows_the_password() -> None:
    bad = "postgresql://u:S3cret%zzPW@127.0.0.1/db"
    assert "S3cret" not in redact(bad)
    assert redact("postgresql://u:hunter2@h/db").count("hunter2") == 0
    assert "***" in redact("postgresql://u:hunter2@h/db")


def test_malformed_url_is_refused_before_any_connection(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError, match="database URL is not a valid Postgres URL") as info:
        checked("postgresql://u:S3cret%zzPW@127.0.0.1/db")
    assert "S3cret" not in str(info.value) and "S3cret" not in caplog.text


def test_settings_copied_around_validation_are_still_checked() -> None:
    """database_url() re-checks even settings built with model_copy (which skips validators)."""
    from xbot_core.adapters.db.connection import database_url

    s = load_settings().model_copy(update={"database_url": SecretStr("postgresql://u:S3cret%zzPW@h/db")})
    with pytest.raises(ConfigError):
        database_url(s)


def test_sandbox_clock_with_a_real_x_is_a_configuration_error() -> None:
    """XBOT_CLOCK=sandbox would GET {x}/admin/clock: with x.com that is a sandbox URL on the real X."""
    with pytest.raises(ConfigError, match="XBOT_CLOCK=sandbox needs XBOT_X_BASE_URL"):
        load_settings(clock="sandbox", x_base_url="https://x.com")
    assert load_settings(clock="sandbox", x_base_url="http://127.0.0.1:8765").clock == "sandbox"
    assert load_settings(clock="sandbox", x_base_url="http://localhost:8765").clock == "sandbox"
    assert load_settings(clock="system", x_base_url="https://x.com").clock == "system"

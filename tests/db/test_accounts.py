"""Accounts as rows with their own settings: `xbot account`, the wiring and the served schedules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool
from typer.testing import CliRunner

from tests.plugins.posting import SANDBOX_HANDLE
from xbot_core.cli import app
from xbot_core.errors import ConfigError
from xbot_core.services import wiring
from xbot_core.services.operations import accounts
from xbot_core.settings import PROJECT_DIR, get_settings, load_settings

pytestmark = pytest.mark.db
runner = CliRunner()
PLAN = PROJECT_DIR / "xbot_core" / "experiments" / "plan_7d.toml"


@pytest.fixture()
def cli_db(clean_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("XBOT_DATABASE_URL", clean_db)
    monkeypatch.setenv("XBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XBOT_ACCOUNT_HANDLE", "main_acct")
    monkeypatch.setenv("XBOT_TIMEZONE", "UTC")
    get_settings.cache_clear()
    yield clean_db
    get_settings.cache_clear()


def _rows(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT handle, enabled, timezone, max_posts_per_hour, min_post_interval_s, session_file"
            " FROM accounts ORDER BY handle"
        ).fetchall()


def test_add_list_disable(cli_db: str, tmp_path: Path) -> None:
    out = runner.invoke(
        app,
        [
            "account",
            "add",
            "alice_1",
            "--timezone",
            "Europe/Berlin",
            "--max-posts-per-hour",
            "2",
            "--min-post-interval-s",
            "900",
            "--experiment-plan",
            str(PLAN),
        ],
    )
    assert out.exit_code == 0, out.output
    assert "account alice_1 added" in out.output
    assert runner.invoke(app, ["account", "add", "bob"]).exit_code == 0
    assert _rows(cli_db) == [
        ("alice_1", True, "Europe/Berlin", 2, 900, str(tmp_path / "session" / "alice_1.json")),
        ("bob", True, "UTC", None, None, str(tmp_path / "session" / "bob.json")),
    ]
    listed = runner.invoke(app, ["account", "list"]).output.splitlines()
    assert listed[1].split()[:5] == ["alice_1", "yes", "Europe/Berlin", "2", "900"]
    assert listed[2].split()[:5] == ["bob", "yes", "UTC", "-", "-"]

    assert runner.invoke(app, ["account", "disable", "bob"]).exit_code == 0
    assert [r[:2] for r in _rows(cli_db)] == [("alice_1", True), ("bob", False)]
    assert runner.invoke(app, ["account", "enable", "bob"]).exit_code == 0
    assert [r[:2] for r in _rows(cli_db)] == [("alice_1", True), ("bob", True)]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["account", "add", "bad-handle!"], "handle 'bad-handle!'"),
        (["account", "add", "carol", "--timezone", "Mars/Olympus"], "--timezone 'Mars/Olympus'"),
        (["account", "add", "carol", "--x-base-url", "x.com"], "--x-base-url 'x.com'"),
        (["account", "add", "carol", "--max-posts-per-hour", "-1"], "--max-posts-per-hour -1"),
        (["account", "add", "carol", "--experiment-plan", "/nonexistent.toml"], "--experiment-plan"),
        (["account", "disable", "nobody"], "no account 'nobody'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(cli_db: str, args: list[str], named: str) -> None:
    out = runner.invoke(app, args)
    assert isinstance(out.exception, ConfigError), out.output
    message = str(out.exception)
    assert named in message and "\n" not in message
    assert _rows(cli_db) == []


def test_duplicate_handle_is_refused(cli_db: str) -> None:
    assert runner.invoke(app, ["account", "add", "dana", "--timezone", "Asia/Tokyo"]).exit_code == 0
    again = runner.invoke(app, ["account", "add", "dana", "--timezone", "UTC"])
    assert isinstance(again.exception, ConfigError) and "'dana' already exists" in str(again.exception)
    assert [r[:3] for r in _rows(cli_db)] == [("dana", True, "Asia/Tokyo")]


def test_wiring_builds_deps_for_the_accounts_own_settings(cli_db: str, db_pool: ConnectionPool) -> None:
    settings = load_settings(
        database_url=cli_db, account_handle="main_acct", max_posts_per_hour=4, min_post_interval_s=300
    )
    assert (
        runner.invoke(
            app,
            [
                "account",
                "add",
                "alice_1",
                "--timezone",
                "Europe/Berlin",
                "--max-posts-per-hour",
                "2",
                "--x-base-url",
                "http://127.0.0.1:9999/",
            ],
        ).exit_code
        == 0
    )
    with psycopg.connect(cli_db) as conn:
        alice_id = conn.execute("SELECT account_id FROM accounts WHERE handle = 'alice_1'").fetchone()

    deps = wiring.deps_for(settings, db_pool, "alice_1")
    assert (deps.account_id,) == alice_id
    s = deps.settings
    assert (s.account_handle, s.timezone, s.max_posts_per_hour, s.min_post_interval_s, s.x_base_url) == (
        "alice_1",
        "Europe/Berlin",
        2,
        300,
        "http://127.0.0.1:9999",
    )
    assert s.session_file == settings.data_dir / "session" / "alice_1.json"

    default = wiring.deps_for(settings, db_pool, None)  # the configured account: ensured from settings
    assert default.settings is settings and default.account_id != deps.account_id
    assert wiring.deps_for(settings, db_pool, "main_acct").account_id == default.account_id

    with pytest.raises(ConfigError, match="no account 'zed'"):
        wiring.deps_for(settings, db_pool, "zed")
    assert runner.invoke(app, ["account", "disable", "alice_1"]).exit_code == 0
    with pytest.raises(ConfigError, match="'alice_1' is disabled"):
        wiring.deps_for(settings, db_pool, "alice_1")


def test_serve_schedules_every_enabled_account_in_its_time_zone(cli_db: str) -> None:
    from flows.serve import SCHEDULES, deployments

    settings = load_settings(database_url=cli_db, account_handle="main_acct", timezone="America/New_York")
    for args in (["alice_1", "--timezone", "Europe/Berlin"], ["bob", "--timezone", "Asia/Tokyo"]):
        assert runner.invoke(app, ["account", "add", *args]).exit_code == 0
    assert runner.invoke(app, ["account", "disable", "bob"]).exit_code == 0

    with psycopg.connect(cli_db) as conn:
        served = accounts.scheduled_accounts(conn, settings)
    assert served == [
        accounts.Scheduled(None, "America/New_York"),
        accounts.Scheduled("alice_1", "Europe/Berlin"),
    ]
    deps = deployments(accounts=served)
    assert len(deps) == 2 * len(SCHEDULES)
    got = {(d.flow_name, d.name, d.schedules[0].schedule.timezone, d.parameters.get("account")) for d in deps}
    for s in SCHEDULES:
        assert (s.flow.name, s.flow.name, "America/New_York", None) in got
        assert (s.flow.name, "alice_1", "Europe/Berlin", "alice_1") in got


def test_step_commands_take_account(cli_db: str) -> None:
    assert runner.invoke(app, ["account", "add", "alice_1", "--timezone", "Europe/Berlin"]).exit_code == 0
    out = runner.invoke(app, ["learn", "--account", "alice_1"])
    assert out.exit_code == 0, out.output
    with psycopg.connect(cli_db) as conn:
        runs = conn.execute(
            "SELECT a.handle FROM training_runs r JOIN accounts a USING (account_id)"
        ).fetchall()
    assert runs == [("alice_1",)]
    unknown = runner.invoke(app, ["post", "--status", "--account", "nobody"])
    assert isinstance(unknown.exception, ConfigError) and "no account 'nobody'" in str(unknown.exception)


@pytest.mark.browser
def test_x_login_per_account_writes_its_own_0600_session(
    cli_db: str, sandbox_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the sandbox knows one handle: here it is the second account, beside the configured main_acct
    monkeypatch.setenv("XBOT_X_BASE_URL", sandbox_url)
    get_settings.cache_clear()
    assert runner.invoke(app, ["account", "add", SANDBOX_HANDLE]).exit_code == 0
    out = runner.invoke(app, ["x", "login", "--account", SANDBOX_HANDLE])
    assert out.exit_code == 0, out.output
    assert f"session saved (sandbox) for @{SANDBOX_HANDLE}" in out.output
    own = tmp_path / "session" / f"{SANDBOX_HANDLE}.json"
    assert own.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "session" / "storage_state.json").exists()  # the default account's file untouched
    assert runner.invoke(app, ["x", "check", "--account", SANDBOX_HANDLE]).exit_code == 0
    assert runner.invoke(app, ["x", "check"]).exit_code == 1  # the default account has no session yet

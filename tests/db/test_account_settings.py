"""An account's X backend, API token file, reward version and LLM budget share (migration 0010): validated by
`xbot account add`, laid over the XBOT_ settings by the wiring, and the share obeyed by the budget."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool
from typer.testing import CliRunner

from xbot_core.adapters.llm.client import OpenAIChatClient
from xbot_core.cli import app
from xbot_core.errors import BudgetExceededError, ConfigError
from xbot_core.services import wiring
from xbot_core.services.operations import rewards
from xbot_core.services.operations.budget import BudgetedLLM, account_limit, budget_day
from xbot_core.settings import get_settings, load_settings

pytestmark = pytest.mark.db
runner = CliRunner()


@pytest.fixture()
def cli_db(clean_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("XBOT_DATABASE_URL", clean_db)
    monkeypatch.setenv("XBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XBOT_ACCOUNT_HANDLE", "main_acct")
    monkeypatch.setenv("XBOT_LLM_DAILY_BUDGET_USD", "1")
    get_settings.cache_clear()
    yield clean_db
    get_settings.cache_clear()


def _add(*args: str) -> None:
    out = runner.invoke(app, ["account", "add", *args])
    assert out.exit_code == 0, out.output


def _count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM accounts").fetchone()
    assert row is not None
    return int(row[0])


def test_account_limit_pinned_by_hand() -> None:
    assert account_limit(Decimal("5.000000"), 0.25) == Decimal("1.250000")
    assert account_limit(Decimal("1.000000"), 1.0) == Decimal("1.000000")
    # 0.000003 x 0.5 = 0.0000015: floored, an account never gets more than its share
    assert account_limit(Decimal("0.000003"), 0.5) == Decimal("0.000001")
    assert account_limit(Decimal("2.000000"), 1 / 3) == Decimal("0.666666")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--x-backend", "carrier_pigeon"], "--x-backend 'carrier_pigeon'"),
        (["--llm-budget-share", "0"], "--llm-budget-share 0"),
        (["--llm-budget-share", "1.5"], "--llm-budget-share 1.5"),
        (["--llm-budget-share", "nan"], "--llm-budget-share nan"),
        (["--reward-version", "0"], "--reward-version 0"),
        (["--reward-version", "9"], "--reward-version 9: no such reward version"),
    ],
)
def test_bad_setting_is_one_line_and_writes_nothing(cli_db: str, args: list[str], named: str) -> None:
    out = runner.invoke(app, ["account", "add", "carol", *args])
    assert isinstance(out.exception, ConfigError), out.output
    assert named in str(out.exception) and "\n" not in str(out.exception)
    assert _count(cli_db) == 0


def test_wiring_lays_the_rows_settings_over_xbot_settings(
    cli_db: str, db_pool: ConnectionPool, tmp_path: Path
) -> None:
    with psycopg.connect(cli_db) as conn:
        assert rewards.create_version(conn, w_fpki=0.7, note="alice's").version == 2
    _add("alice_1", "--x-backend", "api", "--reward-version", "2", "--llm-budget-share", "0.25")
    _add("bob")
    listed = runner.invoke(app, ["account", "list"]).output.splitlines()
    assert listed[1].split()[:8] == ["alice_1", "yes", "UTC", "-", "-", "api", "2", "0.25"]
    assert listed[2].split()[:8] == ["bob", "yes", "UTC", "-", "-", "-", "-", "-"]

    settings = load_settings(database_url=cli_db, data_dir=tmp_path, account_handle="main_acct")
    alice = wiring.deps_for(settings, db_pool, "alice_1").settings
    assert (alice.x_backend, alice.reward_version, alice.llm_budget_share) == ("api", 2, 0.25)
    assert alice.api_token_file == tmp_path / "x_api" / "alice_1.json"  # its own credentials file
    bob = wiring.deps_for(settings, db_pool, "bob").settings  # NULL columns: the XBOT_ settings
    assert (bob.x_backend, bob.reward_version, bob.llm_budget_share) == ("browser", None, 1.0)
    assert bob.api_token_file == tmp_path / "x_api" / "bob.json"
    assert settings.api_token_file == tmp_path / "x_api" / "token.json"

    # learning stamps the account's pinned version while version 1 stays the active one
    assert runner.invoke(app, ["learn", "--account", "alice_1"]).exit_code == 0
    assert runner.invoke(app, ["learn", "--account", "bob"]).exit_code == 0
    with psycopg.connect(cli_db) as conn:
        runs = conn.execute(
            "SELECT a.handle, r.reward_version FROM training_runs r JOIN accounts a USING (account_id)"
            " ORDER BY 1"
        ).fetchall()
    assert runs == [("alice_1", 2), ("bob", 1)]


def test_budget_share_caps_an_account_within_the_days_limit(cli_db: str, db_pool: ConnectionPool) -> None:
    _add("alice_1", "--llm-budget-share", "0.25")
    _add("bob")
    settings = get_settings()  # daily limit 1 USD
    day = budget_day(datetime.now(UTC), settings.llm_budget_timezone)

    def llm(handle: str) -> BudgetedLLM:
        deps = wiring.deps_for(settings, db_pool, handle)
        client = OpenAIChatClient.from_settings(deps.settings)
        return BudgetedLLM(db_pool, client, deps.settings, account_id=deps.account_id)

    alice, bob = llm("alice_1"), llm("bob")
    alice.reserve(day, "generate", None, Decimal("0.100000"))
    alice.reserve(day, "generate", None, Decimal("0.100000"))
    with pytest.raises(BudgetExceededError, match=r"@alice_1's LLM budget share 0.25 .* \(0.250000 USD\)"):
        alice.reserve(day, "generate", None, Decimal("0.100000"))  # 0.3 > 0.25
    alice.reserve(day, "generate", None, Decimal("0.050000"))  # exactly 0.25: allowed
    bob.reserve(day, "generate", None, Decimal("0.500000"))  # share 1: only the day's limit applies
    with pytest.raises(BudgetExceededError, match=r"daily LLM budget of 1\.000000 USD"):
        bob.reserve(day, "generate", None, Decimal("0.300000"))  # 0.75 + 0.3 > 1

    with psycopg.connect(cli_db) as conn:
        refused = conn.execute(
            "SELECT a.handle, u.status FROM llm_usage u JOIN accounts a USING (account_id)"
            " WHERE u.status <> 'reserved' ORDER BY u.usage_id"
        ).fetchall()
    assert refused == [("alice_1", "budget_exceeded"), ("bob", "budget_exceeded")]

    out = runner.invoke(app, ["budget", "--json", "--account", "alice_1"])
    assert out.exit_code == 0, out.output
    shown = json.loads(out.output)
    assert (shown["account"], shown["account_share"], shown["account_limit_usd"]) == (
        "alice_1",
        "0.25",
        "0.250000",
    )
    assert (shown["account_reserved_usd"], shown["account_remaining_usd"]) == ("0.250000", "0.000000")
    assert (shown["limit_usd"], shown["reserved_usd"]) == ("1.000000", "0.750000")

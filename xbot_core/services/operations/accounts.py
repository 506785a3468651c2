"""Many accounts on one database: each a row with its own settings over the workspace's XBOT_ settings.

The configured account (XBOT_ACCOUNT_HANDLE, with the XBOT_ settings) stays the default account, so a
one-account install changes nothing. Another account's row overrides the X site and backend, session and API
token files, time zone, posting caps, experiment plan, reward version and LLM budget share; what it leaves
NULL comes from the workspace settings.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from psycopg_pool import ConnectionPool

from xbot_core.adapters.db import accounts_repo
from xbot_core.adapters.db.accounts_repo import AccountRow, NewAccount
from xbot_core.adapters.db.connection import connect, database_url
from xbot_core.errors import ConfigError
from xbot_core.settings import Settings

HANDLE = re.compile(r"^[A-Za-z0-9_]{1,30}$")  # X's rule, and the accounts table's CHECK
X_BACKENDS = ("browser", "api")


def validate_new(new: NewAccount) -> NewAccount:
    """The account as given, or a one-line ConfigError naming the first bad input (nothing is written)."""
    if not HANDLE.match(new.handle):
        raise ConfigError(f"handle {new.handle!r}: 1-30 letters, digits or underscores")
    if not new.x_base_url.startswith(("http://", "https://")):
        raise ConfigError(f"--x-base-url {new.x_base_url!r}: must start with http:// or https://")
    try:
        ZoneInfo(new.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"--timezone {new.timezone!r}: unknown time zone") from None
    for option, value in (
        ("--max-posts-per-hour", new.max_posts_per_hour),
        ("--min-post-interval-s", new.min_post_interval_s),
    ):
        if value is not None and value < 0:
            raise ConfigError(f"{option} {value}: must be >= 0")
    if new.x_backend is not None and new.x_backend not in X_BACKENDS:
        raise ConfigError(f"--x-backend {new.x_backend!r}: must be one of {', '.join(X_BACKENDS)}")
    if new.reward_version is not None and new.reward_version < 1:
        raise ConfigError(f"--reward-version {new.reward_version}: must be >= 1")
    share = new.llm_budget_share
    if share is not None and not (math.isfinite(share) and 0 < share <= 1):
        raise ConfigError(f"--llm-budget-share {share}: must be > 0 and <= 1 (a share of the daily limit)")
    if new.experiment_plan is not None:
        from xbot_core.domain.experiments import load_plan

        path = Path(new.experiment_plan)
        if not path.is_file():
            raise ConfigError(f"--experiment-plan {new.experiment_plan}: no such file")
        try:
            load_plan(path)
        except Exception as exc:
            raise ConfigError(f"--experiment-plan {new.experiment_plan}: {exc}") from None
    return NewAccount(**{**new.__dict__, "x_base_url": new.x_base_url.rstrip("/")})


def add(conn: psycopg.Connection, new: NewAccount) -> int:
    """Validate and insert an account; an existing handle or an unknown reward version is a ConfigError
    (nothing written)."""
    new = validate_new(new)
    if new.reward_version is not None:
        from xbot_core.services.operations.rewards import list_versions

        known = [v.reward.version for v in list_versions(conn)]
        if new.reward_version not in known:
            raise ConfigError(
                f"--reward-version {new.reward_version}: no such reward version (known: {known}; "
                "xbot reward show)"
            )
    try:
        with conn.transaction():
            return accounts_repo.insert_account(conn, new)
    except psycopg.errors.UniqueViolation:
        raise ConfigError(f"account {new.handle!r} already exists") from None


def set_enabled(conn: psycopg.Connection, handle: str, *, enabled: bool) -> None:
    """Enable or disable an account; an unknown handle is a ConfigError."""
    with conn.transaction():
        if not accounts_repo.set_enabled(conn, handle, enabled=enabled):
            raise ConfigError(f"no account {handle!r} (xbot account list)")


def settings_for(settings: Settings, row: AccountRow) -> Settings:
    """The workspace settings with the account's own values laid over them (validated copies)."""
    update: dict[str, object] = {
        "account_handle": row.handle,
        "x_base_url": row.x_base_url,
        "timezone": row.timezone,
    }
    if row.session_file is not None:
        update["x_session_file"] = Path(row.session_file)
    if row.max_posts_per_hour is not None:
        update["max_posts_per_hour"] = row.max_posts_per_hour
    if row.min_post_interval_s is not None:
        update["min_post_interval_s"] = row.min_post_interval_s
    if row.experiment_plan is not None:
        update["experiment_plan"] = Path(row.experiment_plan)
    if row.x_backend is not None:
        update["x_backend"] = row.x_backend
    if row.x_api_token_file is not None:
        update["x_api_token_file"] = Path(row.x_api_token_file)
    if row.reward_version is not None:
        update["reward_version"] = row.reward_version
    if row.llm_budget_share is not None:
        update["llm_budget_share"] = row.llm_budget_share
    return settings.model_copy(update=update)


def resolve(pool: ConnectionPool, settings: Settings, handle: str | None) -> tuple[Settings, int | None]:
    """The settings for `handle` (None or the configured handle: the default account) and its id when the
    row supplies it. A handle with no row, or a disabled account, is a ConfigError."""
    if handle is None or handle == settings.account_handle:
        return settings, None
    with pool.connection() as conn:
        row = accounts_repo.account_by_handle(conn, handle)
    if row is None:
        raise ConfigError(f"no account {handle!r} (xbot account add {handle})")
    if not row.enabled:
        raise ConfigError(f"account {handle!r} is disabled (xbot account enable {handle})")
    return settings_for(settings, row), row.account_id


def settings_for_handle(settings: Settings, handle: str | None) -> Settings:
    """`resolve` for one-off commands (`xbot x login --account`): a short connection, not a pool."""
    if handle is None or handle == settings.account_handle:
        return settings
    with connect(database_url(settings)) as conn:
        row = accounts_repo.account_by_handle(conn, handle)
    if row is None:
        raise ConfigError(f"no account {handle!r} (xbot account add {handle})")
    return settings_for(settings, row)


@dataclass(frozen=True)
class Scheduled:
    """An account the scheduler serves: its handle (None = the configured default) and its time zone."""

    handle: str | None
    timezone: str


def scheduled_accounts(conn: psycopg.Connection, settings: Settings) -> list[Scheduled]:
    """The default account (unless its row is disabled) and every other enabled account, default first."""
    rows = {r.handle: r for r in accounts_repo.list_accounts(conn)}
    out: list[Scheduled] = []
    default = rows.get(settings.account_handle)
    if default is None or default.enabled:
        out.append(Scheduled(None, settings.timezone))
    out += [
        Scheduled(r.handle, r.timezone)
        for h, r in sorted(rows.items())
        if h != settings.account_handle and r.enabled
    ]
    return out


def scheduled(settings: Settings) -> list[Scheduled]:
    """`scheduled_accounts` read from the configured database (for `xbot serve`)."""
    with connect(database_url(settings)) as conn:
        return scheduled_accounts(conn, settings)

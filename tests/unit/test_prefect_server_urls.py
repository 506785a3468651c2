"""The Prefect server's database URL: libpq URLs (socket or TCP) become SQLAlchemy asyncpg URLs; never a
password in what is shown."""

from __future__ import annotations

import pytest

from xbot_core.adapters.prefect_server import asyncpg_url, check_database_url, redact_sqlalchemy
from xbot_core.errors import ConfigError


def test_socket_url_keeps_the_socket_directory() -> None:
    assert (
        asyncpg_url("postgresql://postgres:@/postgres?host=/tmp/x/pgdata", "prefect")
        == "postgresql+asyncpg://postgres@/prefect?host=%2Ftmp%2Fx%2Fpgdata"  # empty password: none
    )


def test_tcp_url_keeps_host_port_and_password() -> None:
    assert (
        asyncpg_url("postgresql://bob:s3cret@db.internal:6543/app", "prefect")
        == "postgresql+asyncpg://bob:s3cret@db.internal:6543/prefect"
    )


def test_redaction_hides_the_password() -> None:
    shown = redact_sqlalchemy("postgresql+asyncpg://bob:s3cret@db.internal:6543/prefect")
    assert shown == "postgresql+asyncpg://bob:***@db.internal:6543/prefect" and "s3cret" not in shown


@pytest.mark.parametrize("url", ["postgresql://bob:s3cret@h/db", "sqlite:///prefect.db"])
def test_a_non_asyncpg_url_is_one_line_without_the_secret(url: str) -> None:
    wanted = "XBOT_PREFECT_DATABASE_URL must start with postgresql\\+asyncpg://"
    with pytest.raises(ConfigError, match=wanted) as e:
        check_database_url(url)
    assert "s3cret" not in str(e.value) and "\n" not in str(e.value)

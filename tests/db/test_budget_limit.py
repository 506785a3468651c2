"""The day's LLM limit is the first writer's (issue 17): workers with different settings do not flip it."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from xbot_core.errors import BudgetExceededError
from xbot_core.services.operations.budget import BudgetedLLM
from xbot_core.settings import load_settings

pytestmark = pytest.mark.db

DAY = date(2026, 3, 11)


class _NoCalls:
    model = "gpt-4o-mini"

    def complete(self, *a: Any, **k: Any) -> Any:
        raise AssertionError("reservation only")


def _limit(url: str) -> Decimal:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT limit_usd FROM llm_budget_days WHERE budget_day = %s", (DAY,)).fetchone()
    assert row is not None
    return Decimal(row[0])


def test_first_writer_limit_holds_and_a_differing_setting_warns(
    clean_db: str, db_pool: ConnectionPool, caplog: pytest.LogCaptureFixture
) -> None:
    small = BudgetedLLM(db_pool, _NoCalls(), load_settings(llm_daily_budget_usd=1.0))  # type: ignore[arg-type]
    big = BudgetedLLM(db_pool, _NoCalls(), load_settings(llm_daily_budget_usd=50.0))  # type: ignore[arg-type]
    small.reserve(DAY, "first", None, Decimal("0.5"))
    assert _limit(clean_db) == Decimal("1.000000")
    caplog.set_level(logging.WARNING, logger="xbot.llm")
    with pytest.raises(BudgetExceededError, match=r"1\.000000 USD"):
        big.reserve(DAY, "second", None, Decimal("0.6"))  # 0.5 + 0.6 > the day's 1.0, whatever big says
    assert _limit(clean_db) == Decimal("1.000000")
    assert "XBOT_LLM_DAILY_BUDGET_USD=50.000000 differs" in caplog.text
    caplog.clear()
    small.reserve(DAY, "third", None, Decimal("0.4"))  # the first writer's own setting: no warning
    assert "differs" not in caplog.text and _limit(clean_db) == Decimal("1.000000")

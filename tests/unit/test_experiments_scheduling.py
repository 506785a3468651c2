"""Scheduling inside timing slots (account local time, next occurrence at or after now)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from xbot_core.domain.scheduling import slot_time
from xbot_core.errors import ConfigError


def test_slot_time_next_occurrence() -> None:
    rng = np.random.default_rng(0)
    tz = "Europe/Berlin"
    berlin = ZoneInfo(tz)
    inside = datetime(2026, 1, 5, 20, 30, tzinfo=berlin)
    t = slot_time("late_evening", inside, tz, rng)
    assert inside <= t < datetime(2026, 1, 5, 22, tzinfo=berlin)
    after = datetime(2026, 1, 5, 22, 0, tzinfo=berlin)
    t2 = slot_time("late_evening", after, tz, rng)
    assert datetime(2026, 1, 6, 20, tzinfo=berlin) <= t2 < datetime(2026, 1, 6, 22, tzinfo=berlin)
    before = datetime(2026, 1, 5, 6, 0, tzinfo=berlin)
    t3 = slot_time("morning", before, tz, rng)
    assert datetime(2026, 1, 5, 8, tzinfo=berlin) <= t3 < datetime(2026, 1, 5, 10, tzinfo=berlin)


def test_slot_time_rejects_unknown_slot_and_naive_now() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match="unknown timing slot 'brunch'"):
        slot_time("brunch", datetime(2026, 1, 5, tzinfo=ZoneInfo("UTC")), "UTC", rng)
    with pytest.raises(ValueError, match="timezone-aware"):
        slot_time("morning", datetime(2026, 1, 5), "UTC", rng)

"""When to post: a moment inside a timing slot's next occurrence, in the account's local time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from xbot_core.domain.catalog import ArmCatalog
from xbot_core.errors import ConfigError


def slot_time(
    slot: str, now: datetime, tz: str, rng: np.random.Generator, catalog: ArmCatalog | None = None
) -> datetime:
    """A minute drawn uniformly inside the slot's next occurrence at or after `now` (account local time)."""
    hours = (catalog or ArmCatalog()).slot_hours
    if slot not in hours:
        raise ConfigError(f"unknown timing slot {slot!r} (known: {sorted(hours)})")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    start_h, end_h = hours[slot]
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    for offset in (0, 1):
        day = local_now.date() + timedelta(days=offset)
        start = datetime(day.year, day.month, day.day, start_h, tzinfo=zone)
        end = datetime(day.year, day.month, day.day, end_h, tzinfo=zone)
        lo = max(start, local_now).replace(second=0, microsecond=0)
        if lo < local_now:
            lo += timedelta(minutes=1)
        minutes = int((end - lo).total_seconds() // 60)
        if minutes >= 1:
            return lo + timedelta(minutes=int(rng.integers(minutes)))
    raise AssertionError("a slot always recurs the next day")  # pragma: no cover

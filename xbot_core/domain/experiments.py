"""Experiment plans (TOML) and deterministic assignment of decisions to control or treatment.

A decision is in treatment when u(experiment_id, decision_id) < share, with u a uniform number in [0, 1)
taken from sha256 of the pair: stable across processes and machines, independent between experiments. The
treatment arm overrides the bandit for the experiment's scope; in control the bandit chooses (T included). The
logged propensity of that scope's arm is the marginal share·1[a = T] + (1 − share)·π_b(a):
xbot_core.domain.override holds that rule.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from xbot_core.domain.catalog import SCOPES, ArmCatalog
from xbot_core.errors import ConfigError

Variant = Literal["control", "treatment"]


@dataclass(frozen=True)
class ExperimentSpec:
    """One experiment of a plan: force `treatment_arm` on `scope` for `share` of the decisions on its days."""

    name: str
    scope: str
    treatment_arm: str
    share: float
    first_day: int
    last_day: int
    description: str = ""
    target_mde: float | None = None  # relative lift the plan means to detect (0.2 = ±20 %)


@dataclass(frozen=True)
class ExperimentPlan:
    """A plan of `length_days` days with its experiments; day 1 starts at the plan's start date."""

    name: str
    length_days: int
    experiments: tuple[ExperimentSpec, ...]
    baseline_days: tuple[int, ...] = ()
    analysis_day: int | None = None
    posts_per_day: int | None = None  # the planned posting rate (for power; the scheduler decides)

    def windows(self, start: date, tz: str = "UTC") -> list[tuple[ExperimentSpec, datetime, datetime]]:
        """Each experiment with its [starts_at, ends_at): local midnights of its first and after-last day."""
        zone = ZoneInfo(tz)

        def midnight(day: int) -> datetime:
            return datetime.combine(start + timedelta(days=day - 1), time(0), tzinfo=zone)

        return [(e, midnight(e.first_day), midnight(e.last_day + 1)) for e in self.experiments]


@dataclass(frozen=True)
class Experiment:
    """An experiment as stored for an account (an `experiments` row)."""

    experiment_id: int
    name: str
    scope: str
    treatment_arm: str
    share: float
    starts_at: datetime
    ends_at: datetime

    def active_at(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


@dataclass(frozen=True)
class Assignment:
    """Which variant a decision is in and the probability of that variant."""

    experiment_id: int | str
    variant: Variant
    probability: float


def assignment_unit(experiment_id: int | str, decision_id: object) -> float:
    """A uniform number in [0, 1) from sha256("<experiment_id>:<decision_id>") (first 8 bytes)."""
    digest = hashlib.sha256(f"{experiment_id}:{decision_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign(experiment_id: int | str, share: float, decision_id: object) -> Assignment:
    """Deterministic assignment of a decision: treatment with probability `share` (`assignment.probability`
    is P(variant), stored with the assignment; the logged arm propensity is domain.override's marginal)."""
    if not 0 < share < 1:
        raise ConfigError(f"experiment share must be in (0, 1), got {share!r}")
    if assignment_unit(experiment_id, decision_id) < share:
        return Assignment(experiment_id, "treatment", share)
    return Assignment(experiment_id, "control", 1.0 - share)


def active_experiment(experiments: list[Experiment], now: datetime) -> Experiment | None:
    """The experiment running at `now` (plans allow at most one at a time)."""
    running = [e for e in experiments if e.active_at(now)]
    if len(running) > 1:
        raise ConfigError(
            f"more than one experiment active at {now.isoformat()}: {[e.name for e in running]}"
        )
    return running[0] if running else None


def _days(raw: Any, where: str) -> tuple[int, int]:
    if not (isinstance(raw, list) and len(raw) >= 1 and all(isinstance(d, int) for d in raw)):
        raise ConfigError(f"{where}: days must be a non-empty list of day numbers, got {raw!r}")
    first, last = min(raw), max(raw)
    if sorted(raw) != list(range(first, last + 1)):
        raise ConfigError(f"{where}: days must be consecutive, got {raw!r}")
    return first, last


def parse_plan(
    data: dict[str, Any], catalog: ArmCatalog | None = None, source: str = "plan"
) -> ExperimentPlan:
    """Validate a plan read from TOML; every problem is a ConfigError naming the experiment and field."""
    catalog = catalog or ArmCatalog()
    length = data.get("length_days")
    if not isinstance(length, int) or length < 1:
        raise ConfigError(f"{source}: length_days must be a positive integer, got {length!r}")
    specs: list[ExperimentSpec] = []
    for i, raw in enumerate(data.get("experiments", [])):
        where = f"{source}: experiments[{i}]"
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}: name is required")
        where = f"{source}: experiment {name!r}"
        scope = raw.get("scope")
        if scope not in SCOPES:
            raise ConfigError(f"{where}: scope must be one of {SCOPES}, got {scope!r}")
        arm = raw.get("treatment_arm")
        if arm not in catalog.arms(scope):
            raise ConfigError(
                f"{where}: treatment_arm {arm!r} is not an arm of {scope} {catalog.arms(scope)}"
            )
        share = raw.get("share")
        if not isinstance(share, int | float) or not 0 < share < 1:
            raise ConfigError(f"{where}: share must be a number in (0, 1), got {share!r}")
        first, last = _days(raw.get("days"), where)
        if first < 1 or last > length:
            raise ConfigError(f"{where}: days {first}–{last} fall outside the plan's 1–{length}")
        target = raw.get("target_mde")
        if target is not None and not (isinstance(target, int | float) and 0 < target <= 10):
            raise ConfigError(f"{where}: target_mde must be a relative lift in (0, 10], got {target!r}")
        specs.append(
            ExperimentSpec(
                name,
                scope,
                arm,
                float(share),
                first,
                last,
                str(raw.get("description", "")),
                target_mde=None if target is None else float(target),
            )
        )
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: experiment names must be unique, got {names}")
    for a in specs:
        for b in specs:
            if a.name < b.name and a.first_day <= b.last_day and b.first_day <= a.last_day:
                raise ConfigError(f"{source}: experiments {a.name!r} and {b.name!r} overlap in days")
    analysis = data.get("analysis_day")
    baseline = tuple(data.get("baseline_days", ()))
    per_day = data.get("posts_per_day")
    if per_day is not None and (isinstance(per_day, bool) or not isinstance(per_day, int) or per_day < 1):
        raise ConfigError(f"{source}: posts_per_day must be a positive integer, got {per_day!r}")
    return ExperimentPlan(str(data.get("name", source)), length, tuple(specs), baseline, analysis, per_day)


def load_plan(path: Path | str, catalog: ArmCatalog | None = None) -> ExperimentPlan:
    """Read and validate a TOML plan file."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"experiment plan not found: {p}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"experiment plan {p} is not valid TOML: {exc}") from None
    return parse_plan(data, catalog, source=str(p))

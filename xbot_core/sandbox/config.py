"""Configuration of the sandbox: server settings plus the audience parameters read from audience.toml."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from xbot_core.domain.catalog import SCOPES, ArmCatalog
from xbot_core.domain.metrics import ENGAGEMENT_COUNTS
from xbot_core.errors import ConfigError

AUDIENCE_FILE = Path(__file__).with_name("audience.toml")
METRICS: tuple[str, ...] = ("impressions", *ENGAGEMENT_COUNTS, "new_follows")  # X's name for follows


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountParams(_Strict):
    handle: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_]{1,15}$")
    name: str
    initial_followers: int = Field(ge=0)
    organic_followers_per_day: float = Field(ge=0)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        ZoneInfo(v)
        return v


class HostedParams(_Strict):
    """How another hosted account's audience differs from [account]'s: drawn once from its audience seed."""

    followers_sigma: float = Field(default=0.5, ge=0)
    reach_sigma: float = Field(default=0.25, ge=0)
    rates_sigma: float = Field(default=0.2, ge=0)


class ClockParams(_Strict):
    start: datetime

    @field_validator("start")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("clock.start needs a UTC offset")
        return v


class ReachParams(_Strict):
    base_impressions: float = Field(gt=0)
    per_follower: float = Field(ge=0)
    sigma: float = Field(ge=0)


class RateParams(_Strict):
    like: float = Field(ge=0, le=1)
    retweet: float = Field(ge=0, le=1)
    reply: float = Field(ge=0, le=1)
    quote: float = Field(ge=0, le=1)
    bookmark: float = Field(ge=0, le=1)
    profile_visit: float = Field(ge=0, le=1)
    link_click: float = Field(ge=0, le=1)
    follow: float = Field(ge=0, le=1)
    rate_sigma: float = Field(ge=0)


class AccrualParams(_Strict):
    tau_hours: float = Field(gt=0)
    follow_tau_hours: float = Field(gt=0)


class HourParams(_Strict):
    multipliers: tuple[float, ...] = Field(min_length=24, max_length=24)


class DayParams(_Strict):
    multipliers: tuple[float, ...] = Field(min_length=7, max_length=7)


class ArmEffect(_Strict):
    reach: float = Field(default=1.0, gt=0)
    engagement: float = Field(default=1.0, gt=0)
    follow: float = Field(default=1.0, gt=0)
    link: float = Field(default=1.0, gt=0)


NEUTRAL = ArmEffect()


class CalibrationInfo(_Strict):
    """Where a calibrated file's fitted values came from (written by `xbot sandbox calibrate`)."""

    source_account: str = Field(min_length=1)
    latest_read: date
    posts: int = Field(ge=1)
    replies: int = Field(ge=0)
    reply_share: float = Field(ge=0, le=1)
    fitted_posts: int = Field(ge=1)
    zero_impression_posts: int = Field(ge=0)
    follows_per_1k: float | None = Field(default=None, ge=0)
    fitted: tuple[str, ...]
    kept_from_template: tuple[str, ...]


class AudienceConfig(_Strict):
    """Every parameter of the audience simulator (documented in audience.toml)."""

    account: AccountParams
    clock: ClockParams
    reach: ReachParams
    rates: RateParams
    accrual: AccrualParams
    hour_of_day: HourParams
    day_of_week: DayParams
    arms: dict[str, dict[str, ArmEffect]]
    calibration: CalibrationInfo | None = None  # present in a file fitted to real history
    hosted: HostedParams = HostedParams()

    @field_validator("arms")
    @classmethod
    def _known_arms(cls, v: dict[str, dict[str, ArmEffect]]) -> dict[str, dict[str, ArmEffect]]:
        catalog = ArmCatalog()
        for scope, effects in v.items():
            if scope not in SCOPES:
                raise ValueError(f"unknown scope {scope!r}; expected one of {SCOPES}")
            unknown = set(effects) - set(catalog.arms(scope))
            if unknown:
                raise ValueError(f"unknown {scope} arms {sorted(unknown)}; known {catalog.arms(scope)}")
        return v

    def effect(self, scope: str, arm: str | None) -> ArmEffect:
        """The multipliers of an arm; neutral for None (not perceived) or an unlisted arm."""
        if arm is None:
            return NEUTRAL
        return self.arms.get(scope, {}).get(arm, NEUTRAL)


def load_audience_config(path: Path = AUDIENCE_FILE) -> AudienceConfig:
    """Read and validate an audience TOML file; errors name the file and each bad key."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read audience config {path}: {exc}") from exc
    try:
        return AudienceConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"invalid audience config {path}: {problems}") from None


HOSTED_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


@dataclass(frozen=True)
class HostedAccount:
    """Another account the sandbox hosts beside [account]; its audience comes from `audience_seed` (None:
    derived from the sandbox seed and the handle, so it is reproducible either way)."""

    handle: str
    audience_seed: int | None = None


def parse_hosted(spec: str) -> HostedAccount:
    """`HANDLE` or `HANDLE:SEED` (xbot sandbox --account); a ConfigError names a bad one."""
    handle, _, seed = spec.partition(":")
    handle = handle.strip().lstrip("@")
    if not HOSTED_HANDLE.match(handle):
        raise ConfigError(f"--account {spec!r}: a handle of 1-15 letters, digits or underscores")
    if not seed:
        return HostedAccount(handle)
    if not seed.isdigit() or int(seed) >= 2**32:
        raise ConfigError(f"--account {spec!r}: the audience seed must be an integer in 0..2**32-1")
    return HostedAccount(handle, int(seed))


@dataclass(frozen=True)
class SandboxConfig:
    """Server-level settings of one sandbox instance: the accounts it hosts beyond audience.toml's."""

    latency_ms: int = 0
    audience: AudienceConfig = field(default_factory=load_audience_config)
    accounts: tuple[HostedAccount, ...] = ()

    def __post_init__(self) -> None:
        handles = [self.audience.account.handle.lower(), *(a.handle.lower() for a in self.accounts)]
        if len(set(handles)) != len(handles):
            raise ConfigError(f"sandbox accounts must have distinct handles, got {handles}")

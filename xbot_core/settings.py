"""Settings, read once at the edge: environment variables with prefix XBOT_ and an optional .env file.

Every setting is listed in the README's configuration table (a test keeps the two in step).
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from xbot_core.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def legacy_mode(environ: Mapping[str, str]) -> Literal["shadow", "live"] | None:
    """The mode the replaced system's flags ask for: POSTING_DISABLED=true or LIVE_POSTS=false → shadow,
    LIVE_POSTS=true → live, neither set → None. A value that is not a boolean is a ConfigError."""
    flags: dict[str, bool] = {}
    for name in ("POSTING_DISABLED", "LIVE_POSTS"):
        raw = environ.get(name)
        if raw is None:
            continue
        value = raw.strip().lower()
        if value not in _TRUE | _FALSE:
            raise ConfigError(f"{name}={raw!r} is not a boolean (true/false/1/0/yes/no/on/off)")
        flags[name] = value in _TRUE
    if flags.get("POSTING_DISABLED") or flags.get("LIVE_POSTS") is False:
        return "shadow"
    if flags.get("LIVE_POSTS"):
        return "live"
    return None


def is_sandbox_target(x_base_url: str, sandbox_host: str, sandbox_port: int) -> bool:
    """The one rule for "is X the sandbox?" (so: is the data simulated?), from configuration alone.

    True when XBOT_X_BASE_URL's host is a loopback address (localhost, 127.0.0.0/8, ::1; x.com never is),
    or when it is exactly XBOT_SANDBOX_HOST:XBOT_SANDBOX_PORT (a sandbox served on another interface).
    Never a network probe: a sandbox that is down does not turn its data into real data.
    """
    url = urlparse(x_base_url)
    host = (url.hostname or "").lower()
    if host == "localhost":
        return True
    try:
        if ipaddress.ip_address(host).is_loopback:
            return True
    except ValueError:
        pass
    return host == sandbox_host.lower() and url.port == sandbox_port


DEFAULT_PRICING: dict[str, tuple[float, float]] = {
    # model -> (USD per 1M input tokens, USD per 1M output tokens)
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
}


class Settings(BaseSettings):
    """All configuration of the workspace. Unset values fall back to the embedded defaults."""

    model_config = SettingsConfigDict(
        env_prefix="XBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    database_url: SecretStr | None = Field(
        default=None, description="Postgres URL; unset starts the embedded server in the data dir."
    )
    data_dir: Path = Field(
        default=PROJECT_DIR / ".xbot", description="Local state: embedded database, browser session."
    )
    db_pool_max: int = Field(default=8, ge=1, le=100, description="Connections in the pool.")

    account_handle: str = Field(default="xbot_demo", min_length=1, description="The X account handle.")
    x_base_url: str = Field(default="http://127.0.0.1:8765", description="X site: x.com or the sandbox.")
    x_session_file: Path | None = Field(
        default=None,
        description="Playwright storage-state file; default <data_dir>/session/storage_state.json.",
    )
    chromium_path: Path | None = Field(
        default=None, description="Chromium executable; else /usr/bin/chromium."
    )
    browser_headless: bool = Field(default=True, description="Run Chromium headless.")
    collect_concurrency: int = Field(default=4, ge=1, le=32, description="Browser pages used in parallel.")

    sandbox_host: str = Field(default="127.0.0.1", description="Where `xbot sandbox` listens.")
    sandbox_port: int = Field(default=8765, ge=1, le=65535, description="Port of `xbot sandbox`.")
    sandbox_seed: int = Field(default=7, description="Seed of the sandbox audience simulator.")

    openai_api_key: SecretStr = Field(
        default=SecretStr("sandbox-key"), description="OpenAI key (any value works for the sandbox)."
    )
    openai_base_url: str = Field(
        default="http://127.0.0.1:8765/v1", description="OpenAI-compatible endpoint; default the sandbox."
    )
    openai_model: str = Field(default="gpt-4o-mini", description="Chat model used for generation.")
    openai_timeout_s: float = Field(default=30.0, gt=0, description="Per-request timeout in seconds.")
    openai_max_tokens: int = Field(default=120, ge=16, le=4096, description="max_tokens per generation.")
    llm_daily_budget_usd: float = Field(default=5.00, ge=0, description="Daily LLM spend limit (USD).")
    llm_budget_timezone: str = Field(default="UTC", description="Time zone of the budget day.")
    llm_pricing: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: dict(DEFAULT_PRICING),
        description="USD per 1M tokens (input, output) per model, as JSON.",
    )
    allow_hashtags: bool = Field(default=False, description="Whether generated posts may carry hashtags.")

    mode: Literal["shadow", "live"] = Field(
        default="live",
        description="shadow plans and generates, never posts. Legacy POSTING_DISABLED=true or "
        "LIVE_POSTS=false force shadow; LIVE_POSTS=true means live.",
    )
    real_metrics_enabled: bool = Field(
        default=True, description="Collect metrics from X (else skip collection)."
    )
    clock: Literal["system", "sandbox"] = Field(
        default="system", description="system time, or the sandbox's virtual clock (demo)."
    )
    timezone: str = Field(default="UTC", description="Account's local time zone for timing slots.")
    max_posts_per_hour: int = Field(default=4, ge=0, description="Hourly posting cap.")
    min_post_interval_s: int = Field(default=300, ge=0, description="Minimum seconds between two posts.")
    lease_seconds: int = Field(default=120, ge=5, description="Lease on a claimed decision before reconcile.")
    experiment_plan: Path = Field(
        default=PROJECT_DIR / "xbot_core" / "experiments" / "plan_7d.toml",
        description="TOML experiment plan.",
    )
    reports_dir: Path = Field(default=PROJECT_DIR / "reports", description="Where rendered HTML goes.")

    prefect_database_url: SecretStr | None = Field(
        default=None,
        description="Database of `xbot server` (postgresql+asyncpg://); unset: database `prefect` on the "
        "embedded server.",
    )
    prefect_port: int = Field(default=4200, ge=1, le=65535, description="Port of `xbot server` (UI and API).")

    api_host: str = Field(default="127.0.0.1", description="Where `xbot api` binds.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port of `xbot api`.")
    api_token: SecretStr | None = Field(default=None, description="Bearer token required by the API if set.")

    @field_validator("x_base_url", "openai_base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @field_validator("timezone", "llm_budget_timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @model_validator(mode="before")
    @classmethod
    def _legacy_mode_flags(cls, data: Any) -> Any:
        """Map POSTING_DISABLED / LIVE_POSTS onto XBOT_MODE. Shadow wins: either source asking for shadow
        gives shadow (a stop flag is never overridden); live needs XBOT_MODE=live or LIVE_POSTS=true."""
        implied = legacy_mode(os.environ)
        if implied is None or not isinstance(data, dict):
            return data
        explicit = data.get("mode")
        if explicit is None:
            return {**data, "mode": implied}
        if explicit == "live" and implied == "shadow":
            logging.getLogger("xbot.settings").warning(
                "[ops] XBOT_MODE=live overridden to shadow by POSTING_DISABLED/LIVE_POSTS"
            )
            return {**data, "mode": "shadow"}
        return data

    @model_validator(mode="after")
    def _pricing_covers_model(self) -> Settings:
        if self.openai_model not in self.llm_pricing:
            raise ValueError(
                f"XBOT_OPENAI_MODEL={self.openai_model!r} has no price in XBOT_LLM_PRICING "
                f"(known: {sorted(self.llm_pricing)})"
            )
        return self

    @model_validator(mode="after")
    def _sandbox_clock_needs_sandbox(self) -> Settings:
        if self.clock == "sandbox" and not self.x_is_sandbox:
            raise ValueError(
                f"XBOT_CLOCK=sandbox needs XBOT_X_BASE_URL to name the sandbox (a loopback URL or "
                f"XBOT_SANDBOX_HOST:XBOT_SANDBOX_PORT), got {self.x_base_url}"
            )
        return self

    @property
    def x_is_sandbox(self) -> bool:
        """Whether the configured X is the sandbox: the data kind (simulated) follows from it."""
        return is_sandbox_target(self.x_base_url, self.sandbox_host, self.sandbox_port)

    @property
    def sandbox_x_url(self) -> str | None:
        """XBOT_X_BASE_URL when it is the sandbox, else None: the only base for sandbox-only /admin/* URLs."""
        return self.x_base_url if self.x_is_sandbox else None

    @property
    def session_file(self) -> Path:
        return self.x_session_file or self.data_dir / "session" / "storage_state.json"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into a ConfigError naming each XBOT_ setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = "XBOT_" + "_".join(str(p) for p in err["loc"]).upper() if err["loc"] else "settings"
            problems.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()

"""Settings, read once at the edge: environment variables with prefix XBOT_ and an optional .env file.

Every setting is listed in the README's configuration table (a test keeps the two in step).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from xbot_core import config_checks
from xbot_core.errors import ConfigError
from xbot_core.package_data import EXPERIMENT_PLAN

PROJECT_DIR = Path(__file__).resolve().parent.parent


def home_dir(project: Path = PROJECT_DIR, cwd: Path | None = None) -> Path:
    """Where `.xbot/` and `reports/` go by default: the source checkout when running from one (its
    pyproject.toml beside the package), else the working directory (an installed wheel, like git's folder)."""
    return project if (project / "pyproject.toml").is_file() else (cwd or Path.cwd())


HOME_DIR = home_dir()
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
        default=HOME_DIR / ".xbot", description="Local state: embedded database, browser session."
    )
    db_pool_max: int = Field(default=8, ge=1, le=100, description="Connections in the pool.")

    account_handle: str = Field(
        default="xbot_demo", pattern=r"^[A-Za-z0-9_]{1,15}$", description="The X account handle."
    )
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
    x_backend: Literal["browser", "api"] = Field(
        default="browser", description="How X is reached: the browser (x.com pages) or the official API v2."
    )
    x_api_base_url: str = Field(
        default="http://127.0.0.1:8765", description="X API: api.x.com or the sandbox."
    )
    x_api_timeout_s: float = Field(
        default=15.0, gt=0, le=120, allow_inf_nan=False, description="X API per-request timeout (s)."
    )
    x_api_client_id: str | None = Field(
        default=None, min_length=1, pattern=r"^\S+$", description="OAuth 2.0 client id of the X app."
    )
    x_api_client_secret: SecretStr | None = Field(
        default=None, description="OAuth 2.0 client secret (confidential apps only)."
    )
    x_api_redirect_uri: str = Field(
        default="http://127.0.0.1:8765/callback", description="OAuth 2.0 callback URL registered for the app."
    )
    x_api_token_file: Path | None = Field(
        default=None, description="OAuth 2.0 token file (0600); default <data_dir>/x_api/token.json."
    )
    x_api_consumer_key: SecretStr | None = Field(default=None, description="OAuth 1.0a consumer key.")
    x_api_consumer_secret: SecretStr | None = Field(default=None, description="OAuth 1.0a consumer secret.")
    x_api_access_token: SecretStr | None = Field(default=None, description="OAuth 1.0a access token.")
    x_api_access_token_secret: SecretStr | None = Field(
        default=None, description="OAuth 1.0a access token secret."
    )
    x_api_daily_budget_usd: float = Field(
        default=2.00, ge=0, le=1_000_000, allow_inf_nan=False, description="Daily X API spend limit (USD)."
    )

    sandbox_host: str = Field(default="127.0.0.1", description="Where `xbot sandbox` listens.")
    sandbox_port: int = Field(default=8765, ge=1, le=65535, description="Port of `xbot sandbox`.")
    sandbox_seed: int = Field(
        default=7, ge=0, le=2**32 - 1, description="Seed of the sandbox audience simulator."
    )

    openai_api_key: SecretStr = Field(
        default=SecretStr("sandbox-key"),
        min_length=1,
        description="OpenAI key (any value works for the sandbox).",
    )
    openai_base_url: str = Field(
        default="http://127.0.0.1:8765/v1", description="OpenAI-compatible endpoint; default the sandbox."
    )
    openai_model: str = Field(
        default="gpt-4o-mini", min_length=1, description="Chat model used for generation."
    )
    openai_timeout_s: float = Field(
        default=30.0, gt=0, le=3600, allow_inf_nan=False, description="Per-request timeout in seconds."
    )
    openai_max_tokens: int = Field(default=120, ge=16, le=4096, description="max_tokens per generation.")
    llm_daily_budget_usd: float = Field(
        default=5.00, ge=0, le=1_000_000, allow_inf_nan=False, description="Daily LLM spend limit (USD)."
    )
    llm_budget_share: float = Field(
        default=1.0,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="Share of the daily LLM limit an account may spend (an account row may set its own).",
    )
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
    history_prior_weight: float | None = Field(
        default=None,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="If set, every learn run starts the real posteriors from the imported history, each post "
        "counting this much of a live one (`xbot learn --prior-from-history`).",
    )
    max_posts_per_hour: int = Field(default=4, ge=0, le=1000, description="Hourly posting cap.")
    min_post_interval_s: int = Field(
        default=300, ge=0, le=7 * 86_400, description="Minimum seconds between two posts."
    )
    lease_seconds: int = Field(
        default=120, ge=5, le=86_400, description="Lease on a claimed decision before reconcile."
    )
    bandit_discount: float | None = Field(
        default=None,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="Recency discount γ in (0, 1] of the learn step's bandit rebuild: an outcome counts γ^j "
        "with j newer outcomes in its scope; unset: no discount.",
    )
    bandit_window_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="Sliding window of the learn step: the bandit is rebuilt from the last N days of "
        "outcomes (up to the newest); unset: all history.",
    )
    drift_recent_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description="Drift alarm: the recent period compared with the days before it.",
    )
    drift_min_posts: int = Field(
        default=5, ge=2, le=10_000, description="Drift alarm: fewest outcomes of an arm in each period."
    )
    drift_z_alarm: float = Field(
        default=3.0,
        gt=0,
        le=100,
        allow_inf_nan=False,
        description="Drift alarm: |Welch z| between the periods that raises it.",
    )
    reward_version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,  # reward_versions.version is a Postgres integer
        description="Reward version that collection and learning use; unset: the active one.",
    )
    experiment_plan: Path = Field(
        default=EXPERIMENT_PLAN,
        description="TOML experiment plan.",
    )
    reports_dir: Path = Field(default=HOME_DIR / "reports", description="Where rendered HTML goes.")

    prefect_database_url: SecretStr | None = Field(
        default=None,
        description="Database of `xbot server` (postgresql+asyncpg://); unset: database `prefect` on the "
        "embedded server.",
    )
    prefect_port: int = Field(default=4200, ge=1, le=65535, description="Port of `xbot server` (UI and API).")

    api_host: str = Field(default="127.0.0.1", description="Where `xbot api` binds.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port of `xbot api`.")
    api_token: SecretStr | None = Field(default=None, description="Bearer token required by the API if set.")

    @field_validator("x_base_url", "openai_base_url", "x_api_base_url", "x_api_redirect_uri")
    @classmethod
    def _url(cls, v: str) -> str:
        return config_checks.http_url(v)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            config_checks.database_url(v.get_secret_value())
        return v

    @field_validator("prefect_database_url")
    @classmethod
    def _prefect_database_url(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().startswith("postgresql+asyncpg://"):
            raise ValueError("must be a postgresql+asyncpg:// URL (Prefect's async Postgres driver)")
        return v

    @field_validator("api_token")
    @classmethod
    def _api_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            config_checks.token(v.get_secret_value())
        return v

    @field_validator("llm_pricing")
    @classmethod
    def _pricing(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        return config_checks.pricing(v)

    @field_validator("data_dir", "reports_dir")
    @classmethod
    def _writable(cls, v: Path) -> Path:
        return config_checks.writable_dir(v)

    @field_validator("experiment_plan")
    @classmethod
    def _plan(cls, v: Path) -> Path:
        return config_checks.existing_file(v)

    @field_validator("chromium_path")
    @classmethod
    def _chromium(cls, v: Path | None) -> Path | None:
        return None if v is None else config_checks.existing_file(v)

    @field_validator(
        "x_api_client_secret",
        "x_api_consumer_key",
        "x_api_consumer_secret",
        "x_api_access_token",
        "x_api_access_token_secret",
    )
    @classmethod
    def _x_api_secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().strip():
            raise ValueError("is empty (unset it instead)")
        return v

    @field_validator("x_session_file", "x_api_token_file")
    @classmethod
    def _session_file(cls, v: Path | None) -> Path | None:
        if v is not None:
            config_checks.writable_dir(v.parent)
        return v

    @field_validator("sandbox_host", "api_host")
    @classmethod
    def _host(cls, v: str) -> str:
        if not v.strip() or any(c.isspace() or c in "/?#@" for c in v):
            raise ValueError("must be a host name or IP address")
        return v

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
    def x_target(self) -> str:
        """The configured X: the site for the browser backend, the API base URL for the API backend."""
        return self.x_api_base_url if self.x_backend == "api" else self.x_base_url

    @property
    def x_is_sandbox(self) -> bool:
        """Whether the configured X target is the sandbox: the data kind (simulated) follows from it."""
        return is_sandbox_target(self.x_target, self.sandbox_host, self.sandbox_port)

    @property
    def sandbox_x_url(self) -> str | None:
        """XBOT_X_BASE_URL when it is the sandbox, else None: the only base for sandbox-only /admin/* URLs."""
        return self.x_base_url if self.x_is_sandbox else None

    @property
    def session_file(self) -> Path:
        return self.x_session_file or self.data_dir / "session" / "storage_state.json"

    @property
    def api_token_file(self) -> Path:
        return self.x_api_token_file or self.data_dir / "x_api" / "token.json"

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
            name = "XBOT_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
            problems.append(f"{name}: {err['msg']}")
        raise ConfigError(_one_line("invalid configuration: " + "; ".join(problems))) from None
    except SettingsError as exc:  # raised by pydantic-settings itself, e.g. a complex value that is not JSON
        field = _SETTINGS_FIELD.search(str(exc))
        name = f"XBOT_{field.group(1).upper()}" if field else "an XBOT_ setting"
        raise ConfigError(
            f"invalid configuration: {name}: not valid JSON (expected e.g. {_EXAMPLES.get(name, '{}')})"
        ) from None


_SETTINGS_FIELD = re.compile(r'field "([a-z_]+)"')
_EXAMPLES = {"XBOT_LLM_PRICING": '{"gpt-4o-mini": [0.15, 0.6]}'}


def _one_line(text: str) -> str:
    return " ".join(text.split())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()

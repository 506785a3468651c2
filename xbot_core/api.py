"""The observability API: FastAPI app factory over the read model in xbot_core/services/read/status.py.

Read-only (the pool's sessions default to read-only transactions); every figure is computed from Postgres at
request time. With XBOT_API_TOKEN set every route except /health needs `Authorization: Bearer <token>`, and
/health without the token says only up/down and whether the kill switch is engaged.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import psycopg
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from psycopg_pool import ConnectionPool, PoolTimeout
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field

from xbot_core import config_checks
from xbot_core.adapters.db import accounts_repo
from xbot_core.adapters.db.connection import database_url, redact
from xbot_core.errors import ConfigError
from xbot_core.services.read import status
from xbot_core.settings import Settings

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})
LOCAL_HOSTS = frozenset({"localhost"})
_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or wrong bearer token (only when XBOT_API_TOKEN is set)."},
    503: {"description": "The database cannot be reached."},
}
_ACCOUNT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_AUTH_RESPONSES,
    404: {"description": "No account has the `account` handle."},
}

ECHO_CAP = 200  # characters of a rejected input echoed back in a 422


class PublicHealth(BaseModel):
    """What /health tells a caller without the token (when XBOT_API_TOKEN is set)."""

    status: str = Field(description="ok, or degraded when the database cannot be reached.")
    kill_switch: bool | None = Field(
        description="Whether posting is stopped; null when the database is down."
    )


def capped(value: Any, cap: int = ECHO_CAP) -> Any:
    """A rejected input as echoed in an error body: long text cut to `cap` characters, noting the length."""
    text = value if isinstance(value, str) else None
    if text is None and not isinstance(value, bool | int | float | type(None)):
        text = str(value)
    if text is None or len(text) <= cap:
        return value
    return f"{text[:cap]}… ({len(text)} characters)"


def _iso_only(value: object) -> object:
    """Pydantic reads a bare number as a Unix timestamp; the API takes ISO 8601 date-times only (any text
    Python reads as a float is refused: `1767700800`, `6.4e-90`, ` inf`)."""
    if isinstance(value, str) and _is_number(value):
        raise ValueError(
            "expected an ISO 8601 date-time with offset (e.g. 2026-01-06T12:00:00Z), not a number"
        )
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


AsOf = Annotated[AwareDatetime, BeforeValidator(_iso_only)]

SimulatedParam = Annotated[
    bool, Query(description="Read the simulated (sandbox) dataset instead of the real one; never mixed.")
]
AccountParam = Annotated[
    str | None,
    Query(
        pattern=r"^@?[A-Za-z0-9_]{1,30}$",
        description="Account handle (`xbot account list`); default the configured one (XBOT_ACCOUNT_HANDLE). "
        "An unknown handle is a 404 naming it.",
    ),
]


def is_local_host(host: str) -> bool:
    """Whether binding to `host` keeps the API on this machine (loopback address or localhost)."""
    if host.lower() in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, settings: Settings) -> None:
    """Refuse to serve beyond loopback unless a token (of at least 32 characters) protects the API."""
    if is_local_host(host):
        return
    if settings.api_token is None:
        raise ConfigError(
            f"refusing to bind the API to {host!r} without XBOT_API_TOKEN; "
            "set a token or bind 127.0.0.1 / localhost / ::1"
        )
    try:  # settings validate the token too; this guards settings built some other way
        config_checks.token(settings.api_token.get_secret_value())
    except ValueError as exc:
        raise ConfigError(f"refusing to bind the API to {host!r}: XBOT_API_TOKEN {exc}") from None


def _today(tz: str) -> date:
    return datetime.now(ZoneInfo(tz)).date()


def _param_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts[1:]) if len(parts) > 1 else (parts[0] if parts else "request")


def reject_unknown_query(request: Request) -> None:
    """A misspelt query parameter (`asof=`) is an error naming it, not silently ignored."""
    path = getattr(request.scope.get("route"), "path", None)
    operation = request.app.openapi()["paths"].get(path, {}).get(request.method.lower(), {})
    allowed = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    unknown = [k for k in dict.fromkeys(request.query_params) if k not in allowed]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", k),
                    "msg": "unknown query parameter",
                    "input": request.query_params[k],
                }
                for k in unknown
            ]
        )


def create_app(settings: Settings) -> FastAPI:
    """The API app; its connection pool opens with the app's lifespan (the database may come up later)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url(settings)
        pool = ConnectionPool(
            url,
            min_size=1,
            max_size=settings.db_pool_max,
            open=False,
            timeout=5.0,
            kwargs={"options": "-c default_transaction_read_only=on"},
        )
        pool.open(wait=False)
        try:
            pool.wait(timeout=3.0)
        except PoolTimeout:
            log.warning("API started but the database at %s is not reachable yet", redact(url))
        app.state.pool = pool
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(
        title="xbot observability API",
        version="1",
        description=(
            "Read-only figures of the X growth account, computed from Postgres at request time. "
            "`simulated` selects the real (default) or the simulated dataset; they are never mixed. "
            "Bearer auth on every route except /health when XBOT_API_TOKEN is set."
        ),
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query)],
    )

    @contextmanager
    def connection(request: Request) -> Iterator[psycopg.Connection]:
        pool: ConnectionPool = request.app.state.pool
        with pool.connection() as conn:
            yield conn

    # ---- security and errors ----

    def authorized(request: Request) -> bool:
        """No token configured, or a non-empty bearer token equal to it (an empty one never matches)."""
        if settings.api_token is None:
            return True
        expected = settings.api_token.get_secret_value().strip().encode()
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        presented = given.strip().encode()
        return (
            scheme.lower() == "bearer"
            and bool(presented)
            and bool(expected)
            and hmac.compare_digest(presented, expected)
        )

    @app.middleware("http")
    async def bearer_auth(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path in OPEN_PATHS:
            return await call_next(request)
        if not authorized(request):
            return JSONResponse(
                {"detail": "missing or invalid bearer token"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid_params(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{**e, "input": capped(e["input"])} if "input" in e else e for e in exc.errors()]
        message = "; ".join(f"invalid parameter {_param_name(e['loc'])!r}: {e['msg']}" for e in errors)
        return JSONResponse(
            {"message": message, "detail": jsonable_encoder(errors, exclude={"ctx", "url"})}, status_code=422
        )

    @app.exception_handler(psycopg.errors.UndefinedTable)
    async def not_migrated(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "database schema not migrated (xbot db migrate)"}, status_code=503)

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable for %s: %s", request.url.path, type(exc).__name__)
        return JSONResponse({"detail": "database unavailable"}, status_code=503)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            if settings.api_token is not None:
                schema.setdefault("components", {})["securitySchemes"] = {
                    "bearer": {"type": "http", "scheme": "bearer"}
                }
                for path, ops in schema["paths"].items():
                    if path not in OPEN_PATHS:
                        for op in ops.values():
                            op["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    def handle_of(conn: psycopg.Connection, account: str | None) -> str:
        """The handle a route reports on: the configured account by default, else an existing row's."""
        handle = (account or settings.account_handle).removeprefix("@")
        if handle != settings.account_handle and accounts_repo.account_by_handle(conn, handle) is None:
            raise HTTPException(404, detail=f"no account {handle!r} (xbot account list)")
        return handle

    # ---- routes ----

    @app.get(
        "/health",
        response_model=status.Health | PublicHealth,
        responses={503: {"model": status.Health | PublicHealth}},
    )
    def health(request: Request) -> Any:
        """Database reachable, schema version, mode and kill switch; always open. Without the token (when
        XBOT_API_TOKEN is set) only status and whether the kill switch is engaged."""
        full = _health(request)
        if authorized(request):
            return full
        body = (
            full if isinstance(full, status.Health) else status.Health.model_validate_json(bytes(full.body))
        )
        public = PublicHealth(status=body.status, kill_switch=body.kill_switch)
        if isinstance(full, JSONResponse):
            return JSONResponse(jsonable_encoder(public), status_code=full.status_code)
        return public

    def _health(request: Request) -> status.Health | JSONResponse:
        try:
            with connection(request) as conn:
                return status.health(conn, mode=settings.mode)
        except psycopg.errors.UndefinedTable:
            bare = status.Health(
                status="degraded",
                database_reachable=True,
                schema_version=0,
                mode=settings.mode,
                kill_switch=None,
                error="schema not migrated (xbot db migrate)",
            )
            return JSONResponse(jsonable_encoder(bare), status_code=503)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            down = status.Health(
                status="degraded",
                database_reachable=False,
                schema_version=None,
                mode=settings.mode,
                kill_switch=None,
                error=type(exc).__name__,
            )
            return JSONResponse(jsonable_encoder(down), status_code=503)

    @app.get("/api/learning/status", response_model=status.LearningStatus, responses=_ACCOUNT_RESPONSES)
    def learning_status(
        request: Request, simulated: SimulatedParam = False, account: AccountParam = None
    ) -> status.LearningStatus:
        """Bandit arms with their posteriors, training state, outcome counts and today's LLM budget."""
        with connection(request) as conn:
            return status.learning_status(
                conn,
                handle=handle_of(conn, account),
                simulated=simulated,
                budget_day=_today(settings.llm_budget_timezone),
                default_limit_usd=settings.llm_daily_budget_usd,
            )

    @app.get("/api/growth", response_model=status.Growth, responses=_ACCOUNT_RESPONSES)
    def growth(
        request: Request,
        simulated: SimulatedParam = False,
        as_of: Annotated[
            AsOf | None,
            Query(
                description="Compute the figures as they stood at this instant (ISO 8601 with offset); "
                "default now. Outcomes collected after it are ignored."
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=50, description="How many top posts by follows.")] = 5,
        account: AccountParam = None,
    ) -> status.Growth:
        """Follower growth and 7-day engagement of the mature posts. Rates are pooled over impressions as in
        the daily report (FPKI = 1000·Σfollows/Σimpressions, never a mean of per-post rates); reply_uplift_7d:
        the pooled reply rate of the last 7 days relative to the 7 days before, minus 1."""
        with connection(request) as conn:
            return status.growth(
                conn,
                handle=handle_of(conn, account),
                simulated=simulated,
                as_of=as_of or datetime.now(UTC),
                limit=limit,
            )

    @app.get("/api/metrics", response_model=status.OpsMetrics, responses=_ACCOUNT_RESPONSES)
    def metrics(
        request: Request, simulated: SimulatedParam = False, account: AccountParam = None
    ) -> status.OpsMetrics:
        """Posts by status, outcomes by pass, today's LLM calls and cost, skip reasons, posting errors."""
        with connection(request) as conn:
            return _ops(conn, handle_of(conn, account), simulated)

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses=_ACCOUNT_RESPONSES,
        summary="The /api/metrics figures of both datasets as Prometheus text (label simulated).",
    )
    def prometheus(request: Request, account: AccountParam = None) -> Response:
        with connection(request) as conn:
            handle = handle_of(conn, account)
            figures = [_ops(conn, handle, sim) for sim in (False, True)]
        return Response(generate_latest(prometheus_registry(figures)), media_type=CONTENT_TYPE_LATEST)

    def _ops(conn: psycopg.Connection, handle: str, simulated: bool) -> status.OpsMetrics:
        return status.ops_metrics(
            conn,
            handle=handle,
            simulated=simulated,
            budget_day=_today(settings.llm_budget_timezone),
        )

    return app


def prometheus_registry(figures: list[status.OpsMetrics]) -> CollectorRegistry:
    """A fresh registry holding the same numbers as /api/metrics (one per dataset; LLM figures once)."""
    reg = CollectorRegistry()
    posts = Gauge("xbot_posts", "Decisions by status.", ["simulated", "status"], registry=reg)
    outcomes = Gauge(
        "xbot_outcomes", "Outcome rows by pass and status.", ["simulated", "pass", "status"], registry=reg
    )
    skips = Gauge("xbot_skipped_posts", "Skipped decisions by reason.", ["simulated", "reason"], registry=reg)
    errors = Gauge("xbot_posting_errors", "Decisions carrying a posting error.", ["simulated"], registry=reg)
    for m in figures:
        sim = str(m.simulated).lower()
        for st, n in m.posts.items():
            posts.labels(sim, st).set(n)
        for pass_, n in m.outcomes_by_pass.items():
            outcomes.labels(sim, pass_, "ok").set(n)
        for pass_, n in m.outcomes_unavailable_by_pass.items():
            outcomes.labels(sim, pass_, "unavailable").set(n)
        for reason, n in m.skip_reasons.items():
            skips.labels(sim, reason).set(n)
        errors.labels(sim).set(m.posting_errors_total)
    if figures:
        llm = figures[0]
        calls = Gauge(
            "xbot_llm_calls_today", "LLM calls of the budget day by status.", ["status"], registry=reg
        )
        for st, n in llm.llm_calls_by_status.items():
            calls.labels(st).set(n)
        Gauge("xbot_llm_cost_usd_today", "LLM cost of the budget day (USD).", registry=reg).set(
            llm.llm_cost_usd_today
        )
        Gauge("xbot_llm_tokens_today", "LLM tokens of the budget day.", registry=reg).set(
            llm.llm_tokens_today
        )
    return reg

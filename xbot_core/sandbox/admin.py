"""Admin endpoints of the sandbox: virtual clock, faults, ground truth, reset (see README), and the guard
in front of them: loopback Host, same Origin, and a per-process token on every /admin request."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from xbot_core.sandbox.state import SandboxState, SandboxStateError


class ClockChange(BaseModel):
    """Exactly one of: set the virtual time, or advance it."""

    model_config = ConfigDict(extra="forbid")
    set: datetime | None = None
    advance_seconds: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one(self) -> ClockChange:
        if (self.set is None) == (self.advance_seconds is None):
            raise ValueError('give exactly one of "set" (iso8601 with offset) or "advance_seconds"')
        return self


class FaultChange(BaseModel):
    """Any combination of failure modes; each applies immediately and is persisted."""

    model_config = ConfigDict(extra="forbid")
    delete_post: str | None = Field(
        default=None, description="tweet id: its page shows 'This post is unavailable.'"
    )
    protect_account: str | None = Field(default=None, description="handle whose posts become protected")
    unprotect_account: str | None = Field(default=None, description="handle whose posts become public again")
    expire_sessions: bool = Field(
        default=False, description="log every session out (pages redirect to login)"
    )
    rate_limit_next: int | None = Field(
        default=None, ge=0, description="answer the next N site requests with 429"
    )
    server_error_next: int | None = Field(
        default=None, ge=0, description="answer the next N site requests with 500"
    )
    latency_ms: int | None = Field(default=None, ge=0, le=60_000, description="delay of every site request")
    refuse_next_post: int | None = Field(
        default=None,
        ge=226,
        le=344,
        description="the next CreateTweet gets X's error 226 (automated) or 344 (daily limit)",
    )
    hide_analytics: bool | None = Field(
        default=None, description="per-post analytics (TweetActivityQuery) show no metrics; false: shown"
    )


class NewAccount(BaseModel):
    """Another account to host, with its own audience seed (default: derived from the sandbox seed)."""

    model_config = ConfigDict(extra="forbid")
    handle: str = Field(pattern=r"^[A-Za-z0-9_]{1,15}$")
    audience_seed: int | None = Field(default=None, ge=0, lt=2**32)


def build_admin_router(state: SandboxState) -> APIRouter:
    """Routes under /admin; tests, the demo and diagnostics use them, the bot's code never does."""
    router = APIRouter(prefix="/admin", tags=["admin"])

    @router.get("/health")
    def health() -> dict[str, Any]:
        return {"sandbox": True, "seed": state.seed, "now": state.now().isoformat()}

    @router.get("/clock")
    def get_clock() -> dict[str, str]:
        return {"now": state.now().isoformat()}

    @router.post("/clock")
    def change_clock(change: ClockChange) -> dict[str, str]:
        try:
            now = (
                state.set_clock(change.set)
                if change.set is not None
                else state.advance(change.advance_seconds or 0.0)
            )
        except SandboxStateError as exc:
            raise HTTPException(422, str(exc)) from exc
        return {"now": now.isoformat()}

    @router.get("/faults")
    def get_faults() -> dict[str, Any]:
        return state.faults()

    @router.post("/faults")
    def change_faults(change: FaultChange) -> dict[str, Any]:
        try:
            if change.refuse_next_post is not None:  # first: a bad code changes nothing
                state.refuse_next_post(change.refuse_next_post)
            if change.delete_post is not None:
                state.delete_post(change.delete_post)
            if change.protect_account is not None:
                state.set_protected(change.protect_account, True)
            if change.unprotect_account is not None:
                state.set_protected(change.unprotect_account, False)
            if change.expire_sessions:
                state.expire_sessions()
            if change.hide_analytics is not None:
                state.hide_analytics(change.hide_analytics)
        except SandboxStateError as exc:
            raise HTTPException(404, str(exc)) from exc
        state.set_faults(
            rate_limit_next=change.rate_limit_next,
            server_error_next=change.server_error_next,
            latency_ms=change.latency_ms,
        )
        return state.faults()

    @router.get("/accounts")
    def list_accounts() -> dict[str, Any]:
        return {"accounts": [asdict(a) for a in state.accounts()]}

    @router.post("/accounts")
    def add_account(new: NewAccount) -> dict[str, Any]:
        try:
            return asdict(state.add_account(new.handle, new.audience_seed))
        except SandboxStateError as exc:
            raise HTTPException(409, detail=str(exc)) from None

    @router.get("/ground_truth")
    def ground_truth() -> dict[str, Any]:
        return state.ground_truth()

    @router.post("/reset")
    def reset() -> dict[str, Any]:
        state.reset()
        return {"reset": True, "now": state.now().isoformat()}

    return router


# ---- guard: per-process token, loopback Host and same Origin on every admin request ----

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def _hostname(authority: str) -> str:
    """'127.0.0.1:8765' -> '127.0.0.1', '[::1]:8765' -> '::1', 'localhost' -> 'localhost'; '' if malformed."""
    try:
        return (urlsplit(f"//{authority}").hostname or "").lower()
    except ValueError:
        return ""


def _netloc(origin: str) -> str | None:
    try:
        return urlsplit(origin).netloc.lower()
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def install_admin_guard(app: FastAPI, token: str) -> None:
    """Every /admin request, reads included: Host must be a loopback name (no DNS rebinding), Origin, when
    sent, the same origin (CSRF), and `Authorization: Bearer <token>` must carry this process's token (other
    local users and processes: the ground truth and the clock are the experiment's answers)."""
    expected = token.encode()

    @app.middleware("http")
    async def admin_guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not request.url.path.startswith("/admin"):
            return await call_next(request)
        host = request.headers.get("host", "")
        if not _is_loopback(_hostname(host)):
            return JSONResponse({"detail": "admin is served to loopback Host names only"}, 403)
        origin = request.headers.get("origin")
        if origin is not None and _netloc(origin) != host.lower():  # "null" has no netloc either
            return JSONResponse({"detail": "cross-origin admin request refused"}, 403)
        if request.headers.get("sec-fetch-site") == "cross-site":
            return JSONResponse({"detail": "cross-origin admin request refused"}, 403)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        presented = given.strip().encode()
        if scheme.lower() != "bearer" or not presented or not hmac.compare_digest(presented, expected):
            return JSONResponse(
                {"detail": "admin requests need the sandbox's token (see its admin-token file)"},
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await call_next(request)

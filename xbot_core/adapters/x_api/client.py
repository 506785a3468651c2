"""XApiClient: the XClient over X's official API v2 (httpx, explicit timeouts), chosen by XBOT_X_BACKEND=api.

Errors become the project's own: 401 → SessionExpiredError (a person must log in again); 403 duplicate on
publish → DuplicatePostError (the post may exist: reconcile, never post again); 429 → RateLimitedError, and
every call to that operation is refused locally until x-rate-limit-reset (reads come back Unavailable
'rate_limited', so their passes stay pending); 5xx and transport errors are retried on reads only (one
tenacity layer, injected sleep); a publish is never retried.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Self

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from xbot_core.adapters.clock import Clock, SystemClock
from xbot_core.adapters.llm.retry import BackoffPolicy
from xbot_core.adapters.x_api import parse
from xbot_core.adapters.x_api.auth import Signer
from xbot_core.adapters.x_browser.models import Metrics, PostRef, TimelinePost, Unavailable
from xbot_core.errors import (
    DuplicatePostError,
    PublishError,
    RateLimitedError,
    SessionExpiredError,
    XApiError,
)

log = logging.getLogger("xbot.x_api")

Op = Literal["create", "lookup", "analytics", "me", "timeline"]
FieldsParam = Literal["tweet.fields", "post.fields"]
MAX_IDS = 100  # X: up to 100 ids per lookup or analytics call
POST_FIELDS = "created_at,public_metrics,entities"


class _Transient(Exception):
    """A read that may succeed when tried again (5xx or transport error)."""


class _RateLimited(Exception):
    def __init__(self, op: Op, reset_at: float) -> None:
        super().__init__(
            f"X API rate limit on {op} until {datetime.fromtimestamp(reset_at, UTC):%H:%M:%S} UTC"
        )
        self.reset_at = reset_at


@dataclass(frozen=True)
class CallRecord:
    """One API call, as the cost meter sees it."""

    op: Op
    resources: int
    has_url: bool = False


class Meter:
    """Counts calls before they are made and settles them after (the Postgres budget implements this)."""

    async def reserve(self, call: CallRecord) -> Any:
        return None

    async def settle(self, token: Any, call: CallRecord, *, status: str, resources: int) -> None:
        return None


class XApiClient:
    """XClient over X API v2. Use as `async with XApiClient(...) as x:` (or `make_api_client(settings)`)."""

    def __init__(
        self,
        *,
        api_base_url: str,
        site_base_url: str,
        handle: str,
        signer: Signer,
        clock: Clock | None = None,
        timeout_s: float = 15.0,
        fields_param: FieldsParam = "tweet.fields",
        meter: Meter | None = None,
        read_retries: int = 2,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wall: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int = 4,
    ) -> None:
        self.api_base_url = api_base_url.rstrip("/")
        self.site_base_url = site_base_url.rstrip("/")
        self.handle = handle
        self.signer = signer
        self.clock: Clock = clock or SystemClock()
        self.fields_param = fields_param
        self.meter = meter or Meter()
        self.concurrency = concurrency
        self._policy = BackoffPolicy(max_retries=read_retries)
        self._rng = random.Random()
        self._sleep = sleep
        self._wall = wall
        self._timeout = httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._blocked_until: dict[Op, float] = {}
        self._user_id: str | None = None
        self.calls = 0  # HTTP requests sent (for tests and the benchmark)

    # ---- lifecycle ---------------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        self._http = httpx.AsyncClient(
            base_url=self.api_base_url, timeout=self._timeout, transport=self._transport
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # ---- one request -------------------------------------------------------------------------------
    def _gate(self, op: Op) -> None:
        """Refuse locally (no request, no cost) while X's last 429 on this operation has not reset."""
        until = self._blocked_until.get(op, 0.0)
        if until > self._wall():
            raise _RateLimited(op, until)

    async def _send(self, op: Op, method: str, path: str, **kw: Any) -> httpx.Response:
        """Send once (no retry), after the rate-limit gate; maps 401 and 429, returns other answers."""
        if self._http is None:
            raise XApiError("XApiClient used outside `async with`")
        self._gate(op)
        request = self._http.build_request(method, path, **kw)
        await self.signer.sign(request)
        self.calls += 1
        response = await self._http.send(request)
        if response.status_code == 401:
            raise SessionExpiredError(
                f"the X API refused the credentials (401 on {method} {path}); run `xbot x login --api`"
            )
        if response.status_code == 429:
            reset = _reset_of(response, self._wall())
            self._blocked_until[op] = reset
            log.warning("[x_api] 429 on %s: no %s call until the reset at %.0f", path, op, reset)
            raise _RateLimited(op, reset)
        return response

    async def _read(self, op: Op, path: str, params: dict[str, str], resources: int) -> dict[str, Any]:
        """A GET with its cost counted and 5xx / transport errors retried; returns the JSON body."""
        self._gate(op)
        call = CallRecord(op, resources)
        token = await self.meter.reserve(call)
        status, got = "failed", 0
        try:
            body = await self._retrying_get(op, path, params)
            got = len(body.get("data") or []) if isinstance(body.get("data"), list) else 1
            status = "succeeded"
            return body
        except _RateLimited:
            status = "rate_limited"
            raise
        finally:
            await self.meter.settle(token, call, status=status, resources=got)

    async def _retrying_get(self, op: Op, path: str, params: dict[str, str]) -> dict[str, Any]:
        policy, rng = self._policy, self._rng

        def wait(state: RetryCallState) -> float:
            return policy.delay(state.attempt_number, rng)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("X_API_RETRY op=%s attempt=%d reason=%s", op, state.attempt_number, exc)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.max_retries + 1),
            wait=wait,
            retry=retry_if_exception(lambda e: isinstance(e, _Transient)),
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        response = await self._send(op, "GET", path, params=params)
                    except httpx.TransportError as exc:
                        raise _Transient(f"{type(exc).__name__}: {exc}") from exc
                    if response.status_code >= 500:
                        raise _Transient(f"HTTP {response.status_code} on GET {path}")
                    if response.status_code != 200:
                        raise XApiError(f"X API {response.status_code} on GET {path}: {response.text[:300]}")
                    body = response.json()
                    if not isinstance(body, dict):
                        raise XApiError(f"X API GET {path} answered a {type(body).__name__}, not an object")
                    return body
        except _Transient as exc:
            raise XApiError(
                f"X API GET {path} failed after {policy.max_retries + 1} attempts: {exc}"
            ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- XClient -----------------------------------------------------------------------------------
    async def publish(self, text: str) -> PostRef:
        """POST /2/tweets once; the id comes from the 201 body. Never retried."""
        try:
            self._gate("create")
        except _RateLimited as exc:
            raise RateLimitedError(str(exc)) from exc
        call = CallRecord("create", 1, has_url="http://" in text or "https://" in text)
        token = await self.meter.reserve(call)
        status = "failed"
        try:
            try:
                response = await self._send("create", "POST", "/2/tweets", json={"text": text})
            except _RateLimited as exc:
                status = "rate_limited"
                raise RateLimitedError(str(exc)) from exc
            except httpx.TransportError as exc:  # the post may or may not exist: reconciliation decides
                raise PublishError(f"POST /2/tweets: {type(exc).__name__}: {exc}") from exc
            if response.status_code == 403 and parse.is_duplicate(_json(response)):
                raise DuplicatePostError(
                    "X refused the post as a duplicate: it may already be live; reconcile, never post again"
                )
            if response.status_code != 201:
                raise PublishError(f"POST /2/tweets answered {response.status_code}: {response.text[:300]}")
            data = (_json(response) or {}).get("data") or {}
            tweet_id = str(data.get("id", ""))
            if not tweet_id.isdigit():
                raise PublishError(f"POST /2/tweets 201 without a numeric data.id: {response.text[:300]}")
            status = "succeeded"
        finally:
            await self.meter.settle(token, call, status=status, resources=1 if status == "succeeded" else 0)
        return PostRef(
            tweet_id=tweet_id,
            url=f"{self.site_base_url}/{self.handle}/status/{tweet_id}",
            posted_at=parse.snowflake_time(tweet_id),
        )

    async def read_metrics(self, post: PostRef) -> Metrics | Unavailable:
        return (await self.read_metrics_many([post]))[0]

    async def read_metrics_many(
        self, posts: Sequence[PostRef], concurrency: int | None = None
    ) -> list[Metrics | Unavailable]:
        """Public metrics (GET /2/tweets) and analytics (GET /2/tweets/analytics), 100 ids per call."""
        out: list[Metrics | Unavailable] = []
        for start in range(0, len(posts), MAX_IDS):
            out += await self._read_chunk(list(posts[start : start + MAX_IDS]))
        return out

    async def _read_chunk(self, posts: list[PostRef]) -> list[Metrics | Unavailable]:
        ids = [p.tweet_id for p in posts]
        now = await asyncio.to_thread(self.clock.now)
        known = [p.posted_at or parse.snowflake_time(p.tweet_id) for p in posts]
        start = min(known) - timedelta(minutes=1)
        try:
            lookup = await self._read(
                "lookup", "/2/tweets", {"ids": ",".join(ids), self.fields_param: "public_metrics"}, len(ids)
            )
            analytics = await self._read(
                "analytics",
                "/2/tweets/analytics",
                {
                    "ids": ",".join(ids),
                    "start_time": _iso(start),
                    "end_time": _iso(max(now, start + timedelta(minutes=1))),
                    "granularity": "total",
                    "analytics.fields": ",".join(parse.ANALYTICS_FIELDS),
                },
                len(ids),
            )
        except (_RateLimited, RateLimitedError) as exc:  # RateLimitedError: the daily budget refused
            return [Unavailable("rate_limited", str(exc)) for _ in posts]
        except SessionExpiredError as exc:
            return [Unavailable("session_expired", str(exc)) for _ in posts]
        except XApiError as exc:
            return [Unavailable("error", str(exc)) for _ in posts]
        public = {str(p.get("id")): parse.public_counts(p) for p in lookup.get("data") or []}
        extra = {str(a.get("id")): parse.analytics_totals(a) for a in analytics.get("data") or []}
        problems = {parse.problem_id(e): e for e in lookup.get("errors") or [] if isinstance(e, dict)}
        results: list[Metrics | Unavailable] = []
        for tweet_id in ids:
            if tweet_id not in public:
                problem = problems.get(tweet_id) or {}
                detail = str(problem.get("detail") or "absent from GET /2/tweets")
                results.append(Unavailable(parse.problem_reason(problem) if problem else "error", detail))
                continue
            pub, an = public[tweet_id], extra.get(tweet_id, {})

            def pick(a: int | None, b: str, an: dict[str, int] = an) -> int | None:
                return a if a is not None else an.get(b)

            results.append(
                Metrics(
                    impressions=pick(pub.impressions, "impressions"),
                    likes=pick(pub.likes, "likes"),
                    retweets=pick(pub.retweets, "retweets"),
                    replies=pick(pub.replies, "replies"),
                    quotes=pick(pub.quotes, "quote_tweets"),
                    bookmarks=pick(pub.bookmarks, "bookmarks"),
                    profile_visits=an.get("user_profile_clicks"),
                    link_clicks=an.get("url_clicks"),
                    new_follows=an.get("follows"),
                    read_at=now,
                )
            )
        return results

    async def _me(self) -> dict[str, Any]:
        try:
            body = await self._read("me", "/2/users/me", {"user.fields": "public_metrics"}, 1)
        except _RateLimited as exc:
            raise RateLimitedError(str(exc)) from exc
        user = body.get("data")
        if not isinstance(user, dict) or not str(user.get("id", "")).isdigit():
            raise XApiError(f"GET /2/users/me answered without a user: {str(body)[:300]}")
        self._user_id = str(user["id"])
        return user

    async def read_follower_count(self) -> int:
        """The exact count from GET /2/users/me (not the profile's rounded '12.3K')."""
        count = parse.follower_count(await self._me())
        if count is None:
            raise XApiError("GET /2/users/me carried no public_metrics.followers_count")
        return count

    async def recent_posts(self, limit: int = 50) -> list[TimelinePost]:
        """The account's latest posts (GET /2/users/{id}/tweets), text with t.co links expanded."""
        user_id = self._user_id or str((await self._me())["id"])
        out: list[TimelinePost] = []
        token: str | None = None
        while len(out) < limit:
            params = {
                "max_results": str(min(100, max(5, limit - len(out)))),
                self.fields_param: "created_at,entities",
            }
            if token:
                params["pagination_token"] = token
            try:
                body = await self._read(
                    "timeline", f"/2/users/{user_id}/tweets", params, int(params["max_results"])
                )
            except _RateLimited as exc:
                raise RateLimitedError(str(exc)) from exc
            out += parse.timeline_posts(body.get("data") or [])
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                break
        return out[:limit]


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _reset_of(response: httpx.Response, now: float) -> float:
    """x-rate-limit-reset (unix seconds); a missing or odd header waits one minute."""
    raw = response.headers.get("x-rate-limit-reset", "")
    try:
        value = float(raw)
    except ValueError:
        return now + 60
    return value if math.isfinite(value) and value > 0 else now + 60

"""The sandbox's X API v2: the five operations the project uses and OAuth 2.0, from the same SandboxState as
the web pages (a post published through one is visible through the other).

Shapes follow X's spec (../shared/x-api/openapi-subset-2.167.json); a request that names its fields with the
older `tweet.fields` is answered with the older names (retweet_count, tweet_count, edit_history_tweet_ids) of
spec 2.166, since X's spec and docs disagree on which the live API sends. Every answer carries X's rate-limit
headers. Errors:
- 400 application/problem+json invalid-request; 403 duplicate post as the about:blank problem users report;
- 401 / 429 / 503 as application/json with RFC 7807 fields plus X's error `code`/`message` (the spec's
  `Error` schema); 429 carries x-rate-limit-reset (unix seconds).
Faults come from the admin mechanism: rate_limit_next → 429 (reset in 2 s), server_error_next → 503,
expire_sessions → 401.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import itertools
import json
import math
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from xbot_core.sandbox.api_auth import ApiAuth, OAuthError
from xbot_core.sandbox.api_shapes import (
    ANALYTICS_FIELDS,
    INJECTED_RESET_S,
    MAX_BUCKETS,
    MAX_IDS,
    POST_FIELDS,
    USER_FIELDS,
    ApiError,
    Generation,
    Op,
    RateLimits,
    accrued,
    analytics_values,
    bucket_edges,
    decode_token,
    encode_token,
    error_json,
    invalid,
    iso,
    not_found,
    problem,
    user_id,
    wrap_links,
)
from xbot_core.sandbox.state import Post, SandboxState, SandboxStateError


# ---- the router ----------------------------------------------------------------------------------------
def data_and_errors(data: list[Any], errors: list[Any]) -> dict[str, Any]:
    """X's partial-success body: `data` and `errors` each present only when non-empty."""
    body: dict[str, Any] = {}
    if data:
        body["data"] = data
    if errors:
        body["errors"] = errors
    return body


def build_api_router(state: SandboxState, auth: ApiAuth | None = None) -> APIRouter:
    """Routes under /2 (X API v2) and /i/oauth2/authorize; mounted by the sandbox app."""
    router = APIRouter(tags=["x-api-v2"])
    auth = auth or ApiAuth(state)
    limits = RateLimits()

    def generation(request: Request) -> Generation:
        return "2.166" if "tweet.fields" in request.query_params else "2.167"

    async def guard(request: Request, op: Op) -> tuple[str, dict[str, str]]:
        """Latency, then 401, injected faults, the rate limit; returns (handle, rate-limit headers)."""
        if state.latency_ms:
            await asyncio.sleep(state.latency_ms / 1000)
        handle = auth.user_of(request.method, str(request.url), dict(request.headers))
        if handle is None:
            raise ApiError(error_json(401, "Unauthorized", 32, "Could not authenticate you", {}))
        fault = state.take_fault()
        if fault == "rate_limited":  # an injected 429 resets soon, so tests and demos go on
            reset = math.ceil(time.time()) + INJECTED_RESET_S
            headers = {"x-rate-limit-limit": str(limits.limits[op]), "x-rate-limit-remaining": "0"}
            headers["x-rate-limit-reset"] = str(reset)
            raise ApiError(error_json(429, "Too Many Requests", 88, "Rate limit exceeded", headers))
        # X counts per user and app; here a credential stands for both, so a reset sandbox starts afresh
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        key = credential if scheme.lower() == "bearer" else f"oauth1:{handle}"
        allowed, headers = limits.take(hashlib.sha256(key.encode()).hexdigest()[:16], op, state.now())
        if not allowed:
            raise ApiError(error_json(429, "Too Many Requests", 88, "Rate limit exceeded", headers))
        if fault == "server_error":
            raise ApiError(error_json(503, "Service Unavailable", 130, "Over capacity", headers))
        return handle, headers

    def csv(request: Request, name: str, gen: Generation, headers: dict[str, str]) -> list[str]:
        raw = request.query_params.get(name)
        if raw is None:
            return []
        items = raw.split(",")
        if any(not i for i in items) or len(set(items)) != len(items):
            raise invalid(gen, name, f"The `{name}` query parameter value [{raw}] is not valid", headers)
        return items

    def fields(request: Request, gen: Generation, allowed: frozenset[str], name: str, h: dict[str, str]):
        got = csv(request, name, gen, h)
        unknown = [f for f in got if f not in allowed]
        if unknown:
            raise invalid(
                gen,
                name,
                f"The `{name}` query parameter value [{','.join(unknown)}] is not one of "
                f"[{','.join(sorted(allowed))}]",
                h,
            )
        return set(got)

    def ids_param(request: Request, gen: Generation, headers: dict[str, str]) -> list[str]:
        ids = csv(request, "ids", gen, headers)
        if not ids:
            raise invalid(gen, "ids", "The `ids` query parameter can not be empty", headers)
        if len(ids) > MAX_IDS:
            raise invalid(gen, "ids", f"The `ids` query parameter has {len(ids)} ids; at most 100", headers)
        bad = [i for i in ids if not re.fullmatch(r"[0-9]{1,19}", i)]
        if bad:
            raise invalid(gen, "ids", f"The `ids` value [{bad[0]}] does not match ^[0-9]{{1,19}}$", headers)
        return ids

    def post_view(post: Post, gen: Generation, wanted: set[str]) -> dict[str, Any]:
        text, urls = wrap_links(post.text, post.tweet_id)
        history = "edit_history_tweet_ids" if gen == "2.166" else "edit_history_post_ids"
        view: dict[str, Any] = {"id": post.tweet_id, "text": text, history: [post.tweet_id]}
        if "created_at" in wanted:
            view["created_at"] = iso(post.created)
        if "author_id" in wanted:
            view["author_id"] = user_id(post.handle)
        if "entities" in wanted and urls:
            view["entities"] = {"urls": urls}
        if "public_metrics" in wanted:
            m = state.metrics_at(post)
            view["public_metrics"] = {
                "impression_count": m["impressions"],
                "like_count": m["likes"],
                "retweet_count" if gen == "2.166" else "repost_count": m["retweets"],
                "reply_count": m["replies"],
                "quote_count": m["quotes"],
                "bookmark_count": m["bookmarks"],
            }
        return view

    def visible(handle: str, tweet_id: str) -> Post | None:
        post = state.post(tweet_id)
        if post is None or post.deleted:
            return None
        account = state.account(post.handle)
        if account is not None and account.protected and post.handle.lower() != handle.lower():
            return None
        return post

    def answer(route: Any) -> Any:
        """Turn an ApiError raised by a route into its response (FastAPI sees the route's signature)."""

        @functools.wraps(route)
        async def wrapped(*args: Any, **kw: Any) -> Response:
            try:
                return await route(*args, **kw)  # type: ignore[no-any-return]
            except ApiError as err:
                return err.response

        return wrapped

    # ---- posts -----------------------------------------------------------------------------------------
    @router.post("/2/tweets", status_code=201)
    @answer
    async def create_posts(request: Request) -> Response:
        """createPosts: publish as the token's user; 201 {data: {id, text}}."""
        handle, headers = await guard(request, "create")
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            raise invalid("2.167", "body", f"The request body is not JSON: {exc}", headers) from exc
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise invalid("2.167", "text", "The request body needs a string `text`", headers)
        extra = sorted(set(body) - {"text"})
        if extra:
            raise invalid("2.167", extra[0], f"The sandbox does not support `{extra[0]}`", headers)
        try:
            post = state.create_post(handle, body["text"])
        except SandboxStateError as exc:
            if "duplicate" in str(exc):
                duplicate = {
                    "detail": "You are not allowed to create a Tweet with duplicate content.",
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                }
                return problem(duplicate, 403, headers)
            raise invalid("2.167", "text", str(exc), headers) from exc
        text, _ = wrap_links(post.text, post.tweet_id)
        data = {"id": post.tweet_id, "text": text, "edit_history_post_ids": [post.tweet_id]}
        return JSONResponse({"data": data}, 201, headers=headers)

    @router.get("/2/tweets")
    @answer
    async def get_posts_by_ids(request: Request) -> Response:
        """getPostsByIds: posts with the requested fields; unknown or deleted ids as errors."""
        handle, headers = await guard(request, "lookup")
        gen = generation(request)
        wanted = fields(
            request, gen, POST_FIELDS, "tweet.fields" if gen == "2.166" else "post.fields", headers
        )
        data, errors = [], []
        for tweet_id in ids_param(request, gen, headers):
            post = visible(handle, tweet_id)
            if post is None:
                errors.append(not_found(gen, "post", tweet_id))
            else:
                data.append(post_view(post, gen, wanted))
        return JSONResponse(data_and_errors(data, errors), headers=headers)

    @router.get("/2/tweets/analytics")
    @answer
    async def get_posts_analytics(request: Request) -> Response:
        """getPostsAnalytics: per-post metrics (follows, profile and URL clicks...) in time buckets."""
        handle, headers = await guard(request, "analytics")
        gen = generation(request)
        ids = ids_param(request, gen, headers)
        window = []
        for name in ("start_time", "end_time"):
            raw = request.query_params.get(name)
            try:
                when = datetime.fromisoformat((raw or "").replace("Z", "+00:00"))
            except ValueError:
                when = None
            if when is None or when.tzinfo is None:
                raise invalid(
                    gen, name, f"The `{name}` query parameter value [{raw}] is not a UTC date-time", headers
                )
            window.append(when.astimezone(UTC))
        start, end = window
        if end <= start:
            raise invalid(gen, "end_time", "The `end_time` must be after the `start_time`", headers)
        granularity = request.query_params.get("granularity", "total")
        if granularity not in ("hourly", "daily", "weekly", "total"):
            raise invalid(
                gen, "granularity", f"The `granularity` value [{granularity}] is not valid", headers
            )
        wanted = fields(
            request, gen, frozenset({*ANALYTICS_FIELDS, "id", "timestamp"}), "analytics.fields", headers
        )
        metric_names = [f for f in ANALYTICS_FIELDS if not wanted or f in wanted]
        edges = bucket_edges(start, min(end, state.now()), granularity)
        if len(edges) > MAX_BUCKETS + 1:
            raise invalid(gen, "granularity", f"{len(edges) - 1} buckets; at most {MAX_BUCKETS}", headers)
        data, errors = [], []
        for tweet_id in ids:
            post = visible(handle, tweet_id)
            if post is None or post.handle.lower() != handle.lower():  # analytics only of your own posts
                errors.append(not_found(gen, "post", tweet_id))
                continue
            if state.analytics_hidden:  # the `hide_analytics` switch: X has no analytics for the post
                errors.append(not_found(gen, "post", tweet_id))
                continue
            buckets = []
            for lo, hi in itertools.pairwise(edges):
                a = analytics_values(accrued(state, post, lo))
                b = analytics_values(accrued(state, post, hi))
                buckets.append(
                    {
                        "timestamp": lo.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "metrics": {k: b[k] - a[k] for k in metric_names},
                    }
                )
            data.append({"id": tweet_id, "timestamped_metrics": buckets})
        return JSONResponse(data_and_errors(data, errors), headers=headers)

    # ---- users -----------------------------------------------------------------------------------------
    @router.get("/2/users/me")
    @answer
    async def get_users_me(request: Request) -> Response:
        """getUsersMe: the token's user; public_metrics.followers_count is exact."""
        handle, headers = await guard(request, "me")
        gen = generation(request)
        wanted = fields(request, gen, USER_FIELDS, "user.fields", headers)
        acc = state.account(handle)
        assert acc is not None  # a token is only issued for an existing account
        data: dict[str, Any] = {"id": user_id(acc.handle), "name": acc.name, "username": acc.handle}
        if "protected" in wanted:
            data["protected"] = acc.protected
        if "public_metrics" in wanted:
            data["public_metrics"] = {
                "followers_count": state.follower_count(acc.handle),
                "following_count": 0,
                "tweet_count" if gen == "2.166" else "post_count": len(
                    state.posts_of(acc.handle, limit=10**9)
                ),
                "listed_count": 0,
            }
        return JSONResponse({"data": data}, headers=headers)

    @router.get("/2/users/{uid}/tweets")
    @answer
    async def get_users_posts(uid: str, request: Request) -> Response:
        """getUsersPosts: a user's posts, newest first, paged with max_results / pagination_token."""
        handle, headers = await guard(request, "timeline")
        gen = generation(request)
        wanted = fields(
            request, gen, POST_FIELDS, "tweet.fields" if gen == "2.166" else "post.fields", headers
        )
        raw_max = request.query_params.get("max_results", "10")
        if not raw_max.isdigit() or not 5 <= int(raw_max) <= 100:
            raise invalid(
                gen, "max_results", f"The `max_results` value [{raw_max}] is not between 5 and 100", headers
            )
        token = request.query_params.get("pagination_token")
        offset = decode_token(token) if token is not None else 0
        if offset is None:
            raise invalid(gen, "pagination_token", f"The `pagination_token` [{token}] is not valid", headers)
        owner = next((h for h in (handle, state.default_handle) if user_id(h) == uid), None)
        if owner is None:
            return JSONResponse({"errors": [not_found(gen, "user", uid)]}, headers=headers)
        posts = [p for p in state.posts_of(owner, limit=10**9) if visible(handle, p.tweet_id)]
        page = posts[offset : offset + int(raw_max)]
        meta: dict[str, Any] = {"result_count": len(page)}
        body: dict[str, Any] = {}
        if page:
            body["data"] = [post_view(p, gen, wanted) for p in page]
            meta["newest_id"], meta["oldest_id"] = page[0].tweet_id, page[-1].tweet_id
        if offset + len(page) < len(posts):
            meta["next_token"] = encode_token(offset + len(page))
        body["meta"] = meta
        return JSONResponse(body, headers=headers)

    # ---- OAuth 2.0 -------------------------------------------------------------------------------------
    @router.get("/i/oauth2/authorize", include_in_schema=False)
    async def authorize(request: Request) -> Response:
        """The consent page: the sandbox consents at once for the logged-in (else the default) account."""
        viewer = state.session_handle(request.cookies.get("auth_token")) or state.default_handle
        params = dict(request.query_params)
        try:
            code = auth.authorize(viewer, params)
        except OAuthError as exc:
            return JSONResponse({"error": exc.error, "error_description": exc.description}, 400)
        query = urlencode({"state": params["state"], "code": code})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", 302)

    @router.post("/2/oauth2/token", include_in_schema=False)
    async def token(request: Request) -> Response:
        """RFC 6749 token endpoint (form body; client id in the form or as Basic auth)."""
        from urllib.parse import parse_qsl

        form = dict(parse_qsl((await request.body()).decode("utf-8")))
        basic = None
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                basic = base64.b64decode(value).decode("utf-8").partition(":")[0] or None
            except (ValueError, UnicodeDecodeError):
                basic = None
        try:
            body = auth.token(form, basic)
        except OAuthError as exc:
            status = 401 if exc.error == "invalid_client" else 400
            return JSONResponse({"error": exc.error, "error_description": exc.description}, status)
        return JSONResponse(body, headers={"cache-control": "no-store"})

    return router

"""The sandbox FastAPI app: the X look-alike at /, admin at /admin, the OpenAI-compatible endpoint at /v1.

Pages are server-rendered with jinja2 and use X's own markup hooks where X has them (see README.md).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from xbot_core.sandbox.admin import build_admin_router, install_admin_guard
from xbot_core.sandbox.api_v2 import build_api_router
from xbot_core.sandbox.config import SandboxConfig
from xbot_core.sandbox.display import format_x_count, format_x_label
from xbot_core.sandbox.llm_endpoint import build_llm_router
from xbot_core.sandbox.rich_text import x_text
from xbot_core.sandbox.state import Post, SandboxState, SandboxStateError
from xbot_core.sandbox.token import new_admin_token

CREATE_TWEET_QUERY_ID = "SbxCreateTweetQ9v2K7hLm"
LOGIN_PATH = "/i/flow/login"
_NOT_SITE = ("/admin", "/v1", "/favicon.ico", "/2/")  # /2/: the API applies its own faults
_LABELS = {
    "replies": ("Reply", "Replies"),
    "retweets": ("repost", "reposts"),
    "likes": ("Like", "Likes"),
    "bookmarks": ("Bookmark", "Bookmarks"),
    "views": ("view", "views"),
}
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
)
_templates.filters["x_text"] = x_text


def _render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(template).render(**context), status_code=status)


def x_created_at(when: datetime) -> str:
    """X's legacy created_at format: 'Mon Jan 05 06:00:00 +0000 2026'."""
    return when.astimezone(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def _post_view(post: Post) -> dict[str, Any]:
    created = post.created.astimezone(UTC)
    return {
        "tweet_id": post.tweet_id,
        "handle": post.handle,
        "text": post.text,
        "created_at_z": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "created_label": created.strftime("%-I:%M %p · %b %-d, %Y"),
    }


def _metric_view(m: dict[str, int]) -> dict[str, Any]:
    """Counts as X shows them; a zero shows no number at all (X's bare "Like" label and empty span)."""
    counts = {**m, "views": m["impressions"]}
    labels = {k: format_x_label(counts[k], *names) if counts[k] else "" for k, names in _LABELS.items()}
    return {
        "shown": {k: format_x_count(v) for k, v in counts.items()},
        "button": {k: format_x_count(counts[k]) if counts[k] else "" for k in _LABELS},
        "labels": labels,
        "group_label": ", ".join(
            labels[k] for k in ("replies", "retweets", "likes", "bookmarks", "views") if labels[k]
        ),
    }


def create_app(
    config: SandboxConfig | None = None,
    *,
    seed: int = 7,
    state_dir: Path | None = None,
    admin_token: str | None = None,
) -> FastAPI:
    """Build the sandbox app around a fresh (or restored, with state_dir) SandboxState. Every /admin request
    needs `admin_token` (a fresh random one when None; read it back from app.state.admin_token)."""
    state = SandboxState(config or SandboxConfig(), seed=seed, state_dir=state_dir)
    app = FastAPI(title="xbot sandbox", docs_url="/admin/docs", openapi_url="/admin/openapi.json")
    app.state.sandbox = state
    app.state.admin_token = admin_token or new_admin_token()
    install_admin_guard(app, app.state.admin_token)
    # Routers first: the site's catch-all /{handle} routes must not shadow them.
    app.include_router(build_admin_router(state))
    app.include_router(build_llm_router(state))
    app.include_router(build_api_router(state))

    @app.middleware("http")
    async def site_faults(request: Request, call_next: Any) -> Response:
        """Page latency and injected 429/500 apply to the X site only, never to admin or /v1."""
        if request.url.path.startswith(_NOT_SITE):
            return await call_next(request)
        if state.latency_ms:
            await asyncio.sleep(state.latency_ms / 1000)
        fault = state.take_fault()
        api = request.url.path.startswith("/i/api/")
        if fault == "rate_limited":
            if api:
                return JSONResponse({"errors": [{"code": 88, "message": "Rate limit exceeded."}]}, 429)
            return _render("unavailable.html", 429, kind="rate_limited", viewer=None)
        if fault == "server_error":
            if api:
                return JSONResponse({"errors": [{"code": 131, "message": "Internal error."}]}, 500)
            return _render("unavailable.html", 500, kind="server_error", viewer=None)
        return await call_next(request)

    def viewer_of(request: Request) -> str | None:
        return state.session_handle(request.cookies.get("auth_token"))

    def to_login(request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{LOGIN_PATH}?redirect_after_login={quote(target, safe='')}", 302)

    @app.get("/", include_in_schema=False)
    async def root(request: Request) -> Response:
        return RedirectResponse("/home" if viewer_of(request) else LOGIN_PATH, 302)

    @app.get(LOGIN_PATH, response_class=HTMLResponse)
    async def login_page(redirect_after_login: str = "/home") -> HTMLResponse:
        return _render("login.html", viewer=None, error=None, redirect_after_login=redirect_after_login)

    @app.post(LOGIN_PATH)
    async def login_submit(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8"))
        handle = (form.get("text") or [""])[0].strip().lstrip("@")
        target = (form.get("redirect_after_login") or ["/home"])[0]
        if not target.startswith("/") or target.startswith("//"):
            target = "/home"
        try:
            auth_token, ct0 = state.login(handle)
        except SandboxStateError as exc:
            return _render("login.html", 400, viewer=None, error=str(exc), redirect_after_login=target)
        resp = RedirectResponse(target, 302)
        resp.set_cookie("auth_token", auth_token, httponly=True, samesite="lax", path="/")
        resp.set_cookie("ct0", ct0, samesite="lax", path="/")
        return resp

    @app.get("/home", response_class=HTMLResponse)
    @app.get("/compose/post", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        viewer = viewer_of(request)
        if viewer is None:
            return to_login(request)
        return _render("home.html", viewer=viewer, query_id=CREATE_TWEET_QUERY_ID)

    @app.post("/i/api/graphql/{query_id}/CreateTweet")
    async def create_tweet(query_id: str, request: Request) -> JSONResponse:
        auth_token = request.cookies.get("auth_token")
        viewer = state.session_handle(auth_token)
        if viewer is None or auth_token is None:
            return JSONResponse({"errors": [{"code": 32, "message": "Could not authenticate you."}]}, 401)
        if request.headers.get("x-csrf-token") != state.session_ct0(auth_token):
            return JSONResponse(
                {
                    "errors": [
                        {"code": 353, "message": "This request requires a matching csrf cookie and header."}
                    ]
                },
                403,
            )
        try:
            body = json.loads(await request.body())
            text = body["variables"]["tweet_text"]
            if not isinstance(text, str):
                raise TypeError("tweet_text must be a string")
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"errors": [{"code": 214, "message": f"Bad request: {exc}"}]}, 400)
        refusal = state.take_post_refusal()
        if refusal is not None:  # X sends these with HTTP 200, like the duplicate error
            code, message = refusal
            return JSONResponse({"errors": [{"code": code, "message": message}]}, 200)
        try:
            post = state.create_post(viewer, text)
        except SandboxStateError as exc:
            code = 187 if "duplicate" in str(exc) else 186
            return JSONResponse({"errors": [{"code": code, "message": str(exc)}]}, 200)
        result = {
            "rest_id": post.tweet_id,
            "core": {"user_results": {"result": {"legacy": {"screen_name": post.handle}}}},
            "legacy": {
                "full_text": post.text,
                "created_at": x_created_at(post.created),
                "id_str": post.tweet_id,
            },
        }
        return JSONResponse({"data": {"create_tweet": {"tweet_results": {"result": result}}}})

    def visible_post(request: Request, handle: str, tweet_id: str) -> Post | Response:
        viewer = viewer_of(request)
        if viewer is None:
            return to_login(request)
        post = state.post(tweet_id) if tweet_id.isdigit() else None
        if post is None or post.handle.lower() != handle.lower():
            return _render("unavailable.html", 404, kind="not_found", viewer=viewer)
        if post.deleted:
            return _render("unavailable.html", 200, kind="deleted", viewer=viewer)
        account = state.account(post.handle)
        if account is not None and account.protected:
            return _render("unavailable.html", 200, kind="protected", viewer=viewer, handle=post.handle)
        return post

    @app.get("/{handle}/status/{tweet_id}", response_class=HTMLResponse)
    async def post_page(handle: str, tweet_id: str, request: Request) -> Response:
        post = visible_post(request, handle, tweet_id)
        if isinstance(post, Response):
            return post
        acc = state.account(post.handle)
        return _render(
            "post.html",
            viewer=viewer_of(request),
            post=_post_view(post),
            name=acc.name if acc else post.handle,
            m=_metric_view(state.metrics_at(post)),
        )

    @app.get("/{handle}/status/{tweet_id}/analytics", response_class=HTMLResponse)
    async def analytics_page(handle: str, tweet_id: str, request: Request) -> Response:
        post = visible_post(request, handle, tweet_id)
        if isinstance(post, Response):
            return post
        from xbot_core.sandbox.activity import ACTIVITY_QUERY_ID

        now = state.now().astimezone(UTC)
        created = post.created.astimezone(UTC)
        return _render(
            "analytics.html",
            viewer=viewer_of(request),
            post=_post_view(post),
            query_id=ACTIVITY_QUERY_ID,
            from_time=created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            to_time=now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            first_48_hours_time=(created + timedelta(hours=48)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        )

    @app.get("/{handle}", response_class=HTMLResponse)
    async def profile_page(handle: str, request: Request) -> Response:
        viewer = viewer_of(request)
        if viewer is None:
            return to_login(request)
        acc = state.account(handle)
        if acc is None:
            return _render("unavailable.html", 404, kind="not_found", viewer=viewer)
        posts = [_post_view(p) for p in state.posts_of(acc.handle, limit=100)]
        return _render(
            "profile.html",
            viewer=viewer,
            account=acc,
            posts=posts,
            name=acc.name,
            following=0,
            followers_shown=format_x_count(state.follower_count(acc.handle)),
        )

    from xbot_core.sandbox.activity import build_activity_router

    # per-post analytics (GraphQL): a 5-segment path no site route above can shadow
    app.include_router(build_activity_router(state))
    return app

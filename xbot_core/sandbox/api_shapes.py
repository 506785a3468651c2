"""Shapes, errors and rate limits of the sandbox's X API v2 (api_v2.py): what X's spec and docs say the
answers look like (../shared/x-api), as small functions the router composes."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi.responses import JSONResponse, Response

from xbot_core.domain.metrics import ENGAGEMENT_COUNTS
from xbot_core.sandbox.state import Post, SandboxState

Generation = Literal["2.166", "2.167"]
Op = Literal["create", "lookup", "analytics", "me", "timeline"]

WINDOW_S = 15 * 60
# Per-user limits per 15 minutes (X docs, ../shared/x-api/README.md); post lookup is not listed there and
# takes the timeline's limit.
RATE_LIMITS: dict[Op, int] = {"create": 100, "analytics": 300, "me": 75, "timeline": 900, "lookup": 900}
MAX_IDS = 100
INJECTED_RESET_S = 2
URL_RE = re.compile(r"https?://\S+")
TCO_LENGTH = 10
ANALYTICS_FIELDS = (
    "impressions",
    "engagements",
    "follows",
    "user_profile_clicks",
    "url_clicks",
    "bookmarks",
    "likes",
    "retweets",
    "replies",
    "quote_tweets",
)
POST_FIELDS = frozenset({"id", "text", "created_at", "public_metrics", "entities", "author_id"})
USER_FIELDS = frozenset({"id", "name", "username", "created_at", "protected", "public_metrics"})
BUCKETS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
MAX_BUCKETS = 1000


class ApiError(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


# ---- shapes --------------------------------------------------------------------------------------------
def user_id(handle: str) -> str:
    """A stable numeric user id for a sandbox handle (X ids are digit strings)."""
    return str(int(hashlib.sha256(handle.lower().encode("utf-8")).hexdigest()[:14], 16))


def tco(url: str, tweet_id: str) -> str:
    """X wraps every link in a post as a t.co link; the sandbox's is derived from the url and the post."""
    digest = hashlib.sha256(f"{tweet_id}:{url}".encode()).digest()
    return "https://t.co/" + base64.b32encode(digest).decode("ascii").lower()[:TCO_LENGTH]


def wrap_links(text: str, tweet_id: str) -> tuple[str, list[dict[str, Any]]]:
    """The text as the API shows it (links as t.co) and its entities.urls (code-point indices)."""
    out, urls, pos = [], [], 0
    for match in URL_RE.finditer(text):
        out.append(text[pos : match.start()])
        short = tco(match.group(), tweet_id)
        start = sum(len(s) for s in out)
        out.append(short)
        display = re.sub(r"^https?://(www\.)?", "", match.group())
        urls.append(
            {
                "start": start,
                "end": start + len(short),
                "url": short,
                "expanded_url": match.group(),
                "display_url": display if len(display) <= 26 else display[:25] + "…",
            }
        )
        pos = match.end()
    out.append(text[pos:])
    return "".join(out), urls


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def engagements(m: dict[str, int]) -> int:
    """Engagements as the sandbox's analytics page counts them."""
    return sum(m[k] for k in ENGAGEMENT_COUNTS)


def analytics_values(m: dict[str, int]) -> dict[str, int]:
    return {
        "impressions": m["impressions"],
        "engagements": engagements(m),
        "follows": m["new_follows"],
        "user_profile_clicks": m["profile_visits"],
        "url_clicks": m["link_clicks"],
        "bookmarks": m["bookmarks"],
        "likes": m["likes"],
        "retweets": m["retweets"],
        "replies": m["replies"],
        "quote_tweets": m["quotes"],
    }


def error_json(status: int, title: str, code: int, message: str, headers: dict[str, str]) -> JSONResponse:
    body = {"title": title, "detail": title, "type": "about:blank", "status": status}
    return JSONResponse({**body, "code": code, "message": message}, status, headers=headers)


def problem(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status, headers=headers, media_type="application/problem+json")


def problem_base(gen: Generation) -> str:
    return "https://api.twitter.com/2/problems/" if gen == "2.166" else "https://api.x.com/2/problems/"


def invalid(gen: Generation, parameter: str, message: str, headers: dict[str, str]) -> ApiError:
    body = {
        "errors": [{"parameters": {parameter: []}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": problem_base(gen) + "invalid-request",
    }
    return ApiError(problem(body, 400, headers))


def not_found(gen: Generation, resource: str, value: str) -> dict[str, Any]:
    kind = "tweet" if gen == "2.166" and resource == "post" else resource
    return {
        "value": value,
        "detail": f"Could not find {kind} with {'ids' if resource == 'post' else 'id'}: [{value}].",
        "title": "Not Found Error",
        "resource_type": kind,
        "parameter": "ids" if resource == "post" else "id",
        "resource_id": value,
        "type": problem_base(gen) + "resource-not-found",
    }


# ---- rate limits ---------------------------------------------------------------------------------------
@dataclass
class _Window:
    start: float  # real unix seconds
    virtual_start: datetime
    used: int = 0


class RateLimits:
    """Fixed 15-minute windows per (credential, operation). A window ends after 15 real minutes (X's
    x-rate-limit-reset, unix seconds) or 15 minutes of the sandbox's virtual clock, whichever comes first:
    a demo moving virtual days in real minutes is limited per virtual quarter hour, as X would limit it."""

    def __init__(self, limits: dict[Op, int] | None = None) -> None:
        self.limits = dict(limits or RATE_LIMITS)
        self._windows: dict[tuple[str, Op], _Window] = {}
        self._lock = threading.Lock()

    def take(self, user: str, op: Op, virtual_now: datetime) -> tuple[bool, dict[str, str]]:
        """Count one call if the window allows it: (allowed, rate-limit headers)."""
        now = time.time()
        limit = self.limits[op]
        with self._lock:
            w = self._windows.get((user, op))
            if (
                w is None
                or now >= w.start + WINDOW_S
                or virtual_now >= w.virtual_start + timedelta(seconds=WINDOW_S)
                or virtual_now < w.virtual_start  # the clock was set back (a reset sandbox)
            ):
                w = self._windows[(user, op)] = _Window(now, virtual_now)
            allowed = w.used < limit
            if allowed:
                w.used += 1
            headers = {
                "x-rate-limit-limit": str(limit),
                "x-rate-limit-remaining": str(max(0, limit - w.used)),
                "x-rate-limit-reset": str(math.ceil(w.start + WINDOW_S)),
            }
        return allowed, headers


def accrued(state: SandboxState, post: Post, at: datetime) -> dict[str, int]:
    if at <= post.created:
        return {k: 0 for k in state.metrics_at(post, post.created)}
    return state.metrics_at(post, at)


def bucket_edges(start: datetime, end: datetime, granularity: str) -> list[datetime]:
    """Bucket boundaries from start to end: [start, end] for total, else aligned steps clipped to both."""
    if end <= start:
        return [start, start]
    if granularity == "total":
        return [start, end]
    step = BUCKETS[granularity]
    floor = start.replace(minute=0, second=0, microsecond=0)
    if granularity != "hourly":
        floor = floor.replace(hour=0)
    if granularity == "weekly":
        floor -= timedelta(days=floor.weekday())
    edges = [start]
    edge = floor + step
    while edge < end:
        edges.append(edge)
        edge += step
    edges.append(end)
    return edges


def encode_token(offset: int) -> str:
    return base64.b32hexencode(f"o{offset}".encode()).decode("ascii").rstrip("=").lower()


def decode_token(token: str) -> int | None:
    try:
        raw = base64.b32hexdecode(token.upper() + "=" * (-len(token) % 8)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    return int(raw[1:]) if raw.startswith("o") and raw[1:].isdigit() else None

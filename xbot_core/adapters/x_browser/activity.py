"""Per-post analytics from X's GraphQL `TweetActivityQuery` response (what the post's analytics page loads).

On x.com, follows, profile visits and link clicks per post exist only in this JSON, never in stable markup.
Shape (public scrapers and X's web bundle agree): `data.tweet_result_by_rest_id.result` (a `Tweet`, or a
`TweetWithVisibilityResults` wrapping it under `tweet`) holds `datapoints_grid`, a list of
`{"metric_type": "Follows", "metric_value": 3}` totals for the `requested_organic_metrics` of the request.
X leaves zero-valued metrics out of a non-empty grid (its own client reads an absent one as 0), so a requested
metric absent from a non-empty grid is 0; an empty or absent grid means X sent no analytics: every value None.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlparse

from xbot_core.errors import ParseError

OPERATION = "TweetActivityQuery"
# metric_type in X's response -> our field
METRIC_FIELDS: Mapping[str, str] = {
    "Impressions": "impressions",
    "Engagements": "engagements",
    "Follows": "new_follows",
    "ProfileVisits": "profile_visits",
    "LinkClicks": "link_clicks",
}


def is_activity_url(url: str, tweet_id: str | None = None) -> bool:
    """A GET of .../graphql/<id>/TweetActivityQuery (for `tweet_id`'s restId when given)."""
    parsed = urlparse(url)
    if not parsed.path.endswith("/" + OPERATION):
        return False
    return tweet_id is None or str(request_variables(url).get("restId")) == tweet_id


def request_variables(url: str) -> dict[str, Any]:
    """The `variables` JSON of a GraphQL GET; {} when absent or not JSON."""
    raw = parse_qs(urlparse(url).query).get("variables", [""])[0]
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _number(metric: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ParseError(f"{OPERATION} {metric} is not a number", repr(value))
    try:
        number = float(value)
    except ValueError as exc:
        raise ParseError(f"{OPERATION} {metric} is not a number", str(value)) from exc
    if number < 0 or number != int(number):
        raise ParseError(f"{OPERATION} {metric} is not a count", str(value))
    return int(number)


def parse_activity(body: Mapping[str, Any], requested: Sequence[str]) -> dict[str, int | None]:
    """Our fields from a TweetActivityQuery body: value, 0 (requested, absent from a non-empty grid), None."""
    result = ((body.get("data") or {}).get("tweet_result_by_rest_id") or {}).get("result") or {}
    tweet = result.get("tweet") or result
    grid = tweet.get("datapoints_grid") or []
    if not isinstance(grid, list):
        raise ParseError(f"{OPERATION} datapoints_grid is not a list", repr(grid)[:200])
    shown: dict[str, int] = {}
    for item in grid:
        metric = item.get("metric_type") if isinstance(item, dict) else None
        if isinstance(metric, str) and metric in METRIC_FIELDS:
            shown[metric] = _number(metric, item.get("metric_value"))
    out: dict[str, int | None] = {}
    for metric, name in METRIC_FIELDS.items():
        if metric in shown:
            out[name] = shown[metric]
        elif grid and metric in requested:
            out[name] = 0
        else:
            out[name] = None
    return out

"""The sandbox's `TweetActivityQuery`: per-post analytics as X's web client receives them (GraphQL JSON).

The analytics page (templates/analytics.html) loads its numbers from here, as x.com's page does. Only the
post's author sees metrics. Zero values are left out of `datapoints_grid` (as X sends them) except
Impressions, so a shown grid is never empty (X's client reads an empty grid as "no organic metrics received
from the backend"); the admin switch `hide_analytics` answers with exactly that empty grid.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from xbot_core.sandbox.api_shapes import engagements
from xbot_core.sandbox.state import SandboxState

ACTIVITY_QUERY_ID = "SbxTweetActivityQ3xR8pW"
# X's metric_type -> the sandbox's metric (Engagements is derived, as on X: every counted interaction)
METRIC_TYPES: dict[str, str] = {
    "Impressions": "impressions",
    "Engagements": "engagements",
    "Follows": "new_follows",
    "ProfileVisits": "profile_visits",
    "LinkClicks": "link_clicks",
}


def with_engagements(m: dict[str, int]) -> dict[str, int]:
    return {**m, "engagements": engagements(m)}


def activity_body(tweet_id: str, metrics: dict[str, int] | None, requested: list[str]) -> dict[str, Any]:
    """X's response shape; `metrics` None gives an empty grid. Zeros but Impressions are omitted (sparse)."""
    grid: list[dict[str, Any]] = []
    if metrics is not None:
        values = with_engagements(metrics)
        grid = [
            {"metric_type": t, "metric_value": values[METRIC_TYPES[t]]}
            for t in requested
            if t in METRIC_TYPES and (values[METRIC_TYPES[t]] != 0 or t == "Impressions")
        ]
    promo: list[dict[str, Any]] = []
    if metrics is not None:
        promo = [{"metric_type": "Impressions", "metric_value": metrics["impressions"]}]
    result = {"__typename": "Tweet", "datapoints_grid": grid, "promotion_info": promo, "id": tweet_id}
    return {"data": {"tweet_result_by_rest_id": {"result": result}}}


def build_activity_router(state: SandboxState) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/i/api/graphql/{query_id}/TweetActivityQuery")
    async def tweet_activity(query_id: str, request: Request) -> JSONResponse:
        auth_token = request.cookies.get("auth_token")
        viewer = state.session_handle(auth_token)
        if viewer is None or auth_token is None:
            return JSONResponse({"errors": [{"code": 32, "message": "Could not authenticate you."}]}, 401)
        if request.headers.get("x-csrf-token") != state.session_ct0(auth_token):
            return JSONResponse({"errors": [{"code": 353, "message": "csrf token mismatch"}]}, 403)
        try:
            variables = json.loads(request.query_params.get("variables") or "")
            tweet_id = str(variables["restId"])
            requested = [str(x) for x in variables.get("requested_organic_metrics") or []]
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"errors": [{"code": 214, "message": f"Bad request: {exc}"}]}, 400)
        post = state.post(tweet_id)
        if post is None or post.deleted:
            gone = {"__typename": "TweetUnavailable"}
            return JSONResponse({"data": {"tweet_result_by_rest_id": {"result": gone}}})
        mine = post.handle.lower() == viewer.lower()
        shown = state.metrics_at(post) if mine and not state.analytics_hidden else None
        return JSONResponse(activity_body(tweet_id, shown, requested))

    return router

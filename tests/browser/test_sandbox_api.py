"""The sandbox's X API over real HTTP: every answer, success and error, validated against X's own OpenAPI
spec (../shared/x-api) with openapi-core; the same state as the web pages; OAuth 2.0 PKCE; faults."""

from __future__ import annotations

import time

import httpx
import pytest
from openapi_core.validation.response.exceptions import DataValidationError

from tests.browser.test_sandbox_http import create, logged_in
from tests.plugins.sandbox import SandboxAdmin
from tests.plugins.x_api import REDIRECT_URI, oauth2_token, validate_exchange
from xbot_core.adapters.x_api import DEFAULT_CLIENT_ID
from xbot_core.sandbox.api_auth import (
    OAUTH1_ACCESS_TOKEN,
    OAUTH1_ACCESS_TOKEN_SECRET,
    OAUTH1_CONSUMER_KEY,
    OAUTH1_CONSUMER_SECRET,
)
from xbot_core.sandbox.api_v2 import user_id

LINK_TEXT = "Read the write-up: https://example.com/notes/small-batches-beat-big-launches today"


def api(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=10, headers={"authorization": f"Bearer {token}"})


def test_every_operation_answers_in_the_spec_shape(sandbox_admin: SandboxAdmin, api_token: str) -> None:
    http = api(sandbox_admin.url, api_token)
    created = http.post("/2/tweets", json={"text": LINK_TEXT})
    assert created.status_code == 201
    validate_exchange(created)
    tweet_id = created.json()["data"]["id"]
    assert created.json()["data"]["text"].startswith("Read the write-up: https://t.co/")
    sandbox_admin.advance(3 * 3600)
    truth = sandbox_admin.post_truth(tweet_id)["accrued"]
    lookup = http.get(
        "/2/tweets", params={"ids": f"{tweet_id},42", "post.fields": "created_at,public_metrics,entities"}
    )
    validate_exchange(lookup)
    post = lookup.json()["data"][0]
    assert post["public_metrics"] == {
        "impression_count": truth["impressions"],
        "like_count": truth["likes"],
        "repost_count": truth["retweets"],
        "reply_count": truth["replies"],
        "quote_count": truth["quotes"],
        "bookmark_count": truth["bookmarks"],
    }
    url = post["entities"]["urls"][0]
    assert post["text"][url["start"] : url["end"]] == url["url"]
    assert url["expanded_url"] == "https://example.com/notes/small-batches-beat-big-launches"
    assert lookup.json()["errors"][0]["resource_id"] == "42"
    analytics = http.get(
        "/2/tweets/analytics",
        params={
            "ids": tweet_id,
            "start_time": "2026-01-01T00:00:00Z",
            "end_time": "2027-01-01T00:00:00Z",
            "granularity": "total",
            "analytics.fields": "follows,user_profile_clicks,url_clicks,impressions,engagements",
        },
    )
    validate_exchange(analytics)
    metrics = analytics.json()["data"][0]["timestamped_metrics"][0]["metrics"]
    assert metrics["follows"] == truth["new_follows"]
    assert metrics["user_profile_clicks"] == truth["profile_visits"]
    assert metrics["url_clicks"] == truth["link_clicks"]
    assert metrics["impressions"] == truth["impressions"]
    hourly = http.get(
        "/2/tweets/analytics",
        params={
            "ids": tweet_id,
            "start_time": "2026-01-05T00:00:00Z",
            "end_time": "2026-01-06T00:00:00Z",
            "granularity": "hourly",
        },
    )
    validate_exchange(hourly)
    buckets = hourly.json()["data"][0]["timestamped_metrics"]
    assert sum(b["metrics"]["impressions"] for b in buckets) == truth["impressions"]
    me = http.get("/2/users/me", params={"user.fields": "public_metrics"})
    validate_exchange(me)
    assert (
        me.json()["data"]["public_metrics"]["followers_count"]
        == (sandbox_admin.ground_truth()["followers"]["xbot_demo"])
    )
    timeline = http.get(
        f"/2/users/{me.json()['data']['id']}/tweets",
        params={"max_results": 5, "post.fields": "created_at,entities"},
    )
    validate_exchange(timeline)
    assert [p["id"] for p in timeline.json()["data"]] == [tweet_id]
    for response in (created, lookup, analytics, me, timeline):
        assert int(response.headers["x-rate-limit-remaining"]) < int(response.headers["x-rate-limit-limit"])
        assert int(response.headers["x-rate-limit-reset"]) > time.time()


def test_the_older_field_names_are_answered_in_the_older_spec(
    sandbox_admin: SandboxAdmin, api_token: str
) -> None:
    http = api(sandbox_admin.url, api_token)
    tweet_id = http.post("/2/tweets", json={"text": "Older names, same post."}).json()["data"]["id"]
    lookup = http.get("/2/tweets", params={"ids": tweet_id, "tweet.fields": "public_metrics"})
    validate_exchange(lookup, "2.166")
    assert "retweet_count" in lookup.json()["data"][0]["public_metrics"]
    with pytest.raises(DataValidationError):
        validate_exchange(lookup, "2.167")  # repost_count is required there: the two really differ
    me = http.get("/2/users/me", params={"user.fields": "public_metrics", "tweet.fields": "id"})
    validate_exchange(me, "2.166")
    assert me.json()["data"]["public_metrics"]["tweet_count"] == 1


def test_a_post_made_on_the_site_is_seen_by_the_api_and_vice_versa(
    sandbox_admin: SandboxAdmin, api_token: str
) -> None:
    site = logged_in(sandbox_admin.url)
    web_id = create(site, "Made on the web page.").json()["data"]["create_tweet"]["tweet_results"]["result"][
        "rest_id"
    ]
    http = api(sandbox_admin.url, api_token)
    api_id = http.post("/2/tweets", json={"text": "Made through the API."}).json()["data"]["id"]
    timeline = http.get(f"/2/users/{user_id('xbot_demo')}/tweets", params={"post.fields": "created_at"})
    assert [p["id"] for p in timeline.json()["data"]] == [api_id, web_id]
    assert site.get(f"/xbot_demo/status/{api_id}").status_code == 200
    assert "Made through the API." in site.get("/xbot_demo").text


def test_errors_fit_the_spec(sandbox_admin: SandboxAdmin, api_token: str) -> None:
    http = api(sandbox_admin.url, api_token)
    http.post("/2/tweets", json={"text": "Said once."})
    duplicate = http.post("/2/tweets", json={"text": "Said  once."})
    assert duplicate.status_code == 403
    assert duplicate.headers["content-type"] == "application/problem+json"
    assert duplicate.json()["detail"] == "You are not allowed to create a Tweet with duplicate content."
    validate_exchange(duplicate, "2.166")
    with pytest.raises(DataValidationError):  # about:blank is no problem type of 2.167
        validate_exchange(duplicate, "2.167")
    for bad in (
        http.get("/2/tweets", params={"ids": "not-a-number"}),
        http.get("/2/tweets", params={"ids": ",".join(str(i) for i in range(1, 102))}),
        http.get("/2/tweets", params={"ids": "1", "post.fields": "nonsense"}),
        http.get("/2/tweets/analytics", params={"ids": "1", "start_time": "yesterday", "end_time": "x"}),
        http.get(f"/2/users/{user_id('xbot_demo')}/tweets", params={"max_results": 500}),
        http.post("/2/tweets", json={"text": "x" * 281}),
        http.post("/2/tweets", json={"txt": "typo"}),
    ):
        assert bad.status_code == 400, bad.text
        assert bad.json()["type"] == "https://api.x.com/2/problems/invalid-request"
        validate_exchange(bad)
    anonymous = httpx.get(f"{sandbox_admin.url}/2/users/me", timeout=10)
    assert anonymous.status_code == 401
    validate_exchange(anonymous)
    sandbox_admin.faults(rate_limit_next=1, server_error_next=1)
    limited = http.get("/2/users/me")
    assert limited.status_code == 429 and limited.headers["x-rate-limit-remaining"] == "0"
    assert 0 < int(limited.headers["x-rate-limit-reset"]) - time.time() <= 3
    validate_exchange(limited)
    unavailable = http.get("/2/users/me")
    assert unavailable.status_code == 503
    validate_exchange(unavailable)
    assert http.get("/2/users/me").status_code == 200
    sandbox_admin.faults(expire_sessions=True)
    expired = http.get("/2/users/me")
    assert expired.status_code == 401
    validate_exchange(expired)


def test_the_rate_limit_window_runs_out(sandbox_admin: SandboxAdmin, api_token: str) -> None:
    http = api(sandbox_admin.url, api_token)
    statuses = [http.get("/2/users/me").status_code for _ in range(76)]
    assert statuses == [200] * 75 + [429]  # X: 75 requests per 15 minutes for /2/users/me
    sandbox_admin.advance(15 * 60)  # a quarter hour of the sandbox's time opens the next window
    assert http.get("/2/users/me").headers["x-rate-limit-remaining"] == "74"


def test_pkce_token_refresh_and_refusals(sandbox_admin: SandboxAdmin) -> None:
    token = oauth2_token(sandbox_admin.url)
    assert token["token_type"] == "bearer" and token["expires_in"] == 7200
    assert set(str(token["scope"]).split()) == {"tweet.read", "tweet.write", "users.read", "offline.access"}
    http = httpx.Client(base_url=sandbox_admin.url, timeout=10)
    refreshed = http.post(
        "/2/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": DEFAULT_CLIENT_ID,
        },
    )
    assert refreshed.status_code == 200 and refreshed.json()["access_token"] != token["access_token"]
    reused = http.post(
        "/2/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": DEFAULT_CLIENT_ID,
        },
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    wrong_verifier = http.get(
        "/i/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": "c",
            "redirect_uri": REDIRECT_URI,
            "scope": "tweet.read",
            "state": "s",
            "code_challenge": "abc",
            "code_challenge_method": "S256",
        },
    )
    code = httpx.URL(wrong_verifier.headers["location"]).params["code"]
    refused = http.post(
        "/2/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": "not-the-one",
            "client_id": "c",
        },
    )
    assert refused.status_code == 400 and "code_verifier" in refused.json()["error_description"]
    no_scope = http.get("/i/oauth2/authorize", params={"response_type": "code", "client_id": "c"})
    assert no_scope.status_code == 400 and no_scope.json()["error"] == "invalid_request"


def test_oauth1_user_keys_sign_requests(sandbox_admin: SandboxAdmin) -> None:
    from oauthlib.oauth1 import Client

    signer = Client(
        OAUTH1_CONSUMER_KEY,
        client_secret=OAUTH1_CONSUMER_SECRET,
        resource_owner_key=OAUTH1_ACCESS_TOKEN,
        resource_owner_secret=OAUTH1_ACCESS_TOKEN_SECRET,
    )
    url = f"{sandbox_admin.url}/2/users/me?user.fields=public_metrics"
    _, headers, _ = signer.sign(url, "GET")
    ok = httpx.get(url, headers=headers, timeout=10)
    assert ok.status_code == 200 and ok.json()["data"]["username"] == "xbot_demo"
    _, forged, _ = Client(
        OAUTH1_CONSUMER_KEY,
        client_secret="wrong",
        resource_owner_key=OAUTH1_ACCESS_TOKEN,
        resource_owner_secret=OAUTH1_ACCESS_TOKEN_SECRET,
    ).sign(url, "GET")
    assert httpx.get(url, headers=forged, timeout=10).status_code == 401


@pytest.mark.parametrize(("fields", "version"), [("post.fields", "2.167"), ("tweet.fields", "2.166")])
def test_edge_answers_fit_the_spec(
    sandbox_admin: SandboxAdmin, api_token: str, fields: str, version: str
) -> None:
    http = api(sandbox_admin.url, api_token)
    empty = http.get(f"/2/users/{user_id('xbot_demo')}/tweets", params={fields: "created_at"})
    assert empty.json() == {"meta": {"result_count": 0}}
    validate_exchange(empty, version)
    nobody = http.get("/2/users/42/tweets", params={fields: "created_at"})
    assert nobody.json()["errors"][0]["resource_id"] == "42"
    validate_exchange(nobody, version)
    missing = http.get("/2/tweets", params={"ids": "1,2", fields: "public_metrics"})
    assert "data" not in missing.json() and len(missing.json()["errors"]) == 2
    validate_exchange(missing, version)
    tweet_id = http.post("/2/tweets", json={"text": "Edges."}).json()["data"]["id"]
    for page in range(7):
        http.post("/2/tweets", json={"text": f"Page filler {page}."})
    first = http.get(
        f"/2/users/{user_id('xbot_demo')}/tweets", params={"max_results": 5, fields: "created_at"}
    )
    validate_exchange(first, version)
    token = first.json()["meta"]["next_token"]
    second = http.get(
        f"/2/users/{user_id('xbot_demo')}/tweets",
        params={"max_results": 5, "pagination_token": token, fields: "created_at"},
    )
    validate_exchange(second, version)
    assert [p["id"] for p in second.json()["data"]][-1] == tweet_id and "next_token" not in second.json()[
        "meta"
    ]
    sandbox_admin.advance(10 * 86400)
    for granularity in ("daily", "weekly"):
        answer = http.get(
            "/2/tweets/analytics",
            params={
                "ids": f"{tweet_id},7",
                "start_time": "2026-01-01T00:00:00Z",
                "end_time": "2026-02-01T00:00:00Z",
                "granularity": granularity,
            },
        )
        validate_exchange(answer, version)
        body = answer.json()
        assert body["errors"][0]["resource_id"] == "7"
        follows = sum(b["metrics"]["follows"] for b in body["data"][0]["timestamped_metrics"])
        assert follows == sandbox_admin.post_truth(tweet_id)["final"]["new_follows"]

"""The sandbox over real HTTP (httpx, no browser): admin API, login, CreateTweet, faults, restart."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.plugins.sandbox import SandboxAdmin, sandbox_clock, start_sandbox
from xbot_core.sandbox.app import CREATE_TWEET_QUERY_ID


def logged_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=10)
    resp = client.post("/i/flow/login", data={"text": "xbot_demo"})
    assert resp.status_code == 302 and resp.headers["location"] == "/home"
    return client


def create(client: httpx.Client, text: str) -> httpx.Response:
    return client.post(
        f"/i/api/graphql/{CREATE_TWEET_QUERY_ID}/CreateTweet",
        json={"variables": {"tweet_text": text}},
        headers={"x-csrf-token": client.cookies["ct0"]},
    )


def test_clock_admin_and_sandbox_clock(sandbox_admin: SandboxAdmin) -> None:
    assert sandbox_admin.set_clock("2026-02-01T10:00:00+01:00") == "2026-02-01T09:00:00+00:00"
    assert sandbox_admin.advance(90) == "2026-02-01T09:01:30+00:00"
    assert sandbox_clock(sandbox_admin.url).now().isoformat() == "2026-02-01T09:01:30+00:00"
    bad = sandbox_admin.http.post("/admin/clock", json={"set": "2026-02-01T10:00:00", "advance_seconds": 1})
    assert bad.status_code == 422 and "exactly one" in bad.text
    naive = sandbox_admin.http.post("/admin/clock", json={"set": "2026-02-01T10:00:00"})
    assert naive.status_code == 422 and "UTC offset" in naive.text


def test_logged_out_pages_redirect_and_create_tweet_needs_session_and_csrf(
    sandbox_admin: SandboxAdmin,
) -> None:
    anon = httpx.Client(base_url=sandbox_admin.url, timeout=10)
    page = anon.get("/xbot_demo/status/1")
    assert page.status_code == 302 and page.headers["location"].startswith("/i/flow/login")
    assert anon.post("/i/api/graphql/x/CreateTweet", json={}).status_code == 401
    client = logged_in(sandbox_admin.url)
    wrong = client.post(
        "/i/api/graphql/x/CreateTweet",
        json={"variables": {"tweet_text": "hi"}},
        headers={"x-csrf-token": "nope"},
    )
    assert wrong.status_code == 403
    ok = create(client, "Hello from httpx")
    result = ok.json()["data"]["create_tweet"]["tweet_results"]["result"]
    assert result["rest_id"].isdigit() and result["legacy"]["full_text"] == "Hello from httpx"
    assert create(client, "Hello from httpx").json()["errors"][0]["code"] == 187
    assert sandbox_admin.ground_truth()["posts"][0]["tweet_id"] == result["rest_id"]


def test_faults_rate_limit_server_error_and_latency(sandbox_admin: SandboxAdmin) -> None:
    client = logged_in(sandbox_admin.url)
    sandbox_admin.faults(rate_limit_next=2, server_error_next=1)
    assert [client.get("/xbot_demo").status_code for _ in range(4)] == [429, 429, 500, 200]
    assert create(client, "after faults").status_code == 200
    sandbox_admin.faults(latency_ms=250)
    start = time.monotonic()
    client.get("/xbot_demo")
    assert time.monotonic() - start >= 0.25
    start = time.monotonic()
    sandbox_admin.now()  # admin is never slowed down
    assert time.monotonic() - start < 0.2
    assert sandbox_admin.faults(latency_ms=0)["latency_ms"] == 0
    unknown = sandbox_admin.http.post("/admin/faults", json={"delete_post": "42"})
    assert unknown.status_code == 404 and "no post 42" in unknown.text
    assert sandbox_admin.http.post("/admin/faults", json={"explode": True}).status_code == 422


def test_state_dir_survives_a_server_restart(tmp_path: Path) -> None:
    first = start_sandbox(state_dir=tmp_path, seed=3)
    try:
        admin = SandboxAdmin(first.url, first.token)
        client = logged_in(first.url)
        tweet_id = create(client, "persisted").json()["data"]["create_tweet"]["tweet_results"]["result"][
            "rest_id"
        ]
        admin.advance(7200)
        truth = admin.post_truth(tweet_id)
        cookies = dict(client.cookies)
    finally:
        first.stop()
    second = start_sandbox(state_dir=tmp_path, seed=3)
    try:
        admin = SandboxAdmin(second.url, second.token)
        assert admin.post_truth(tweet_id) == truth
        again = httpx.Client(base_url=second.url, cookies=cookies, timeout=10)
        assert again.get(f"/xbot_demo/status/{tweet_id}").status_code == 200  # same session still valid
    finally:
        second.stop()

"""Collecting one pass of 200 posts: the API backend vs the browser backend (4 pages), sandbox latency 300 ms.

Both read the same 200 posts of one sandbox (in its own process) at the same virtual time, one after the
other, in one run. Prints wall time, posts/s, HTTP requests of each, their ratio, and how many posts each
read exactly as the sandbox's truth (the browser reads some counts from X's rounded display, e.g. "1.2K").
Run: .venv/bin/python bench/collect_api_vs_browser.py [--posts 200] [--latency-ms 300] [--pages 4]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx
from collect_throughput import ADMIN, TOKEN, start_sandbox_process
from playwright.async_api import async_playwright

from xbot_core.adapters.clock import SandboxClock
from xbot_core.adapters.x_api.auth import OAuth2Config, OAuth2Signer, TokenFile, TokenSet
from xbot_core.adapters.x_api.client import XApiClient
from xbot_core.adapters.x_browser import Metrics, PlaywrightXClient, PostRef
from xbot_core.adapters.x_browser.browser import launch_chromium
from xbot_core.adapters.x_browser.session import sandbox_login
from xbot_core.sandbox.api_auth import pkce_challenge

FIELDS = ("impressions", "likes", "retweets", "replies", "quotes", "bookmarks")
FIELDS += ("profile_visits", "link_clicks", "new_follows")
REDIRECT = "http://127.0.0.1:9/callback"


def publish_on_site(url: str, n: int) -> list[PostRef]:
    """n posts through the site's CreateTweet (no API rate limit on the way in)."""
    site = httpx.Client(base_url=url, timeout=30)
    site.post("/i/flow/login", data={"text": "xbot_demo"})
    refs = []
    for i in range(n):
        body = site.post(
            "/i/api/graphql/q/CreateTweet",
            json={"variables": {"tweet_text": f"Benchmark post number {i}: collect me."}},
            headers={"x-csrf-token": site.cookies["ct0"]},
        ).json()
        tweet_id = body["data"]["create_tweet"]["tweet_results"]["result"]["rest_id"]
        refs.append(PostRef(tweet_id, f"{url}/xbot_demo/status/{tweet_id}", None))
    site.close()
    return refs


def api_login(url: str, token_file: Path) -> None:
    """A user token from the sandbox's PKCE flow, saved as `xbot x login --api` saves it."""
    verifier = "b" * 64
    with httpx.Client(base_url=url, timeout=30) as http:
        consent = http.get(
            "/i/oauth2/authorize",
            params={
                "response_type": "code",
                "client_id": "bench",
                "redirect_uri": REDIRECT,
                "scope": "tweet.read users.read offline.access",
                "state": "s",
                "code_challenge": pkce_challenge(verifier),
                "code_challenge_method": "S256",
            },
        )
        code = httpx.URL(consent.headers["location"]).params["code"]
        token = http.post(
            "/2/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
                "client_id": "bench",
            },
        ).json()
    TokenFile(token_file).save(TokenSet.from_response(token, now=time.time()))


def exact(results: list[Metrics | object], refs: list[PostRef], truth: dict[str, dict[str, int]]) -> int:
    return sum(
        isinstance(r, Metrics) and all(getattr(r, f) == truth[p.tweet_id][f] for f in FIELDS)
        for r, p in zip(results, refs, strict=True)
    )


async def main(n_posts: int, latency_ms: int, pages: int) -> None:
    proc, url = start_sandbox_process()
    admin = httpx.Client(base_url=url, timeout=30, headers=ADMIN)
    tmp = Path(tempfile.mkdtemp())
    try:
        refs = publish_on_site(url, n_posts)
        admin.post("/admin/clock", json={"advance_seconds": 3600}).raise_for_status()
        truth = {p["tweet_id"]: p["accrued"] for p in admin.get("/admin/ground_truth").json()["posts"]}
        api_login(url, tmp / "token.json")
        admin.post("/admin/faults", json={"latency_ms": latency_ms}).raise_for_status()
        print(f"{n_posts} posts, sandbox latency {latency_ms} ms per request, one pass each backend")

        cfg = OAuth2Config("bench", None, REDIRECT, f"{url}/i/oauth2/authorize", f"{url}/2/oauth2/token")
        signer = OAuth2Signer(cfg, TokenFile(tmp / "token.json"), timeout=httpx.Timeout(30.0))
        api = XApiClient(
            api_base_url=url,
            site_base_url=url,
            handle="xbot_demo",
            signer=signer,
            clock=SandboxClock(url, token=TOKEN),
        )
        async with api:
            t0 = time.perf_counter()
            api_results = await api.read_metrics_many(refs)
            api_s = time.perf_counter() - t0
        api_ok = sum(isinstance(r, Metrics) for r in api_results)
        print(
            f"api:     {api_s:6.2f} s = {n_posts / api_s:7.1f} posts/s, {api.calls} HTTP requests, "
            f"{api_ok}/{n_posts} read, {exact(api_results, refs, truth)} exact (follows included)"
        )

        session = tmp / "session.json"
        async with async_playwright() as pw:
            browser = await launch_chromium(pw, None)
            admin.post("/admin/faults", json={"latency_ms": 0}).raise_for_status()
            await sandbox_login(browser, url, "xbot_demo", session)
            admin.post("/admin/faults", json={"latency_ms": latency_ms}).raise_for_status()
            client = PlaywrightXClient(
                base_url=url,
                handle="xbot_demo",
                session_file=session,
                browser=browser,
                clock=SandboxClock(url, token=TOKEN),
                concurrency=pages,
                timeout_ms=60_000,
            )
            async with client:
                t0 = time.perf_counter()
                browser_results = await client.read_metrics_many(refs, concurrency=pages)
                browser_s = time.perf_counter() - t0
            await browser.close()
        browser_ok = sum(isinstance(r, Metrics) for r in browser_results)
        print(
            f"browser: {browser_s:6.2f} s = {n_posts / browser_s:7.1f} posts/s, {pages} pages, "
            f"2 page loads per post, {browser_ok}/{n_posts} read, "
            f"{exact(browser_results, refs, truth)} exact"
        )
        print(f"api / browser speed: {browser_s / api_s:.1f}x")
    finally:
        admin.close()
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--pages", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.posts, args.latency_ms, args.pages))

"""Metrics-collection throughput: 200 posts, sandbox page latency 300 ms, sequential vs 4 concurrent pages.

Prints posts/s for each, their ratio (target >= 3x) and the peak memory (sampled each second, since sampling
itself costs CPU) of Python + the browser process tree
while collecting with 4 pages. The sandbox runs in a separate process (not counted).
Run: .venv/bin/python bench/collect_throughput.py [--posts 200] [--latency-ms 300]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from playwright.async_api import async_playwright

from xbot_core.adapters.clock import SandboxClock
from xbot_core.adapters.x_browser import Metrics, PlaywrightXClient, PostRef
from xbot_core.adapters.x_browser.browser import launch_chromium
from xbot_core.adapters.x_browser.session import sandbox_login

SERVE = (
    "import sys, uvicorn; from xbot_core.sandbox.app import create_app; "
    "uvicorn.run(create_app(admin_token=sys.argv[2]), host='127.0.0.1', port=int(sys.argv[1]), "
    "log_level='warning', access_log=False)"
)
TOKEN = secrets.token_urlsafe(32)
ADMIN = {"Authorization": f"Bearer {TOKEN}"}  # every /admin request needs the token


def tree_memory(exclude: int) -> tuple[int, int]:
    """(RSS sum, PSS sum) of this Python process and its descendants (Playwright driver, Chromium), minus
    the sandbox. RSS double-counts pages shared between Chromium processes; PSS splits them fairly."""
    me = psutil.Process()
    rss = pss = 0
    for proc in [me, *me.children(recursive=True)]:
        try:
            if proc.pid != exclude:
                info = proc.memory_full_info()
                rss, pss = rss + info.rss, pss + info.pss
        except psutil.NoSuchProcess:
            pass
    return rss, pss


async def sample_peak(stop: asyncio.Event, peak: list[int], exclude: int) -> None:
    while not stop.is_set():
        rss, pss = await asyncio.to_thread(tree_memory, exclude)
        peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
        await asyncio.sleep(1.0)


def start_sandbox_process() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), TOKEN], cwd=Path(__file__).resolve().parent.parent
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/admin/health", headers=ADMIN, timeout=1).raise_for_status()
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the sandbox did not start")


async def main(n_posts: int, latency_ms: int) -> None:
    proc, url = start_sandbox_process()
    admin = httpx.Client(base_url=url, timeout=30, headers=ADMIN)
    session = Path(tempfile.mkdtemp()) / "session.json"
    async with async_playwright() as pw:
        browser = await launch_chromium(pw, None)
        await sandbox_login(browser, url, "xbot_demo", session)
        client = PlaywrightXClient(
            base_url=url,
            handle="xbot_demo",
            session_file=session,
            browser=browser,
            clock=SandboxClock(url, token=TOKEN),
            concurrency=4,
        )
        async with client:
            refs: list[PostRef] = []
            t0 = time.perf_counter()
            for i in range(n_posts):
                refs.append(await client.publish(f"Benchmark post number {i}: collect me."))
            print(f"published {n_posts} posts in {time.perf_counter() - t0:.1f} s (latency 0)")
            admin.post("/admin/clock", json={"advance_seconds": 3600}).raise_for_status()
            admin.post("/admin/faults", json={"latency_ms": latency_ms}).raise_for_status()

            rates = {}
            peak = [0, 0]
            for pages in (1, 4):
                stop = asyncio.Event()
                sampler = asyncio.create_task(sample_peak(stop, peak, proc.pid)) if pages == 4 else None
                t0 = time.perf_counter()
                results = await client.read_metrics_many(refs, concurrency=pages)
                elapsed = time.perf_counter() - t0
                stop.set()
                if sampler:
                    await sampler
                ok = sum(isinstance(r, Metrics) for r in results)
                if ok != n_posts:
                    raise SystemExit(f"only {ok}/{n_posts} posts read with {pages} page(s): {results[:3]}")
                rates[pages] = n_posts / elapsed
                print(f"{pages} page(s): {n_posts} posts in {elapsed:.1f} s = {rates[pages]:.2f} posts/s")
        await browser.close()
    print(f"ratio 4 pages / sequential: {rates[4] / rates[1]:.2f}x (target >= 3x)")
    print(
        f"peak memory with 4 pages (Python + Playwright driver + Chromium tree): "
        f"RSS sum {peak[0] / 2**20:.0f} MiB, PSS sum {peak[1] / 2**20:.0f} MiB"
    )
    admin.close()
    proc.terminate()
    proc.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.posts, args.latency_ms))

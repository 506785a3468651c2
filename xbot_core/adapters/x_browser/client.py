"""PlaywrightXClient: the live XClient, driving Chromium through the page objects.

One browser, one context from the saved session, a small pool of pages for parallel metric collection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from xbot_core.adapters.clock import Clock, SystemClock, make_clock
from xbot_core.adapters.x_browser.browser import launch_chromium
from xbot_core.adapters.x_browser.models import Metrics, PostRef, TimelinePost, Unavailable
from xbot_core.adapters.x_browser.pages import AnalyticsPage, ComposePage, PostPage, ProfilePage
from xbot_core.errors import BrowserError, ParseError, PublishError, RateLimitedError, SessionExpiredError
from xbot_core.settings import Settings

log = logging.getLogger("xbot.collect")

X_CREATED_AT = "%a %b %d %H:%M:%S %z %Y"
# A page is closed and replaced after this many reads: long-lived pages accumulate per-navigation state,
# which slowed the collection of 200 posts and grew memory (bench/collect_throughput.py).
PAGE_RECYCLE_READS = 20


def parse_create_tweet(body: dict[str, Any]) -> tuple[str, str | None, datetime | None]:
    """(rest_id, screen_name, created_at) from a CreateTweet response; PublishError if the id is absent."""
    try:
        result = body["data"]["create_tweet"]["tweet_results"]["result"]
        tweet_id = str(result["rest_id"])
    except (KeyError, TypeError) as exc:
        raise PublishError(f"CreateTweet response has no rest_id (keys: {sorted(body)})") from exc
    if not tweet_id.isdigit():
        raise PublishError(f"CreateTweet returned a non-numeric id {tweet_id!r}")
    legacy = result.get("legacy") or {}
    created = legacy.get("created_at")
    posted_at = datetime.strptime(created, X_CREATED_AT) if created else None
    user = (((result.get("core") or {}).get("user_results") or {}).get("result") or {}).get("legacy") or {}
    return tweet_id, user.get("screen_name"), posted_at


class PlaywrightXClient:
    """XClient over real Chromium. Use as `async with PlaywrightXClient.from_settings(settings) as x:`."""

    def __init__(
        self,
        *,
        base_url: str,
        handle: str,
        session_file: Path,
        chromium_path: Path | None = None,
        headless: bool = True,
        concurrency: int = 4,
        clock: Clock | None = None,
        browser: Browser | None = None,
        timeout_ms: float = 15_000,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.handle = handle
        self.session_file = session_file
        self.concurrency = concurrency
        self.clock: Clock = clock or SystemClock()
        self._chromium_path, self._headless, self._timeout_ms = chromium_path, headless, timeout_ms
        self._shared_browser = browser
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._pages: asyncio.Queue[Page] = asyncio.Queue()
        self._page_count = 0
        self._page_reads: dict[int, int] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, *, browser: Browser | None = None, clock: Clock | None = None
    ) -> PlaywrightXClient:
        return cls(
            base_url=settings.x_base_url,
            handle=settings.account_handle,
            session_file=settings.session_file,
            chromium_path=settings.chromium_path,
            headless=settings.browser_headless,
            concurrency=settings.collect_concurrency,
            clock=clock or make_clock(settings),
            browser=browser,
        )

    # ---- lifecycle ---------------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        if not self.session_file.is_file():
            raise SessionExpiredError(f"no X session file at {self.session_file}; run `xbot x login`")
        try:
            if self._shared_browser is None:
                self._playwright = await async_playwright().start()
                self._browser = await launch_chromium(
                    self._playwright, self._chromium_path, headless=self._headless
                )
            browser = self._shared_browser or self._browser
            assert browser is not None
            self._context = await browser.new_context(storage_state=str(self.session_file))
            self._context.set_default_timeout(self._timeout_ms)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._context is not None:
            await self._context.close()
            self._context = None
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None

    def _require_context(self) -> BrowserContext:
        if self._context is None:
            raise BrowserError("PlaywrightXClient used outside `async with`")
        return self._context

    async def _borrow(self) -> Page:
        if self._pages.empty() and self._page_count < max(self.concurrency, 1):
            self._page_count += 1
            return await self._require_context().new_page()
        return await self._pages.get()

    async def _give_back(self, page: Page) -> None:
        reads = self._page_reads.get(id(page), 0) + 1
        if reads >= PAGE_RECYCLE_READS:
            self._page_reads.pop(id(page), None)
            await page.close()
            page, reads = await self._require_context().new_page(), 0  # a waiter in _borrow gets this one
        self._page_reads[id(page)] = reads
        self._pages.put_nowait(page)

    async def _replace(self, page: Page) -> None:
        """Close a page that failed and put a fresh one in its place in the pool."""
        self._page_reads.pop(id(page), None)
        try:
            await page.close()
        except PlaywrightError:
            pass
        self._pages.put_nowait(await self._require_context().new_page())

    def _post_url(self, tweet_id: str) -> str:
        return f"{self.base_url}/{self.handle}/status/{tweet_id}"

    # ---- XClient -----------------------------------------------------------------------------------
    async def publish(self, text: str) -> PostRef:
        """Post once. Raises PublishError / SessionExpiredError / RateLimitedError; never retries."""
        # a page of the pool, not a new one: opening a tab cost 0.2-0.4 s per post (bench/demo_phases.py)
        page = await self._borrow()
        try:
            compose = ComposePage(page, self.base_url)
            await compose.open()
            body = await compose.submit(text, timeout_ms=self._timeout_ms)
        except BaseException:
            await self._replace(page)  # whatever state the failure left the page in goes with it
            raise
        await self._give_back(page)
        tweet_id, screen_name, posted_at = parse_create_tweet(body)
        handle = screen_name or self.handle
        return PostRef(
            tweet_id=tweet_id, url=f"{self.base_url}/{handle}/status/{tweet_id}", posted_at=posted_at
        )

    async def read_metrics(self, post: PostRef) -> Metrics | Unavailable:
        """Counts from the post page (exact aria-labels) and its TweetActivityQuery, read at clock.now()."""
        page = await self._borrow()
        try:
            result = await self._read_on(page, post)
        except BaseException as exc:
            await self._replace(page)  # a failed navigation can leave the page mid-way to an error page
            if isinstance(exc, PlaywrightError):  # a load failure or a page without X's markup (timeout)
                url = self._post_url(post.tweet_id)
                raise BrowserError(
                    " ".join(f"{url} not read: {type(exc).__name__}: {exc}".split())[:300]
                ) from exc
            raise
        await self._give_back(page)
        return result

    async def _read_on(self, page: Page, post: PostRef) -> Metrics | Unavailable:
        url = self._post_url(post.tweet_id)
        post_page = PostPage(page)
        outcome = await post_page.open(url, post.tweet_id)
        if outcome is not None:
            return outcome
        counts = await post_page.counts(post.tweet_id)
        # a failed analytics read (429, 5xx, no response) is transient: the pass stays pending; analytics that
        # X sends without numbers come back as None values and the pass is judged incomplete downstream
        extra = await AnalyticsPage(page, timeout_ms=self._timeout_ms).read(url, post.tweet_id)
        if isinstance(extra, Unavailable):
            return extra
        return Metrics(
            impressions=counts["views"] if counts["views"] is not None else extra["impressions"],
            likes=counts["likes"],
            retweets=counts["retweets"],
            replies=counts["replies"],
            quotes=counts["quotes"],
            bookmarks=counts["bookmarks"],
            profile_visits=extra["profile_visits"],
            link_clicks=extra["link_clicks"],
            new_follows=extra["new_follows"],
            read_at=await asyncio.to_thread(self.clock.now),
        )

    async def read_metrics_many(
        self, posts: Sequence[PostRef], concurrency: int | None = None
    ) -> list[Metrics | Unavailable]:
        """Read many posts on up to `concurrency` pages at once. A page that cannot be parsed becomes
        Unavailable('error') carrying the raw text, a page that cannot be loaded (connection refused, timeout,
        crashed page) Unavailable('network'); either way the reason is logged and the other reads are kept,
        so one failure does not sink the batch (the caller leaves that pass pending)."""
        limit = asyncio.Semaphore(max(1, concurrency or self.concurrency))

        async def one(post: PostRef) -> Metrics | Unavailable:
            async with limit:
                try:
                    return await self.read_metrics(post)
                except ParseError as exc:
                    log.warning("[collect] post %s not parsed, deferred: %s", post.tweet_id, exc)
                    return Unavailable("error", str(exc))
                except (PlaywrightError, BrowserError) as exc:
                    reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
                    log.warning("[collect] post %s not read, deferred: %s", post.tweet_id, reason)
                    return Unavailable("network", reason)

        if concurrency is not None:
            self.concurrency = max(self.concurrency, concurrency)
        return list(await asyncio.gather(*(one(p) for p in posts)))

    async def read_follower_count(self) -> int:
        page = await self._borrow()
        failed = False
        try:
            profile = ProfilePage(page, self.base_url, self.handle)
            outcome = await profile.open()
            if outcome is None or outcome.reason != "protected":  # a protected profile still shows its count
                self._raise_for(outcome)
            count = await profile.follower_count()
        except PlaywrightError as exc:  # X unreachable: a BrowserError the caller can defer on
            failed = True
            raise BrowserError(" ".join(f"profile of @{self.handle} not read: {exc}".split())[:300]) from exc
        finally:
            await (self._replace(page) if failed else self._give_back(page))
        if count is None:
            raise BrowserError(f"the profile of @{self.handle} shows no follower count")
        return count

    async def recent_posts(self, limit: int = 50) -> list[TimelinePost]:
        page = await self._borrow()
        try:
            profile = ProfilePage(page, self.base_url, self.handle)
            self._raise_for(await profile.open())
            return await profile.timeline(limit)
        finally:
            await self._give_back(page)

    @staticmethod
    def _raise_for(outcome: Unavailable | None) -> None:
        if outcome is None:
            return
        if outcome.reason == "session_expired":
            raise SessionExpiredError(outcome.detail)
        if outcome.reason == "rate_limited":
            raise RateLimitedError(outcome.detail)
        raise BrowserError(f"profile unavailable ({outcome.reason}): {outcome.detail}")

"""Page objects: the only place that knows X's markup. Services see intent-level methods only.

Hooks marked [X] are X's own (data-testid / aria-label / href shapes used by x.com); hooks marked [sandbox]
exist only in the sandbox and must be checked against x.com before live use (see sandbox/README.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Response
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from xbot_core.adapters.x_browser.activity import is_activity_url, parse_activity, request_variables
from xbot_core.adapters.x_browser.models import TimelinePost, Unavailable
from xbot_core.adapters.x_browser.numbers import parse_action_count, parse_labelled_count
from xbot_core.domain.text import normalize_text
from xbot_core.errors import (
    BrowserError,
    DuplicatePostError,
    ParseError,
    PostRefusedError,
    PublishError,
    RateLimitedError,
    SessionExpiredError,
)

LOGIN_PATH = "/i/flow/login"  # [X] where logged-out visits land
ARTICLE = 'article[data-testid="tweet"]'  # [X]
ERROR_STATES = '[data-testid="error-detail"], [data-testid="emptyState"]'  # [X]
READY = f"{ARTICLE}, {ERROR_STATES}"
# CreateTweet errors X sends with HTTP 200: 187 duplicate (the post may exist), 226 "looks automated" and
# 344 daily limit (nothing posted: back off, requeue)
DUPLICATE_CODES = frozenset({187})
REFUSED_CODES = frozenset({226, 344})


def article_of(tweet_id: str) -> str:
    """The article of one post, found by its own status link (a page may show other posts around it)."""
    return f'{ARTICLE}:has(a[href$="/status/{tweet_id}"] time)'  # [X]


_PAGE_STATE_JS = """() => {
  const text = (sel) => { const e = document.querySelector(sel); return e ? e.innerText : null; };
  return {error: text('[data-testid="error-detail"]'), empty: text('[data-testid="emptyState"]')};
}"""


def is_login_url(url: str) -> bool:
    return urlparse(url).path.startswith(LOGIN_PATH)


def classify_response(page: Page, response: Response | None) -> Unavailable | None:
    """What the navigation itself says (no response, 429, login redirect, 5xx), before looking at the page."""
    if response is None:
        return Unavailable("error", f"no response for {page.url}")
    if response.status == 429:
        return Unavailable("rate_limited", f"HTTP 429 for {response.url}")
    if is_login_url(page.url):
        return Unavailable("session_expired", "redirected to the login page")
    if response.status >= 500:
        return Unavailable("error", f"HTTP {response.status} for {response.url}")
    return None


async def classify(page: Page, response: Response | None, ready: str | None = READY) -> Unavailable | None:
    """Map a loaded page to an unavailable outcome, or None when the page shows its content.

    `ready`: what to wait for first (the content or an error state); None looks at the page as it is.
    """
    early = classify_response(page, response)
    if early is not None or response is None:
        return early
    if ready is not None:
        await page.wait_for_selector(ready, state="attached")
    shown: dict[str, Any] = await page.evaluate(_PAGE_STATE_JS)
    error, empty = shown["error"] or "", shown["empty"] or ""
    if "This post is unavailable" in error:
        return Unavailable("deleted", "This post is unavailable.")
    if "protected" in empty:
        return Unavailable("protected", "These posts are protected")
    if response.status == 404 or "doesn't exist" in error:
        return Unavailable("not_found", f"no such page: {response.url}")
    if response.status >= 400:
        return Unavailable("error", f"HTTP {response.status} for {response.url}")
    return None


class HomePage:
    """X's home page: where a logged-in session lands; a logged-out one is sent to the login flow."""

    PATH = "/home"  # [X]
    TIMELINE = '[data-testid="primaryColumn"]'  # [X] the home timeline's column
    LOGIN_FORM = 'input[name="text"]'  # [X] the login flow's first field (x.com redirects there by script)

    def __init__(self, page: Page, base_url: str, *, timeout_ms: float) -> None:
        self.page, self.url, self.timeout_ms = page, base_url.rstrip("/") + self.PATH, timeout_ms

    async def logged_in(self) -> bool:
        """True when the home timeline shows, False when X asks to log in; BrowserError when the page is
        neither (not an X site: the configured base URL is wrong), naming the URL and what was expected."""
        fix = "XBOT_X_BASE_URL (or the account's x_base_url) must name x.com or the sandbox"
        try:
            response = await self.page.goto(self.url, timeout=self.timeout_ms)
        except PlaywrightError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BrowserError(f"{self.url} could not be loaded ({reason}); {fix}") from exc
        if is_login_url(self.page.url):
            return False
        if response is not None and response.status >= 400:
            raise BrowserError(f"{self.url} answered HTTP {response.status}, not X's home page; {fix}")
        either = f"{self.TIMELINE}, {self.LOGIN_FORM}"
        if await self.page.locator(either).count() == 0 and await self.page.locator("script").count() == 0:
            shown = "is on the page, which runs no script to show them later"  # x.com's home is all script
        else:
            try:
                await self.page.wait_for_selector(either, state="attached", timeout=self.timeout_ms)
                return not is_login_url(self.page.url)
            except PlaywrightTimeoutError:
                shown = f"appeared within {self.timeout_ms / 1000:g} s"
        raise BrowserError(
            f"{self.url} is not X's home page: neither its timeline ({self.TIMELINE}) nor the login form "
            f"({self.LOGIN_FORM}) {shown}; {fix}"
        )


class ComposePage:
    """The composer: type a post, press Post, and capture X's CreateTweet response."""

    PATH = "/compose/post"  # [X]
    TEXTAREA = '[data-testid="tweetTextarea_0"]'  # [X]
    POST_BUTTON = '[data-testid="tweetButton"]'  # [X]

    def __init__(self, page: Page, base_url: str) -> None:
        self.page, self.base_url = page, base_url

    async def open(self) -> None:
        response = await self.page.goto(self.base_url + self.PATH)
        if response is not None and response.status == 429:
            raise RateLimitedError("X rate-limited the composer page (HTTP 429); nothing was posted")
        if is_login_url(self.page.url):
            raise SessionExpiredError("the X session is logged out; run `xbot x login`")
        if response is None or response.status >= 400:
            status = response.status if response else "no response"
            raise PublishError(f"composer page failed ({status}); nothing was posted")
        await self.page.wait_for_selector(self.TEXTAREA)

    async def submit(self, text: str, *, timeout_ms: float) -> dict[str, Any]:
        """Type and post once; returns the CreateTweet JSON. Never retries (the post may exist on timeout)."""
        box = self.page.locator(self.TEXTAREA).first
        await box.click()
        await self.page.keyboard.insert_text(text)
        typed = normalize_text(await box.inner_text())
        if typed != normalize_text(text):
            raise PublishError(
                f"the composer holds different text than asked ({len(typed)} chars); not posted"
            )

        def is_create(r: Response) -> bool:
            return urlparse(r.url).path.endswith("/CreateTweet") and r.request.method == "POST"

        try:
            async with self.page.expect_response(is_create, timeout=timeout_ms) as info:
                await self.page.locator(self.POST_BUTTON).first.click()
            response = await info.value
        except Exception as exc:  # Playwright's TimeoutError and friends
            raise PublishError(
                f"no CreateTweet response seen ({exc.__class__.__name__}); the post may or may "
                "not exist: reconcile from the timeline, do not retry"
            ) from exc
        if response.status == 429:
            raise RateLimitedError("CreateTweet answered HTTP 429; nothing was posted")
        if response.status in (401, 403):
            raise SessionExpiredError(f"CreateTweet answered HTTP {response.status}; log in again")
        try:
            body: dict[str, Any] = await response.json()
        except Exception as exc:
            raise PublishError(f"CreateTweet answered HTTP {response.status} without JSON") from exc
        if response.status >= 400 or body.get("errors"):
            errors = [e for e in body.get("errors") or [{}] if isinstance(e, dict)] or [{}]
            codes: set[int] = {e["code"] for e in errors if isinstance(e.get("code"), int)}
            message = errors[0].get("message")
            if codes & DUPLICATE_CODES:
                raise DuplicatePostError(
                    f"X refused the post as a duplicate (187): {message!r}; it may already be live: "
                    "reconcile from the timeline, never post it again"
                )
            if codes & REFUSED_CODES:
                code = min(codes & REFUSED_CODES)
                raise PostRefusedError(
                    f"X refused the post for now ({code}): {message!r}; nothing was posted: back off, requeue"
                )
            raise PublishError(f"X refused the post (HTTP {response.status}): {message!r}")
        return body


class PostPage:
    """A post's own page: reply / repost / like / bookmark counts, views and quotes of that post."""

    COUNTS_JS = """(article) => {
      const label = (id) => { const e = article.querySelector(`[data-testid="${id}"]`);
                              return e ? e.getAttribute('aria-label') : null; };
      const views = article.querySelector('a[href$="/analytics"]');
      const quotes = article.querySelector('a[href$="/quotes"]');
      return {replies: label('reply'), retweets: label('retweet'), likes: label('like'),
              bookmarks: label('bookmark'), views: views ? views.getAttribute('aria-label') : null,
              quotes: quotes ? quotes.innerText : null};
    }"""

    def __init__(self, page: Page) -> None:
        self.page = page

    async def open(self, url: str, tweet_id: str) -> Unavailable | None:
        """Load the page and wait for this post's article or an error state (not just the layout)."""
        return await classify(self.page, await self.page.goto(url), f"{article_of(tweet_id)}, {ERROR_STATES}")

    async def counts(self, tweet_id: str) -> dict[str, int | None]:
        # [X] testids reply/retweet/like/bookmark, aria-labels "1,234 Likes. Like" (a bare "Like" at zero);
        # views link to /analytics; quotes link to /quotes
        article = self.page.locator(article_of(tweet_id))
        if await article.count() == 0:
            raise ParseError("no article for the post on its page", f"{self.page.url} status {tweet_id}")
        raw: dict[str, str | None] = await article.first.evaluate(self.COUNTS_JS)
        out = {
            key: parse_action_count(raw[key])
            for key in ("replies", "retweets", "likes", "bookmarks", "views")
        }
        out["quotes"] = parse_labelled_count(raw["quotes"])
        return out


class _Shown(Exception):
    """The analytics page showed an outcome before its data request: stop waiting for that request."""

    def __init__(self, outcome: Unavailable) -> None:
        self.outcome = outcome


class AnalyticsPage:
    """A post's analytics page. Its numbers are the TweetActivityQuery JSON the page requests (as on x.com),
    captured with expect_response: never read from markup, which X does not keep stable."""

    def __init__(self, page: Page, *, timeout_ms: float) -> None:
        self.page, self.timeout_ms = page, timeout_ms

    async def read(self, post_url: str, tweet_id: str) -> Unavailable | dict[str, int | None]:
        """impressions, engagements, new_follows, profile_visits, link_clicks (None where X sent nothing)."""
        url = post_url.rstrip("/") + "/analytics"
        try:
            async with self.page.expect_response(
                lambda r: is_activity_url(r.url, tweet_id), timeout=self.timeout_ms
            ) as info:
                shown = await classify(self.page, await self.page.goto(url), ready=None)
                if shown is not None:
                    raise _Shown(shown)
            response = await info.value
        except _Shown as stop:
            return stop.outcome
        except PlaywrightTimeoutError:
            return Unavailable(
                "error", f"the analytics page sent no TweetActivityQuery within {self.timeout_ms:.0f} ms"
            )
        if response.status == 429:
            return Unavailable("rate_limited", "TweetActivityQuery answered HTTP 429")
        if response.status == 401:
            return Unavailable("session_expired", "TweetActivityQuery answered HTTP 401")
        if response.status >= 400:
            return Unavailable("error", f"TweetActivityQuery answered HTTP {response.status}")
        try:
            body: dict[str, Any] = await response.json()
        except Exception as exc:
            raise ParseError("TweetActivityQuery answered without JSON", response.url) from exc
        requested = request_variables(response.request.url).get("requested_organic_metrics") or []
        return parse_activity(body, [str(x) for x in requested])


class ProfilePage:
    """The account's profile: follower count and the timeline of recent posts."""

    FOLLOWERS = 'a[href$="/verified_followers"], a[href$="/followers"]'  # [X]
    # [X] article/time/tweetText shapes. The text is rebuilt as it was posted: emoji are <img alt="😀">, and
    # a link is a t.co anchor whose text holds the expanded URL in hidden spans and "…" (innerText loses both)
    TIMELINE_JS = """(articles) => {
      const textOf = (el) => Array.from(el.childNodes).map(n => {
        if (n.nodeType === Node.TEXT_NODE) return n.textContent;
        if (n.nodeType !== Node.ELEMENT_NODE) return '';
        if (n.tagName === 'IMG') return n.getAttribute('alt') || '';
        if (n.tagName === 'BR') return '\\n';
        if (n.tagName === 'A') {
          const title = n.getAttribute('title') || '';
          return /^https?:\\/\\//.test(title) ? title : n.textContent.replace(/\\u2026$/, '');
        }
        return textOf(n);
      }).join('');
      return articles.map(a => {
        const t = a.querySelector('a[href*="/status/"] time');
        const link = t ? t.closest('a').getAttribute('href') : null;
        const body = a.querySelector('[data-testid="tweetText"]');
        return {href: link, datetime: t ? t.getAttribute('datetime') : null, text: body ? textOf(body) : ''};
      });
    }"""

    def __init__(self, page: Page, base_url: str, handle: str) -> None:
        self.page, self.url = page, f"{base_url}/{handle}"

    async def open(self) -> Unavailable | None:
        # the follower link, not a post: a profile with no posts yet is ready too (waiting for an article
        # timed out there, so reconciling an account whose only post was lost failed every run)
        ready = f"{self.FOLLOWERS}, {ERROR_STATES}"
        return await classify(self.page, await self.page.goto(self.url), ready)

    async def follower_count(self) -> int | None:
        text = await self.page.locator(self.FOLLOWERS).first.inner_text()
        return parse_labelled_count(" ".join(text.split()))

    async def timeline(self, limit: int, *, max_scrolls: int = 20) -> list[TimelinePost]:
        """Posts in page order (newest first), scrolling while new ones appear, up to `limit`."""
        seen: dict[str, TimelinePost] = {}
        for _ in range(max_scrolls):
            rows = await self.page.locator(ARTICLE).evaluate_all(self.TIMELINE_JS)
            before = len(seen)
            for row in rows:
                href = row["href"] or ""
                tweet_id = href.rstrip("/").split("/status/")[-1] if "/status/" in href else ""
                if tweet_id.isdigit() and tweet_id not in seen:
                    posted = datetime.fromisoformat(row["datetime"]) if row["datetime"] else None
                    seen[tweet_id] = TimelinePost(tweet_id, normalize_text(row["text"]), posted)
            if len(seen) >= limit or len(seen) == before:
                break
            await self.page.mouse.wheel(0, 4000)
            await self.page.wait_for_timeout(300)
        return list(seen.values())[:limit]

"""The X session: a Playwright storage-state file (mode 0600, never logged) and the ways to create it."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from playwright.async_api import Browser, BrowserContext

from xbot_core.adapters.x_browser.pages import LOGIN_PATH, HomePage, is_login_url
from xbot_core.errors import ConfigError, SessionExpiredError

SESSION_COOKIES = ("auth_token", "ct0")


def write_session_file(path: Path, storage_state: Mapping[str, Any]) -> None:
    """Write the storage state with mode 0600 (the folder 0700), replacing any previous file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(storage_state, fh)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def parse_cookie_arg(arg: str) -> dict[str, str]:
    """'auth_token=…,ct0=…' -> {'auth_token': …, 'ct0': …}; errors name the cookie, never echo a value."""
    cookies: dict[str, str] = {}
    for part in arg.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or not name:
            raise ConfigError("--cookies must look like auth_token=VALUE,ct0=VALUE")
        cookies[name.strip()] = value.strip()
    missing = [c for c in SESSION_COOKIES if not cookies.get(c)]
    if missing:
        raise ConfigError(f"--cookies is missing {', '.join(missing)} (need auth_token and ct0)")
    unknown = sorted(set(cookies) - set(SESSION_COOKIES))
    if unknown:
        raise ConfigError(f"--cookies has unexpected names {unknown}; only auth_token and ct0 are used")
    return cookies


def cookie_storage_state(base_url: str, cookies: dict[str, str]) -> dict[str, Any]:
    """A storage state carrying the two session cookies for the site at base_url."""
    parsed = urlparse(base_url)
    host = parsed.hostname or ""
    secure = parsed.scheme == "https"
    domain = "." + host.removeprefix("www.") if host.endswith("x.com") else host
    return {
        "cookies": [
            {
                "name": name,
                "value": cookies[name],
                "domain": domain,
                "path": "/",
                "expires": -1,
                "httpOnly": name == "auth_token",
                "secure": secure,
                "sameSite": "None" if secure else "Lax",
            }
            for name in SESSION_COOKIES
        ],
        "origins": [],
    }


async def _has_session(context: BrowserContext) -> bool:
    return {c["name"] for c in await context.cookies()} >= set(SESSION_COOKIES)


async def sandbox_login(browser: Browser, base_url: str, handle: str, session_file: Path) -> None:
    """Log in to the sandbox through its login form (as a person would) and save the session."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(base_url + LOGIN_PATH)
        await page.locator('input[name="text"]').fill(handle)
        await page.locator('[data-testid="LoginForm_Login_Button"]').click()
        await page.wait_for_load_state()
        if is_login_url(page.url) or not await _has_session(context):
            raise SessionExpiredError(f"the sandbox refused the login of @{handle}")
        write_session_file(session_file, await context.storage_state())
    finally:
        await context.close()


async def interactive_login(
    browser: Browser, base_url: str, session_file: Path, *, timeout_s: float = 600
) -> None:
    """Open X's login page in a headed browser and wait until the person has logged in, then save."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(base_url + LOGIN_PATH)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not await _has_session(context):
            if asyncio.get_running_loop().time() > deadline:
                raise SessionExpiredError(f"no login completed within {timeout_s:.0f} s")
            await asyncio.sleep(1)
        write_session_file(session_file, await context.storage_state())
    finally:
        await context.close()


async def check_session(
    browser: Browser, base_url: str, session_file: Path, *, timeout_ms: float = 15_000
) -> bool:
    """Whether the saved session still opens X's home page (False: sent to log in). A page that is not X's
    home is a BrowserError naming the URL and what was expected."""
    context = await browser.new_context(storage_state=str(session_file))
    try:
        return await HomePage(await context.new_page(), base_url, timeout_ms=timeout_ms).logged_in()
    finally:
        await context.close()

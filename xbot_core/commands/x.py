"""`xbot x ...`: the X session (login, check). Cookie values and the session file are never printed."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from xbot_core.commands.account import AccountOption
from xbot_core.errors import XbotError
from xbot_core.services.operations.accounts import settings_for_handle
from xbot_core.settings import Settings, get_settings

app = typer.Typer(help="The X session used by the browser adapter.", no_args_is_help=True)


async def run_login(settings: Settings, *, cookies: str | None, headed: bool | None) -> str:
    """Create the session file; returns how it was obtained ('sandbox', 'cookies' or 'browser')."""
    from playwright.async_api import async_playwright

    from xbot_core.adapters.x_browser.browser import launch_chromium
    from xbot_core.adapters.x_browser.session import (
        cookie_storage_state,
        interactive_login,
        parse_cookie_arg,
        sandbox_login,
        write_session_file,
    )

    if cookies is not None:
        write_session_file(
            settings.session_file, cookie_storage_state(settings.x_base_url, parse_cookie_arg(cookies))
        )
        return "cookies"
    sandbox = settings.x_is_sandbox  # from configuration (XBOT_X_BASE_URL), never a probe
    if not sandbox:
        has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        if not (headed if headed is not None else has_display):
            raise XbotError(
                "no display for a headed login: pass --cookies auth_token=…,ct0=… (from a logged-in browser)"
            )
    async with async_playwright() as pw:
        browser = await launch_chromium(pw, settings.chromium_path, headless=sandbox)
        try:
            if sandbox:
                await sandbox_login(
                    browser, settings.x_base_url, settings.account_handle, settings.session_file
                )
                return "sandbox"
            await interactive_login(browser, settings.x_base_url, settings.session_file)
            return "browser"
        finally:
            await browser.close()


@app.command()
def login(
    cookies: Annotated[
        str | None,
        typer.Option(help="Import the session cookies: auth_token=VALUE,ct0=VALUE (no display needed)."),
    ] = None,
    headed: Annotated[
        bool | None,
        typer.Option(
            "--headed/--no-headed", help="Force or forbid a headed browser (default: if a display)."
        ),
    ] = None,
    api: Annotated[
        bool, typer.Option("--api", help="Log in the X API backend instead (OAuth 2.0 with PKCE).")
    ] = False,
    account: AccountOption = None,
) -> None:
    """Create the session file (mode 0600); the sandbox logs in by itself, x.com needs a person or cookies.

    With --account, that account's X site and its own session file (one 0600 file per account)."""
    settings = settings_for_handle(get_settings(), account)
    if api:
        from xbot_core.adapters.x_api.login import run_api_login

        try:
            line = run_api_login(
                settings,
                ask=lambda prompt: str(typer.prompt(prompt)),
                say=typer.echo,
                sandbox=settings.x_is_sandbox,
            )
        except XbotError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(line)
        return
    try:
        how = asyncio.run(run_login(settings, cookies=cookies, headed=headed))
    except XbotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"session saved ({how}) for @{settings.account_handle} at {settings.x_base_url}")


@app.command()
def check(
    deep: Annotated[
        bool,
        typer.Option(
            "--deep",
            help="Also read the latest post's metrics through the configured backend; fail naming each "
            "metric that could not be read.",
        ),
    ] = False,
    account: AccountOption = None,
) -> None:
    """Exit 0 if the saved session is still logged in (and, with --deep, every metric was read), 1 if not,
    2 if the configured X site does not show X's home page."""
    from playwright.async_api import async_playwright

    from xbot_core.adapters.x_browser.browser import launch_chromium
    from xbot_core.adapters.x_browser.session import check_session

    settings = settings_for_handle(get_settings(), account)
    if not settings.session_file.is_file():
        typer.echo("no session file; run `xbot x login`", err=True)
        raise typer.Exit(1)

    async def go() -> bool:
        async with async_playwright() as pw:
            browser = await launch_chromium(pw, settings.chromium_path)
            try:
                return await check_session(browser, settings.x_base_url, settings.session_file)
            finally:
                await browser.close()

    try:
        ok = asyncio.run(go())
    except XbotError as exc:  # not an X page: the configured site is wrong (a config error, as in login)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo("session is logged in" if ok else "session is logged out; run `xbot x login`")
    if ok and deep:
        ok = _deep(settings)
    raise typer.Exit(0 if ok else 1)


def _deep(settings: Settings) -> bool:
    """Run the deep check through the configured X client; prints one line, False when anything is missing."""
    from xbot_core.services import wiring
    from xbot_core.services.operations.x_check import deep_check

    async def go() -> bool:
        with wiring.open_deps(settings) as deps:
            async with deps.open_x() as x:
                result = await deep_check(deps.pool, x, deps.account_id, deps.settings.reward_version)
        typer.echo(result.summary(), err=not result.ok)
        return result.ok

    try:
        return asyncio.run(go())
    except XbotError as exc:
        typer.echo(f"deep check failed: {type(exc).__name__}: {exc}", err=True)
        return False

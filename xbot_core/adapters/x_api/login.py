"""`xbot x login --api`: OAuth 2.0 authorization code with PKCE for the X API backend.

Prints the authorize URL, takes the redirect URL (or bare code) the person pastes, stores access + refresh
token in a 0600 file. Against the sandbox the consent is fetched directly. Token values are never printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from xbot_core.adapters.x_api import OAUTH1_SETTINGS, oauth2_config
from xbot_core.adapters.x_api.auth import TokenFile, begin_login, code_from, exchange_code
from xbot_core.errors import SessionExpiredError
from xbot_core.settings import Settings


def sandbox_consent(url: str, timeout: httpx.Timeout) -> str:
    """The sandbox consents at once: its authorize page redirects straight to the callback with the code."""
    resp = httpx.get(url, timeout=timeout, follow_redirects=False)
    if resp.status_code != 302:
        raise SessionExpiredError(
            f"the sandbox's authorize page answered {resp.status_code}: {resp.text[:200]}"
        )
    return resp.headers["location"]


def run_api_login(
    settings: Settings, *, ask: Callable[[str], str], say: Callable[[str], None], sandbox: bool
) -> str:
    """Log in and save the token file; returns the line to show at the end."""
    if all(getattr(settings, f"x_api_{n}") is not None for n in OAUTH1_SETTINGS):
        return "OAuth 1.0a keys are configured (XBOT_X_API_CONSUMER_KEY …): no login needed"
    cfg = oauth2_config(settings)
    timeout = httpx.Timeout(settings.x_api_timeout_s, connect=min(5.0, settings.x_api_timeout_s))
    pending = begin_login(cfg)
    say(f"Open this URL, approve the app, then paste the address you were sent to:\n{pending.url}")
    answer = sandbox_consent(pending.url, timeout) if sandbox else ask("redirect URL or code")
    tokens = exchange_code(cfg, code_from(answer, pending.state), pending.code_verifier, timeout=timeout)
    TokenFile(settings.api_token_file).save(tokens)
    left = tokens.expires_at - time.time()
    refresh = (
        "with a refresh token" if tokens.refresh_token else "without a refresh token (no offline.access)"
    )
    return f"X API token saved at {settings.api_token_file} (valid {left:.0f} s, {refresh})"

"""X through the official API v2: a thin httpx client behind the same XClient Protocol as the browser."""

from __future__ import annotations

import httpx

from xbot_core.adapters.clock import Clock, make_clock
from xbot_core.adapters.x_api.auth import OAuth1Signer, OAuth2Config, OAuth2Signer, Signer, TokenFile
from xbot_core.adapters.x_api.client import Meter, XApiClient
from xbot_core.errors import ConfigError
from xbot_core.settings import Settings

OAUTH1_SETTINGS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
DEFAULT_CLIENT_ID = "xbot-sandbox"  # the sandbox accepts any client id; X needs your app's


def oauth2_config(settings: Settings) -> OAuth2Config:
    """Where the PKCE login goes: the site's authorize page (x.com or the sandbox) and the API's token URL.

    The client id is the X app's (XBOT_X_API_CLIENT_ID); the sandbox's stand-in only when X is the sandbox."""
    client_id = settings.x_api_client_id
    if client_id is None:
        if not settings.x_is_sandbox:
            raise ConfigError(
                f"XBOT_X_API_CLIENT_ID is not set: X at {settings.x_target} needs your X app's OAuth 2.0 "
                "client id (developer portal, the app's Keys and tokens); only the sandbox takes a default"
            )
        client_id = DEFAULT_CLIENT_ID
    secret = settings.x_api_client_secret
    return OAuth2Config(
        client_id=client_id,
        client_secret=secret.get_secret_value() if secret else None,
        redirect_uri=settings.x_api_redirect_uri,
        authorize_url=f"{settings.x_base_url}/i/oauth2/authorize",
        token_url=f"{settings.x_api_base_url}/2/oauth2/token",
    )


def make_signer(settings: Settings) -> Signer:
    """OAuth 1.0a when its four keys are set, else the OAuth 2.0 token file; half a key set is an error."""
    keys = {n: getattr(settings, f"x_api_{n}") for n in OAUTH1_SETTINGS}
    given = [n for n, v in keys.items() if v is not None]
    if given and len(given) < len(keys):
        missing = ", ".join(f"XBOT_X_API_{n.upper()}" for n in keys if keys[n] is None)
        raise ConfigError(f"OAuth 1.0a needs all four keys; missing {missing}")
    if given:
        return OAuth1Signer(*(keys[n].get_secret_value() for n in OAUTH1_SETTINGS))
    timeout = httpx.Timeout(settings.x_api_timeout_s, connect=min(5.0, settings.x_api_timeout_s))
    return OAuth2Signer(oauth2_config(settings), TokenFile(settings.api_token_file), timeout=timeout)


def make_api_client(
    settings: Settings, *, clock: Clock | None = None, meter: Meter | None = None
) -> XApiClient:
    """The API backend's XClient from settings (enter it with `async with`); the wiring calls this."""
    return XApiClient(
        api_base_url=settings.x_api_base_url,
        site_base_url=settings.x_base_url,
        handle=settings.account_handle,
        signer=make_signer(settings),
        clock=clock or make_clock(settings),
        timeout_s=settings.x_api_timeout_s,
        meter=meter,
        concurrency=settings.collect_concurrency,
    )


__all__ = ["OAUTH1_SETTINGS", "Meter", "XApiClient", "make_api_client", "make_signer", "oauth2_config"]

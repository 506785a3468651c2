"""Credentials of the X API client: OAuth 2.0 user tokens (authorization code + PKCE, refreshed before they
expire, kept in a 0600 file) or OAuth 1.0a user keys (signed with oauthlib). Token values are never logged.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
from oauthlib.oauth1 import Client as OAuth1Client
from oauthlib.oauth2 import WebApplicationClient

from xbot_core.errors import ConfigError, SessionExpiredError

log = logging.getLogger("xbot.x_api")

SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access")
REFRESH_MARGIN_S = 300  # refresh when the access token has less than this left


class Signer(Protocol):
    """Adds the Authorization header to a request about to be sent."""

    async def sign(self, request: httpx.Request) -> None: ...


@dataclass(frozen=True)
class OAuth2Config:
    client_id: str
    client_secret: str | None
    redirect_uri: str
    authorize_url: str
    token_url: str


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: float
    scope: str

    def __repr__(self) -> str:  # never show token values, even in a traceback
        refresh = bool(self.refresh_token)
        return f"TokenSet(expires_at={self.expires_at:.0f}, scope={self.scope!r}, refresh={refresh})"

    @classmethod
    def from_response(cls, body: dict[str, Any], *, now: float) -> TokenSet:
        try:
            return cls(
                access_token=str(body["access_token"]),
                refresh_token=body.get("refresh_token"),
                expires_at=now + float(body.get("expires_in", 7200)),
                scope=str(body.get("scope", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SessionExpiredError(
                f"the token endpoint answered without an access token ({exc})"
            ) from None


class TokenFile:
    """A TokenSet stored as JSON in a file only its owner can read (mode 0600, written atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> TokenSet:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return TokenSet(
                raw["access_token"], raw.get("refresh_token"), float(raw["expires_at"]), raw.get("scope", "")
            )
        except FileNotFoundError:
            raise SessionExpiredError(f"no X API token at {self.path}; run `xbot x login --api`") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise SessionExpiredError(f"{self.path} is not a token file ({type(exc).__name__})") from None

    def save(self, tokens: TokenSet) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(
                {
                    "access_token": tokens.access_token,
                    "refresh_token": tokens.refresh_token,
                    "expires_at": tokens.expires_at,
                    "scope": tokens.scope,
                },
                fh,
            )
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive lock across processes, so two workers never spend the same refresh token."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


# ---- OAuth 2.0 authorization code with PKCE ------------------------------------------------------------
@dataclass(frozen=True)
class PendingLogin:
    """What `xbot x login --api` shows the person and keeps for the exchange (verifier and state)."""

    url: str
    state: str
    code_verifier: str


def begin_login(cfg: OAuth2Config) -> PendingLogin:
    """The authorize URL (S256 challenge, the scopes the bot needs) and the secrets the exchange needs."""
    client = WebApplicationClient(cfg.client_id)
    verifier = client.create_code_verifier(64)
    challenge = client.create_code_challenge(verifier, "S256")
    state = os.urandom(16).hex()
    query = {
        "response_type": "code",
        "client_id": cfg.client_id,
        "redirect_uri": cfg.redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }  # built here: oauthlib's prepare_request_uri refuses the sandbox's plain http
    return PendingLogin(f"{cfg.authorize_url}?{urlencode(query)}", state, verifier)


def code_from(answer: str, expected_state: str) -> str:
    """The code from what the person pasted: the whole redirect URL (state checked) or the bare code."""
    answer = answer.strip()
    if "://" not in answer and "code=" not in answer:
        if not answer:
            raise ConfigError("no authorization code given")
        return answer
    query = parse_qs(urlparse(answer).query if "://" in answer else answer)
    if "error" in query:
        raise ConfigError(f"X refused the authorization: {query['error'][0]}")
    if query.get("state", [None])[0] != expected_state:
        raise ConfigError("the redirect's state does not match this login; start `xbot x login --api` again")
    codes = query.get("code")
    if not codes:
        raise ConfigError("the pasted redirect URL has no code")
    return codes[0]


def _token_request(cfg: OAuth2Config, form: dict[str, str], timeout: httpx.Timeout) -> httpx.Request:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    auth = None
    if cfg.client_secret:  # a confidential client authenticates with Basic; a public one sends client_id
        auth = httpx.BasicAuth(cfg.client_id, cfg.client_secret)
    else:
        form = {**form, "client_id": cfg.client_id}
    req = httpx.Request("POST", cfg.token_url, content=urlencode(form), headers=headers)
    if auth is not None:
        req = next(auth.auth_flow(req))
    return req


def _token_answer(resp: httpx.Response) -> TokenSet:
    if resp.status_code != 200:
        try:
            body = resp.json()
            why = f"{body.get('error')}: {body.get('error_description', '')}"
        except ValueError:
            why = f"HTTP {resp.status_code}"
        raise SessionExpiredError(f"the X token endpoint refused ({why}); run `xbot x login --api`")
    return TokenSet.from_response(resp.json(), now=time.time())


def exchange_code(
    cfg: OAuth2Config, code: str, verifier: str, *, timeout: httpx.Timeout, transport: Any = None
) -> TokenSet:
    """Trade the authorization code (with its PKCE verifier) for access + refresh tokens."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": cfg.redirect_uri,
        "code_verifier": verifier,
    }
    with httpx.Client(timeout=timeout, transport=transport) as http:
        return _token_answer(http.send(_token_request(cfg, form, timeout)))


class OAuth2Signer:
    """Bearer user token from the token file, refreshed (under a file lock) before it expires."""

    def __init__(self, cfg: OAuth2Config, store: TokenFile, *, timeout: httpx.Timeout) -> None:
        self.cfg = cfg
        self.store = store
        self.timeout = timeout
        self._tokens: TokenSet | None = None

    async def sign(self, request: httpx.Request) -> None:
        tokens = self._tokens or self.store.load()
        if tokens.expires_at - REFRESH_MARGIN_S <= time.time():
            tokens = await self._refresh()
        self._tokens = tokens
        request.headers["authorization"] = f"Bearer {tokens.access_token}"

    async def _refresh(self) -> TokenSet:
        import asyncio

        return await asyncio.to_thread(self.refresh_now)

    def refresh_now(self) -> TokenSet:
        """Refresh unless another process just did; raises SessionExpiredError when a person must log in."""
        with self.store.locked():
            tokens = self.store.load()  # another worker may have refreshed meanwhile
            if tokens.expires_at - REFRESH_MARGIN_S > time.time():
                return tokens
            if not tokens.refresh_token:
                raise SessionExpiredError(
                    "the X API access token expired and there is no refresh token; run `xbot x login --api`"
                )
            form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
            with httpx.Client(timeout=self.timeout) as http:
                fresh = _token_answer(http.send(_token_request(self.cfg, form, self.timeout)))
            if fresh.refresh_token is None:
                fresh.refresh_token = tokens.refresh_token
            self.store.save(fresh)
            log.info("[x_api] access token refreshed; valid for %.0f s", fresh.expires_at - time.time())
            return fresh


class OAuth1Signer:
    """OAuth 1.0a user context (consumer key/secret + access token/secret), HMAC-SHA1 via oauthlib."""

    def __init__(self, consumer_key: str, consumer_secret: str, token: str, token_secret: str) -> None:
        self._client = OAuth1Client(
            consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=token,
            resource_owner_secret=token_secret,
        )

    def __repr__(self) -> str:
        return "OAuth1Signer(<secrets hidden>)"

    async def sign(self, request: httpx.Request) -> None:
        body = None
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body = request.content.decode("utf-8")
        _, headers, _ = self._client.sign(str(request.url), request.method, body=body)
        request.headers["authorization"] = headers["Authorization"]

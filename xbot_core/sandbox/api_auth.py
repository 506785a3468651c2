"""Auth of the sandbox's X API: OAuth 2.0 authorization code with PKCE (authorize + token endpoints) and
OAuth 1.0a user keys, as X documents them (../shared/x-api/README.md).

An OAuth 2.0 access token is a sandbox web session (SandboxState.login), so the admin fault
`expire_sessions` revokes API tokens as well; its expiry (real seconds, like X's `expires_in`), the pending
codes and the refresh tokens live in memory only. OAuth 1.0a requests are verified with oauthlib against the
sandbox's published credentials below (like the OpenAI endpoint's "sandbox-key").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlparse

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature, utils

from xbot_core.sandbox.state import SandboxState

ACCESS_TOKEN_LIFETIME_S = 7200  # X: an access token lasts 2 hours
CODE_LIFETIME_S = 30
SCOPES = frozenset({"tweet.read", "tweet.write", "users.read", "offline.access"})
# OAuth 1.0a user keys the sandbox accepts for its default account (sandbox only, never real secrets)
OAUTH1_CONSUMER_KEY = "sandbox-consumer-key"
OAUTH1_CONSUMER_SECRET = "sandbox-consumer-secret"
OAUTH1_ACCESS_TOKEN = "sandbox-access-token"
OAUTH1_ACCESS_TOKEN_SECRET = "sandbox-access-token-secret"


class OAuthError(Exception):
    """An RFC 6749 error of the token endpoint: `error` code and a description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class _Code:
    handle: str
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    scope: str
    expires: float


@dataclass(frozen=True)
class _Refresh:
    handle: str
    client_id: str
    scope: str


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class ApiAuth:
    """Issues and checks API credentials for the sandbox accounts."""

    def __init__(self, state: SandboxState, *, token_lifetime_s: int = ACCESS_TOKEN_LIFETIME_S) -> None:
        self.state = state
        self.token_lifetime_s = token_lifetime_s
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._expires: dict[str, float] = {}

    # ---- OAuth 2.0 ---------------------------------------------------------------------------------
    def authorize(self, handle: str, params: dict[str, str]) -> str:
        """Consent for `handle` (the sandbox consents at once); returns the one-time code."""
        missing = [
            k
            for k in ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge")
            if not params.get(k)
        ]
        if missing:
            raise OAuthError("invalid_request", f"missing parameter(s): {', '.join(missing)}")
        if params["response_type"] != "code":
            raise OAuthError("unsupported_response_type", "response_type must be code")
        method = params.get("code_challenge_method", "plain")
        if method not in ("S256", "plain"):
            raise OAuthError("invalid_request", "code_challenge_method must be S256 or plain")
        unknown = set(params["scope"].split()) - SCOPES
        if unknown:
            raise OAuthError("invalid_scope", f"unknown scope(s): {' '.join(sorted(unknown))}")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(
                handle,
                params["client_id"],
                params["redirect_uri"],
                params["code_challenge"],
                method,
                params["scope"],
                time.time() + CODE_LIFETIME_S,
            )
        return code

    def token(self, form: dict[str, str], basic_client_id: str | None) -> dict[str, object]:
        """The token endpoint: authorization_code (with code_verifier) or refresh_token grants."""
        client_id = basic_client_id or form.get("client_id")
        if not client_id:
            raise OAuthError("invalid_client", "client_id is required (form field or Basic auth)")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            with self._lock:
                code = self._codes.pop(form.get("code", ""), None)
            if code is None or code.expires < time.time():
                raise OAuthError("invalid_grant", "authorization code is unknown, used or expired")
            if code.client_id != client_id or code.redirect_uri != form.get("redirect_uri"):
                raise OAuthError("invalid_grant", "client_id or redirect_uri differ from the authorization")
            verifier = form.get("code_verifier", "")
            expected = pkce_challenge(verifier) if code.method == "S256" else verifier
            if not verifier or not hmac.compare_digest(expected, code.challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
            return self._issue(code.handle, client_id, code.scope)
        if grant == "refresh_token":
            with self._lock:
                old = self._refresh.pop(form.get("refresh_token", ""), None)
            if old is None or old.client_id != client_id:
                raise OAuthError("invalid_grant", "refresh token is unknown, used or of another client")
            return self._issue(old.handle, client_id, old.scope)
        raise OAuthError("unsupported_grant_type", f"grant_type {grant!r} is not supported")

    def _issue(self, handle: str, client_id: str, scope: str) -> dict[str, object]:
        access, _ = self.state.login(handle)
        body: dict[str, object] = {
            "token_type": "bearer",
            "expires_in": self.token_lifetime_s,
            "access_token": access,
            "scope": scope,
        }
        with self._lock:
            self._expires[access] = time.time() + self.token_lifetime_s
            if "offline.access" in scope.split():  # X: no refresh token without offline.access
                refresh = secrets.token_urlsafe(32)
                self._refresh[refresh] = _Refresh(handle, client_id, scope)
                body["refresh_token"] = refresh
        return body

    # ---- checking a request ------------------------------------------------------------------------
    def user_of(self, method: str, url: str, headers: dict[str, str]) -> str | None:
        """The handle a request acts for (Bearer user token or OAuth 1.0a signature), else None."""
        value = headers.get("authorization", "")
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "bearer" and credentials:
            expires = self._expires.get(credentials)
            if expires is not None and expires < time.time():
                return None
            return self.state.session_handle(credentials)
        if scheme == "OAuth":
            return self._oauth1_user(method, url, value)
        return None

    def _oauth1_user(self, method: str, url: str, header: str) -> str | None:
        try:
            params = dict(utils.parse_authorization_header(header))
        except (ValueError, IndexError):
            return None
        if (
            params.get("oauth_consumer_key") != OAUTH1_CONSUMER_KEY
            or params.get("oauth_token") != OAUTH1_ACCESS_TOKEN
            or params.get("oauth_signature_method") != "HMAC-SHA1"
        ):
            return None
        request = OAuthRequest(url, method, None, {"Authorization": header})
        request.params = signature.collect_parameters(
            uri_query=urlparse(url).query, headers={"Authorization": header}, exclude_oauth_signature=True
        )
        request.signature = utils.unescape(params.get("oauth_signature", ""))
        if not signature.verify_hmac_sha1(request, OAUTH1_CONSUMER_SECRET, OAUTH1_ACCESS_TOKEN_SECRET):
            return None
        return self.state.default_handle

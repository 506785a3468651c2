"""X API fixtures: X's published OpenAPI subsets (../shared/x-api beside the repo), a validator of real
httpx exchanges against them, and an OAuth 2.0 user token from the sandbox's own PKCE flow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from xbot_core.adapters.x_api import DEFAULT_CLIENT_ID
from xbot_core.sandbox.api_auth import pkce_challenge

REPO = Path(__file__).resolve().parents[2]
# ../shared beside the repository (CI, /work/main); a git worktree under /work/wt/<name> finds /work/shared
SHARED_CANDIDATES = (REPO.parent / "shared", REPO.parent.parent / "shared")
X_API_DIR = next((d for d in SHARED_CANDIDATES if d.is_dir()), SHARED_CANDIDATES[0]) / "x-api"
SCOPE = "tweet.read tweet.write users.read offline.access"
REDIRECT_URI = "http://127.0.0.1:9/callback"


@cache
def x_spec(version: str) -> OpenAPI:
    """X's spec subset of `version` (2.166 or 2.167), from ../shared/x-api relative to the repo root."""
    path = X_API_DIR / f"openapi-subset-{version}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: clone the shared folder beside the repository")
    # RFC 7807 bodies are JSON: openapi-core knows only application/json by default
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_file_path(str(path), config=config)


@dataclass
class _Req:
    """openapi-core's Request protocol over an httpx request, as if it had been sent to api.x.com."""

    raw: httpx.Request

    host_url = "https://api.x.com"

    @property
    def path(self) -> str:
        return self.raw.url.path

    @property
    def method(self) -> str:
        return self.raw.method.lower()

    @property
    def body(self) -> bytes | None:
        return self.raw.content or None

    @property
    def content_type(self) -> str:
        return self.raw.headers.get("content-type", "application/json")

    @property
    def parameters(self) -> RequestParameters:
        return RequestParameters(
            query=ImmutableMultiDict(list(self.raw.url.params.multi_items())),
            header=Headers(list(self.raw.headers.items())),
        )


@dataclass
class _Resp:
    raw: httpx.Response

    @property
    def status_code(self) -> int:
        return self.raw.status_code

    @property
    def content_type(self) -> str:
        return self.raw.headers.get("content-type", "")

    @property
    def headers(self) -> Headers:
        return Headers(list(self.raw.headers.items()))

    @property
    def data(self) -> bytes:
        return self.raw.content


def validate_exchange(response: httpx.Response, version: str = "2.167") -> None:
    """Raise unless the response (for its request) fits X's spec of `version`."""
    x_spec(version).validate_response(_Req(response.request), _Resp(response))


def oauth2_token(url: str, client_id: str = DEFAULT_CLIENT_ID, verifier: str = "v" * 64) -> dict[str, object]:
    """A user token through the sandbox's authorize + token endpoints (PKCE S256)."""
    with httpx.Client(base_url=url, timeout=10) as http:
        consent = http.get(
            "/i/oauth2/authorize",
            params={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": REDIRECT_URI,
                "scope": SCOPE,
                "state": "st",
                "code_challenge": pkce_challenge(verifier),
                "code_challenge_method": "S256",
            },
        )
        assert consent.status_code == 302, consent.text
        code = parse_qs(urlparse(consent.headers["location"]).query)["code"][0]
        token = http.post(
            "/2/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
                "client_id": client_id,
            },
        )
        token.raise_for_status()
        return dict(token.json())


@pytest.fixture
def api_token(sandbox_admin: object) -> str:
    """A bearer access token for the freshly reset sandbox's default account."""
    return str(oauth2_token(sandbox_admin.url)["access_token"])  # type: ignore[attr-defined]

"""Property-based fuzzing of the API from its OpenAPI schema (schemathesis): no 5xx, responses conform."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.plugins.api_dataset import ApiDataset
from xbot_core.api import create_app
from xbot_core.settings import load_settings

pytestmark = [pytest.mark.db, pytest.mark.slow]

TOKEN = "fuzz-token-0123456789abcdef0123456789"


# The schema comes from the app itself (building the app touches no database); the calls go to a live server.
# (schemathesis.pytest.from_fixture would fetch it from the server, but fails under pytest 9: no `_nodeid`.)
schema = schemathesis.openapi.from_dict(create_app(load_settings(api_token=TOKEN)).openapi())


@schema.auth()
class BearerAuth:
    """The right token on generated calls; schemathesis still sends its own unauthenticated negative cases."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
        return TOKEN

    def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture()
def live_api(api_dataset: ApiDataset, api_server: Callable[..., Any]) -> Iterator[str]:
    """A server over the seeded dataset with the token on, so auth is part of every call."""
    with api_server(api_token=TOKEN) as base:
        yield base


# Derandomized: CI draws the same cases on every run (a random draw once turned CI red on an input no change
# had touched: `as_of=6.4e-90` read as a Unix timestamp, now refused); more examples make up for the draw.
@schema.parametrize()
@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_schema_conformance(live_api: str, case: schemathesis.Case) -> None:
    response = case.call_and_validate(base_url=live_api)
    assert response.status_code < 500, response.text

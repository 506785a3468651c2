"""`?account=HANDLE` on the API's routes: another account's figures, the configured one by default, an unknown
handle a 404 naming it. The expectations come from the seeded dataset, as in test_api.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.db.test_api import _iso, assert_same, expected_growth, expected_ops
from tests.plugins.api import AS_OF, ApiDataset
from tests.plugins.api_dataset import API_HANDLE

pytestmark = pytest.mark.db


def test_account_parameter_selects_the_accounts_figures(
    api_dataset: ApiDataset, api_server: Callable[..., Any]
) -> None:
    with api_server() as base, httpx.Client(base_url=base) as http:  # the dataset's account is the default
        own_status = http.get("/api/learning/status").json()
    # a workspace whose default account is another one: the dataset's account is reached by ?account=
    with api_server(account_handle="agency_main") as base, httpx.Client(base_url=base) as http:
        growth = http.get("/api/growth", params={"as_of": _iso(AS_OF), "account": API_HANDLE}).json()
        ops = http.get("/api/metrics", params={"account": f"@{API_HANDLE}"}).json()
        status = http.get("/api/learning/status", params={"account": API_HANDLE}).json()
        prom = http.get("/metrics", params={"account": API_HANDLE}).text
        default_ops = http.get("/api/metrics").json()
        unknown = [
            http.get(path, params={"account": "nobody_here"})
            for path in ("/api/growth", "/api/metrics", "/api/learning/status", "/metrics")
        ]
        malformed = http.get("/api/growth", params={"account": "no such!"})

    assert_same(growth, expected_growth(api_dataset, AS_OF, simulated=False, limit=5))
    assert_same(ops, expected_ops(api_dataset, False))
    assert status == own_status
    assert 'xbot_posts{simulated="false",status="posted"} 9.0' in prom
    assert ops["posts"]["posted"] == 9 and set(default_ops["posts"].values()) == {0}  # default: agency_main
    for r in unknown:
        assert r.status_code == 404 and r.json() == {"detail": "no account 'nobody_here' (xbot account list)"}
    assert malformed.status_code == 422 and "'account'" in malformed.json()["message"]

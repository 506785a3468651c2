"""Several accounts in one sandbox, each with its own audience seed: different audiences, reproducible ones,
and audience.toml's own account unchanged by the others."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.plugins.sandbox import start_sandbox
from xbot_core.errors import ConfigError
from xbot_core.sandbox import audience
from xbot_core.sandbox.config import HostedAccount, SandboxConfig, load_audience_config, parse_hosted
from xbot_core.sandbox.state import SandboxState

AUDIENCE = load_audience_config()
HOSTED = (HostedAccount("acct_b", 11), HostedAccount("acct_c"))
TEXTS = ("Three things I learned shipping pricing pages", "Why onboarding emails fail")


def _post_all(state: SandboxState, handles: list[str]) -> dict[str, list[dict[str, int]]]:
    """Each account posts the same texts, an hour apart, in the same order; their true final metrics."""
    out: dict[str, list[dict[str, int]]] = {h: [] for h in handles}
    for text in TEXTS:
        for h in handles:
            out[h].append(state.create_post(h, text).final)
            state.advance(3600)
    return out


def test_hosted_audience_is_drawn_from_its_seed() -> None:
    # the reference: the same lognormal draws, in order, from the account's own generator
    rng = np.random.default_rng(np.random.SeedSequence([11, 0]))
    followers = round(1240 * float(rng.lognormal(0.0, 0.5)))
    reach, rates = float(rng.lognormal(0.0, 0.25)), float(rng.lognormal(0.0, 0.2))
    assert audience.account_audience(AUDIENCE, 11) == audience.AccountAudience(11, followers, reach, rates)
    assert audience.account_audience(AUDIENCE, 12) != audience.account_audience(AUDIENCE, 11)
    # no seed given: derived from (sandbox seed, handle), stable, and different per handle and sandbox seed
    assert audience.derived_seed(7, "acct_c") == audience.derived_seed(7, "ACCT_C")
    assert len({audience.derived_seed(7, "acct_c"), audience.derived_seed(8, "acct_c")}) == 2
    assert audience.derived_seed(7, "acct_c") != audience.derived_seed(7, "acct_d")


def test_accounts_get_different_reproducible_audiences(tmp_path: Path) -> None:
    handles = ["xbot_demo", "acct_b", "acct_c"]
    state = SandboxState(SandboxConfig(accounts=HOSTED), seed=7, state_dir=tmp_path)
    first = _post_all(state, handles)
    truth = state.ground_truth()
    assert truth["accounts"]["acct_b"]["audience_seed"] == 11
    assert truth["accounts"]["acct_c"]["audience_seed"] == audience.derived_seed(7, "acct_c")
    starts = {h: truth["accounts"][h]["initial_followers"] for h in handles}
    assert starts["xbot_demo"] == 1240 and len(set(starts.values())) == 3
    assert first["acct_b"] != first["acct_c"] != first["xbot_demo"]

    again = SandboxState(SandboxConfig(accounts=HOSTED), seed=7)  # same seeds, same actions: same numbers
    assert _post_all(again, handles) == first
    restored = SandboxState(SandboxConfig(accounts=HOSTED), seed=7, state_dir=tmp_path)  # from its file
    assert restored.ground_truth()["accounts"] == truth["accounts"]

    # audience.toml's account is untouched by the others: its numbers are those of a one-account sandbox
    alone = SandboxState(SandboxConfig(), seed=7)
    solo = []
    for text in TEXTS:
        solo.append(alone.create_post("xbot_demo", text).final)
        alone.advance(3 * 3600)  # the same post times as above (three accounts an hour apart)
    assert solo == first["xbot_demo"]


def test_admin_adds_an_account_reset_keeps_the_configured_ones() -> None:
    server = start_sandbox(SandboxConfig(accounts=HOSTED[:1]))
    auth = {"Authorization": f"Bearer {server.token}"}
    try:
        with httpx.Client(base_url=server.url) as http:
            added = http.post("/admin/accounts", json={"handle": "acct_d", "audience_seed": 5}, headers=auth)
            assert added.status_code == 200
            want = audience.account_audience(AUDIENCE, 5)
            assert added.json()["initial_followers"] == want.initial_followers
            assert http.post("/admin/accounts", json={"handle": "acct_d"}, headers=auth).status_code == 409
            login = http.post("/i/flow/login", data={"text": "acct_d"}, follow_redirects=False)
            assert login.status_code in (302, 303) and "auth_token" in login.cookies
            listed = [a["handle"] for a in http.get("/admin/accounts", headers=auth).json()["accounts"]]
            assert listed == ["xbot_demo", "acct_b", "acct_d"]
            assert http.post("/admin/reset", headers=auth).status_code == 200
            listed = [a["handle"] for a in http.get("/admin/accounts", headers=auth).json()["accounts"]]
            assert listed == ["xbot_demo", "acct_b"]
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("spec", "named"),
    [("bad handle", "--account 'bad handle'"), ("acct_b:seven", "audience seed"), ("a:-1", "audience seed")],
)
def test_bad_account_spec_is_one_clear_error(spec: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        parse_hosted(spec)


def test_parse_and_distinct_handles() -> None:
    assert parse_hosted("@acct_b:11") == HostedAccount("acct_b", 11)
    assert parse_hosted("acct_c") == HostedAccount("acct_c", None)
    with pytest.raises(ConfigError, match="distinct handles"):
        SandboxConfig(accounts=(HostedAccount("XBOT_DEMO"),))

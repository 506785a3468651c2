"""Audience simulator and sandbox state: pinned numbers, determinism, accrual, persistence, registry."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xbot_core.errors import ConfigError
from xbot_core.sandbox import audience
from xbot_core.sandbox.config import METRICS, SandboxConfig, load_audience_config
from xbot_core.sandbox.state import STATE_FILE, SandboxState, SandboxStateError, best_arms

CONFIG = load_audience_config()
BEST = audience.Perceived("insight", "question_cta", "late_evening", local_hour=20, weekday=0)


def test_accrual_share_pinned() -> None:
    # (1 - exp(-1/1.96)) / (1 - exp(-24/1.96)) and the same with tau 3 h, computed by hand
    assert round(audience.accrual_share(1, CONFIG.accrual.tau_hours), 5) == 0.39963
    assert round(audience.accrual_share(1, CONFIG.accrual.follow_tau_hours), 5) == 0.28356
    assert audience.accrual_share(0, 2.0) == 0.0
    assert audience.accrual_share(-3, 2.0) == 0.0
    assert audience.accrual_share(24, 2.0) == 1.0
    assert audience.accrual_share(100, 2.0) == 1.0


def test_accrued_counts_are_monotone_and_reach_the_final() -> None:
    final = dict.fromkeys(METRICS, 997)
    previous = dict.fromkeys(final, 0)
    for minutes in range(0, 24 * 60 + 1, 17):
        now = audience.accrued_metrics(CONFIG, final, minutes / 60)
        assert all(previous[m] <= now[m] <= final[m] for m in final)
        previous = now
    assert audience.accrued_metrics(CONFIG, final, 24) == final


def test_expected_reach_and_rates_pinned() -> None:
    # (260 + 0.3*1240) * 1.2 * 1.1 * 1.15 (arms) * 1.30 (20h) * 1.00 (Monday)
    assert round(audience.expected_reach(CONFIG, BEST, 1240), 5) == 1247.1888
    rates = audience.expected_rates(CONFIG, BEST)
    assert round(rates["new_follows"], 7) == 0.004896  # 0.0012 * 1.7 * 1.5 * 1.6
    assert round(rates["likes"], 7) == 0.050895  # 0.020 * 1.35 * 1.45 * 1.30
    neutral = audience.Perceived(None, None, None, local_hour=20, weekday=0)
    assert audience.expected_rates(CONFIG, neutral)["new_follows"] == CONFIG.rates.follow


def test_one_arm_per_scope_is_clearly_best() -> None:
    state = SandboxState(SandboxConfig())
    assert best_arms(state) == {
        "content_type": "insight",
        "hook_pattern": "question_cta",
        "timing_slot": "late_evening",
    }
    for scope, arms in CONFIG.arms.items():
        score = sorted((e.follow * e.engagement for e in arms.values()), reverse=True)
        assert score[0] >= 1.3 * score[1], scope  # a margin learning can find through the noise


def test_same_seed_and_id_same_draw_other_seed_differs() -> None:
    a = audience.draw_final_metrics(CONFIG, BEST, 1240, audience.post_rng(7, "2008055861867450368"))
    b = audience.draw_final_metrics(CONFIG, BEST, 1240, audience.post_rng(7, "2008055861867450368"))
    c = audience.draw_final_metrics(CONFIG, BEST, 1240, audience.post_rng(8, "2008055861867450368"))
    assert a == b
    assert a != c


def test_noise_is_heavy_but_arms_matter() -> None:
    neutral = audience.Perceived(None, None, None, local_hour=20, weekday=0)
    best = [audience.draw_final_metrics(CONFIG, BEST, 1240, audience.post_rng(1, str(i))) for i in range(400)]
    base = [
        audience.draw_final_metrics(CONFIG, neutral, 1240, audience.post_rng(1, str(i))) for i in range(400)
    ]
    imps = sorted(p["impressions"] for p in base)
    assert imps[-20] > 3 * imps[20]  # 5th vs 95th percentile: heavy reach noise
    fpki = lambda posts: 1000 * sum(p["new_follows"] for p in posts) / sum(p["impressions"] for p in posts)  # noqa: E731
    assert fpki(best) > 2.5 * fpki(base)


def test_state_is_reproducible_and_perceives_registered_content() -> None:
    def run() -> list[dict[str, int]]:
        s = SandboxState(SandboxConfig(), seed=11)
        s.remember_generated(
            "What would you cut first?", content_type="insight", hook_pattern="question_cta", topic="focus"
        )
        s.set_clock(datetime(2026, 1, 5, 20, 30, tzinfo=UTC))
        posts = [
            s.create_post("xbot_demo", "What would you cut first?"),
            s.create_post("xbot_demo", "Unknown."),
        ]
        assert (posts[0].content_type, posts[0].hook_pattern, posts[0].timing_slot) == (
            "insight",
            "question_cta",
            "late_evening",
        )
        assert (posts[1].content_type, posts[1].hook_pattern) == (None, None)
        return [p.final for p in posts]

    assert run() == run()


def test_unknown_registry_arms_are_neutral_not_errors() -> None:
    s = SandboxState(SandboxConfig())
    s.remember_generated("x", content_type="listicle", hook_pattern=None, topic=None)  # type: ignore[arg-type]
    assert s.perceived_content("x") == {"topic": None, "content_type": None, "hook_pattern": None}


def test_followers_grow_with_follows_and_organically() -> None:
    s = SandboxState(SandboxConfig())
    start = s.follower_count("xbot_demo")
    assert start == CONFIG.account.initial_followers
    post = s.create_post("xbot_demo", "One post.")
    s.advance(48 * 3600)
    assert s.follower_count("xbot_demo") == start + post.final["new_follows"] + 2 * 2  # 2 organic per day


def test_posts_refuse_bad_text_and_duplicates() -> None:
    s = SandboxState(SandboxConfig())
    s.create_post("xbot_demo", "Hello there")
    with pytest.raises(SandboxStateError, match="duplicate"):
        s.create_post("xbot_demo", "Hello   there ")
    with pytest.raises(SandboxStateError, match="empty"):
        s.create_post("xbot_demo", "   ")
    with pytest.raises(SandboxStateError, match="281 characters"):
        s.create_post("xbot_demo", "a" * 281)
    with pytest.raises(SandboxStateError, match="@nobody"):
        s.create_post("nobody", "hi")


def test_ids_are_increasing_snowflakes_at_the_same_virtual_time() -> None:
    s = SandboxState(SandboxConfig())
    ids = [int(s.create_post("xbot_demo", f"post {i}").tweet_id) for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    ms = (ids[0] >> 22) + 1288834974657
    assert datetime.fromtimestamp(ms / 1000, UTC) == s.now()


def test_state_survives_a_restart(tmp_path: Path) -> None:
    s = SandboxState(SandboxConfig(), seed=5, state_dir=tmp_path)
    s.remember_generated("Kept", content_type="tip", hook_pattern="how_to", topic=None)
    post = s.create_post("xbot_demo", "Kept")
    token, _ = s.login("xbot_demo")
    s.advance(3600)
    s.set_faults(rate_limit_next=2)
    assert stat.S_IMODE((tmp_path / STATE_FILE).stat().st_mode) == 0o600
    again = SandboxState(SandboxConfig(), seed=5, state_dir=tmp_path)
    assert again.now() == s.now()
    assert again.post(post.tweet_id) == post
    assert again.session_handle(token) == "xbot_demo"
    assert again.faults()["rate_limit_next"] == 2
    assert again.create_post("xbot_demo", "Next").tweet_id > post.tweet_id
    again.reset()
    assert json.loads((tmp_path / STATE_FILE).read_text())["posts"] == {}


def test_bad_audience_file_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "a.toml"
    bad.write_text(
        (Path(audience.__file__).with_name("audience.toml")).read_text().replace("sigma = 0.75", "sigma = -1")
    )
    with pytest.raises(ConfigError, match=r"reach\.sigma"):
        load_audience_config(bad)

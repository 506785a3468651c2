"""Arms for imported history: the rules on hand-made texts, and their agreement with 60 real posts labelled
by hand (tests/data/x_history_labels.csv, written before the rules)."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.x_analytics_data import CURRENT_FILE, exports_dir, legacy_files
from xbot_core.domain.catalog import CONTENT_TYPES, HOOK_PATTERNS
from xbot_core.domain.history_arms import (
    OUTSIDE_SLOTS,
    UNKNOWN,
    content_type,
    history_arms,
    hook_pattern,
    is_thread,
    timing_slot,
)
from xbot_core.domain.x_analytics import parse_export

LABELS = Path(__file__).resolve().parent.parent / "data" / "x_history_labels.csv"


@pytest.mark.parametrize(
    ("text", "hook"),
    [
        ("What is the one metric you check first?", "question_cta"),
        ("Shipping weekly beats shipping perfect. What do you think", "question_cta"),
        ("5 ways to write a better hook", "number_list"),
        ("1. From nested ifelse to plater", "number_list"),
        ("A voice doc does two jobs. - sounds like you", "number_list"),
        ("You don't need UTMs to track calls.", "contrarian"),
        ("How to turn one call into ten posts", "how_to"),
        ("Pick one format and go all in.", "how_to"),
        ("The best sales call is the one they sold themselves.", "bold_claim"),
        ("Thanks to everyone who came", UNKNOWN),
        ("https://t.co/abc", UNKNOWN),
    ],
)
def test_hook_rules(text: str, hook: str) -> None:
    assert hook_pattern(text) == hook


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("New ver. of rgbif on CRAN https://t.co/x", "resource"),
        ("[blog] Onboarded software series", "resource"),
        ("A prospect got on a call yesterday and asked about videos.", "story"),
        ("Everyone is using the same tools.", "hot_take"),
        ("Record a voice note, then hand it to AI.", "tip"),
        ("Booked calls is the metric I rank first.", "insight"),
        ("Wow.", UNKNOWN),
    ],
)
def test_content_type_rules(text: str, kind: str) -> None:
    assert content_type(text) == kind


def test_timing_slot_only_when_the_time_is_known() -> None:
    at = datetime(2017, 1, 30, 19, 5, tzinfo=UTC)
    assert timing_slot(at, True, "UTC") == OUTSIDE_SLOTS  # 19:05 is in no slot
    assert timing_slot(at, True, "America/New_York") == OUTSIDE_SLOTS  # 14:05 local: midday ends at 14
    assert timing_slot(datetime(2017, 1, 30, 17, 5, tzinfo=UTC), True, "America/New_York") == "midday"
    assert timing_slot(datetime(2017, 1, 30, 21, 0, tzinfo=UTC), True, "UTC") == "late_evening"
    assert timing_slot(datetime(2026, 7, 31, 12, 0, tzinfo=UTC), False, "UTC") == UNKNOWN


def test_thread_markers() -> None:
    assert is_thread("Onboarded software series: ropenaq #rstats 1/4 https://t.co/x")
    assert is_thread("(2/3) and more")
    assert not is_thread("rates went from 1/2 of posts")  # a fraction mid-text is not a marker
    assert not is_thread("see https://t.co/1/4abc")


def _labelled_posts() -> dict[str, tuple[str, datetime, bool]]:
    posts = {}
    for f in [exports_dir() / CURRENT_FILE, *legacy_files()]:
        for r in parse_export(f.read_bytes(), f.name).rows:
            posts[r.tweet_id] = (r.text, r.posted_at, r.time_known)
    return posts


def test_agreement_with_60_hand_labelled_real_posts(capsys: pytest.CaptureFixture[str]) -> None:
    labels = list(csv.DictReader(LABELS.open(encoding="utf-8")))
    assert len(labels) == 60
    assert {r["content_type"] for r in labels} <= {*CONTENT_TYPES, UNKNOWN}
    assert {r["hook_pattern"] for r in labels} <= {*HOOK_PATTERNS, UNKNOWN}
    posts = _labelled_posts()
    agree: Counter[str] = Counter()
    misses: list[str] = []
    for r in labels:
        text, at, known = posts[r["tweet_id"]]
        arms = history_arms(text, at, known, "UTC")
        for scope in ("content_type", "hook_pattern"):
            got = getattr(arms, scope)
            if got == r[scope]:
                agree[scope] += 1
            else:
                misses.append(f"{r['tweet_id']} {scope}: rule {got}, hand {r[scope]}")
    with capsys.disabled():
        print(
            f"\nrules vs hand labels (60 real posts): content_type {agree['content_type']}/60, "
            f"hook_pattern {agree['hook_pattern']}/60"
        )
        print("\n".join(misses))
    # pinned: a rule change that moves agreement must update these numbers on purpose
    assert (agree["content_type"], agree["hook_pattern"]) == (48, 54)

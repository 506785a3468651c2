"""Post features and output validation, pinned by numbers computed by hand."""

from __future__ import annotations

import math

import pytest

from xbot_core.domain import features as f
from xbot_core.domain.features import FeatureConfig


def test_tfidf_cosine_pinned_by_hand() -> None:
    # docs "red apple" and "red car": smooth idf = ln((1+n)/(1+df)) + 1 → red 1, apple = car = ln(3/2) + 1
    w = math.log(3 / 2) + 1
    expected = 1 / (1 + w * w)  # (1·1) / (|[1, w]| · |[1, w]|)
    assert round(expected, 5) == 0.33610
    assert f.max_similarity("red apple", ["red car"]) == pytest.approx(expected, abs=1e-9)
    assert f.max_similarity("red apple", ["red car", "Red apple!"]) == pytest.approx(1.0)
    assert f.max_similarity("anything", []) == 0.0
    assert f.max_similarity("a b", ["c d"]) == 0.0  # no token of two characters: nothing comparable


def test_novelty_dup_penalty_and_duplicate_flag() -> None:
    feats = f.compute_features("red apple", ["red car"])
    assert feats.novelty == pytest.approx(1 - 0.336097, abs=1e-6)
    assert feats.dup_penalty == 0.0 and not feats.is_duplicate
    same = f.compute_features("Ship small changes daily.", ["ship small changes daily"])
    assert same.novelty == pytest.approx(0.0) and same.dup_penalty == 1.0 and same.is_duplicate
    assert f.dup_penalty(0.675) == pytest.approx(0.5)  # (0.675 − 0.5) / (0.85 − 0.5)
    assert f.dup_penalty(0.3) == 0.0 and f.dup_penalty(0.99) == 1.0
    with pytest.raises(ValueError):
        FeatureConfig(dup_soft_similarity=0.9, duplicate_similarity=0.85)


def test_readability_is_flesch_reading_ease_pinned_by_hand() -> None:
    # 6 words, 1 sentence, 6 syllables: 206.835 − 1.015·6 − 84.6·1
    assert round(f.readability("The cat sat on the mat."), 5) == 116.145
    # 7 words, 1 sentence, syllables mea-sure ev-ery-thing be-fore you change the plan = 11 (Pyphen)
    assert round(f.readability("Measure everything before you change the plan."), 5) == round(
        206.835 - 1.015 * 7 - 84.6 * 11 / 7, 5
    )
    assert round(f.readability("The cat sat on the mat. The dog ran to the park."), 5) == 116.145


def test_readability_never_downloads_nltk_data(monkeypatch: pytest.MonkeyPatch) -> None:
    import nltk

    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("nltk data requested: would need the network")

    monkeypatch.setattr(nltk, "download", refuse)
    monkeypatch.setattr(nltk.data, "find", refuse)
    assert f.readability("A brand new sentence nobody measured before today.") > 0


def test_sentiment_is_vader_compound_pinned_by_hand() -> None:
    # lexicon valence of "good" is 1.9; compound = x / sqrt(x² + 15), rounded by VADER to 4 decimals
    assert f.sentiment("The food is good") == round(1.9 / math.sqrt(1.9**2 + 15), 4) == 0.4404
    assert f.sentiment("The food is bad") < 0
    assert f.sentiment("") == 0.0
    for text in ("I love it!!! :)", "terrible awful horrible disaster"):
        assert -1 <= f.sentiment(text) <= 1


def test_weighted_length_emoji_and_hashtags() -> None:
    # héllo(5) + ' '(1) + 👍🏽(2) + ' '(1) + URL(23) + ' '(1) + 日本(2·2)
    assert f.weighted_length("héllo 👍🏽 https://example.com/a/very/long/path 日本") == 37
    assert f.weighted_length("a  b\n c") == 5  # normalised whitespace
    assert f.count_emoji("👍🏽 hi 🇺🇸 ❤️ 👨‍👩‍👧 © ™ 1") == 4  # skin tone, flag, VS16 heart, ZWJ family
    assert f.hashtags("#ai rocks #1 a#b &#38; #ml_2 ＃日本") == ["ai", "ml_2", "日本"]


def test_validate_post_names_every_problem() -> None:
    ok = f.validate_post("How to ship: small steps. 🚀", allow_hashtags=False)
    assert ok.ok and ok.problems == ()
    bad = f.validate_post("x" * 281 + " 😀😀😀😀 #ai", allow_hashtags=False)
    assert bad.problems == (
        "it is 294 characters long; the limit is 280",
        "it has 4 emoji; at most 3 are allowed",
        "hashtags are not allowed (found #ai)",
    )
    assert f.validate_post("Ship it #ai", allow_hashtags=True).ok
    assert f.validate_post("x" * 280, allow_hashtags=False).ok
    assert f.validate_post("   ", allow_hashtags=False).problems == ("the post is empty",)


def test_clean_output_removes_wrapping_quotes_only() -> None:
    assert f.clean_output('  "Ship it.\n\n Today."  ') == "Ship it. Today."
    assert f.clean_output("“Ship it.”") == "Ship it."
    assert f.clean_output('He said "go" now') == 'He said "go" now'

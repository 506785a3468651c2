"""Text features of a generated post and its validation, computed locally (no network).

novelty = 1 − max TF-IDF cosine to the account's recent posts; dup_penalty rises from 0 at a soft
similarity to 1 at the duplicate threshold; readability = Flesch reading ease (textstat); sentiment = VADER
compound in [-1, 1].
Validation follows X's weighted length (twitter-text v3: most non-Latin code points and every emoji count 2, a
URL counts 23), an emoji cap and the hashtag setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import regex

from xbot_core.domain.text import content_hash, normalize_text

if TYPE_CHECKING:
    from textstat.textstat import textstatistics
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# scikit-learn, textstat (NLTK) and VADER are imported where a feature is computed: importing them cost
# 5-6 CPU seconds, paid before by every process that imports the services (each report kernel, the API,
# every CLI command) although only generation and the history prior compute features

# twitter-text v3 config: code points in these ranges weigh 1, all others 2; URLs weigh 23; emoji weigh 2
_LIGHT_RANGES: tuple[tuple[int, int], ...] = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
URL_WEIGHT = 23
_URL = regex.compile(r"https?://[^\s]+", regex.IGNORECASE)
_GRAPHEME = regex.compile(r"\X")
_PICTO = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")
_EMOJI_PRESENTATION = regex.compile(r"\p{Emoji_Presentation}|\uFE0F|\p{Regional_Indicator}")
# a hashtag as X links it: '#' not preceded by a word char or '&', with at least one letter
_HASHTAG = regex.compile(r"(?<![\w&])[#＃](\w*[^\W\d_]\w*)")

# textstat >= 0.7.4 looks syllables up in NLTK's cmudict for 'en'/'en_*' and downloads it on first use, which
# cannot work offline. The tag 'en-US' has another language root, so textstat uses its bundled Pyphen
# dictionary for syllables while the English Flesch constants still apply (textstat falls back to 'en').
_TEXTSTAT_LANG = "en-US"


@dataclass(frozen=True)
class FeatureConfig:
    """Tunable thresholds of the features and of output validation."""

    max_chars: int = 280
    max_emoji: int = 3
    duplicate_similarity: float = 0.85  # at or above: skipped as a duplicate
    dup_soft_similarity: float = 0.5  # below: no duplicate penalty
    recent_days: int = 30

    def __post_init__(self) -> None:
        if not 0 <= self.dup_soft_similarity < self.duplicate_similarity <= 1:
            raise ValueError("need 0 <= dup_soft_similarity < duplicate_similarity <= 1")


@dataclass(frozen=True)
class OutputCheck:
    """Validation result of an LLM output: ok, or the problems found (phrased for a corrective prompt)."""

    text: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class PostFeatures:
    """Features stored on a decision (content_metadata columns)."""

    content_hash: str
    max_similarity: float
    novelty: float
    dup_penalty: float
    readability_score: float
    sentiment: float
    is_duplicate: bool


def _code_point_weight(ch: str) -> int:
    cp = ord(ch)
    return 1 if any(lo <= cp <= hi for lo, hi in _LIGHT_RANGES) else 2


def _is_emoji(cluster: str) -> bool:
    return bool(_PICTO.search(cluster)) and bool(_EMOJI_PRESENTATION.search(cluster))


def count_emoji(text: str) -> int:
    """Emoji as users see them: one per grapheme cluster (skin tones, flags, ZWJ families count once)."""
    return sum(1 for cluster in _GRAPHEME.findall(text) if _is_emoji(cluster))


def hashtags(text: str) -> list[str]:
    """Hashtags X would link (without '#'); '#1' is not one."""
    return _HASHTAG.findall(text)


def weighted_length(text: str) -> int:
    """Length as X counts it against the 280 limit (twitter-text v3 weighting) of the normalised text."""
    text = normalize_text(text)
    total = 0
    pos = 0
    for m in _URL.finditer(text):
        total += _plain_weight(text[pos : m.start()]) + URL_WEIGHT
        pos = m.end()
    return total + _plain_weight(text[pos:])


def _plain_weight(text: str) -> int:
    total = 0
    for cluster in _GRAPHEME.findall(text):
        total += 2 if _is_emoji(cluster) else sum(_code_point_weight(c) for c in cluster)
    return total


def clean_output(raw: str) -> str:
    """The post text from an LLM answer: normalised whitespace, one pair of wrapping quotes removed."""
    text = normalize_text(raw)
    for left, right in (('"', '"'), ("“", "”"), ("'", "'")):
        if len(text) >= 2 and text.startswith(left) and text.endswith(right):
            text = normalize_text(text[1:-1])
            break
    return text


def validate_post(text: str, *, allow_hashtags: bool, config: FeatureConfig | None = None) -> OutputCheck:
    """Check a cleaned post against X's length, the emoji cap and the hashtag setting."""
    cfg = config or FeatureConfig()
    problems: list[str] = []
    if not text.strip():
        problems.append("the post is empty")
    length = weighted_length(text)
    if length > cfg.max_chars:
        problems.append(f"it is {length} characters long; the limit is {cfg.max_chars}")
    n_emoji = count_emoji(text)
    if n_emoji > cfg.max_emoji:
        problems.append(f"it has {n_emoji} emoji; at most {cfg.max_emoji} are allowed")
    tags = hashtags(text)
    if tags and not allow_hashtags:
        problems.append("hashtags are not allowed (found " + ", ".join("#" + t for t in tags) + ")")
    return OutputCheck(text=text, problems=tuple(problems))


def max_similarity(text: str, recent: Sequence[str]) -> float:
    """Highest TF-IDF cosine between the text and any recent post (0.0 when there is none to compare)."""
    corpus = [t for t in recent if t.strip()]
    if not corpus or not text.strip():
        return 0.0
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    vectorizer = TfidfVectorizer(lowercase=True, strip_accents="unicode")
    try:
        matrix = vectorizer.fit_transform([text, *corpus])
    except ValueError:  # no token of two or more word characters anywhere: nothing to compare
        return 0.0
    sims = cosine_similarity(matrix[0:1], matrix[1:])
    return float(min(1.0, max(0.0, sims.max())))


def dup_penalty(similarity: float, config: FeatureConfig | None = None) -> float:
    """0 below the soft similarity, rising linearly to 1 at the duplicate threshold."""
    cfg = config or FeatureConfig()
    span = cfg.duplicate_similarity - cfg.dup_soft_similarity
    return float(min(1.0, max(0.0, (similarity - cfg.dup_soft_similarity) / span)))


@cache
def _textstat() -> textstatistics:
    from textstat.textstat import textstatistics

    ts = textstatistics()
    ts.set_lang(_TEXTSTAT_LANG)
    ts.set_rounding(False)
    return ts


@cache
def _vader() -> SentimentIntensityAnalyzer:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def readability(text: str) -> float:
    """Flesch reading ease (higher is easier; tweets typically 30–100, can exceed 100)."""
    return float(_textstat().flesch_reading_ease(text))


def sentiment(text: str) -> float:
    """VADER compound score in [-1, 1]."""
    return float(_vader().polarity_scores(text)["compound"])


def compute_features(text: str, recent: Sequence[str], config: FeatureConfig | None = None) -> PostFeatures:
    """All stored features of a post against the account's recent posts."""
    cfg = config or FeatureConfig()
    sim = max_similarity(text, recent)
    return PostFeatures(
        content_hash=content_hash(text),
        max_similarity=sim,
        novelty=1.0 - sim,
        dup_penalty=dup_penalty(sim, cfg),
        readability_score=readability(text),
        sentiment=sentiment(text),
        is_duplicate=sim >= cfg.duplicate_similarity,
    )

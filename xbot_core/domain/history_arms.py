"""The bandit's arms for imported history, by pure rules on a post's text and time; `unknown` where the data
cannot tell.

Rules are deliberately plain (first sentence, a few word lists) so a reader can predict them; their agreement
with 60 hand-labelled real posts is reported by tests/unit/test_history_arms.py. A day-only post (current
export) never gets a timing slot: `unknown`, never an invented hour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from xbot_core.domain.catalog import slot_of_hour

UNKNOWN = "unknown"
OUTSIDE_SLOTS = "outside_slots"  # a known time of day that falls in none of the catalog's slots

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_TAG = re.compile(r"^\s*\[[^\]]{1,20}\]\s*")  # "[blog] ", "[technote] "
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\s+-\s+|\n+")
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten"
_THREAD = re.compile(r"^\(?\d{1,2}/\d{1,2}\)?\s|\s\(?\d{1,2}/\d{1,2}\)?$")  # at the start or the end
_NUMBER_LIST = re.compile(
    rf"^\s*(?:\d+[.)]?\s|(?:{_NUMBER_WORDS}|\d+)\s+(?:ways|things|reasons|tips|steps|lessons|mistakes|rules"
    rf"|jobs|habits|tools|ideas)\b)|\b(?:does|has|needs|takes)\s+(?:{_NUMBER_WORDS}|\d+)\s+\w+",
    re.IGNORECASE,
)
_CTA = re.compile(
    r"\b(?:what do you think|reply with|let me know|tell me|drop (?:a|your)|comment below|which one)\b",
    re.IGNORECASE,
)
_HOW_TO = re.compile(r"^\s*(?:how to|how i|here'?s how|here is how|step \d|getting\b)", re.IGNORECASE)
_IMPERATIVE = frozenset(
    "pick write use try build record answer let give start keep capture export ask make run turn post "
    "invest read join add stop avoid learn share check follow really".split()
)
_CONTRARIAN = re.compile(
    r"^\s*(?:unpopular opinion|hot take|you don'?t need|stop\b|don'?t\b|most people|everyone is|nobody"
    r"|forget\b|i'?m not going to|a beginner)"
    r"|\bis why\b|\boverrated\b|\bmyth\b|\bnot even\b|\bstill have no\b",
    re.IGNORECASE,
)
_BOLD = re.compile(
    r"\b(?:the best|the only|the most|the worst|never|always|is useless|will beat|nobody|every)\b",
    re.IGNORECASE,
)
_STORY = re.compile(
    r"^\s*(?:someone|a (?:client|prospect|friend|customer)\b|yesterday|last (?:week|month|year))"
    r"|\b(?:i|we) (?:saw|had|was|were|did|asked|watched|got|made|built|tried|went|figured)\b"
    r"|\bi'?ve been\b|\bmy clients\b|\byesterday\b",
    re.IGNORECASE,
)
_HOT_TAKE = re.compile(
    r"\b(?:unpopular opinion|hot take|overrated|everyone is|i'?m not going to|will beat)\b", re.IGNORECASE
)
_RESOURCE_START = re.compile(r"^\s*(?:new ver|new version|video is up|\w+ news is out)\b", re.IGNORECASE)


@dataclass(frozen=True)
class HistoryArms:
    """The arms of one imported post, per scope (catalog names, or `unknown`)."""

    content_type: str
    hook_pattern: str
    timing_slot: str
    is_thread: bool


def _body(text: str) -> str:
    """The text without links and a leading [tag], whitespace collapsed."""
    return " ".join(_URL.sub(" ", _TAG.sub("", text)).split())


def _first_sentence(body: str) -> str:
    return _SENTENCE_END.split(body.strip(), maxsplit=1)[0] if body.strip() else ""


def is_thread(text: str) -> bool:
    """A thread marker such as `1/5` or `(2/3)`."""
    return bool(_THREAD.search(" ".join(_URL.sub(" ", text).split())))


def hook_pattern(text: str) -> str:
    """question_cta, number_list, contrarian, how_to or bold_claim from the opening; else unknown."""
    body = _body(text)
    if not body:
        return UNKNOWN
    first = _first_sentence(body)
    if body.rstrip(" .!#").endswith("?") or first.endswith("?") or _CTA.search(body):
        return "question_cta"
    if _NUMBER_LIST.search(first) or re.match(r"\d+[.)]\s", body):
        return "number_list"
    if _CONTRARIAN.search(first):
        return "contrarian"
    words = re.findall(r"[a-z']+", first.lower())
    if _HOW_TO.match(first) or (words and words[0] in _IMPERATIVE):
        return "how_to"
    if _BOLD.search(first):
        return "bold_claim"
    return UNKNOWN


def content_type(text: str) -> str:
    """resource (a link or a release/newsletter), story, hot_take, tip or insight; else unknown."""
    if _URL.search(text) or _TAG.match(text) or _RESOURCE_START.match(text):
        return "resource"
    body = _body(text)
    if not body:
        return UNKNOWN
    if _STORY.search(body):
        return "story"
    if _HOT_TAKE.search(body):
        return "hot_take"
    first = _first_sentence(body)
    words = re.findall(r"[a-z']+", first.lower())
    imperative = bool(words) and words[0] in _IMPERATIVE
    if (
        imperative
        or _HOW_TO.match(first)
        or re.search(r"\s-\s\w", body)
        or re.search(r"\byou\b", first, re.I)
    ):
        return "tip"
    if re.search(r"\b(?:is|are|was|does)\b", first, re.IGNORECASE):
        return "insight"
    return UNKNOWN


def timing_slot(posted_at: datetime, time_known: bool, tz: str) -> str:
    """The catalog slot of the local hour; `outside_slots` when known but in none; `unknown` when the
    export gave a day only."""
    if not time_known:
        return UNKNOWN
    return slot_of_hour(posted_at.astimezone(ZoneInfo(tz)).hour) or OUTSIDE_SLOTS


def history_arms(text: str, posted_at: datetime, time_known: bool, tz: str) -> HistoryArms:
    """All scopes of one post."""
    return HistoryArms(
        content_type=content_type(text),
        hook_pattern=hook_pattern(text),
        timing_slot=timing_slot(posted_at, time_known, tz),
        is_thread=is_thread(text),
    )

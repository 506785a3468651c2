"""Content-type labels from an LLM (`xbot import x-analytics --classify llm`): the prompt, and the validation
of the answer. Only the catalog's content types (or `unknown`) are accepted; anything else is stored as
`unknown` and counted as invalid, never guessed into a type."""

from __future__ import annotations

import re
from dataclasses import dataclass

from xbot_core.domain.catalog import CONTENT_TYPES
from xbot_core.domain.history_arms import UNKNOWN

PURPOSE = "classify_content_type"  # llm_usage.purpose of these calls
MAX_TOKENS = 8  # one label
MAX_TEXT_CHARS = 1000  # a post is at most 280 weighted characters; longer input is cut, never sent whole
TASK_LINE = f"task: {PURPOSE}"
SYSTEM = (
    "You label posts from X by content type. Answer with exactly one word from this list and nothing else: "
    + ", ".join((*CONTENT_TYPES, UNKNOWN))
    + ". tip: advice the reader can act on; insight: an observation or lesson; story: something that "
    "happened; hot_take: a provocative opinion; resource: a link, release, newsletter or tool; unknown: none."
)
__all__ = ["MAX_TOKENS", "PURPOSE", "UNKNOWN", "Label", "messages", "parse_label"]
_NOISE = re.compile(r"^(?:content[ _-]?type|label|answer|category)\s*[:=-]\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Label:
    """A validated answer: the catalog type (or unknown), the raw words, and whether they were valid."""

    content_type: str
    raw: str
    valid: bool


def messages(text: str) -> list[dict[str, str]]:
    """The chat messages that ask for one text's content type."""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"{TASK_LINE}\ntext: {text[:MAX_TEXT_CHARS]}"},
    ]


def parse_label(raw: str) -> Label:
    """Validate an answer: case, surrounding quotes/punctuation, a `Content type:` prefix and spaces or
    hyphens for underscores are forgiven; any other answer is `unknown`, marked invalid."""
    word = _NOISE.sub("", raw.strip()).strip(" \t\r\n\"'`.*!")
    word = re.sub(r"[\s-]+", "_", word.lower())
    if word in CONTENT_TYPES or word == UNKNOWN:
        return Label(word, raw.strip()[:200], True)
    return Label(UNKNOWN, raw.strip()[:200], False)

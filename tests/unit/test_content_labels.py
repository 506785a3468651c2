"""Validation of an LLM's content-type answer (domain/content_labels.py): catalog types or `unknown`, nothing
guessed."""

from __future__ import annotations

import pytest

from xbot_core.domain.content_labels import messages, parse_label


@pytest.mark.parametrize(
    ("raw", "label", "valid"),
    [
        ("insight", "insight", True),
        (" Insight.\n", "insight", True),
        ("Content type: Hot take", "hot_take", True),
        ('"resource"', "resource", True),
        ("unknown", "unknown", True),
        ("other", "unknown", False),
        ("This post is a tip because", "unknown", False),
        ("", "unknown", False),
    ],
)
def test_parse_label(raw: str, label: str, valid: bool) -> None:
    got = parse_label(raw)
    assert (got.content_type, got.valid) == (label, valid)


def test_the_prompt_carries_the_task_line_and_a_bounded_text() -> None:
    system, user = messages("x" * 5000)
    assert "tip, insight, story, hot_take, resource, unknown" in system["content"]
    assert user["content"].startswith("task: classify_content_type\ntext: ")
    assert len(user["content"]) == len("task: classify_content_type\ntext: ") + 1000

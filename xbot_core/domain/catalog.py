"""The arms the bandit chooses between, per scope, and the hours each timing slot covers.

One place for the vocabulary shared by the planner, the generator's prompt templates, the sandbox's
audience simulator and the reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCOPES: tuple[str, ...] = ("content_type", "hook_pattern", "timing_slot")

CONTENT_TYPES: tuple[str, ...] = ("tip", "insight", "story", "hot_take", "resource")
HOOK_PATTERNS: tuple[str, ...] = ("question_cta", "bold_claim", "number_list", "how_to", "contrarian")
# slot name -> [start_hour, end_hour) in the account's local time zone
TIMING_SLOTS: dict[str, tuple[int, int]] = {
    "morning": (8, 10),
    "midday": (12, 14),
    "afternoon": (16, 18),
    "late_evening": (20, 22),
}


@dataclass(frozen=True)
class ArmCatalog:
    """Arms per scope; tunable, with the defaults above."""

    content_type: tuple[str, ...] = CONTENT_TYPES
    hook_pattern: tuple[str, ...] = HOOK_PATTERNS
    timing_slot: tuple[str, ...] = tuple(TIMING_SLOTS)
    slot_hours: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(TIMING_SLOTS))

    def arms(self, scope: str) -> tuple[str, ...]:
        if scope not in SCOPES:
            raise KeyError(f"unknown scope {scope!r}; expected one of {SCOPES}")
        return tuple(getattr(self, scope))


def slot_of_hour(hour: int, slots: dict[str, tuple[int, int]] | None = None) -> str | None:
    """The timing slot containing a local hour, or None outside every slot."""
    for name, (start, end) in (slots or TIMING_SLOTS).items():
        if start <= hour < end:
            return name
    return None

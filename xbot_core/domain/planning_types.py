"""The planner's output: one planned decision, consumed as-is by the generation service.

A stable, frozen record so planning (bandit + experiments) and generation (LLM + insert) stay decoupled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Policy = Literal["thompson", "ucb1", "epsilon_greedy", "experiment", "uniform", "fixed"]
Variant = Literal["control", "treatment"]


@dataclass(frozen=True)
class PlannedDecision:
    """Arms per scope, when to post, and the probability the logging policy gave each choice.

    `propensity` is the product of the per-scope probabilities (scopes are chosen independently). When the
    decision is in an experiment, `experiment_id`/`variant` are set and the experiment's scope carries the
    marginal probability of its arm, share·1[a = T] + (1 − share)·π_b(a) (xbot_core.domain.override);
    `policy` is "experiment" for a treatment decision, else the bandit policy that chose the arms.
    """

    decision_id: uuid.UUID
    content_type: str
    hook_pattern: str
    timing_slot: str
    scheduled_at: datetime
    policy: Policy
    p_content_type: float
    p_hook_pattern: float
    p_timing_slot: float
    propensity: float
    experiment_id: int | None = None
    variant: Variant | None = None

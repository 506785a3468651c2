"""Generate the text of planned decisions and queue them: prompt → LLM → validation → features → insert.

Invalid output gets one corrective retry, then the decision is skipped (never queued). A post too similar to
the account's recent posts is skipped as a duplicate. Budget refusals skip the rest of the batch with no call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from string import Template
from typing import Protocol
from uuid import UUID

from psycopg_pool import ConnectionPool

from xbot_core.adapters.db import repositories as repo
from xbot_core.adapters.llm.client import ChatResult, Message
from xbot_core.domain.catalog import CONTENT_TYPES, HOOK_PATTERNS
from xbot_core.domain.features import (
    FeatureConfig,
    PostFeatures,
    clean_output,
    compute_features,
    validate_post,
)
from xbot_core.domain.planning_types import PlannedDecision
from xbot_core.domain.text import content_hash
from xbot_core.errors import BudgetExceededError, CircuitOpenError, ConfigError, LLMError, QuotaExceededError
from xbot_core.services.loop.planning import record_assignment
from xbot_core.settings import Settings

log = logging.getLogger("xbot.generation")

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
DEFAULT_TOPICS: tuple[str, ...] = (
    "shipping small changes",
    "code review",
    "writing clear docs",
    "testing in production safely",
    "focus and deep work",
    "pricing a side project",
    "growing an audience",
    "learning in public",
)
RECENT_LIMIT = 2000  # posts compared for novelty; 30 days of a busy account


class GenerationLLM(Protocol):
    """The budgeted LLM (xbot_core.services.operations.budget.BudgetedLLM) as the generator uses it."""

    model: str

    def complete(
        self,
        messages: Sequence[Message],
        *,
        purpose: str,
        max_tokens: int,
        seed: int | None = None,
        decision_id: UUID | None = None,
    ) -> ChatResult: ...


@dataclass(frozen=True)
class GenerationResult:
    """What happened to one planned decision."""

    decision_id: UUID
    status: str  # queued | skipped
    skip_reason: str | None
    content: str | None
    features: PostFeatures | None
    llm_calls: int
    prompt_template: str


def template_name(content_type: str, hook_pattern: str) -> str:
    return f"{content_type}__{hook_pattern}"


@cache
def _read(name: str) -> Template:
    path = PROMPTS_DIR / f"{name}.txt"
    if not path.is_file():
        raise ConfigError(f"no prompt template {path.name} in {PROMPTS_DIR}")
    return Template(path.read_text(encoding="utf-8"))


def check_templates() -> list[str]:
    """Names of every template the arm catalog needs (raises ConfigError if one is missing)."""
    names = [template_name(c, h) for c in CONTENT_TYPES for h in HOOK_PATTERNS] + ["system", "correction"]
    for n in names:
        _read(n)
    return names


def _rules(settings: Settings, cfg: FeatureConfig) -> dict[str, object]:
    return {
        "max_chars": cfg.max_chars,
        "max_emoji": cfg.max_emoji,
        "hashtag_rule": "hashtags are allowed (one at most)" if settings.allow_hashtags else "no hashtags",
    }


def build_messages(
    decision: PlannedDecision, topic: str, settings: Settings, cfg: FeatureConfig
) -> list[Message]:
    """System + user prompt from the decision's template; the arms appear as parseable `name: value` lines."""
    user = _read(template_name(decision.content_type, decision.hook_pattern)).substitute(
        topic=topic, **_rules(settings, cfg)
    )
    return [
        {"role": "system", "content": _read("system").substitute()},
        {"role": "user", "content": user},
    ]


def correction_messages(
    messages: list[Message],
    answer: str,
    problems: Sequence[str],
    decision: PlannedDecision,
    topic: str,
    settings: Settings,
    cfg: FeatureConfig,
) -> list[Message]:
    """The conversation plus the rejected answer and a corrective instruction naming what was wrong."""
    fix = _read("correction").substitute(
        content_type=decision.content_type,
        hook_pattern=decision.hook_pattern,
        topic=topic,
        problems="; ".join(problems),
        **_rules(settings, cfg),
    )
    return [*messages, {"role": "assistant", "content": answer}, {"role": "user", "content": fix}]


def topic_for(decision_id: UUID, topics: Sequence[str]) -> str:
    """A topic chosen deterministically from the decision id."""
    if not topics:
        raise ConfigError("at least one topic is needed to generate posts")
    return topics[decision_id.int % len(topics)]


def recent_posts(pool: ConnectionPool, account_id: int, since: datetime) -> list[str]:
    """The account's queued and live posts scheduled since `since` (the novelty reference set)."""
    with pool.connection() as conn:
        return repo.recent_post_texts(conn, account_id, since=since, limit=RECENT_LIMIT)


def _store(
    pool: ConnectionPool,
    d: PlannedDecision,
    *,
    account_id: int,
    simulated: bool,
    status: str,
    skip_reason: str | None,
    text: str | None,
    feats: PostFeatures | None,
    model: str,
    template: str,
) -> None:
    row = repo.DecisionRow(
        decision_id=d.decision_id,
        account_id=account_id,
        content=text,
        content_hash=content_hash(text) if text else None,
        status=status,
        skip_reason=skip_reason,
        generation_source="real",
        simulated=simulated,
        scheduled_at=d.scheduled_at,
        content_type=d.content_type,
        hook_pattern=d.hook_pattern,
        timing_slot=d.timing_slot,
        policy=d.policy,
        p_content_type=d.p_content_type,
        p_hook_pattern=d.p_hook_pattern,
        p_timing_slot=d.p_timing_slot,
        propensity=d.propensity,
        experiment_id=d.experiment_id,
        novelty=feats.novelty if feats else None,
        dup_penalty=feats.dup_penalty if feats else None,
        readability_score=feats.readability_score if feats else None,
        sentiment=feats.sentiment if feats else None,
        llm_model=model,
        prompt_template=template,
    )
    with pool.connection() as conn, conn.transaction():
        if not repo.insert_decision(conn, row):
            log.warning("decision %s already stored; left unchanged", d.decision_id)
            return
        record_assignment(conn, d)


@dataclass
class _Draft:
    """One decision's way through generation: the text, its features, the LLM calls spent, the verdict."""

    text: str | None = None
    feats: PostFeatures | None = None
    calls: int = 0
    reason: str | None = None  # None: queued

    @property
    def status(self) -> str:
        return "queued" if self.reason is None else "skipped"


class _Writer:
    """Writes one decision's post: prompt → LLM → validation (one corrective retry) → features."""

    def __init__(self, llm: GenerationLLM, settings: Settings, cfg: FeatureConfig, recent: list[str]) -> None:
        self.llm, self.settings, self.cfg, self.recent = llm, settings, cfg, recent

    def _ask(self, draft: _Draft, messages: list[Message], purpose: str, d: PlannedDecision) -> str:
        """One budgeted LLM call; returns the raw answer and keeps the cleaned text on the draft."""
        draft.calls += 1
        res = self.llm.complete(
            messages,
            purpose=purpose,
            max_tokens=self.settings.openai_max_tokens,
            seed=d.decision_id.int % 2**31,
            decision_id=d.decision_id,
        )
        draft.text = clean_output(res.text)
        return res.text

    def _check(self, text: str) -> list[str]:
        check = validate_post(text, allow_hashtags=self.settings.allow_hashtags, config=self.cfg)
        return [] if check.ok else list(check.problems)

    def write(self, draft: _Draft, d: PlannedDecision, topic: str) -> None:
        """Fill `draft` (LLM errors propagate; the calls already spent stay counted on it)."""
        messages = build_messages(d, topic, self.settings, self.cfg)
        answer = self._ask(draft, messages, "generate_post", d)
        problems = self._check(draft.text or "")
        if problems:
            log.info(
                "decision %s: invalid output (%s); one corrective retry", d.decision_id, "; ".join(problems)
            )
            fix = correction_messages(messages, answer, problems, d, topic, self.settings, self.cfg)
            self._ask(draft, fix, "generate_post_correction", d)
            problems = self._check(draft.text or "")
        if problems:
            draft.reason = "invalid_output: " + "; ".join(problems)
            return
        draft.feats = compute_features(draft.text or "", self.recent, self.cfg)
        if draft.feats.is_duplicate:
            draft.reason = f"duplicate: similarity {draft.feats.max_similarity:.3f} to a recent post"
        else:
            self.recent.append(draft.text or "")


def generate_posts(
    pool: ConnectionPool,
    llm: GenerationLLM,
    planned: list[PlannedDecision],
    *,
    account_id: int,
    now: datetime,
    simulated: bool,
    settings: Settings,
    topics: Sequence[str] = DEFAULT_TOPICS,
    config: FeatureConfig | None = None,
) -> list[GenerationResult]:
    """Generate, validate, featurise and store each planned decision (status queued or skipped).

    A budget, circuit or quota refusal skips the rest of the batch without another call.
    """
    cfg = config or FeatureConfig()
    writer = _Writer(
        llm, settings, cfg, recent_posts(pool, account_id, now - timedelta(days=cfg.recent_days))
    )
    results: list[GenerationResult] = []
    stop_reason: str | None = None
    for d in planned:
        template = template_name(d.content_type, d.hook_pattern)
        draft = _Draft(reason=stop_reason)
        if stop_reason is None:
            try:
                writer.write(draft, d, topic_for(d.decision_id, topics))
            except (BudgetExceededError, CircuitOpenError, QuotaExceededError) as exc:
                stop_reason = draft.reason = f"{_kind(exc)}: {exc}"
                draft.text = None
                log.warning("generation stopped: %s", stop_reason)
            except LLMError as exc:
                draft.reason, draft.text = f"llm_error: {exc}", None
        _store(
            pool,
            d,
            account_id=account_id,
            simulated=simulated,
            status=draft.status,
            skip_reason=draft.reason,
            text=draft.text,
            feats=draft.feats,
            model=llm.model,
            template=template,
        )
        results.append(
            GenerationResult(
                d.decision_id, draft.status, draft.reason, draft.text, draft.feats, draft.calls, template
            )
        )
    return results


def _kind(exc: LLMError) -> str:
    if isinstance(exc, BudgetExceededError):
        return "budget_exceeded"
    if isinstance(exc, CircuitOpenError):
        return "circuit_open"
    return "quota_exceeded"

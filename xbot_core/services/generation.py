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
from xbot_core.adapters.db.queries import query
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
from xbot_core.services.planning import record_assignment
from xbot_core.settings import Settings, get_settings

log = logging.getLogger("xbot.generation")

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
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
    """The budgeted LLM (xbot_core.services.budget.BudgetedLLM) as the generator uses it."""

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
        rows = conn.execute(
            query("recent_account_posts"), {"account_id": account_id, "since": since, "limit": RECENT_LIMIT}
        ).fetchall()
    return [r[0] for r in rows]


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


def generate_posts(
    pool: ConnectionPool,
    llm: GenerationLLM,
    planned: list[PlannedDecision],
    *,
    account_id: int,
    now: datetime,
    simulated: bool,
    settings: Settings | None = None,
    topics: Sequence[str] = DEFAULT_TOPICS,
    config: FeatureConfig | None = None,
) -> list[GenerationResult]:
    """Generate, validate, featurise and store each planned decision (status queued or skipped)."""
    settings = settings or get_settings()
    cfg = config or FeatureConfig()
    recent = recent_posts(pool, account_id, now - timedelta(days=cfg.recent_days))
    results: list[GenerationResult] = []
    stop_reason: str | None = None
    for d in planned:
        template = template_name(d.content_type, d.hook_pattern)
        topic = topic_for(d.decision_id, topics)
        text: str | None = None
        feats: PostFeatures | None = None
        calls = 0
        status, reason = "skipped", stop_reason
        if stop_reason is None:
            messages = build_messages(d, topic, settings, cfg)
            seed = d.decision_id.int % 2**31
            try:
                calls += 1
                res = llm.complete(
                    messages,
                    purpose="generate_post",
                    max_tokens=settings.openai_max_tokens,
                    seed=seed,
                    decision_id=d.decision_id,
                )
                text = clean_output(res.text)
                check = validate_post(text, allow_hashtags=settings.allow_hashtags, config=cfg)
                if not check.ok:
                    log.info(
                        "decision %s: invalid output (%s); one corrective retry",
                        d.decision_id,
                        "; ".join(check.problems),
                    )
                    fix = correction_messages(messages, res.text, check.problems, d, topic, settings, cfg)
                    calls += 1
                    res = llm.complete(
                        fix,
                        purpose="generate_post_correction",
                        max_tokens=settings.openai_max_tokens,
                        seed=seed,
                        decision_id=d.decision_id,
                    )
                    text = clean_output(res.text)
                    check = validate_post(text, allow_hashtags=settings.allow_hashtags, config=cfg)
                if not check.ok:
                    reason = "invalid_output: " + "; ".join(check.problems)
                else:
                    feats = compute_features(text, recent, cfg)
                    if feats.is_duplicate:
                        reason = f"duplicate: similarity {feats.max_similarity:.3f} to a recent post"
                    else:
                        status, reason = "queued", None
                        recent.append(text)
            except (BudgetExceededError, CircuitOpenError, QuotaExceededError) as exc:
                stop_reason = reason = f"{_kind(exc)}: {exc}"
                text = None
                log.warning("generation stopped: %s", stop_reason)
            except LLMError as exc:
                reason, text = f"llm_error: {exc}", None
        assert reason is not None or status == "queued"
        _store(
            pool,
            d,
            account_id=account_id,
            simulated=simulated,
            status=status,
            skip_reason=reason,
            text=text,
            feats=feats,
            model=llm.model,
            template=template,
        )
        results.append(GenerationResult(d.decision_id, status, reason, text, feats, calls, template))
    return results


def _kind(exc: LLMError) -> str:
    if isinstance(exc, BudgetExceededError):
        return "budget_exceeded"
    if isinstance(exc, CircuitOpenError):
        return "circuit_open"
    return "quota_exceeded"

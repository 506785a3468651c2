"""OpenAI-compatible `POST /v1/chat/completions` of the sandbox, with fault injection for tests and demos.

The answer is deterministic: a plausible post composed from the `content_type:`, `hook_pattern:` and `topic:`
lines of the prompt, seeded by the messages and the request's `seed`. Usage approximates a BPE tokenizer.
A prompt with the line `task: classify_content_type` (domain/content_labels.py) is answered with a label
instead: the content type the sandbox generated the text with, else the history rules' type
(domain/history_arms.py), and where the rules cannot tell, `other` — an answer outside the list, as real
models sometimes give, which the client must reject.
Faults (`POST /admin/llm/faults`) are consumed one per request in this order: insufficient_quota, rate limit,
server error, slow response, invalid output.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from xbot_core.domain.content_labels import TASK_LINE
from xbot_core.domain.history_arms import UNKNOWN, content_type

log = logging.getLogger(__name__)

InvalidKind = Literal["too_long", "too_many_emoji", "hashtags"]

_HOOKS: dict[str, tuple[str, ...]] = {
    "question_cta": (
        "Quick question: how do you handle {topic}?",
        "What is the one thing you would change about {topic}?",
        "Be honest: is {topic} working for you?",
        "Where do you get stuck with {topic}?",
    ),
    "bold_claim": (
        "{Topic} is the most underrated skill this year.",
        "Most teams get {topic} completely wrong.",
        "Nobody talks about this side of {topic}.",
        "{Topic} decides more outcomes than talent does.",
    ),
    "number_list": (
        "3 things I learned about {topic}:",
        "5 habits that make {topic} easier:",
        "2 rules I follow for {topic}:",
        "4 signs your {topic} needs work:",
    ),
    "how_to": (
        "How to get better at {topic} in a week:",
        "How I approach {topic}, step by step:",
        "How to make {topic} boring (in a good way):",
        "How to start with {topic} today:",
    ),
    "contrarian": (
        "Unpopular opinion: {topic} is overrated.",
        "Everyone says {topic} needs more process. I disagree.",
        "Stop optimising {topic}. Do this instead.",
        "The usual advice on {topic} is backwards.",
    ),
}
_BODIES: dict[str, tuple[str, ...]] = {
    "tip": (
        "Write the checklist before you need it.",
        "Keep every change small enough to review in five minutes.",
        "Block one hour a week just for cleanup.",
        "Measure one number and ignore the rest for a month.",
        "Automate the step you forgot last time.",
    ),
    "insight": (
        "The teams that win repeat the basics longer than feels necessary.",
        "Speed comes from fewer handoffs, not from working later.",
        "Most problems were visible in the data weeks earlier.",
        "Clarity beats effort once a project has more than three people.",
        "Feedback loops shorter than a day change how people think.",
    ),
    "story": (
        "Last year I skipped this and lost two weeks fixing it later.",
        "A friend tried the opposite and shipped twice as often.",
        "My first attempt failed loudly. The second one was quiet and worked.",
        "We argued about it for a month, then tested it in an afternoon.",
        "I learned this from a mistake I still remember clearly.",
    ),
    "hot_take": (
        "Most of the advice out there is written by people who never shipped.",
        "Tools matter far less than the habits around them.",
        "If it needs a meeting to explain, it is too complicated.",
        "Half of the best practices are just old workarounds.",
        "Consistency beats brilliance nearly every time.",
    ),
    "resource": (
        "The best guide I found is a plain checklist I now keep pinned.",
        "A short weekly review template did more than any course.",
        "Bookmark the official docs and read one page a day.",
        "Keep a log of every decision and why you made it.",
        "One free notebook of worked examples taught me more than a book.",
    ),
}
_CLOSERS: tuple[str, ...] = (
    "",
    "Try it this week.",
    "What would you add?",
    "Small steps, every day.",
    "Your future self will thank you.",
    "Start smaller than you think.",
)
_EMOJI: tuple[str, ...] = ("🚀", "🔥", "✅", "💡", "📈")
_CLASSIFY_TEXT = re.compile(rf"^{re.escape(TASK_LINE)}\s*\ntext: (.*)\Z", re.DOTALL)
_FIELD = re.compile(r"^\s*(content_type|hook_pattern|topic)\s*:\s*(.+?)\s*$", re.MULTILINE)
_TOKEN_PIECE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def count_tokens(text: str) -> int:
    """Approximate BPE token count: one per punctuation mark, one per word up to 6 characters, more beyond."""
    return sum(1 + (len(p) - 1) // 6 for p in _TOKEN_PIECE.findall(text))


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """Tokens of a chat prompt: content plus OpenAI's per-message (3) and reply-priming (3) overhead."""
    return 3 + sum(3 + count_tokens(str(m.get("content") or "")) for m in messages)


def parse_prompt(messages: list[dict[str, Any]]) -> dict[str, str]:
    """content_type / hook_pattern / topic from the `name: value` lines of the messages (last one wins)."""
    found: dict[str, str] = {}
    for m in messages:
        for key, value in _FIELD.findall(str(m.get("content") or "")):
            found[key] = value
    return found


def compose_post(fields: dict[str, str], rng: random.Random) -> str:
    """A plausible post for the requested arms and topic."""
    topic = fields.get("topic") or "building in public"
    hooks = _HOOKS.get(fields.get("hook_pattern", ""), _HOOKS["bold_claim"])
    bodies = _BODIES.get(fields.get("content_type", ""), _BODIES["insight"])
    hook = rng.choice(hooks).format(topic=topic, Topic=topic[:1].upper() + topic[1:])
    picked = rng.sample(bodies, k=2)
    closer = rng.choice(_CLOSERS)
    if fields.get("hook_pattern") == "number_list":
        body = "\n".join(f"{i}. {b}" for i, b in enumerate(picked, 1))
    else:
        body = " ".join(picked)
    parts = [hook, body] + ([closer] if closer else [])
    text = "\n\n".join(parts)
    if rng.random() < 0.3:
        text += " " + rng.choice(_EMOJI)
    return text


def classification(messages: list[dict[str, Any]], state: Any) -> str | None:
    """The label answering a content-type classification prompt; None when the prompt is no such task."""
    for m in reversed(messages):
        found = _CLASSIFY_TEXT.match(str(m.get("content") or ""))
        if found:
            text = found.group(1)
            perceived = getattr(state, "perceived_content", None)
            generated = perceived(text) if perceived is not None else None
            if generated and generated.get("content_type"):
                return str(generated["content_type"])
            label = content_type(text)
            return "other" if label == UNKNOWN else label
    return None


def make_invalid(text: str, kind: str, rng: random.Random) -> str:
    """Break a valid post the way a real model sometimes does."""
    if kind == "too_many_emoji":
        return text + " " + "".join(rng.sample(_EMOJI, k=5))
    if kind == "hashtags":
        return text + " #growth #buildinpublic"
    return (text + " ") * 4 + "And one more thing worth repeating: " + text  # too_long


class FaultSpec(BaseModel):
    """Faults for the next requests; each count is consumed one per request."""

    insufficient_quota: int = Field(default=0, ge=0, description="429 insufficient_quota this many times.")
    rate_limit: int = Field(default=0, ge=0, description="429 rate_limit_exceeded this many times.")
    retry_after_s: float | None = Field(default=None, ge=0, description="retry-after header on rate limits.")
    server_error: int = Field(default=0, ge=0, description="500 server_error this many times.")
    slow_ms: int = Field(default=0, ge=0, le=120_000, description="Delay before answering.")
    slow_count: int = Field(default=1, ge=0, description="How many requests are delayed by slow_ms.")
    invalid_output: int = Field(default=0, ge=0, description="This many answers break validation.")
    invalid_kind: InvalidKind = Field(default="too_long", description="How the invalid answers break.")


@dataclass
class LLMSandbox:
    """Mutable endpoint state: pending faults and request counters (thread-safe)."""

    faults: FaultSpec = field(default_factory=FaultSpec)
    requests: int = 0
    completions: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> tuple[str | None, int, str | None]:
        """Count a request and consume its fault: (error kind or None, slow ms, invalid kind or None)."""
        with self.lock:
            self.requests += 1
            f = self.faults
            error = None
            for name in ("insufficient_quota", "rate_limit", "server_error"):
                if getattr(f, name) > 0:
                    setattr(f, name, getattr(f, name) - 1)
                    error = name
                    break
            if error:
                self.errors[error] = self.errors.get(error, 0) + 1
                return error, 0, None
            slow = 0
            if f.slow_ms and f.slow_count > 0:
                f.slow_count -= 1
                slow = f.slow_ms
            invalid = None
            if f.invalid_output > 0:
                f.invalid_output -= 1
                invalid = f.invalid_kind
            self.completions += 1
            return None, slow, invalid

    def reset(self) -> None:
        with self.lock:
            self.faults = FaultSpec()
            self.requests = 0
            self.completions = 0
            self.errors = {}

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "completions": self.completions,
                "errors": dict(self.errors),
                "pending_faults": self.faults.model_dump(),
            }


def _error(status: int, message: str, type_: str, code: str | None, headers: dict[str, str] | None = None):
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _fault_response(kind: str, retry_after_s: float | None) -> JSONResponse:
    if kind == "insufficient_quota":
        return _error(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        )
    if kind == "rate_limit":
        headers = {"x-ratelimit-remaining-requests": "0"}
        if retry_after_s is not None:
            headers["retry-after"] = f"{retry_after_s:g}"
            headers["retry-after-ms"] = str(round(retry_after_s * 1000))
        return _error(
            429,
            "Rate limit reached for requests. Please try again shortly.",
            "requests",
            "rate_limit_exceeded",
            headers,
        )
    return _error(500, "The server had an error while processing your request.", "server_error", None)


def build_llm_router(state: Any) -> APIRouter:
    """/v1/chat/completions and the /admin/llm fault admin; `state.remember_generated` sees every post."""
    sandbox = LLMSandbox()
    router = APIRouter()

    @router.post("/v1/chat/completions", tags=["llm"])
    async def chat_completions(request: Request) -> JSONResponse:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return _error(401, "You didn't provide an API key.", "invalid_request_error", "invalid_api_key")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "The request body is not valid JSON.", "invalid_request_error", None)
        messages = body.get("messages") if isinstance(body, dict) else None
        model = body.get("model") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages or not isinstance(model, str):
            return _error(
                400, "'model' and a non-empty 'messages' list are required.", "invalid_request_error", None
            )
        retry_after = sandbox.faults.retry_after_s
        error, slow_ms, invalid = sandbox.take()
        if error:
            log.info("sandbox llm fault %s", error)
            return _fault_response(error, retry_after)
        if slow_ms:
            await asyncio.sleep(slow_ms / 1000)

        fields = parse_prompt(messages)
        seed_material = json.dumps([messages, body.get("seed")], sort_keys=True, default=str)
        rng = random.Random(int.from_bytes(hashlib.sha256(seed_material.encode()).digest()[:8], "big"))
        label = classification(messages, state)
        text = label if label is not None else compose_post(fields, rng)
        if invalid:
            text = make_invalid(text, invalid, rng)
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "stop"
        if isinstance(max_tokens, int) and max_tokens > 0 and count_tokens(text) > max_tokens:
            words = text.split(" ")
            while words and count_tokens(" ".join(words)) > max_tokens:
                words.pop()
            text, finish = " ".join(words), "length"
        remember = getattr(state, "remember_generated", None)
        if remember is not None and label is None:
            remember(
                text,
                content_type=fields.get("content_type"),
                hook_pattern=fields.get("hook_pattern"),
                topic=fields.get("topic"),
            )
        p_tok, c_tok = prompt_tokens(messages), count_tokens(text)
        return JSONResponse(
            {
                "id": "chatcmpl-" + uuid.UUID(int=rng.getrandbits(128)).hex[:24],
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "system_fingerprint": "fp_xbot_sandbox",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
                "usage": {"prompt_tokens": p_tok, "completion_tokens": c_tok, "total_tokens": p_tok + c_tok},
            },
            headers={"x-request-id": "req_" + uuid.uuid4().hex},
        )

    @router.post("/admin/llm/faults", tags=["admin"])
    def set_faults(spec: FaultSpec) -> dict[str, Any]:
        """Replace the pending LLM faults (counts are consumed one per request)."""
        with sandbox.lock:
            sandbox.faults = spec
        return sandbox.stats()

    @router.delete("/admin/llm/faults", tags=["admin"])
    def clear_faults() -> dict[str, Any]:
        """Drop pending faults and zero the counters."""
        sandbox.reset()
        return sandbox.stats()

    @router.get("/admin/llm/stats", tags=["admin"])
    def stats() -> dict[str, Any]:
        """Requests seen, completions answered, errors injected, faults still pending."""
        return sandbox.stats()

    return router

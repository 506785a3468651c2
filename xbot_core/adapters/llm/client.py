"""Chat completions through the real `openai` package: SDK retries off, explicit timeout, our retry layer."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import openai

from xbot_core.adapters.llm.retry import BackoffPolicy, build_retrying, is_quota_error
from xbot_core.errors import LLMError, QuotaExceededError
from xbot_core.settings import Settings

Message = dict[str, str]


@dataclass(frozen=True)
class ChatResult:
    """One completion and what it cost in tokens."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None
    attempts: int


class ChatLLM(Protocol):
    """What the generator needs from an LLM."""

    model: str

    def complete(
        self, messages: Sequence[Message], *, purpose: str, max_tokens: int, seed: int | None = None
    ) -> ChatResult: ...


def _fail(exc: LLMError, attempts: int) -> LLMError:
    exc.attempts = attempts  # type: ignore[attr-defined]  # read by the budget to record the usage row
    return exc


class OpenAIChatClient:
    """ChatLLM over the OpenAI API (or the sandbox's compatible endpoint). Never logs the key."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        model: str,
        timeout_s: float,
        policy: BackoffPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.model = model
        self.policy = policy or BackoffPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> OpenAIChatClient:
        return cls(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            model=settings.openai_model,
            timeout_s=settings.openai_timeout_s,
            **kwargs,
        )

    def complete(
        self, messages: Sequence[Message], *, purpose: str, max_tokens: int, seed: int | None = None
    ) -> ChatResult:
        """One chat completion with at most `policy.max_retries` retries on transient errors.

        Raises QuotaExceededError (never retried) or LLMError; both carry `.attempts`.
        """
        attempts = 0

        def call() -> Any:
            nonlocal attempts
            attempts += 1
            return self._client.chat.completions.create(
                model=self.model,
                messages=list(messages),  # type: ignore[arg-type]
                max_tokens=max_tokens,
                seed=seed,
            )

        retrying = build_retrying(self.policy, purpose=purpose, rng=self._rng, sleep=self._sleep)
        try:
            resp = retrying(call)
        except openai.RateLimitError as exc:
            if is_quota_error(exc):
                raise _fail(QuotaExceededError(f"insufficient quota: {exc.message}"), attempts) from exc
            raise _fail(LLMError(f"rate limited after {attempts} attempts: {exc.message}"), attempts) from exc
        except openai.APITimeoutError as exc:
            raise _fail(LLMError(f"timed out after {attempts} attempts"), attempts) from exc
        except openai.APIStatusError as exc:
            raise _fail(
                LLMError(f"HTTP {exc.status_code} after {attempts} attempts: {exc.message}"), attempts
            ) from exc
        except openai.APIError as exc:
            raise _fail(LLMError(f"{type(exc).__name__} after {attempts} attempts: {exc}"), attempts) from exc
        if not resp.choices:
            raise _fail(LLMError("the completion has no choices"), attempts)
        choice = resp.choices[0]
        usage = resp.usage
        if usage is None:
            raise _fail(LLMError("the completion reports no token usage"), attempts)
        return ChatResult(
            text=choice.message.content or "",
            model=resp.model or self.model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            finish_reason=choice.finish_reason,
            attempts=attempts,
        )

    def close(self) -> None:
        self._client.close()

"""The one retry layer of LLM calls: which errors are transient, and how long to wait before each retry.

Rate limits (429 except insufficient_quota), 5xx and timeouts wait 500 ms → 1 s → 2 s with ±30 %
multiplicative jitter, at most 2 retries; a longer `retry-after` from the server wins.
Quota errors never retry.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import openai
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

log = logging.getLogger("xbot.llm")

Reason = Literal["rate_limit", "server_error", "timeout"]


@dataclass(frozen=True)
class BackoffPolicy:
    """Exponential backoff with multiplicative jitter; every value tunable, defaults as the design says."""

    base_s: float = 0.5
    factor: float = 2.0
    jitter: float = 0.3
    max_retries: int = 2

    def nominal(self, retry: int) -> float:
        """Delay before retry number `retry` (1-based) without jitter."""
        return self.base_s * self.factor ** (retry - 1)

    def bounds(self, retry: int) -> tuple[float, float]:
        """Smallest and largest jittered delay before retry `retry`."""
        n = self.nominal(retry)
        return n * (1 - self.jitter), n * (1 + self.jitter)

    def delay(self, retry: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        """Jittered delay, or the server's retry-after when that is longer."""
        lo, hi = self.bounds(retry)
        d = rng.uniform(lo, hi)
        return max(d, retry_after_s) if retry_after_s is not None else d


def is_quota_error(exc: BaseException) -> bool:
    """A 429 whose code or type says the account is out of quota (billing), not rate limited."""
    return isinstance(exc, openai.RateLimitError) and "insufficient_quota" in (exc.code, exc.type)


def transient_reason(exc: BaseException) -> Reason | None:
    """Why an error is worth retrying, or None when it is not."""
    if isinstance(exc, openai.RateLimitError):
        return None if is_quota_error(exc) else "rate_limit"
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
        return "server_error"
    return None


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's retry-after-ms / retry-after (seconds or HTTP date) header, if any."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def build_retrying(
    policy: BackoffPolicy,
    *,
    purpose: str,
    rng: random.Random,
    sleep: Callable[[float], None] = time.sleep,
) -> Retrying:
    """A tenacity Retrying with an explicit stop and wait; logs one OPENAI_BACKOFF line per retry."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return policy.delay(state.attempt_number, rng, retry_after_seconds(exc) if exc else None)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "OPENAI_BACKOFF purpose=%s attempt=%d delay=%.3fs reason=%s",
            purpose,
            state.attempt_number,
            delay,
            transient_reason(exc) if exc else None,
        )

    return Retrying(
        stop=stop_after_attempt(policy.max_retries + 1),
        wait=wait,
        retry=retry_if_exception(lambda e: transient_reason(e) is not None),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )

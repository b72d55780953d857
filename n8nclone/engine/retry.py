"""Retry policy: the one place retry defaults and backoff live."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from n8nclone.engine.errors import NonRetriableError, RetryAfterError
from n8nclone.expressions import ExpressionError
from n8nclone.store.clock import utcnow


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    at: datetime | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """`retries` tries after the first; backoff base * 2**(n-1), +-20% jitter, capped."""

    retries: int = 3
    base_seconds: float = 1.0
    cap_seconds: float = 300.0
    jitter: float = 0.2

    def backoff(self, failed_attempt: int) -> float:
        # The exponent is bounded so a late attempt cannot overflow float; the cap is
        # applied after the jitter so no delay ever exceeds it.
        exponent = min(max(0, failed_attempt - 1), 64)
        delay = min(self.cap_seconds, self.base_seconds * (2.0 ** exponent))
        jittered = delay * (1 + random.uniform(-self.jitter, self.jitter))
        return max(0.0, min(self.cap_seconds, jittered))

    def decide(self, exc: BaseException, failed_attempt: int,
               now: datetime | None = None) -> RetryDecision:
        """Retry after `failed_attempt` (1-based) failed with `exc`?"""
        now = now or utcnow()
        if isinstance(exc, (NonRetriableError, ExpressionError)):
            return RetryDecision(False)
        if failed_attempt > self.retries:
            return RetryDecision(False)
        if isinstance(exc, RetryAfterError):
            after = exc.retry_after
            if isinstance(after, datetime):
                # a naive datetime is taken as UTC (RetryAfterError's contract)
                at = after if after.tzinfo else after.replace(tzinfo=UTC)
            else:
                at = now + timedelta(seconds=float(after))
            return RetryDecision(True, max(at, now))
        return RetryDecision(True, now + timedelta(seconds=self.backoff(failed_attempt)))

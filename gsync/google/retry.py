"""Bounded truncated exponential backoff with jitter (Google's advice for 429 and 5xx).

Google: "wait min((2^n + random_number_milliseconds), maximum_backoff)" with a maximum of 32-64 s.
gspread's own BackOffHTTPClient never gives up in practice, so gsync bounds the attempts itself.
Log lines name the API method and the status only: never a URL query, a body or a value.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

log = logging.getLogger("gsync.retry")

T = TypeVar("T")

#: Statuses worth another try: rate limit, server errors, service unavailable.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. `base_s` and `cap_s` can be shrunk by tests."""

    max_attempts: int = 6
    base_s: float = 1.0
    cap_s: float = 32.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry number `retry_number` (0-based)."""
        return min(self.cap_s, self.base_s * (2**retry_number) + self.rng.uniform(0, self.base_s))

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The default policy; GSYNC_RETRY_BASE_S / GSYNC_RETRY_ATTEMPTS override it (tests, CI)."""
        base = float(os.environ.get("GSYNC_RETRY_BASE_S", "1.0"))
        attempts = int(os.environ.get("GSYNC_RETRY_ATTEMPTS", "6"))
        return cls(
            max_attempts=max(1, attempts), base_s=base, cap_s=max(base, 32.0 * min(base, 1.0))
        )


def call_with_retry(
    fn: Callable[[], T],
    *,
    what: str,
    status_of: Callable[[BaseException], int | None],
    policy: RetryPolicy | None = None,
) -> T:
    """Call `fn`; on a retryable failure wait and call again, at most `policy.max_attempts` times.

    `status_of(exc)` returns the HTTP status of a failed call, 0 for a connection-level failure
    (reset, timeout), or None for an error that must not be retried. The last failure is re-raised.
    """
    policy = policy or RetryPolicy.from_env()
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            status = status_of(exc)
            retryable = status == 0 or (status is not None and status in RETRY_STATUSES)
            attempt += 1
            if not retryable or attempt >= policy.max_attempts:
                if retryable:
                    log.warning(
                        "%s: giving up after %d attempts (last status %s)",
                        what,
                        attempt,
                        status or "connection error",
                    )
                raise
            wait = policy.delay(attempt - 1)
            log.info(
                "%s: %s, retry %d of %d in %.2fs",
                what,
                f"HTTP {status}" if status else "connection error",
                attempt,
                policy.max_attempts - 1,
                wait,
            )
            policy.sleep(wait)

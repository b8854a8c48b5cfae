"""Circuit breaker state machine (reference section 2): Closed -> Open -> HalfOpen -> Closed.

Time is passed in (seconds on a monotonic clock), so the machine is testable without sleeping.
"""

from __future__ import annotations

import enum

import attrs


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@attrs.define
class CircuitBreaker:
    name: str
    failure_threshold: int = 10
    recovery_timeout_s: float = 30.0
    half_open_max_calls: int = 3
    state: BreakerState = BreakerState.CLOSED
    consecutive_failures: int = 0
    opened_at: float = 0.0
    half_open_calls: int = 0
    times_opened: int = 0

    def allow(self, now: float) -> bool:
        """May a call go through now? Moving Open -> HalfOpen after the recovery timeout counts as probe 1."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if now - self.opened_at >= self.recovery_timeout_s:
                self.state = BreakerState.HALF_OPEN
                self.half_open_calls = 1
                return True
            return False
        if self.half_open_calls < self.half_open_max_calls:
            self.half_open_calls += 1
            return True
        return False

    def on_success(self) -> None:
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.half_open_calls = 0

    def on_failure(self, now: float) -> None:
        if self.state is BreakerState.HALF_OPEN:
            self._open(now)
            return
        self.consecutive_failures += 1
        if self.state is BreakerState.CLOSED and self.consecutive_failures >= self.failure_threshold:
            self._open(now)

    def _open(self, now: float) -> None:
        self.state = BreakerState.OPEN
        self.opened_at = now
        self.half_open_calls = 0
        self.times_opened += 1

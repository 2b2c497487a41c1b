"""The sandbox's call-rate quota (token bucket) and its latency / fault injection plan.

Both are shared by every thread of the HTTP server, hence the locks; both take an injectable
clock or seed so that tests can drive them deterministically.
"""

from __future__ import annotations

import enum
import random
import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` calls per second with a burst of one second's worth, like the service's quota."""

    __slots__ = ("_clock", "_lock", "_stamp", "_tokens", "burst", "rate")

    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = float(rate if burst is None else burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._stamp = clock()

    def take(self) -> bool:
        """Spend one token; False when the quota for this instant is used up."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._stamp)
            self._stamp = now
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class Fault(enum.Enum):
    """What can go wrong with one call (PRODUCT.md §5)."""

    NONE = "none"
    HTTP_502 = "http_502"  # a gateway in front of the service failed; the service never saw it
    ERROR_91000 = "error_91000"  # the service's own "internal error, try again"
    TRUNCATED = "truncated"  # the reply body is cut short (invalid JSON, consistent length)
    SLOW = "slow"  # the reply comes later than any sane client timeout


FAULT_KINDS: tuple[Fault, ...] = (Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED, Fault.SLOW)


class FaultPlan:
    """Draws per-call latency (with ±25 % jitter) and faults from one seeded generator."""

    __slots__ = ("_lock", "_rng", "fault_rate", "faults", "latency_ms", "slow_reply_s")

    JITTER = 0.25

    def __init__(
        self,
        *,
        latency_ms: float = 0.0,
        fault_rate: float = 0.0,
        seed: int = 0,
        slow_reply_s: float = 15.0,
        faults: tuple[Fault, ...] = FAULT_KINDS,
    ) -> None:
        if latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError("fault_rate must be within 0..1")
        if not faults or Fault.NONE in faults:
            raise ValueError("faults must name at least one real fault")
        self.latency_ms = float(latency_ms)
        self.fault_rate = float(fault_rate)
        self.slow_reply_s = float(slow_reply_s)
        self.faults = faults
        self._rng = random.Random(f"roamtui-sandbox-faults:{seed}")
        self._lock = threading.Lock()

    def draw(self) -> tuple[Fault, float]:
        """The fault (usually NONE) and the delay in seconds before this call's reply."""
        with self._lock:
            delay = 0.0
            if self.latency_ms:
                jitter = self._rng.uniform(1.0 - self.JITTER, 1.0 + self.JITTER)
                delay = self.latency_ms * jitter / 1000.0
            fault = Fault.NONE
            if self.fault_rate and self._rng.random() < self.fault_rate:
                fault = self._rng.choice(self.faults)
        if fault is Fault.SLOW:
            delay += self.slow_reply_s
        return fault, delay

    def truncation_point(self, length: int) -> int:
        """Where to cut a body of `length` bytes: somewhere strictly inside it."""
        if length < 2:
            return 0
        with self._lock:
            return self._rng.randrange(1, length)

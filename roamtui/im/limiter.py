"""The one process-wide async rate limiter every IM request goes through.

The service allows 200 calls/s for the whole app and shares that quota with the company's own
backend, so roamtui must never put more than ``rate`` call starts into ANY one-second window.

Why not aiolimiter: its ``AsyncLimiter(rate, 1)`` is a leaky bucket that lets a full bucket
through at once and then refills, so a burst right after an idle spell plus the refill can put
close to 2×rate calls into one second — exactly what gets an app answered with 60007. This
limiter instead

* spaces starts ``1/rate`` apart (GCRA-style reservations, FIFO, no burst after idling), and
* checks each grant against the log of the last ``rate`` actual grant times, so a waiter that
  woke late cannot bunch up with the ones after it and break the one-second bound.

It holds no asyncio primitive (only a thread lock around plain state), so one instance can serve
every event loop of the process, in turn or at once.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable

DEFAULT_RATE = 50.0
MAX_RATE = 200.0
_WINDOW = 1.0
# Margin on the one-second bound for the moment between the grant and the request leaving.
_GUARD = 0.001


class RateLimiter:
    """Spacing limiter: never more than ``rate`` call starts in any 1 s window."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = -math.inf  # earliest start the next reservation may have
        self._grants: deque[float] = deque(maxlen=1)
        self._rate = DEFAULT_RATE
        self._interval = 1.0 / DEFAULT_RATE
        self.rate = rate

    @property
    def rate(self) -> float:
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        value = float(value)
        if not 0 < value <= MAX_RATE:  # also rejects NaN
            raise ValueError(f"rate must be more than 0 and at most {MAX_RATE:g} calls/s")
        with self._lock:
            self._rate = value
            # A hair over 1/rate so that float rounding can never squeeze in one call too many.
            self._interval = (_WINDOW + _GUARD) / value
            self._grants = deque(self._grants, maxlen=max(1, math.floor(value)))

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self._rate:g})"

    def _reserve(self) -> float:
        with self._lock:
            slot = max(self._clock(), self._next)
            self._next = slot + self._interval
            return slot

    def _try_grant(self, slot: float) -> float:
        """Record a grant and return 0, or return how long to wait before asking again."""
        with self._lock:
            now = self._clock()
            wait = slot - now
            grants = self._grants
            if len(grants) == grants.maxlen:
                wait = max(wait, grants[0] + _WINDOW + _GUARD - now)
            if wait > 0:
                return wait
            grants.append(now)
            return 0.0

    async def acquire(self) -> None:
        """Wait until one more call may start, then count it as started."""
        slot = self._reserve()
        while (wait := self._try_grant(slot)) > 0:
            await self._sleep(wait)


_shared: RateLimiter | None = None
_shared_lock = threading.Lock()


def shared_limiter(rate: float = DEFAULT_RATE) -> RateLimiter:
    """The process-wide limiter, its rate set to ``rate``."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RateLimiter(rate)
        elif _shared.rate != rate:
            _shared.rate = rate
        return _shared

"""The one process-wide async rate limiter every IM request goes through, and its AIMD state.

The service allows 200 calls/s for the whole app and shares that quota with the company's own
backend, so the server must never see more than ``rate`` calls of ours in ANY one-second window,
and when the service says the quota is used up (60007 and kin) every roamtui task must slow down
together, then creep back up.

Why not aiolimiter: its ``AsyncLimiter(rate, 1)`` is a leaky bucket that lets a full bucket
through at once and then refills, so a burst right after an idle spell plus the refill can put
close to 2×rate calls into one second — exactly what gets an app answered with 60007. It also
knows nothing of when a request really left, nor of slowing down. This limiter

* spaces grants ``(1 + GUARD)/rate`` apart (GCRA-style reservations, FIFO); slots left unused
  in the last :data:`CATCH_UP` s may still be taken, so at most ``CATCH_UP × rate`` calls go at
  once after an idle spell (a tenth of a second's quota), never a whole bucket;
* checks each grant against a log of when the earlier requests were *written to the socket*
  and grants only when fewer than ``rate`` of them fall within the last ``1 + GUARD`` seconds.
  A plain :meth:`RateLimiter.acquire` counts the call as written when granted; a caller that
  knows better (the client, through httpx's public ``trace`` extension) calls
  :meth:`Grant.hold` at once, and the call then counts as "may arrive any moment" until
  :meth:`Grant.sent` — a TLS handshake or a busy event loop between the grant and the socket
  cannot bunch requests up. So the server sees at most ``rate`` arrivals in any second as long
  as a request reaches it within ``GUARD`` of being written: on loopback well under a
  millisecond, on the Internet the path's jitter;
* adapts the rate (AIMD): :meth:`RateLimiter.rate_limited` halves the *effective* rate (down to
  1/s) at most once per generation of grants — answers to requests granted before the last cut
  say nothing new — and :meth:`RateLimiter.succeeded` raises it by ``INCREASE`` calls/s per
  second of successful calls, back up to the configured rate.

Why the spacing may catch up (:data:`CATCH_UP`), and only in-process: the bound on what the
server sees is the log, not the spacing. Whatever the reservations, a grant is refused while
``rate`` requests were written (or may be written any moment) within the last ``1 + GUARD`` s,
so the writes of any ``1 + GUARD`` s window number at most ``rate`` (at the window's last grant
every earlier write in it was counted), and with GUARD's reach from write to server, the
server sees at most ``rate`` in any second. The spacing only keeps the calls even. Kept strict,
it lost the round trip a window fetch spends with one chain in flight (at 200/s and 50 ms, ten
slots out of 800 calls: 94.5 % of the rate; 96 % with the catch-up, in a model of the bench).
A burst stays within the quota's per-second rule; it is capped at a tenth of a second's
calls so as not to come down on a backend that shares the quota in one lump. (While calls
keep waiting, the log then paces them, and the burst recurs every ``1 + GUARD`` s: a full
log frees its slots in the pattern they were taken in.) A shared budget
never catches up: across processes its spacing is the only bound (no log sees the others'
writes), and a catch-up of CATCH_UP s would let ``(1 + CATCH_UP)/(1 + GUARD)`` × rate slots,
8 % too many, into one second.

Why GUARD = 20 ms: it has to cover the scheduling jitter between the moment the request is
written and the moment the server stamps it (a loaded 2-core machine: a few ms; the GIL's 5 ms
switch interval when the server shares the process), and it costs ``GUARD/(1+GUARD)`` ≈ 2 % of
the sustained throughput (a window fetch at 200/s measured 194/s before, 191/s after). The old
1 ms guard let 11/51/202 arrivals into one second at 10/50/200.

It holds no asyncio primitive (only a thread lock around plain state), so one instance can serve
every event loop of the process, in turn or at once.

**Shared budgets** (:meth:`RateLimiter.share`): the slots may come from a budget shared with the
user's other roamtui processes (:class:`~roamtui.im.budget.FileBudget`, on by default) or the
team's (:class:`~roamtui.im.budget_redis.RedisBudget`). The shared budget only replaces the
spacing of the reservations; the log of written requests above still bounds this process's own
arrivals at ``rate``, so no fallback, switch or late write can make one process exceed its rate.
A request that reaches the socket more than :data:`LATE` after its shared slot (a busy event
loop) takes a new slot first (:meth:`Grant.on_time`): between processes, a late call would
bunch up with the next process's, and nothing else would see it. A shared slot is reserved no
earlier than this process's log lets a call start (counting its calls already waiting): the
log counts writes, which trail their grants by a millisecond or so, so with slots exactly
``(1 + GUARD)/rate`` apart the log held each slot a little longer every second until it was
missed and renewed, a whole slot lost each time (6-16 of 415 calls at 50/s: 94.4 % of the rate
against 96-97 % in-process). When the preferred budget cannot be reached the limiter falls back
(Redis → local → in-process) with one notice, and tries the preferred one again every
:data:`~roamtui.im.sharing.RETRY_AFTER` s; fallen back in-process, it does not catch up either
(the others still draw on the shared budget).

Why the AIMD halving stays per process: the quota is the app's, so a 60007 answers every busy
process of the team within the same second and each halves its own rate; their reservations
then weigh double in the shared budget, and the team as a whole halves. A shared "halved" flag
would let one process's stale answer slow a whole team, and one that crashed while halved would
leave everyone slow with no one to climb back.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable

from roamtui.im.sharing import BudgetChain, SharedSpec, Usage

DEFAULT_RATE = 50.0
MAX_RATE = 200.0
_WINDOW = 1.0
#: Margin on the one-second bound for the way from "written" to "stamped by the server".
GUARD = 0.020
_SPAN = _WINDOW + GUARD
#: AIMD: on a rate-limit answer multiply the effective rate by this, never below the floor...
DECREASE = 0.5
FLOOR_RATE = 1.0
#: ...and raise it by this many calls/s for every second's worth of successful calls.
INCREASE = 2.0
# How long to wait before looking again when only unwritten grants block the next one.
_POLL = 0.005
# A grant left open this long (a caller that forgot to close it) no longer blocks anyone.
_OPEN_LIMIT = 60.0
#: A request written later than this after its shared slot takes a new slot first: a quarter
#: of the guard for being late, the rest for the way to the server and the server's own
#: scheduling (4 exports on a loaded 2-core machine put 61 calls into a second at 10 ms).
LATE = GUARD / 4
#: In-process only: slots left unused for up to this long may still be taken at once (after the
#: one chain of a window fetch's first round trip, say); the log check bounds any burst.
CATCH_UP = 0.1
# How far back "calls/s this process got" looks.
_USAGE_SPAN = 5.0


class Grant:
    """One granted call start, counted from the moment it was granted.

    A caller that writes the request later (after connecting, say) calls :meth:`hold` at once:
    until :meth:`sent` or :meth:`close` the call then counts as "may arrive any moment".
    ``epoch`` is the limiter's generation when it was granted, for :meth:`RateLimiter.rate_limited`.
    """

    __slots__ = ("_limiter", "closed", "epoch", "granted_at", "held", "shared", "slot", "stamp")

    def __init__(
        self, limiter: RateLimiter, epoch: int, granted_at: float, slot: float | None = None
    ) -> None:
        self._limiter = limiter
        self.epoch = epoch
        self.granted_at = granted_at
        self.stamp: float | None = granted_at  # when it was (or counts as) written; None: held
        self.held = False
        self.closed = False
        #: The start of its slot in a shared budget (None: the in-process spacing).
        self.slot = slot

    async def on_time(self) -> None:
        """Just before the request is written: a slot of a shared budget missed by more than
        :data:`LATE` is replaced by a new one (waited for here)."""
        await self._limiter._on_time(self)

    def hold(self) -> None:
        """The request is not written yet: count it as arriving now until :meth:`sent`."""
        self._limiter._update(self, "hold")

    def sent(self) -> None:
        """The request was just written; counts from now (a resend counts from the last write)."""
        self._limiter._update(self, "sent")

    def close(self) -> None:
        """The attempt is over; a held grant never seen written counts from now (the latest it
        can have reached the server). Later calls change nothing."""
        self._limiter._update(self, "close")


class RateLimiter:
    """Never more than ``rate`` requests at the server in any 1 s window; slows down on demand."""

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
        self._stamps: list[float] = []  # sorted write times of recent requests
        self._open: set[Grant] = set()  # granted, not yet seen written
        self._rate = DEFAULT_RATE
        self._effective = DEFAULT_RATE
        self._interval = _SPAN / DEFAULT_RATE
        self._cap = math.floor(DEFAULT_RATE)
        self._epoch = 0
        self._last_success = -math.inf
        self._chain: BudgetChain | None = None
        self._granted: deque[float] = deque()  # grant times of the last _USAGE_SPAN seconds
        self._waiting = 0  # acquire() calls not granted yet
        self.cuts = 0  # how many times the effective rate was cut (for reports)
        self.renewed = 0  # shared slots missed and taken again (for reports)
        self.rate = rate

    # -- configuration and state ---------------------------------------------------------------

    @property
    def rate(self) -> float:
        """The configured rate (calls/s): the ceiling the effective rate climbs back to."""
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        value = float(value)
        if not 0 < value <= MAX_RATE:  # also rejects NaN
            raise ValueError(f"rate must be more than 0 and at most {MAX_RATE:g} calls/s")
        with self._lock:
            throttled = self._effective < self._rate
            self._rate = value
            self._set_effective(min(self._effective, value) if throttled else value)

    @property
    def effective_rate(self) -> float:
        """The rate in force now: the configured one, or less after rate-limit answers."""
        return self._effective

    @property
    def epoch(self) -> int:
        """Generation of grants: it moves on at every cut of the effective rate."""
        return self._epoch

    @property
    def last_success(self) -> float:
        """:meth:`now` of the last :meth:`succeeded` (``-inf`` before any)."""
        return self._last_success

    def now(self) -> float:
        """The limiter's clock (monotonic seconds)."""
        return self._clock()

    def reset(self) -> None:
        """Forget what rate-limit answers taught: back to the configured rate."""
        with self._lock:
            self._epoch += 1
            self._set_effective(self._rate)

    def __repr__(self) -> str:
        if self._effective < self._rate:
            return f"RateLimiter(rate={self._rate:g}, effective={self._effective:.3g})"
        return f"RateLimiter(rate={self._rate:g})"

    def _set_effective(self, value: float) -> None:
        # Called with the lock held.
        self._effective = value
        self._interval = _SPAN / value
        self._cap = max(1, math.floor(value))

    # -- shared budgets --------------------------------------------------------------------------

    def share(self, spec: SharedSpec | None) -> None:
        """Draw slots from the budgets of ``spec`` (None: this process's own, in-process)."""
        with self._lock:
            if (self._chain.spec if self._chain is not None else None) == spec:
                return
            old, self._chain = self._chain, None
            if spec is not None:
                self._chain = BudgetChain(spec, clock=self._clock)
        if old is not None:
            old.close()

    @property
    def sharing(self) -> bool:
        """Whether a shared budget was asked for (it may have fallen back to in-process)."""
        return self._chain is not None

    def take_notices(self) -> list[str]:
        """What the budgets had to say since last asked (a fallback, a return): each once."""
        chain = self._chain
        return chain.take_notices() if chain is not None else []

    def usage(self) -> Usage:
        """The budget in force, the rates, and the calls/s this process got lately."""
        with self._lock:
            now = self._clock()
            self._prune_granted(now)
            got = len(self._granted) / _USAGE_SPAN
            chain = self._chain
            label = chain.label if chain is not None else "in-process"
            return Usage(label, self._rate, self._effective, got)

    def _prune_granted(self, now: float) -> None:
        granted = self._granted
        while granted and granted[0] <= now - _USAGE_SPAN:
            granted.popleft()

    async def aclose_loop(self) -> None:
        """Close what the shared budget opened for the running event loop (Redis connections)."""
        chain = self._chain
        if chain is not None:
            await chain.aclose_loop()

    async def _reserve_shared(self, chain: BudgetChain, first: bool = False) -> float | None:
        with self._lock:
            now = self._clock()
            # Not before a cut's respacing is over (a later slot than the budget's would
            # bunch up with another process's), and for a new call not before this process's
            # log lets it start, counting its calls already waiting for earlier slots: a slot
            # the log held back would be missed and renewed (see the module docstring).
            not_before = self._next - now
            if first:
                log = self._log_wait(now, self._waiting - 1)
                not_before = max(not_before, 0.0 if log is None else log)
        wait = await chain.reserve(self._interval, max(0.0, not_before))
        if wait is None:
            # No shared budget reachable: the in-process spacing, after the switch's pause.
            with self._lock:
                self._next = max(self._next, chain.resume_at)
            return None
        with self._lock:
            # After a cut, this process waits out its respacing whatever the shared budget says.
            return max(self._clock() + wait, self._next)

    async def _on_time(self, grant: Grant) -> None:
        chain = self._chain
        if grant.slot is None or chain is None:
            return
        while self._clock() - grant.slot > LATE:
            slot = await self._reserve_shared(chain)
            if slot is None:
                return
            self.renewed += 1
            grant.slot = slot
            wait = slot - self._clock()
            if wait > 0:
                await self._sleep(wait)

    # -- AIMD ------------------------------------------------------------------------------------

    def succeeded(self) -> None:
        """A call got a real answer: climb ``INCREASE`` calls/s per second of such answers."""
        with self._lock:
            self._last_success = self._clock()
            if self._effective < self._rate:
                self._set_effective(min(self._rate, self._effective + INCREASE / self._effective))

    def rate_limited(self, grant: Grant | None = None) -> bool:
        """The service said "too many calls" to ``grant``'s request: cut the effective rate.

        Only once per generation: requests granted before the last cut were sent at the old
        pace, so their answers are no news. Returns whether this answer cut the rate.
        """
        with self._lock:
            if grant is not None and grant.epoch != self._epoch:
                return False
            floor = min(FLOOR_RATE, self._rate)
            self._epoch += 1
            self.cuts += 1
            self._set_effective(max(floor, self._effective * DECREASE))
            # The reservations already handed out were spaced for the old rate: respace the
            # next ones (after those, never among them).
            self._next = max(self._next, self._clock() + self._interval)
            return True

    # -- granting --------------------------------------------------------------------------------

    def _reserve(self) -> float:
        with self._lock:
            now = self._clock()
            # Slots left unused in the last CATCH_UP s may still be taken (never before _next:
            # a cut's respacing or a switch's pause); none when sharing (module docstring).
            catch_up = 0.0 if self._chain is not None else CATCH_UP
            slot = max(now - catch_up, self._next)
            self._next = slot + self._interval
            return slot

    def _log_wait(self, now: float, ahead: int = 0) -> float | None:
        """Called with the lock held: how long until the log lets one more request start after
        ``ahead`` others granted before it (0: now); None when only requests not yet written
        (or not yet granted) fill it, so that no time can be told."""
        stamps = self._stamps
        del stamps[: bisect.bisect_right(stamps, now - _SPAN)]
        if self._open:
            self._open = {g for g in self._open if g.granted_at > now - _OPEN_LIMIT}
        # Requests that may still be arriving: the recent ones, and every one not yet written.
        excess = len(self._open) + len(stamps) + ahead - self._cap + 1
        if excess <= 0:
            return 0.0
        if excess <= len(stamps):
            return max(0.0, stamps[excess - 1] + _SPAN - now)
        return None

    def _try_grant(self, slot: float, shared: bool = False) -> Grant | float:
        """A grant, or how long to wait before asking again."""
        with self._lock:
            now = self._clock()
            log = self._log_wait(now)
            wait = max(slot - now, _POLL if log is None else log)
            if wait > 0:
                return wait
            grant = Grant(self, self._epoch, now, slot if shared else None)
            bisect.insort(self._stamps, now)
            self._granted.append(now)
            self._prune_granted(now)
            return grant

    def _update(self, grant: Grant, event: str) -> None:
        with self._lock:
            if grant.closed:
                return
            if event == "close":
                grant.closed = True
                if grant.stamp is not None:
                    return  # already counted: from its grant, or from its write
            elif event == "hold":
                if grant.stamp is not None:
                    self._remove_stamp(grant.stamp)
                    grant.stamp = None
                grant.held = True
                self._open.add(grant)
                return
            # Written now, or held and never seen written: it counts from now.
            if grant.stamp is not None:
                self._remove_stamp(grant.stamp)
            self._open.discard(grant)
            grant.stamp = self._clock()
            bisect.insort(self._stamps, grant.stamp)

    def _remove_stamp(self, stamp: float) -> None:
        i = bisect.bisect_left(self._stamps, stamp)
        if i < len(self._stamps) and self._stamps[i] == stamp:
            del self._stamps[i]

    async def acquire(self) -> Grant:
        """Wait until one more call may start; return its grant (counted as started now)."""
        chain = self._chain
        with self._lock:
            self._waiting += 1
        try:
            shared = None if chain is None else await self._reserve_shared(chain, first=True)
            slot = self._reserve() if shared is None else shared
            while not isinstance(outcome := self._try_grant(slot, shared is not None), Grant):
                await self._sleep(outcome)
            return outcome
        finally:
            with self._lock:
                self._waiting -= 1


_shared: RateLimiter | None = None
_shared_lock = threading.Lock()


def shared_limiter(rate: float = DEFAULT_RATE, share: SharedSpec | None = None) -> RateLimiter:
    """The process-wide limiter, its configured rate set to ``rate`` (AIMD state is kept) and
    its slots drawn from the budgets of ``share`` (None: in-process)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RateLimiter(rate)
        elif _shared.rate != rate:
            _shared.rate = rate
        limiter = _shared
    limiter.share(share)
    return limiter

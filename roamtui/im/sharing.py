"""Which shared budget the limiter draws from, falling back when one cannot be reached.

The preference is fixed: the team's Redis budget when one is configured, then the local one
(every roamtui of this user on this machine), then none (this process alone, the limiter's own
in-process spacing). A budget that fails is left for :data:`RETRY_AFTER` seconds, then tried
again; each switch leaves one notice (:meth:`BudgetChain.take_notices`) for whoever shows them.

A switch can never make this process exceed its own ``--max-rps``: the limiter's log of written
requests bounds its arrivals whatever the budget (see :mod:`roamtui.im.limiter`); what a
fallback loses is only the sharing with the others.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from roamtui.im.budget import Budget, BudgetUnavailable, FileBudget

#: Seconds before a budget that failed is tried again.
RETRY_AFTER = 30.0
#: After a switch, the first slot of the new budget waits this long past the last slot of the
#: old one: the other processes may still hold slots of the old budget that this one never saw.
SWITCH_PAUSE = 1.0
IN_PROCESS = "in-process"


@dataclass(frozen=True, slots=True)
class SharedSpec:
    """Where the shared budgets of one app live; the settings layer fills it in."""

    sdkappid: int
    #: The local budget's file (the caller picks the user's runtime or state dir); None: none.
    local_path: str | None = None
    #: A Redis URL for the team budget (``--rate-store``); None: none.
    redis_url: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """What the status bar and the export summary say about the budget."""

    label: str  # "in-process", "local shared", "redis HOST:PORT/DB"
    rate: float  # the configured calls/s
    effective: float  # the rate in force (lower after 60007 answers)
    got: float  # calls/s this process was granted over the last few seconds

    @property
    def backed_off(self) -> bool:
        return self.effective < self.rate

    def text(self) -> str:
        """``local shared 50/s · 31/s here`` (`` · backed off to 25/s``)."""
        out = f"{self.label} {self.rate:g}/s · {self.got:.0f}/s here"
        if self.backed_off:
            out += f" · backed off to {self.effective:.3g}/s"
        return out

    def short(self) -> str:
        """``local 50/s`` (``redis 50/s ↓25/s`` when backed off), for a narrow status bar."""
        out = f"{self.label.split()[0]} {self.rate:g}/s"
        if self.backed_off:
            out += f" ↓{self.effective:.3g}/s"
        return out


class BudgetChain:
    """The budgets of a :class:`SharedSpec` in order of preference, and the one in force."""

    def __init__(self, spec: SharedSpec, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.spec = spec
        self._clock = clock
        self._lock = threading.Lock()
        self._notices: list[str] = []
        self._budgets: list[Budget] = []
        self._failed: dict[int, float] = {}  # index -> when it failed
        self._current: int | None = None
        self._until = -math.inf  # when the last slot handed out ends (the clock's seconds)
        #: Set at a switch: no slot of the next budget (or in-process) may start before it.
        self.resume_at = -math.inf
        if spec.redis_url is not None:
            from roamtui.im.budget_redis import RedisBudget  # imports no redis until used

            self._budgets.append(RedisBudget(spec.redis_url, spec.sdkappid))
        if spec.local_path is not None:
            try:
                self._budgets.append(FileBudget(spec.local_path))
            except BudgetUnavailable as exc:
                self._notices.append(f"{exc}; {self._using(len(self._budgets))}")
        self._current = 0 if self._budgets else None

    def __repr__(self) -> str:
        return f"BudgetChain({self._budgets!r}, current={self.label!r})"

    @property
    def label(self) -> str:
        current = self._current
        return IN_PROCESS if current is None else self._budgets[current].label

    def _using(self, index: int | None) -> str:
        if index is None or index >= len(self._budgets):
            return "this process keeps to its own budget for now"
        return f"using the {self._budgets[index].label} budget for now"

    def take_notices(self) -> list[str]:
        with self._lock:
            out, self._notices = self._notices, []
        return out

    def _candidate(self) -> int | None:
        """The most preferred budget not resting after a failure."""
        now = self._clock()
        for index in range(len(self._budgets)):
            failed = self._failed.get(index)
            if failed is None or now - failed >= RETRY_AFTER:
                return index
        return None

    async def reserve(self, interval: float, not_before: float = 0.0) -> float | None:
        """The wait for a slot from the best reachable budget, ``not_before`` s from now at the
        earliest; None: none is reachable (in-process)."""
        while (index := self._candidate()) is not None:
            # After a switch, nothing starts before the pause is over (on whichever budget).
            not_before = max(not_before, self.resume_at - self._clock())
            try:
                wait = await self._budgets[index].reserve(interval, not_before)
            except BudgetUnavailable as exc:
                with self._lock:
                    self._failed[index] = self._clock()
                    # A retry of a budget already left that fails again says nothing new.
                    if self._current == index:
                        self._current = self._candidate()
                        self.resume_at = max(self.resume_at, self._until + SWITCH_PAUSE)
                        self._notices.append(f"{exc}; {self._using(self._current)}")
                continue
            with self._lock:
                now = self._clock()
                self._until = max(self._until, now + wait + interval)
                self._failed.pop(index, None)
                if self._current != index:
                    if self._current is None or index < self._current:
                        self._notices.append(f"the {self.label_of(index)} budget answers again")
                        self.resume_at = max(self.resume_at, self._until + SWITCH_PAUSE)
                    self._current = index
            return wait
        with self._lock:
            self._current = None
        return None

    def label_of(self, index: int) -> str:
        return self._budgets[index].label

    async def aclose_loop(self) -> None:
        for budget in self._budgets:
            await budget.aclose()

    def close(self) -> None:
        for budget in self._budgets:
            if isinstance(budget, FileBudget):
                budget.close()

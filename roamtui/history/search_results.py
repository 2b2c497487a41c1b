"""The results of one query over a search index: found in steps, nearest the reader first.

Textual-free. :class:`SearchResults` holds the matching positions found so far (ascending) and
what is left to look at: ranges not scanned yet, and the matches of a wider query to test again
(typing on at the end of a literal). Each step looks at up to a chunk of messages. Where it
looks is its *aim* (:meth:`SearchResults.aim`): outward from a position (the cursor: first the
messages around it, which hold the screen, then alternately older and newer ones), one way from
it (``n`` / ``N`` pressed while counting, the nearest older match of a new query), or, with no
aim, from the oldest message on.

At 1,000,000 messages a whole scan takes a few hundred milliseconds, but what the user waits
for is known after the first steps: :meth:`SearchResults.settled_next` says which match is the
next one either way *and whether that is certain* (nothing unscanned lies between), and
:meth:`SearchResults.rank_known` whether the counter's rank is; the count completes in the
steps that follow. :func:`nearest_match` and :func:`step_target` read them from a message.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from roamtui.history.search_query import Matcher
from roamtui.history.search_runner import SlowRegex
from roamtui.im.model import Message

if TYPE_CHECKING:
    from roamtui.history.search import IndexChange, SearchIndex

#: Messages scanned between two yields of :meth:`SearchResults.steps` (a few ms at most).
DEFAULT_CHUNK = 16_384
#: Messages the first step of a new query looks at around the cursor when asked to ramp up: a
#: screen and then some, in a fraction of a millisecond; each next step twice as many.
FIRST_STEP = 1_024
#: Messages either side of the aim looked at before going one way: more than a screen holds.
AROUND = FIRST_STEP // 2

#: Where the next step looks: (position, way, wrap). ``way`` None: outward from the position;
#: True / False: from it toward the newest / oldest message, then (``wrap``) on from the other
#: end the same way, or (not ``wrap``) outward again.
Aim = tuple[int, bool | None, bool]  # (the messages AROUND the position always go first)


@dataclass(slots=True, eq=False)
class SearchResults:
    """Incremental results of one matcher over one index: sorted positions, kept in step.

    Step it with :meth:`steps` (stop iterating to cancel; iterate again to resume); after the
    index changes, stepping again drops what left, shifts what moved and scans only what came.
    """

    index: SearchIndex
    matcher: Matcher | None  # None: every message (a filter alone)
    keep: Callable[[Message], bool] | None = None  # a filter's test of each match
    _matches: list[int] = field(default_factory=list, repr=False)
    _pending: list[tuple[int, int]] = field(default_factory=list, repr=False)  # [lo, hi) to scan
    _recheck: list[int] = field(default_factory=list, repr=False)  # positions to test, ascending
    _version: int = field(default=-1, repr=False)
    _error: str | None = field(default=None, repr=False)
    _aim: Aim | None = field(default=None, repr=False)

    @property
    def error(self) -> str | None:
        """Why the results stopped for good (a regex too slow on some message), or None."""
        return self._error

    @property
    def matches(self) -> Sequence[int]:
        """Positions (in ``index.messages``, as it is now) of the matching messages found so
        far, ascending."""
        self._catch_up()
        return self._matches

    @property
    def done(self) -> bool:
        """Every message of the index as it is now has been looked at."""
        return self._version == self.index.version and not self._pending and not self._recheck

    @property
    def unscanned(self) -> int:
        """Messages of the index as it is now that are still to be looked at."""
        self._catch_up()
        return sum(hi - lo for lo, hi in self._pending) + len(self._recheck)

    def __len__(self) -> int:
        return len(self.matches)

    def aim(self, position: int, way: bool | None = None, *, wrap: bool = False) -> None:
        """Look next around ``position`` (see :data:`Aim`); stays until aimed again."""
        self._aim = (position, way, wrap)

    def steps(self, chunk: int = DEFAULT_CHUNK, first: int | None = None
              ) -> Generator[int, None, None]:
        """Look at up to ``chunk`` messages per step (fewer when a regex's time budget for
        one step runs out), where the aim says; yields the match count after each step. With
        ``first``, the first step looks at that many, each next one at twice as many up to
        ``chunk``. A regex too slow on some message ends the results: no matches, and
        :attr:`error` says why."""
        chunk = max(1, chunk)
        size = chunk if first is None else max(1, min(first, chunk))
        while self._error is None:
            self._catch_up()
            part = self._pick(size)
            size = min(chunk, 2 * size)
            if part is None:
                return
            k, a, b = part
            try:
                if k < 0:  # matches of a wider query: recheck[a:b]
                    hits, done = self.index.recheck(self.matcher, self._recheck[a:b])
                    del self._recheck[a:a + done]
                else:  # pending[k], from a to b
                    hits, reached = self.index.scan(self.matcher, a, b)
                    lo, hi = self._pending[k]
                    self._pending[k:k + 1] = [r for r in ((lo, a), (reached, hi)) if r[1] > r[0]]
            except SlowRegex as exc:
                self._error = exc.reason
                self._matches, self._pending, self._recheck = [], [], []
                return
            self._merge(self._kept(hits))
            yield len(self._matches)

    def run(self) -> Sequence[int]:
        """Scan everything now; the matches."""
        for _ in self.steps():
            pass
        return self._matches

    # -- what is known ---------------------------------------------------------------------------

    def rank(self, position: int) -> int:
        """How many matches lie before ``position`` (the counter's ``3`` is ``rank + 1``)."""
        return bisect_left(self.matches, position)

    def number(self, position: int) -> int | None:
        """1-based number of the match at ``position`` (0 while the messages before it are
        still to be looked at); None when it is no match."""
        k = bisect_left(self.matches, position)
        if k == len(self._matches) or self._matches[k] != position:
            return None
        return k + 1 if self.rank_known(position) else 0

    def rank_known(self, position: int) -> bool:
        """Every message before ``position`` has been looked at: :meth:`rank` is final."""
        return not self.unscanned_in(0, position)

    def unscanned_in(self, lo: int, hi: int) -> bool:
        """Whether some message at ``lo <= i < hi`` is still to be looked at."""
        self._catch_up()
        first = self._first_after(lo)
        return first is not None and first[0] < hi

    def next_match(self, position: int, forward: bool = True, wrap: bool = True) -> int | None:
        """The match found after (before) ``position``, wrapping around the ends when ``wrap``."""
        m = self.matches
        if forward:
            k = bisect_right(m, position)
            return m[k] if k < len(m) else (m[0] if wrap and m else None)
        k = bisect_left(m, position) - 1
        return m[k] if k >= 0 else (m[-1] if wrap and m else None)

    def settled_next(self, position: int, forward: bool) -> tuple[int | None, bool]:
        """The match after (before) ``position``, no wrapping, and whether it is certain: no
        message between them (or, with none found, on to that end) is still to be looked at."""
        target = self.next_match(position, forward, wrap=False)
        if forward:
            lo, hi = position + 1, len(self.index) if target is None else target
        else:
            lo, hi = 0 if target is None else target + 1, position
        return target, not self.unscanned_in(lo, hi)

    # -- narrowing, stepping ---------------------------------------------------------------------

    def narrow_from(self, wider: SearchResults) -> bool:
        """Start from results whose query matches whatever ours does (the same filter): their
        matches become ours to test again, and what they had left is left to us."""
        if (wider._version < 0 or wider.keep != self.keep or self.matcher is None
                or wider.matcher is None or not self.matcher.narrows(wider.matcher)):
            return False
        self._recheck = sorted([*wider._matches, *wider._recheck])
        self._pending = list(wider._pending)
        self._version = wider._version
        self._aim = wider._aim
        return True

    def _kept(self, hits: list[int]) -> list[int]:
        keep = self.keep
        if keep is None:
            return hits
        messages = self.index.messages
        return [i for i in hits if keep(messages[i])]

    def _merge(self, hits: list[int]) -> None:
        """Put ascending ``hits`` among the matches (found where nothing was known)."""
        if not hits:
            return
        m = self._matches
        at = bisect_left(m, hits[0])
        if at == len(m) or m[at] > hits[-1]:
            m[at:at] = hits
        else:  # rechecked positions around matches of ranges scanned before: two sorted runs
            m.extend(hits)
            m.sort()

    def _first_after(self, x: int) -> tuple[int, int, int] | None:
        """(position, pending range or -1, recheck index or -1) of the first unscanned >= x."""
        best = None
        for k, (lo, hi) in enumerate(self._pending):
            if hi > x:
                best = (max(lo, x), k, -1)
                break
        r = self._recheck
        i = bisect_left(r, x)
        if i < len(r) and (best is None or r[i] < best[0]):
            best = (r[i], -1, i)
        return best

    def _last_before(self, x: int) -> tuple[int, int, int] | None:
        """Like :meth:`_first_after`, for the last unscanned position <= x."""
        best = None
        for k in range(len(self._pending) - 1, -1, -1):
            lo, hi = self._pending[k]
            if lo <= x:
                best = (min(hi - 1, x), k, -1)
                break
        r = self._recheck
        i = bisect_right(r, x) - 1
        if i >= 0 and (best is None or r[i] > best[0]):
            best = (r[i], -1, i)
        return best

    def _pick(self, chunk: int) -> tuple[int, int, int] | None:
        """What the next step looks at: (-1, a, b) for recheck[a:b], (k, a, b) for positions
        a..b of pending[k]; None when nothing is left."""
        pending, recheck = self._pending, self._recheck
        if not pending and not recheck:
            return None
        if self._aim is None:  # the oldest first; a wider query's matches before the rest
            if recheck:
                return -1, 0, min(chunk, len(recheck))
            lo, hi = pending[0]
            return 0, lo, min(hi, lo + chunk)
        at, way, wrap = self._aim
        at = min(max(at, 0), max(len(self.index) - 1, 0))
        spot = None
        if way is not None and self.unscanned_in(at - AROUND, at + AROUND + 1):
            way = None  # the screen around the aim first, both ways
        if way is not None:
            spot = self._first_after(at) if way else self._last_before(at)
            if spot is None and wrap:
                spot = self._first_after(0) if way else self._last_before(len(self.index))
        if spot is None:  # outward: the nearer side (at itself when it is unscanned)
            ahead, behind = self._first_after(at), self._last_before(at - 1)
            way = behind is None or (ahead is not None and ahead[0] - at <= at - behind[0])
            spot = ahead if way else behind
            assert spot is not None
        p, k, i = spot
        if k < 0:
            if way:
                return -1, i, min(len(recheck), i + chunk)
            return -1, max(0, i + 1 - chunk), i + 1
        lo, hi = pending[k]
        if p == at:  # around the aim: the screen, both ways
            a = max(lo, min(at - chunk // 2, hi - chunk))
            return k, a, min(hi, a + chunk)
        if way:
            return k, p, min(hi, p + chunk)
        return k, max(lo, p + 1 - chunk), p + 1

    def _catch_up(self) -> None:
        index = self.index
        if self._version == index.version or self._error is not None:
            return
        changes = None if self._version < 0 else index.changes_since(self._version)
        if changes is None:
            self._matches, self._recheck = [], []
            self._pending = [(0, len(index))] if len(index) else []
        else:
            for change in changes:
                self._apply(change)
        self._version = index.version

    def _apply(self, change: IndexChange) -> None:
        start, end = change.start, change.start + change.removed
        delta = change.inserted - change.removed
        for m in (self._matches, self._recheck):
            a, b = bisect_left(m, start), bisect_left(m, end)
            m[a:] = [x + delta for x in m[b:]] if delta else m[b:]
        pending: list[tuple[int, int]] = []
        for lo, hi in self._pending:
            if lo < start:
                pending.append((lo, min(hi, start)))
            if hi > end:
                pending.append((max(lo, end) + delta, hi + delta))
        if change.inserted:
            pending.append((start, start + change.inserted))
        self._pending = _merged(pending)
        if self._aim is not None:
            at, way, wrap = self._aim
            self._aim = (at + delta if at >= end else min(at, start), way, wrap)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(r for r in ranges if r[1] > r[0]):
        if out and lo <= out[-1][1]:
            prev_lo, prev_hi = out.pop()
            lo, hi = prev_lo, max(prev_hi, hi)
        out.append((lo, hi))
    return out


def locate(messages: Sequence[Message], message: Message) -> tuple[int, bool]:
    """Where ``message`` is in time-ordered ``messages``: (index, True), else (insertion, False)."""
    k = bisect_left(messages, message.time, key=lambda m: m.time)
    at = k
    while at < len(messages) and messages[at].time == message.time:
        if messages[at] is message or messages[at].key == message.key:
            return at, True
        at += 1
    return k, False


def position_of(messages: Sequence[Message], message: Message | None, forward: bool) -> int:
    """Where a walk from ``message`` starts: its position, or, when it is not among
    ``messages``, the one before where it would be (forward) or where it would be (backward);
    with no message, just outside the end the walk starts from."""
    if message is None:
        return -1 if forward else len(messages)
    k, found = locate(messages, message)
    return k if found or not forward else k - 1


def nearest_match(results: SearchResults, cursor: Message | None, *, whole: bool = True
                  ) -> tuple[int | None, bool]:
    """The match at or before ``cursor`` (the latest mention; the newest end with no cursor),
    else the first after it; and whether that is certain yet. Not ``whole``: the index does
    not hold every loaded message yet (being built), so nothing is certain."""
    messages = results.index.messages
    at = len(messages) - 1 if cursor is None else position_of(messages, cursor, True)
    target, known = results.settled_next(at + 1, forward=False)
    if target is None and known:
        target, known = results.settled_next(at, forward=True)
    return target, known and whole


def step_target(results: SearchResults, base: Message | None, forward: bool, *,
                whole: bool = True) -> tuple[int | None, bool, bool]:
    """``n`` / ``N`` from ``base``: the next (previous) match, whether it wrapped around an end,
    and whether it is certain yet (if not, aim there and ask again after a step). Not
    ``whole`` (see :func:`nearest_match`): certain only among matches found already."""
    messages = results.index.messages
    at = position_of(messages, base, forward)
    target, known = results.settled_next(at, forward)
    if target is None and known:
        target, known = results.settled_next(-1 if forward else len(messages), forward)
        wrapped = target is not None
    else:
        wrapped = False
    return target, wrapped, known and (whole or bool(results.matches))

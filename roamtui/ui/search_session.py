"""One timeline's search: the index kept in step, the results of the query in force, the fetch of
the rest of the window, and finding the next message of a kind.

No widgets here: :class:`~roamtui.ui.search_controller.SearchPane` runs the coroutines in its
exclusive workers and draws what they report. Every coroutine gives the event loop a turn every
few milliseconds, so typing stays responsive with 100,000 messages loaded: building the index
costs tens of microseconds per message (each message's search text is parsed once), so it is
done in time-boxed slices, and the results are stepped as the index grows.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import compress, count
from operator import is_not
from typing import Literal

from roamtui.history.rows import RowsChanged
from roamtui.history.search import (
    DEFAULT_CHUNK,
    Kind,
    Matcher,
    SearchIndex,
    SearchResults,
    find_message,
)
from roamtui.history.timeline import LoadProgress, Timeline
from roamtui.im.errors import RoamError
from roamtui.im.model import Message

FetchState = Literal["idle", "running", "stopped", "failed", "done"]
#: Seconds of index building between two turns of the event loop.
INDEX_BUDGET = 0.006
#: Messages looked at between two turns of the event loop when looking for a kind.
KIND_SLICE = 2_000
#: While the timeline keeps changing, catch-ups start at most this many times their planning
#: cost apart, so that planning takes no more than about a fifth of the event loop.
PLAN_SHARE = 5.0


def splice_plan(old: Sequence[Message], new: Sequence[Message]) -> tuple[int, int, int]:
    """(start, removed, inserted) turning ``old`` into ``new``, by identity at both ends."""
    n = min(len(old), len(new))
    pre = next(compress(count(), map(is_not, old, new)), n)
    post = next(compress(count(), map(is_not, reversed(old), reversed(new))), n)
    post = min(post, n - pre)
    return pre, len(old) - pre - post, len(new) - pre - post


def locate(messages: Sequence[Message], message: Message) -> tuple[int, bool]:
    """Where ``message`` is in time-ordered ``messages``: (index, True), else (insertion, False)."""
    k = bisect_left(messages, message.time, key=lambda m: m.time)
    at = k
    while at < len(messages) and messages[at].time == message.time:
        if messages[at] is message or messages[at].key == message.key:
            return at, True
        at += 1
    return k, False


def counter_text(current: int | None, total: int, final: bool) -> str:
    """``3/17`` or ``17`` when final; ``3/17+`` or ``17+`` while more may come."""
    more = "" if final else "+"
    if total == 0:
        return "no matches" if final else "0+"
    return f"{current}/{total}{more}" if current else f"{total}{more}"


class SearchSession:
    """Search state of one timeline; ``on_change`` is called (inside the timeline's loads) when
    its messages change, so the owner can schedule :meth:`scan`."""

    def __init__(self, timeline: Timeline, on_change: Callable[[], None]) -> None:
        self.timeline = timeline
        self.index = SearchIndex()
        self.matcher: Matcher | None = None
        self.results: SearchResults | None = None
        self.fetch_state: FetchState = "idle"
        self.fetch_error = ""
        self.progress: LoadProgress | None = None
        self._on_change = on_change
        self._generation = 1  # changes seen; the index is in step when _synced equals it
        self._synced = 0
        self._chunk = 256
        self._plan_cost = 0.0  # seconds the last catch-up took to see what changed
        self._unsubscribe = timeline.subscribe(self._changed)

    def close(self) -> None:
        self._unsubscribe()

    def _changed(self, change: RowsChanged) -> None:
        self._generation += 1
        self._on_change()

    def touch(self) -> None:
        """Check the index against the timeline again on the next scan."""
        self._generation += 1

    # -- state ---------------------------------------------------------------------------------

    @property
    def in_step(self) -> bool:
        return self._synced == self._generation

    @property
    def final(self) -> bool:
        """The results cover the whole window: nothing left to fetch, index or scan."""
        results = self.results
        return bool(self.timeline.complete and self.in_step and results is not None
                    and results.done)

    def search(self, matcher: Matcher | None) -> None:
        self.matcher = matcher
        self.results = None if matcher is None else self.index.search(matcher)

    def locate(self, message: Message) -> tuple[int, bool]:
        return locate(self.index.messages, message)

    def is_match(self, at: int) -> bool:
        results = self.results
        if results is None:
            return False
        k = results.rank(at)
        return k < len(results.matches) and results.matches[k] == at

    def rank_of(self, message: Message | None) -> int | None:
        """1-based number of ``message`` among the matches, None if it is not one."""
        if message is None or self.results is None:
            return None
        at, found = self.locate(message)
        return self.results.rank(at) + 1 if found and self.is_match(at) else None

    def counter(self, current: Message | None) -> str:
        total = 0 if self.results is None else len(self.results.matches)
        return counter_text(self.rank_of(current), total, self.final)

    def nearest(self, cursor: Message | None) -> Message | None:
        """The match at or before ``cursor`` (the latest mention), else the first after it."""
        results = self.results
        if results is None:
            return None
        messages = self.index.messages
        at = len(messages) - 1
        if cursor is not None:
            k, found = locate(messages, cursor)
            at = k if found else k - 1
        target = results.next_match(at + 1, forward=False, wrap=False)
        if target is None:
            target = results.next_match(at, forward=True, wrap=False)
        return None if target is None else messages[target]

    def step_from(self, base: Message | None, forward: bool) -> tuple[Message | None, bool]:
        """The next (previous) match after ``base``, and whether it wrapped around an end."""
        results = self.results
        if results is None or not results.matches:
            return None, False
        messages = self.index.messages
        if base is None:
            at = -1 if forward else len(messages)
        else:
            k, found = locate(messages, base)
            at = k if found or not forward else k - 1
        target = results.next_match(at, forward, wrap=False)
        wrapped = target is None
        if wrapped:
            target = results.next_match(at, forward, wrap=True)
        return (None if target is None else messages[target]), wrapped

    def fetch_status(self) -> tuple[str, Literal["progress", "error", "info"]] | None:
        """What the find bar says about the rest of the window, and in which style."""
        progress = self.progress
        if self.fetch_state == "running":
            text = "fetching the rest of the window"
            if progress is not None:
                text += (f": {progress.calls:,} calls · {progress.messages:,} messages · "
                         f"{progress.fraction:.0%}")
            return f"{text} — Esc or click here to stop", "progress"
        if self.results is None:
            return None
        if self.fetch_state == "failed":
            return (f"could not fetch the rest of the window: {self.fetch_error} "
                    "— matches in the loaded part only; / tries again", "error")
        if self.fetch_state == "stopped":
            share = f", {progress.fraction:.0%} of the window" if progress is not None else ""
            return (f"stopped: only loaded messages are searched{share} "
                    "— / fetches the rest", "info")
        return None

    # -- work (run by the owner's workers) -----------------------------------------------------

    async def scan(self, report: Callable[[bool], None], *, redraw: float = 0.1) -> None:
        """Scan what is indexed, then catch the index up slice by slice, scanning as it grows.

        ``report(settled)`` after each pass, and at most every ``redraw`` seconds in between;
        ``settled`` when the results cover every loaded message.
        """
        planned = -math.inf
        while True:
            results = self.results
            if results is not None:
                for _ in results.steps(DEFAULT_CHUNK):
                    await asyncio.sleep(0)
            settled = self.in_step
            report(settled)
            if settled:
                return
            # A whole-window fetch changes the timeline with every page, and each catch-up
            # starts with a pass over every loaded message: catch up again only after a pause.
            pause = planned + max(redraw, PLAN_SHARE * self._plan_cost) - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            planned = time.monotonic()
            await self._catch_up(report, redraw)

    async def _catch_up(self, report: Callable[[bool], None], redraw: float) -> None:
        generation = self._generation
        began = time.perf_counter()
        messages = self.timeline.messages()
        start, removed, inserted = splice_plan(self.index.messages, messages)
        self._plan_cost = time.perf_counter() - began
        at, end, first = start, start + inserted, True
        shown = time.monotonic()
        while first or at < end:
            if self._generation != generation:
                return  # newer knowledge: plan again from what the index holds now
            take = min(end - at, self._chunk)
            began = time.perf_counter()
            self.index.splice(at, removed if first else 0, messages[at:at + take])
            spent = time.perf_counter() - began
            if take:
                self._chunk = max(32, min(8192, int(take * INDEX_BUDGET / max(spent, 1e-5))))
            first, at = False, at + take
            if self.results is not None:
                for _ in self.results.steps(DEFAULT_CHUNK):
                    pass
            if time.monotonic() - shown > redraw:
                shown = time.monotonic()
                report(False)
            await asyncio.sleep(0)
        self._synced = generation

    async def fetch(self, progress: Callable[[LoadProgress], None]) -> None:
        """Load the rest of the window; ``fetch_state`` says how it ended (never raises but
        for cancellation)."""
        self.fetch_state, self.progress, self.fetch_error = "running", None, ""

        def seen(p: LoadProgress) -> None:
            self.progress = p
            progress(p)

        try:
            await self.timeline.load_all(seen)
        except asyncio.CancelledError:
            self.fetch_state = "stopped"
            raise
        except RoamError as exc:  # str() is one redacted line with the code and advice
            self.fetch_state = "failed"
            self.fetch_error = str(exc).strip().splitlines()[0] if str(exc).strip() else "failed"
        except Exception as exc:  # a bug must not take the app down: logged, told in one line
            # Only the type: the text of an unexpected error could hold a signed URL.
            logging.getLogger(__name__).error("fetching the window failed: %s", type(exc).__name__)
            self.fetch_state = "failed"
            self.fetch_error = f"internal error ({type(exc).__name__})"
        else:
            self.fetch_state = "done"
        finally:
            self.touch()

    async def find_kind(self, kind: Kind, forward: bool, cursor: Message | None) -> Message | None:
        """The next (previous) loaded message of ``kind`` after (before) ``cursor``."""
        messages = self.timeline.messages()
        if cursor is None:
            at = -1 if forward else len(messages)
        else:
            k, found = locate(messages, cursor)
            at = k if found or not forward else k - 1
        lo, hi = (at + 1, len(messages)) if forward else (0, at)
        while lo < hi:
            if forward:
                part = messages[lo:lo + KIND_SLICE]
                hit = find_message(part, -1, kind, True)
                lo += len(part)
            else:
                part = messages[max(lo, hi - KIND_SLICE):hi]
                hit = find_message(part, len(part), kind, False)
                hi -= len(part)
            if hit is not None:
                return part[hit]
            await asyncio.sleep(0)
        return None

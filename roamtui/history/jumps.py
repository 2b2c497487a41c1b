"""The decisions of a jump (``Timeline.jump``), read off what the store knows (Textual-free).

A jump to ``t`` wants the landing row (the first message at or after ``t``), ``context``
messages from it on and :data:`BEFORE` times that many below it. A reply holds the newest page
of what it asks for and the cursor (``LastMsgKey``) runs downwards only, so:

- the first call asks for the page just before a second somewhat after ``t``
  (:func:`reach_top`): when fewer than a page lie between, one page holds both sides;
- windows above what is known are sized by the density seen to hold what is missing
  (:func:`probe_top`); one that held nothing is followed by a wider one;
- when that page ended above ``t``, its chain is walked on down while what lies between looks
  short enough for the budget, else the page just before ``t`` is fetched (:func:`walk_down`);
- the page below the landing row (:func:`short_below`) and the windows above it do not depend
  on each other once ``t``'s second is known whole, so they go out together (:func:`together`).

These are pure functions of the store; the timeline makes the calls.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable

from roamtui.history.segments import GapBounds, Seg, Store

#: A jump's first call reaches this many times ``context`` messages past ``t`` (at the density
#: of what is loaded), so that its page often holds both sides of ``t``.
REACH = 4.0
#: A jump wants this share of ``context`` before the landing row (a page cut by the reply
#: size holds long messages, each more than a line).
BEFORE = 0.75
#: A sub-window above a gap is sized to hold this many times the messages still missing: in
#: bursty histories one that falls short usually holds nothing at all, while one that
#: overflows costs only its chain walked down.
AIM = 2.0


def reach_top(store: Store, gap: GapBounds, t: int, context: int) -> int:
    """The top of a jump's first call: :data:`REACH` times ``context`` messages above ``t`` at
    the density of what is loaded (just ``t`` when nothing is)."""
    count, seconds = len(store.msgs), store.covered_seconds()
    if not count or not seconds:
        return t
    return min(gap.max_time, t + math.floor(REACH * context * seconds / count))


def probe_top(store: Store, gap: GapBounds, need: float, reach: int = 1) -> int:
    """The top of a sub-window above ``gap.min_time`` expected to hold :data:`AIM` times
    ``need`` messages, at least ``reach`` seconds wide.

    The density is that of everything loaded, pooled: in bursty histories the pages around
    the gap say little about how far away the next cluster is.
    """
    count, seconds = len(store.msgs), store.covered_seconds()
    if not count or not seconds:
        return gap.max_time
    width = max(reach, math.floor(AIM * need * seconds / count))
    return min(gap.max_time, gap.min_time + width - 1)


def walk_down(
    store: Store, chain: Seg, t: int, context: int, per_page: float, left: int
) -> bool:
    """Whether a chain whose bottom lies above ``t`` is best walked on down (its next page)
    rather than left for the page just before ``t``: while the density of its oldest page
    says that what lies between, and the messages wanted below ``t``, fit the ``left`` calls
    (the last call always goes below ``t``, so that the landing row loads)."""
    k, span = store.sample_bottom(chain, round(per_page))
    between = max(0, chain.lo - t) * k / span
    return left >= 2 and math.ceil((between + BEFORE * context) / per_page) <= left


def short_below(store: Store, t: int, context: int) -> tuple[GapBounds, bool] | None:
    """The gap below ``t``'s segment while too few messages lie between it and the landing row,
    and whether ``t``'s second is known only in part (the landing row is the first message of
    that second, so the second must be whole first); None when nothing is missing below."""
    seg = store.seg_at(t)
    below = None if seg is None else gap_below(store, seg)
    if seg is None or below is None:
        return None
    partial = seg.clean_lo > t
    if not partial and store.first_at(t, seg.start, seg.end) - seg.start >= BEFORE * context:
        return None
    return below, partial


def gap_below(store: Store, seg: Seg) -> GapBounds | None:
    """The gap just below ``seg`` (None when it starts the window)."""
    return next((g for g in store.gaps() if g.newer is seg), None)


def gap_above(store: Store, seg: Seg) -> GapBounds | None:
    """The gap just above ``seg`` (None when it ends the window)."""
    return next((g for g in store.gaps() if g.older is seg), None)


async def together(*steps: Awaitable[None]) -> None:
    """Run ``steps`` at once; the first failure is raised once all of them have ended, so none
    is left running behind the caller's back (each keeps its own failure on its gap)."""
    outcomes = await asyncio.gather(*steps, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome

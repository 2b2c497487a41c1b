"""Where a move through time lands, and the loads that get it there (Textual-free).

A jump (``G``, ``:goto``, ``d``/``D``, ``o``/``O``) names a time; it lands on the first message
at or after it, or, stepping back, on the last message at or before it. :func:`seek` finds
that row among what is loaded (or the gap that may hide it), :func:`reach` loads until no gap
hides it, however long the quiet stretch in between, and :func:`stepped` is the time a step
of days or hours names: days on the calendar of the chosen zone (a day across a daylight-
saving change is 23 or 25 hours), hours as 3,600 seconds. :func:`quiet_notice` is what a
jump says when the message it lands on is far from the time it named ("nothing between 14:22
and 21:49"), so a quiet stretch is never crossed in silence.
"""

from __future__ import annotations

import math
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Literal

from roamtui.history.rows import GapRow, MessageRow
from roamtui.history.timeparse import TimeParseError, add_days

if TYPE_CHECKING:
    from roamtui.history.timeline import Timeline

SEEK_CALLS = 32  # calls a landing may spend past its jump, crossing quiet stretches
SEEK_FIRST = 3600  # seconds of the first window probed above a gap when nothing is loaded
SEEK_GROW = 4  # a window that held nothing is followed by one this many times as wide
#: Messages the first window above a gap is sized to hold at the density seen (about a page
#: cut near 13 KB), and the most a chain's next page is taken to reach across.
SEEK_MESSAGES = 30

StepUnit = Literal["day", "hour"]
#: Seconds between the time a jump names and the message it lands on from which the jump says
#: that nothing was there: ten minutes (a chat's pauses are shorter; a closed shop's longer).
QUIET_NOTICE = 600


def seek(timeline: Timeline, t: int, earlier: bool) -> tuple[int | None, bool]:
    """The row of the last message at or before ``t`` (``earlier``) or of the first at or after
    it, or of a gap that may hide it, and the side it was sought on: the other one when the asked
    side has no message (a step past the first or last). None when the window has no message."""
    count = len(timeline)
    for side in (earlier, not earlier):
        if side:
            row = count if t >= timeline.query.max_time else timeline.index_at_time(t + 1)
            item = timeline.row(row) if row < count else None
            if isinstance(item, GapRow) and item.gap.min_time <= t:
                return row, side
            row -= 1
        else:
            row = timeline.index_at_time(t)
        while 0 <= row < count:  # day separators and the window's edges are passed over
            if isinstance(timeline.row(row), (MessageRow, GapRow)):
                return row, side
            row += -1 if side else 1
    return None, earlier


async def reach(timeline: Timeline, t: int, earlier: bool) -> None:
    """Load until :func:`seek` finds a message, not a gap hiding it. A gap below ``t`` gives its
    newest page in one call; above, a chain that ends at the gap's top and looks a page from
    its bottom is walked on down; else, with no forward cursor, windows from the gap's bottom
    are probed a call each, the first sized by the density of what is loaded
    (:func:`seek_width`), each after an empty one four times as wide, then (once one held
    messages, so the gap holds the rest) the gap is halved. At most :data:`SEEK_CALLS` loads."""
    width: int | None = None
    found = False
    for _ in range(SEEK_CALLS):
        row, below = seek(timeline, t, earlier)
        item = None if row is None else timeline.row(row)
        if not isinstance(item, GapRow):
            return
        if below:
            await timeline.fill(item.gap, "bottom")
            continue
        low, high = item.gap.min_time, item.gap.max_time
        if _chain_near(timeline, low, high):
            await timeline.fill(item.gap, "bottom")  # that chain's next page reaches low
            continue
        if found:
            top = low + (high - low) // 2
        else:
            width = seek_width(timeline) if width is None else width * SEEK_GROW
            top = min(high, low + width - 1)
        loaded = timeline.loaded_count
        await timeline.jump(top, context=0, max_calls=1)  # one call: newest page of low .. top
        found = found or timeline.loaded_count > loaded


def _chain_near(timeline: Timeline, low: int, high: int) -> bool:
    """Whether a chain ends at ``high`` (the segment above knows that second only in part)
    whose density says its next page reaches ``low``: walking it down is then one call, and
    it joins what is known instead of leaving another gap."""
    for seg in timeline.segments:
        if seg.min_time == high and seg.partial_bottom:
            per_second = seg.count / (seg.max_time - seg.min_time + 1)
            return (high - low + 1) * per_second <= SEEK_MESSAGES
    return False


def seek_width(timeline: Timeline) -> int:
    """Seconds that hold :data:`SEEK_MESSAGES` messages at the density of everything loaded
    (quiet stretches proven empty count too): the first window probed above a gap. A fixed
    width is wrong at every density but one: an hour holds thousands of messages in a busy
    conversation (its page is the newest 30 of them, and the gap is then halved a dozen
    times), while in a quiet one it is one of many empty calls."""
    seconds = timeline.covered_seconds()
    count = timeline.loaded_count
    if not count or not seconds:
        return SEEK_FIRST
    return max(1, math.ceil(SEEK_MESSAGES * seconds / count))


def stepped(t: int, count: int, unit: StepUnit, tz: tzinfo) -> int:
    """``t`` moved by ``count`` days on the wall clock of ``tz``, or by ``count`` hours.

    The same local time on another day: from 12:00 on the day before a spring-forward change
    a day later is 12:00 again, 23 hours on. A time past the ends of the calendar moves by
    whole 86,400 s instead (the caller clamps it into its window anyway).
    """
    if unit == "hour":
        return t + 3600 * count
    try:
        return add_days(t, tz, count)
    except TimeParseError:
        return t + 86_400 * count


def _clock_text(t: int, other: int, tz: tzinfo) -> str:
    """``14:22`` when both times fall on one day, ``Sun 22:43`` within a week, else the date."""
    a, b = datetime.fromtimestamp(t, tz), datetime.fromtimestamp(other, tz)
    if a.date() == b.date():
        return f"{a:%H:%M}"
    if abs((a.date() - b.date()).days) < 7:
        return f"{a:%a %H:%M}"
    return f"{a:%Y-%m-%d %H:%M}"


def quiet_notice(
    target: int, landed: int | None, tz: tzinfo, *, earlier: bool = False,
    window: tuple[int, int] | None = None,
) -> str | None:
    """What a jump to ``target`` says when it lands at ``landed`` (None: on no message): the
    quiet stretch between them when it is at least :data:`QUIET_NOTICE` long, else None.
    Landing on the far side of the target (nothing at or after it; nothing at or before it
    for an ``earlier`` jump) means that end of the window is quiet; a target at that end of
    ``window`` (a step clamped to it) says so, and where the last message is."""
    if landed is None:
        return "nothing in this window"
    start, end = (landed, target) if earlier else (target, landed)
    if end < start:
        if window is not None and target == window[0 if earlier else 1]:
            side, which = ("start", "first") if earlier else ("end", "last")
            return f"{side} of window: the {which} message is at {_clock_text(landed, target, tz)}"
        where = _clock_text(target, landed, tz)
        return (f"nothing between the start of the window and {where}" if earlier
                else f"nothing between {where} and the end of the window")
    if end - start < QUIET_NOTICE:
        return None
    return f"nothing between {_clock_text(start, end, tz)} and {_clock_text(end, start, tz)}"

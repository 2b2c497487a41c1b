"""A window cut into slices of at most N messages, at calendar-day boundaries where possible.

Review platforms take RSMF files of at most 10,000 events (Relativity's advice), sliced by time;
a day per file is what they are used to. :func:`slice_window` packs whole days of the export's
zone into each slice, greedily and in order (the fewest slices any cut at day boundaries can
give, since every slice but the last is as full as the next whole day allows). A single day of
more than N messages is cut at hours, a single hour at seconds, and only a single second of more
than N messages in the middle of a second.

Each slice covers a stretch of the window: the first starts where the window starts, each next
one where the day (hour, second) of its first message starts, and each ends where the next
starts (the last where the window ends), so the slices cover the window once, without gaps,
and each says which stretch it proves complete. Only a cut inside one second leaves two
slices sharing that second. Textual-free; no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, tzinfo
from itertools import pairwise

from roamtui.export.provenance import ExportMeta, iso_time
from roamtui.im.model import Message

#: The levels a slice is cut at, coarsest first.
LEVELS = ("day", "hour", "second", "message")
_STAMP = "%Y%m%d-%H%M%S"


@dataclass(frozen=True, slots=True)
class Slice:
    """Messages ``[start, stop)`` of the window, covering ``min_time``..``max_time``."""

    start: int
    stop: int
    min_time: int
    max_time: int


@dataclass(frozen=True, slots=True)
class Part:
    """One file of a sliced export: its name, its messages and its own provenance."""

    name: str
    messages: Sequence[Message]
    meta: ExportMeta


def _local(t: int, tz: tzinfo) -> datetime | None:
    try:
        return datetime.fromtimestamp(t, tz)
    except (OverflowError, ValueError, OSError):
        return None


def _key(level: str, t: int, tz: tzinfo) -> object:
    if level == "second":
        return t
    local = _local(t, tz)
    if local is None:
        return t  # outside the calendar: a unit of its own
    if level == "day":
        return local.date()
    return local.date(), local.hour, local.utcoffset()


def _unit_start(level: str, t: int, tz: tzinfo) -> int:
    """When the day (hour) holding ``t`` starts in ``tz``: a cut there shows on a clock."""
    local = _local(t, tz)
    if local is None or level in ("second", "message"):
        return t
    if level == "day":
        midnight = datetime.combine(local.date(), time(0), tzinfo=tz)
        return min(t, int(midnight.timestamp()))
    return min(t, t - local.minute * 60 - local.second)


def _runs(times: Sequence[int], lo: int, hi: int, key: Callable[[int], object]
          ) -> list[tuple[int, int]]:
    """Consecutive stretches of ``times[lo:hi]`` with the same key."""
    runs: list[tuple[int, int]] = []
    start = lo
    for i in range(lo + 1, hi + 1):
        if i == hi or key(times[i]) != key(times[start]):
            runs.append((start, i))
            start = i
    return runs


def _pack(times: Sequence[int], lo: int, hi: int, level: int, limit: int, tz: tzinfo,
          out: list[tuple[int, int, int]]) -> None:
    """Cut ``[lo, hi)`` into stretches of at most ``limit``; each as (start, stop, level cut)."""
    name = LEVELS[level]
    if name == "message":
        for start in range(lo, hi, limit):
            out.append((start, min(hi, start + limit), level))
        return
    current: tuple[int, int] | None = None
    for run_lo, run_hi in _runs(times, lo, hi, lambda t: _key(name, t, tz)):
        if current is not None and current[1] - current[0] + run_hi - run_lo <= limit:
            current = (current[0], run_hi)
            continue
        if current is not None:
            out.append((*current, level))
            current = None
        if run_hi - run_lo > limit:
            _pack(times, run_lo, run_hi, level + 1, limit, tz, out)
        else:
            current = (run_lo, run_hi)
    if current is not None:
        out.append((*current, level))


def slice_window(times: Sequence[int], min_time: int, max_time: int, tz: tzinfo, limit: int
                 ) -> list[Slice]:
    """The slices of a window whose messages have these ``times`` (oldest first)."""
    if limit < 1:
        raise ValueError("a slice holds at least one message")
    if not times:
        return [Slice(0, 0, min_time, max_time)]
    cuts: list[tuple[int, int, int]] = []
    _pack(times, 0, len(times), 0, limit, tz, cuts)
    starts = [min_time]
    for start, _, level in cuts[1:]:
        begin = _unit_start(LEVELS[level], times[start], tz)
        starts.append(max(begin, times[start - 1] + 1 if LEVELS[level] != "message"
                          else times[start]))
    ends = [max(s, nxt - 1) for s, nxt in pairwise(starts)] + [max_time]
    return [Slice(lo, hi, begin, end)
            for (lo, hi, _), begin, end in zip(cuts, starts, ends, strict=True)]


def file_slug(name: str) -> str:
    """An account name made safe for a file name on every system (letters of any script kept)."""
    kept = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip("._")
    return kept[:40] or "x"


def stretch_name(meta: ExportMeta, min_time: int, max_time: int, suffix: str) -> str:
    """``roam-<account>-<peer>-<start>-<end>.<suffix>``, the times in the export's zone."""
    def stamp(t: int) -> str:
        local = _local(t, meta.tz)
        return local.strftime(_STAMP) if local is not None else str(t)

    return (f"roam-{file_slug(meta.account)}-{file_slug(meta.peer)}-{stamp(min_time)}-"
            f"{stamp(max_time)}.{suffix}")


def parts(messages: Sequence[Message], meta: ExportMeta, limit: int, suffix: str) -> list[Part]:
    """The files of a sliced export: each slice's messages, name (its time range) and
    provenance (its own stretch, and which slice of the window it is)."""
    slices = slice_window([m.time for m in messages], meta.min_time, meta.max_time, meta.tz,
                          limit)
    out: list[Part] = []
    seen: set[str] = set()
    window = f"{iso_time(meta.min_time, meta.tz)} .. {iso_time(meta.max_time, meta.tz)}"
    for n, s in enumerate(slices, 1):
        name = stretch_name(meta, s.min_time, s.max_time, suffix)
        if name in seen:  # two slices inside one second
            name = name.removesuffix(f".{suffix}") + f"-{n}.{suffix}"
        seen.add(name)
        part = f"{n} of {len(slices)} of the window {window}"
        out.append(Part(name, messages[s.start:s.stop],
                        replace(meta, min_time=s.min_time, max_time=s.max_time, part=part,
                                whole=(meta.min_time, meta.max_time))))
    return out

"""Times as users type them (ISO 8601, ``@unix``, ``-2h``, ``yesterday``) to Unix seconds, and back.

Stdlib only. A time without a zone is read in the zone the user chose (``--tz``, default the
machine's). Day arithmetic (``-7d``, ``yesterday``, stepping a day) follows the wall clock of
that zone, so a day across a DST change is still "same time, other day".
"""

from __future__ import annotations

import math
import os
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, available_timezones

ACCEPTED = (
    "ISO 8601 (2020-03-20 10:00, 2020-03-20T10:00:00+08:00, 2020-03-20, 10:40), "
    "Unix seconds (@1584669600) or relative (now, today, yesterday 10:40, -2h, -30m, -7d, +1h)"
)
ZONE_FORMS = "an IANA name (Asia/Shanghai, Europe/Berlin), UTC, local, or an offset (+08:00)"
#: The service keeps 7 days of history unless the app paid for more.
DEFAULT_SPAN = 7 * 86_400

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_RELATIVE = re.compile(r"([+-])\s*((?:\d+\s*[smhdw]\s*)+)|((?:\d+\s*[smhdw]\s*)+)ago", re.I)
_REL_PART = re.compile(r"(\d+)\s*([smhdw])", re.I)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?")
_DAY_WORD = re.compile(r"(today|yesterday|tomorrow)(?:\s+(.+))?", re.I)
_UNIX = re.compile(r"@\s*(-?\d+)(?:\.\d+)?|(\d{9,})")
_OFFSET = re.compile(r"(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?", re.I)
_DAY_OFFSETS = {"today": 0, "yesterday": -1, "tomorrow": 1}


class TimeParseError(ValueError):
    """A time or zone roamtui cannot read; ``str()`` is one line that names the accepted forms."""


def _bad(text: str) -> TimeParseError:
    if not text:
        return TimeParseError(f"no time given; use {ACCEPTED}")
    shown = text if len(text) <= 40 else text[:39] + "…"
    return TimeParseError(f"cannot read {shown!r} as a time; use {ACCEPTED}")


def local_zone() -> tzinfo:
    """The machine's zone with its DST rules when it can be named, else its current offset."""
    name = os.environ.get("TZ", "").lstrip(":")
    candidates = [name] if name else []
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        target = ""
    if "/zoneinfo/" in target:
        candidates.append(target.split("/zoneinfo/", 1)[1])
    for key in candidates:
        try:
            return ZoneInfo(key)
        except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
            continue
    return datetime.now().astimezone().tzinfo or UTC


def resolve_zone(name: str | None) -> tzinfo:
    """``None``/``local`` → the machine's zone; ``UTC``; IANA names (any case); ``+08:00``."""
    if name is None or not name.strip() or name.strip().lower() == "local":
        return local_zone()
    text = name.strip()
    if text.upper() in ("UTC", "Z", "GMT", "UTC0", "ETC/UTC"):
        return UTC
    m = _OFFSET.fullmatch(text)
    if m:
        sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3) or 0)
        if hours > 23 or minutes > 59:
            raise TimeParseError(f"time zone offset {text!r} is out of range; use {ZONE_FORMS}")
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(text)
    except (KeyError, ValueError, OSError):
        pass
    folded = {key.lower(): key for key in available_timezones()}.get(text.lower())
    if folded is not None:
        return ZoneInfo(folded)
    shown = text if len(text) <= 40 else text[:39] + "…"
    raise TimeParseError(f"unknown time zone {shown!r}; use {ZONE_FORMS}")


def zone_name(tz: tzinfo) -> str:
    """A short name for the status bar: the IANA key, ``UTC`` or ``UTC+08:00``."""
    if isinstance(tz, ZoneInfo) and tz.key:
        return tz.key
    return tz.tzname(None) or str(tz)


def _aware(now: datetime | None, tz: tzinfo) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now if now.tzinfo is not None else now.replace(tzinfo=tz)


def _ts(dt: datetime) -> int:
    return math.floor(dt.timestamp())


def _wall(d: date, clock: time, tz: tzinfo) -> int:
    return _ts(datetime.combine(d, clock).replace(tzinfo=tz))


def _local(ts: int, tz: tzinfo) -> datetime:
    try:
        return datetime.fromtimestamp(ts, tz)
    except (OverflowError, ValueError, OSError) as exc:
        raise TimeParseError(f"time {ts} is outside the calendar") from exc


def _clock(text: str) -> time | None:
    m = _CLOCK.fullmatch(text)
    if m is None:
        return None
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _relative(text: str, base: int, tz: tzinfo) -> int | None:
    """``-2h``, ``+1d12h``, ``30m ago`` from ``base``; days and weeks move the wall clock."""
    m = _RELATIVE.fullmatch(text)
    if m is None:
        return None
    sign = -1 if (m.group(1) == "-" or m.group(3)) else 1
    days = seconds = 0
    for amount, unit in _REL_PART.findall(m.group(2) or m.group(3)):
        step = _UNITS[unit.lower()]
        if step >= 86_400:
            days += int(amount) * step // 86_400
        else:
            seconds += int(amount) * step
    return _shift(base, tz, sign * days) + sign * seconds


def _shift(ts: int, tz: tzinfo, days: int) -> int:
    if not days:
        return ts
    local = _local(ts, tz)
    try:
        moved = local.replace(tzinfo=None) + timedelta(days=days)
    except OverflowError as exc:
        raise TimeParseError(f"{days} days from {ts} is outside the calendar") from exc
    return _ts(moved.replace(tzinfo=tz, fold=local.fold))


def _absolute(text: str, tz: tzinfo, now: datetime) -> int | None:
    """Keywords, Unix seconds and ISO 8601 forms; ``None`` when the text is none of them."""
    lower = text.lower()
    if lower == "now":
        return _ts(now)
    m = _DAY_WORD.fullmatch(text)
    if m:
        clock = _clock(m.group(2).strip()) if m.group(2) else time(0)
        if clock is None:
            return None
        day = now.astimezone(tz).date() + timedelta(days=_DAY_OFFSETS[m.group(1).lower()])
        return _wall(day, clock, tz)
    m = _UNIX.fullmatch(text)
    if m:
        try:
            return int(m.group(1) or m.group(2))
        except ValueError:  # beyond the interpreter's digit limit
            return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _ts(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz))


def parse_time(text: str, tz: tzinfo, now: datetime | None = None) -> int:
    """Unix seconds for ``text``; ``10:40`` is today in ``tz``, relative forms count from now."""
    s = text.strip()
    now_dt = _aware(now, tz)
    clock = _clock(s)
    try:
        if clock is not None:
            return _wall(now_dt.astimezone(tz).date(), clock, tz)
        found = _relative(s, _ts(now_dt), tz)
        if found is None:
            found = _absolute(s, tz, now_dt)
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, TimeParseError):
            raise
        raise _bad(s) from exc
    if found is None:
        raise _bad(s)
    return found


def parse_goto(text: str, tz: tzinfo, now: datetime | None, anchor: int) -> int:
    """``:goto`` target: ``10:40`` on the anchor's day, ``-2h`` from the anchor, else absolute."""
    s = text.strip()
    clock = _clock(s)
    if clock is not None:
        return _wall(_local(anchor, tz).date(), clock, tz)
    found = _relative(s, anchor, tz)
    return found if found is not None else parse_time(s, tz, now)


def parse_window(
    since: str | None, until: str | None, tz: tzinfo, now: datetime | None = None
) -> tuple[int, int]:
    """``(min_time, max_time)``; by default the last 7 days, or the 7 days before ``until``."""
    now_dt = _aware(now, tz)
    max_time = parse_time(until, tz, now_dt) if until and until.strip() else _ts(now_dt)
    min_time = parse_time(since, tz, now_dt) if since and since.strip() else max_time - DEFAULT_SPAN
    if min_time > max_time:
        raise TimeParseError(
            f"the window starts after it ends: since {format_full(min_time, tz)} "
            f"> until {format_full(max_time, tz)}"
        )
    return min_time, max_time


def format_time(ts: int, tz: tzinfo, fmt: str = "%H:%M:%S") -> str:
    """``ts`` in ``tz`` with a strftime format; ``@<ts>`` if it is outside the calendar."""
    try:
        return datetime.fromtimestamp(ts, tz).strftime(fmt)
    except (OverflowError, ValueError, OSError):
        return f"@{ts}"


def format_full(ts: int, tz: tzinfo) -> str:
    """``2020-03-20 10:40:05 +08:00``: unambiguous, for the inspector, headers and errors."""
    try:
        dt = datetime.fromtimestamp(ts, tz)
    except (OverflowError, ValueError, OSError):
        return f"@{ts}"
    offset = int((dt.utcoffset() or timedelta(0)).total_seconds())
    minutes, seconds = divmod(abs(offset), 60)
    text = f"{'-' if offset < 0 else '+'}{minutes // 60:02}:{minutes % 60:02}"
    # Historical local mean times have odd seconds; keep them so the text reads back exactly.
    return f"{dt:%Y-%m-%d %H:%M:%S} {text}{f':{seconds:02}' if seconds else ''}"


def add_days(ts: int, tz: tzinfo, days: int) -> int:
    """``ts`` moved by whole days on the wall clock of ``tz`` (``d``/``D`` in the transcript)."""
    return _shift(ts, tz, days)

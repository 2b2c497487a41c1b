"""timeparse: the time forms of PRODUCT.md §2, zones, windows, :goto, formatting, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roamtui.history.timeparse import (
    DEFAULT_SPAN,
    TimeParseError,
    add_days,
    format_full,
    format_time,
    parse_goto,
    parse_time,
    parse_window,
    resolve_zone,
    zone_name,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")  # UTC+8, no DST since 1991
T_1000 = 1_584_669_600  # 2020-03-20 10:00:00 +08:00, the seed's window start
# 2020-03-20 10:40:00 in Shanghai; the UTC date is the same day.
NOW = datetime(2020, 3, 20, 2, 40, tzinfo=UTC)
# 2020-03-20 04:00 in Shanghai but still 2020-03-19 in UTC: "today" must follow the zone.
EARLY = datetime(2020, 3, 19, 20, 0, tzinfo=UTC)


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI).timestamp())


@pytest.mark.parametrize(("text", "expected"), [
    ("2020-03-20 10:00", T_1000),
    ("2020-03-20T10:00", T_1000),
    ("2020-03-20T10:00:00+08:00", T_1000),
    ("2020-03-20T02:00:00Z", T_1000),
    ("2020-03-20T04:00:00+02:00", T_1000),
    ("2020-03-20", sh(2020, 3, 20)),
    ("2020-03-20 10:00:59.9", T_1000 + 59),
    ("10:40", sh(2020, 3, 20, 10, 40)),
    ("9:05:30", sh(2020, 3, 20, 9, 5, 30)),
    ("@1584669600", T_1000),
    ("@ 1584669600", T_1000),
    ("1584669600", T_1000),
    ("now", sh(2020, 3, 20, 10, 40)),
    ("  NOW ", sh(2020, 3, 20, 10, 40)),
    ("today", sh(2020, 3, 20)),
    ("yesterday", sh(2020, 3, 19)),
    ("yesterday 10:40", sh(2020, 3, 19, 10, 40)),
    ("Today 23:59:59", sh(2020, 3, 20, 23, 59, 59)),
    ("-2h", sh(2020, 3, 20, 8, 40)),
    ("-30m", sh(2020, 3, 20, 10, 10)),
    ("-7d", sh(2020, 3, 13, 10, 40)),
    ("-45s", sh(2020, 3, 20, 10, 39, 15)),
    ("+1h", sh(2020, 3, 20, 11, 40)),
    ("-1h30m", sh(2020, 3, 20, 9, 10)),
    ("-2w", sh(2020, 3, 6, 10, 40)),
    ("90m ago", sh(2020, 3, 20, 9, 10)),
])
def test_accepted_forms(text: str, expected: int) -> None:
    assert parse_time(text, SHANGHAI, NOW) == expected


def test_times_without_zone_are_read_in_the_chosen_zone() -> None:
    assert parse_time("2020-03-20 10:00", UTC, NOW) == T_1000 + 8 * 3600
    tokyo = resolve_zone("Asia/Tokyo")
    assert parse_time("2020-03-20 11:00", tokyo, NOW) == T_1000
    # An explicit offset wins over the chosen zone.
    assert parse_time("2020-03-20T10:00:00+08:00", tokyo, NOW) == T_1000


def test_today_and_clock_times_follow_the_zone_not_utc() -> None:
    assert parse_time("today", SHANGHAI, EARLY) == sh(2020, 3, 20)
    assert parse_time("10:40", SHANGHAI, EARLY) == sh(2020, 3, 20, 10, 40)
    assert parse_time("today", UTC, EARLY) == int(datetime(2020, 3, 19, tzinfo=UTC).timestamp())


def test_a_naive_now_is_read_in_the_zone() -> None:
    assert parse_time("now", SHANGHAI, datetime(2020, 3, 20, 10, 0)) == T_1000


def test_day_steps_keep_the_wall_clock_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # clocks went forward on 2020-03-29
    after = datetime(2020, 3, 30, 12, 0, tzinfo=berlin)
    expected = int(datetime(2020, 3, 27, 12, 0, tzinfo=berlin).timestamp())
    assert parse_time("-3d", berlin, after) == expected
    # 72 real hours back cross the lost hour, so the wall clock reads 11:00.
    assert parse_time("-72h", berlin, after) == expected - 3600
    assert add_days(int(after.timestamp()), berlin, -3) == expected


@pytest.mark.parametrize("text", [
    "", "   ", "soon", "25:00", "10:61", "@abc", "@", "-2x", "2h", "-h", "2020-13-01",
    "2020-02-30 10:00", "yesterday noon", "10:40 tomorrow", "@" + "9" * 5000,
])
def test_unreadable_times_get_one_clear_line(text: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_time(text, SHANGHAI, NOW)
    message = str(info.value)
    assert "\n" not in message and len(message) < 300
    assert "@1584669600" in message and "-2h" in message and "2020-03-20 10:00" in message
    assert isinstance(info.value, ValueError)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_fuzz_any_text_is_a_time_or_a_time_parse_error(text: str) -> None:
    try:
        result: int | None = parse_time(text, SHANGHAI, NOW)
    except TimeParseError:
        result = None
    assert result is None or isinstance(result, int)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-2_000_000_000, max_value=10_000_000_000),
       st.sampled_from(["UTC", "Asia/Shanghai", "America/Sao_Paulo", "+05:30"]))
def test_formatted_times_read_back_to_the_same_second(ts: int, zone: str) -> None:
    tz = resolve_zone(zone)
    assert parse_time(format_full(ts, tz), SHANGHAI, NOW) == ts
    assert parse_time(f"@{ts}", tz, NOW) == ts


def test_resolve_zone_names() -> None:
    assert resolve_zone("UTC") is UTC and resolve_zone("utc") is UTC
    assert resolve_zone("Asia/Shanghai") == SHANGHAI
    assert zone_name(resolve_zone("asia/shanghai")) == "Asia/Shanghai"
    assert resolve_zone("+08:00").utcoffset(None) == timedelta(hours=8)
    assert resolve_zone("-05:30").utcoffset(None) == -timedelta(hours=5, minutes=30)
    assert resolve_zone("UTC+8").utcoffset(None) == timedelta(hours=8)
    assert zone_name(resolve_zone("+08:00")) == "UTC+08:00"


def test_no_zone_means_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert zone_name(resolve_zone(None)) == "Asia/Tokyo"
    assert zone_name(resolve_zone("local")) == "Asia/Tokyo"
    monkeypatch.setenv("TZ", ":Europe/Berlin")
    assert zone_name(resolve_zone("")) == "Europe/Berlin"
    monkeypatch.setenv("TZ", "Not/AZone")
    assert resolve_zone(None).utcoffset(datetime(2020, 1, 1)) is not None


@pytest.mark.parametrize("name", ["Mars/Base", "../../etc/passwd", "/etc/localtime", "+25:00",
                                  "Asia", "x" * 500])
def test_unknown_zones_are_a_clear_error(name: str) -> None:
    with pytest.raises(TimeParseError) as info:
        resolve_zone(name)
    message = str(info.value)
    assert "\n" not in message and "Asia/Shanghai" in message and "+08:00" in message


def test_window_defaults_to_the_last_seven_days() -> None:
    now = sh(2020, 3, 20, 10, 40)
    assert parse_window(None, None, SHANGHAI, NOW) == (now - DEFAULT_SPAN, now)
    assert parse_window("", "  ", SHANGHAI, NOW) == (now - 7 * 86_400, now)
    assert parse_window("yesterday", None, SHANGHAI, NOW) == (sh(2020, 3, 19), now)
    assert parse_window(None, "2020-03-10", SHANGHAI, NOW) == (
        sh(2020, 3, 3), sh(2020, 3, 10))
    assert parse_window("2020-03-20 10:00", "2020-03-20 11:00", SHANGHAI, NOW) == (
        T_1000, T_1000 + 3600)
    assert parse_window("10:40", "10:40", SHANGHAI, NOW) == (now, now)


def test_window_that_starts_after_it_ends_is_refused() -> None:
    with pytest.raises(TimeParseError, match=r"starts after it ends.*2020-03-20 10:40:00 \+08:00"):
        parse_window("now", "-1h", SHANGHAI, NOW)
    with pytest.raises(TimeParseError, match="cannot read 'later'"):
        parse_window("later", None, SHANGHAI, NOW)


def test_goto_reads_clock_times_on_the_day_being_viewed() -> None:
    anchor = sh(2020, 3, 12, 23, 30)  # the transcript shows 12 March, today is 20 March
    assert parse_goto("10:40", SHANGHAI, NOW, anchor) == sh(2020, 3, 12, 10, 40)
    assert parse_goto("-2h", SHANGHAI, NOW, anchor) == sh(2020, 3, 12, 21, 30)
    assert parse_goto("+1d", SHANGHAI, NOW, anchor) == sh(2020, 3, 13, 23, 30)
    assert parse_goto("2020-03-20 10:40", SHANGHAI, NOW, anchor) == sh(2020, 3, 20, 10, 40)
    assert parse_goto("yesterday", SHANGHAI, NOW, anchor) == sh(2020, 3, 19)
    with pytest.raises(TimeParseError):
        parse_goto("around ten", SHANGHAI, NOW, anchor)


def test_formatting_for_the_transcript_and_inspector() -> None:
    assert format_time(T_1000 + 5, SHANGHAI) == "10:00:05"
    assert format_time(T_1000, SHANGHAI, "%Y-%m-%d %A") == "2020-03-20 Friday"
    assert format_full(T_1000, SHANGHAI) == "2020-03-20 10:00:00 +08:00"
    assert format_full(T_1000, UTC) == "2020-03-20 02:00:00 +00:00"
    assert format_full(T_1000, timezone(-timedelta(hours=3, minutes=30))) == (
        "2020-03-19 22:30:00 -03:30")
    assert format_time(T_1000, SHANGHAI, "%Y/%m/%d") == "2020/03/20"


@pytest.mark.parametrize("ts", [10**20, -(10**20), 2**63])
def test_times_outside_the_calendar_format_without_crashing(ts: int) -> None:
    assert format_time(ts, SHANGHAI) == f"@{ts}"
    assert format_full(ts, SHANGHAI) == f"@{ts}"


def test_add_days_keeps_the_wall_clock() -> None:
    assert add_days(sh(2020, 3, 20, 17, 5), SHANGHAI, 2) == sh(2020, 3, 22, 17, 5)
    with pytest.raises(TimeParseError):
        add_days(10**20, SHANGHAI, 1)

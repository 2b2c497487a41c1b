"""Exports for people (issue 18 #5): read marks, merged forwards' messages, invisible characters
made visible, and a header that says each thing once."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from roamtui.export import body
from roamtui.export.csv import CSV_COLUMNS, write_csv
from roamtui.export.provenance import ExportMeta
from roamtui.export.txt import write_txt
from roamtui.im.model import Message, message_obj, parse_message

T0 = 1_584_669_600  # 2020-03-20 02:00:00 UTC
SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")  # +00:00 in March 2020: reads as UTC


def relay(title: str, inner: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    content = {"Title": title, "MsgNum": len(inner), "MsgList": inner, **extra}
    return {"MsgType": "TIMRelayElem", "MsgContent": content}


def forward_message() -> Message:
    """A forward of two messages, the second a forward itself, one of them over two lines."""
    deeper = relay("older chat", [message_obj(sender="dave", receiver="erin", time=T0 - 7200,
                                              text="deep one")])
    inner = [
        message_obj(sender="carol", receiver="bob", time=T0 - 3600, text="first\nsecond line"),
        message_obj(sender="bob", receiver="carol", time=T0 - 3500, body=[deeper]),
    ]
    return parse_message(message_obj(sender="cust_1001", receiver="agent_alice", time=T0 + 60,
                                     body=[relay("Chat history", inner)], key="fwd_key"))


def meta(tz: Any = SHANGHAI, **kw: Any) -> ExportMeta:
    base: dict[str, Any] = dict(account="cust_1001", peer="agent_alice", min_time=T0,
                                max_time=T0 + 3600, tz=tz, fetched_at=T0 + 7200, pages=3,
                                calls=5, complete=True)
    base.update(kw)
    return ExportMeta(**base)


def txt(messages: list[Message], m: ExportMeta) -> str:
    out = io.StringIO()
    write_txt(messages, m, out)
    return out.getvalue()


def csv_table(messages: list[Message], m: ExportMeta) -> tuple[dict[str, list[str]], list[dict]]:
    out = io.StringIO()
    write_csv(messages, m, out)
    rows = list(csv.reader(io.StringIO(out.getvalue().lstrip("\ufeff"), newline="")))
    blank = rows.index([])
    head = {r[0][2:]: r[1:] for r in rows[:blank]}
    return head, [dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[blank + 2:]]


def test_body_lines_walk_nested_forwards_in_order_with_depth() -> None:
    lines = body.body_lines(forward_message())
    assert [(x.depth, x.sender, x.text) for x in lines] == [
        (0, "", "[merged forward: Chat history · 2 msgs]"),
        (1, "carol", "first\nsecond line"),
        (1, "bob", "[merged forward: older chat · 1 msg]"),
        (2, "dave", "deep one"),
    ]
    assert body.plain_text(forward_message(), UTC).splitlines() == [
        "[merged forward: Chat history · 2 msgs]",
        "│ 2020-03-20 01:00:00 carol: first",
        "│ second line",
        "│ 2020-03-20 01:01:40 bob: [merged forward: older chat · 1 msg]",
        "│ │ 2020-03-20 00:00:00 dave: deep one",
    ]


def test_a_forward_kept_apart_by_the_service_says_so() -> None:
    apart = {"MsgType": "TIMRelayElem", "MsgContent": {"Title": "big", "MsgNum": 300,
                                                       "JsonMsgKey": "k-big"}}
    msg = parse_message(message_obj(sender="a", receiver="b", time=T0, body=[apart]))
    assert body.forwarded_lines(msg, UTC) == [
        "│ (300 forwarded messages not included: the service keeps large forwards apart)"]


def test_txt_shows_forwarded_messages_indented_under_the_content() -> None:
    plain = parse_message(message_obj(sender="agent_alice", receiver="cust_1001", time=T0,
                                      text="before", key="k0"))
    lines = txt([plain, forward_message()], meta(tz=UTC)).splitlines()
    at = next(i for i, line in enumerate(lines) if "fwd_key" in line)
    column = lines[at].index("[merged forward")
    forwarded = lines[at + 1:at + 5]
    assert [x[:column].strip() for x in forwarded] == ["", "", "", ""]
    assert [x[column:] for x in forwarded] == [
        "│ 2020-03-20 01:00:00 carol: first",
        "│ second line",
        "│ 2020-03-20 01:01:40 bob: [merged forward: older chat · 1 msg]",
        "│ │ 2020-03-20 00:00:00 dave: deep one",
    ]


def test_csv_content_cell_carries_the_forwarded_messages() -> None:
    _, rows = csv_table([forward_message()], meta(tz=UTC))
    assert rows[0]["content"].splitlines() == [
        "[merged forward: Chat history · 2 msgs]",
        "│ 2020-03-20 01:00:00 carol: first",
        "│ second line",
        "│ 2020-03-20 01:01:40 bob: [merged forward: older chat · 1 msg]",
        "│ │ 2020-03-20 00:00:00 dave: deep one",
    ]


def test_read_receipts_marked_in_csv_and_txt_and_counted() -> None:
    msgs = [parse_message(message_obj(sender="cust_1001", receiver="agent_alice", time=T0 + i,
                                      text=f"m{i}", key=f"k{i}", is_peer_read=i % 2 == 1))
            for i in range(4)]
    head, rows = csv_table(msgs, meta())
    assert [r["read"] for r in rows] == ["", "READ", "", "READ"]
    assert head["read receipts"] == ["2"]
    lines = [x for x in txt(msgs, meta()).splitlines() if " k" in x]
    assert [("READ" in x.split("  ")) for x in lines] == [False, True, False, True]
    assert "Read receipts:" in txt(msgs, meta())


def test_zero_width_and_invisible_characters_are_visible_as_on_screen() -> None:
    hidden = "pay\u200bpal.com \u200d\u2060\ufeff\u00ad \u202egnp.exe \U000e0041"
    msg = parse_message(message_obj(sender="a", receiver="b", time=T0, text=hidden, key="z"))
    shown = "pay<U+200B>pal.com <U+200D><U+2060><U+FEFF><U+00AD> <U+202E>gnp.exe <U+E0041>"
    _, rows = csv_table([msg], meta())
    assert rows[0]["content"] == shown
    assert shown in txt([msg], meta())
    # The exported text holds no invisible character at all (the BOM starts the csv file only).
    out = io.StringIO()
    write_csv([msg], meta(), out)
    assert not any(ch in out.getvalue()[1:] for ch in "\u200b\u200d\u2060\ufeff\u00ad\u202e")


def test_a_crlf_line_break_is_one_line_break_as_on_screen() -> None:
    """Windows and web clients send CRLF: the transcript shows one line break; so do csv and
    txt (not a visible ␍ before each break). A lone CR stays visible."""
    msg = parse_message(message_obj(sender="a", receiver="b", time=T0, key="crlf",
                                    text="line one\r\nline two\rlone"))
    _, rows = csv_table([msg], meta())
    assert rows[0]["content"] == "line one\nline two␍lone"
    assert "line one ⏎ line two␍lone" in txt([msg], meta())


def test_header_in_utc_says_each_time_once() -> None:
    text = txt([], meta(tz=UTC))
    assert "Fetched at:       2020-03-20T04:00:00+00:00\n" in text
    assert " = " not in text
    assert text.count("Window") == 1
    # A zone that reads as UTC at these times (London in March) is said once too.
    assert txt([], meta(tz=LONDON)).count("Window") == 1
    local = txt([], meta(tz=SHANGHAI))
    assert "Window UTC:" in local and "Window Asia/Shanghai:" in local
    assert "2020-03-20T04:00:00+00:00 = 2020-03-20T12:00:00+08:00" in local
    head, _ = csv_table([], meta(tz=UTC))
    assert head["fetched at"] == ["2020-03-20T04:00:00+00:00"]
    assert "window UTC" in head and not any(k.startswith("window ") and k != "window UTC"
                                            for k in head)

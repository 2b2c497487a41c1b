"""Export formats: jsonl verbatim, csv for spreadsheets and csv.reader, txt for people, hostile
text kept inert, the registry, and the atomic write that never leaves a half file behind."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from roamtui.atomicfile import TextSink, write_atomically
from roamtui.export.csv import CSV_COLUMNS, csv_cell, write_csv
from roamtui.export.formats import format_for, write_export
from roamtui.export.jsonl import write_jsonl
from roamtui.export.provenance import ExportMeta
from roamtui.export.txt import write_txt
from roamtui.im.model import Message, message_obj, parse_message
from roamtui.text import file_text as visible

T0 = 1_584_669_600  # 2020-03-20 02:00:00 UTC, 10:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
CONTENT = CSV_COLUMNS.index("content")


def obj(i: int, text: str | None = "hello", **extra: Any) -> dict[str, Any]:
    o = message_obj(sender="cust_1001" if i % 2 else "agent_alice",
                    receiver="agent_alice" if i % 2 else "cust_1001",
                    time=T0 + 60 * i, text=text, seq=100 + i, random=7 * i)
    o.update(extra)
    return o


def meta(complete: bool = True, **kw: Any) -> ExportMeta:
    base: dict[str, Any] = dict(account="cust_1001", peer="agent_alice", min_time=T0,
                                max_time=T0 + 3600, tz=SHANGHAI, fetched_at=T0 + 7200, pages=3,
                                calls=5, complete=complete, source="http://127.0.0.1:9")
    base.update(kw)
    return ExportMeta(**base)


def sample() -> tuple[list[dict[str, Any]], list[Message]]:
    objs = [
        obj(1, "hi there", FutureField={"nested": [1, 2]}),  # an unknown field survives
        obj(2, None, MsgFlagBits=8, MsgBody=[]),  # recalled, body emptied
        obj(3, "=HYPERLINK(\"http://evil\")"),
        obj(4, "line one\nline two\twith tab"),
        obj(5, "\x1b[2J\x1b[31mred\x07 \u202egnp.exe"),
        obj(6, "是的，订单 E7294868771"),
        obj(7, None, MsgBody=[{"MsgType": "TIMFileElem",
                               "MsgContent": {"FileName": "invoice.pdf", "FileSize": 122880}}]),
        obj(8, "recalled but kept", MsgFlagBits=8),
        obj(9, "sep\u2028line\u2029para\u0085next"),
    ]
    return objs, [parse_message(o) for o in objs]


def render(writer: Any, messages: list[Message], *args: Any) -> str:
    out = io.StringIO()
    writer(messages, *args, out)
    return out.getvalue()


# -- jsonl --------------------------------------------------------------------------------------


def test_jsonl_lines_are_the_service_objects_verbatim() -> None:
    objs, messages = sample()
    text = render(write_jsonl, messages)
    lines = text.splitlines()  # also splits on U+2028 etc., which must not occur raw
    assert len(lines) == len(objs)
    assert [json.loads(line) for line in lines] == objs
    assert "\u2028" not in text and "\\u2028" in text


def test_jsonl_escapes_lone_surrogates_so_the_file_is_valid_utf8() -> None:
    broken = parse_message(json.loads('{"From_Account":"a","To_Account":"b","MsgSeq":1,'
                                      '"MsgRandom":1,"MsgTimeStamp":1,"MsgKey":"k",'
                                      '"MsgBody":[{"MsgType":"TIMTextElem",'
                                      '"MsgContent":{"Text":"x\\ud800y"}}]}'))
    text = render(write_jsonl, [broken])
    text.encode("utf-8")  # would raise on a raw surrogate
    assert json.loads(text)["MsgBody"][0]["MsgContent"]["Text"] == "x\ud800y"


# -- csv ----------------------------------------------------------------------------------------


def read_csv(text: str) -> tuple[list[list[str]], list[str], list[list[str]]]:
    """(metadata rows, header, data rows), read the way the module docstring tells readers to."""
    data = text.encode("utf-8")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    blank = rows.index([])
    return rows[:blank], rows[blank + 1], rows[blank + 2:]


def test_csv_reads_back_with_the_stdlib_reader() -> None:
    objs, messages = sample()
    text = render(write_csv, messages, meta())
    assert text.startswith("\ufeff# export")  # BOM: spreadsheets then read it as UTF-8
    head, header, rows = read_csv(text)
    assert all(row[0].startswith("# ") for row in head)
    fields = {row[0][2:]: row[1:] for row in head}
    assert fields["account"] == ["cust_1001"] and fields["peer"] == ["agent_alice"]
    assert fields["window UTC"] == ["2020-03-20T02:00:00+00:00", "2020-03-20T03:00:00+00:00"]
    assert fields["window Asia/Shanghai"] == ["2020-03-20T10:00:00+08:00",
                                              "2020-03-20T11:00:00+08:00"]
    assert fields["pages"] == ["3"] and fields["calls"] == ["5"]
    assert fields["completeness"] == ["complete"]
    assert fields["messages"] == ["9"] and fields["recalled"] == ["2"]
    assert header == list(CSV_COLUMNS)
    assert [r[CSV_COLUMNS.index("msg_key")] for r in rows] == [o["MsgKey"] for o in objs]
    assert [r[4] for r in rows] == ["", "RECALLED", "", "", "", "", "", "RECALLED", ""]
    assert rows[0][:4] == ["2020-03-20T10:01:00+08:00", str(T0 + 60), "cust_1001", "agent_alice"]
    assert rows[3][CONTENT] == "line one\nline two\twith tab"  # a quoted multi-line cell
    assert rows[5][CONTENT] == "是的，订单 E7294868771"
    assert rows[6][CONTENT] == "[file invoice.pdf 120 KB]"
    assert rows[1][CONTENT] == "(recalled; the service returned no content)"
    assert rows[7][CONTENT] == "recalled but kept"


def test_csv_defuses_formulas_and_shows_controls() -> None:
    _, messages = sample()
    _, _, rows = read_csv(render(write_csv, messages, meta()))
    assert rows[2][CONTENT] == "'=HYPERLINK(\"http://evil\")"
    assert rows[4][CONTENT] == "␛[2J␛[31mred␇ <U+202E>gnp.exe"
    for cell in ("=1+2", "+1", "-2", "@SUM(A1)", "\tx"):
        assert csv_cell(cell).startswith("'")
    assert csv_cell("2020-03-20") == "2020-03-20" and csv_cell("hello") == "hello"


def test_csv_of_hostile_account_names_is_defused_too() -> None:
    m = parse_message(message_obj(sender="=cmd|' /C calc'!A0", receiver="@x", time=T0, text="t"))
    _, _, rows = read_csv(render(write_csv, [m], meta(account="=cmd|' /C calc'!A0")))
    assert rows[0][2] == "'=cmd|' /C calc'!A0" and rows[0][3] == "'@x"


def test_partial_export_says_so() -> None:
    _, messages = sample()
    head, _, _ = read_csv(render(write_csv, messages, meta(False, note="stopped by 70001")))
    fields = {row[0][2:]: row[1:] for row in head}
    assert fields["completeness"][0].startswith("PARTIAL")
    assert "stopped by 70001" in fields["completeness"][0]
    assert "PARTIAL" in render(write_txt, messages, meta(False))


# -- txt ----------------------------------------------------------------------------------------


def test_txt_header_and_one_line_per_message() -> None:
    objs, messages = sample()
    text = render(write_txt, messages, meta())
    head, rule, body = text.partition("=" * 78 + "\n")
    assert rule
    for expected in ("cust_1001", "agent_alice", "2020-03-20T02:00:00+00:00",
                     "2020-03-20T10:00:00+08:00", "Asia/Shanghai", "Pages:", "Calls:",
                     "complete", "Recalled:"):
        assert expected in head
    lines = body.splitlines()
    assert len(lines) == len(objs)
    for line, o in zip(lines, objs, strict=True):
        assert o["MsgKey"] in line
        assert ("RECALLED" in line) == bool(o["MsgFlagBits"] & 8)
    assert lines[0].startswith("2020-03-20T10:01:00+08:00  cust_1001 → agent_alice")
    assert lines[3].endswith("line one ⏎ line two␉with tab")
    assert "[file invoice.pdf 120 KB]" in lines[6]


def test_txt_keeps_hostile_text_inert() -> None:
    _, messages = sample()
    text = render(write_txt, messages, meta(account="evil\x1b]0;pwned\x07"))
    assert not any(ch in text for ch in "\x1b\x07\u202e\u2028\u2029\u0085\r")
    assert "␛[2J␛[31mred␇ <U+202E>gnp.exe" in text


def test_empty_window() -> None:
    assert "(no messages in this window)" in render(write_txt, [], meta())
    _, header, rows = read_csv(render(write_csv, [], meta()))
    assert header == list(CSV_COLUMNS) and rows == []
    assert render(write_jsonl, []) == ""


def test_visible_replaces_every_control() -> None:
    shown = visible("".join(chr(c) for c in range(0x20)) + "\x7f\x85\u202e\ud800", " ⏎ ", "␉")
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) <= 0x9F for ch in shown)
    assert "\ufffd" in shown and "<U+0085>" in shown


def test_write_export_dispatches_and_rejects_unknown_formats() -> None:
    _, messages = sample()
    out = io.StringIO()
    assert write_export("txt", messages, meta(), out) == len(messages)
    with pytest.raises(ValueError, match="unknown export format"):
        write_export("xml", messages, meta(), io.StringIO())  # type: ignore[arg-type]


def test_times_are_in_the_chosen_zone() -> None:
    m = parse_message(obj(0))
    _, _, rows = read_csv(render(write_csv, [m], meta(tz=UTC)))
    assert rows[0][0] == "2020-03-20T02:00:00+00:00"


# -- atomic write -------------------------------------------------------------------------------


def test_atomic_write_replaces_the_file_whole(tmp_path: Path) -> None:
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    target = tmp_path / "out.csv"
    target.write_text("old")
    result = write_atomically(target, lambda out: out.write("new content\n") and 42)
    assert result == 42
    assert target.read_text() == "new content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    assert target.stat().st_mode & 0o077 == 0  # private: exports hold conversations


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_atomic_write_failure_leaves_nothing_new(tmp_path: Path, error: BaseException) -> None:
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    target = tmp_path / "out.jsonl"
    fresh = tmp_path / "fresh.jsonl"
    target.write_text("previous export\n")

    def half_then_fail(out: TextSink) -> None:
        out.write('{"half": ')
        raise error

    for path in (target, fresh):
        with pytest.raises(type(error)):
            write_atomically(path, half_then_fail)
    assert target.read_text() == "previous export\n"
    assert not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


@pytest.mark.parametrize(("given", "path", "chosen"), [
    (None, "out.csv", "csv"), (None, "dir/Out.HTML", "html"), (None, "a.htm", "html"),
    (None, "notes.md", "jsonl"), (None, None, "jsonl"), (None, "-", "jsonl"),
    (None, "slices/", "jsonl"), (None, "v1.2/out", "jsonl"), ("txt", "out.log", "txt"),
    ("csv", "out.csv", "csv"), ("bundle", "case.zip", "bundle"), (None, "case.zip", "bundle"),
])
def test_the_format_follows_the_file_name_unless_given(
    given: str | None, path: str | None, chosen: str
) -> None:
    assert format_for(given, path) == chosen


def test_a_name_of_another_format_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"^out\.html names an html file but the format is "
                                         r"jsonl: give --format html, or another name$"):
        format_for("jsonl", "out.html")
    with pytest.raises(ValueError, match=r"out\.zip names a bundle file but the format is csv"):
        format_for("csv", "out.zip")  # a zip of JSON lines is no evidence bundle

"""Export writers (jsonl, csv, txt) and the atomic file write they go through.

Textual-free; used by ``roamtui export`` and the TUI's export screen.

- ``jsonl``: one message per line, oldest first, each line the message object as the service
  returned it (``Message.raw_json``: every field, unknown ones too). U+2028/U+2029/U+0085 and
  lone surrogates are written as ``\\uXXXX`` escapes: the same JSON value, but no line splitter
  cuts the line and the file stays valid UTF-8. No header: provenance goes to stderr.
- ``csv`` (UTF-8 with a BOM so spreadsheets pick the encoding; read it with
  ``encoding="utf-8-sig"``): a metadata block of rows whose first cell starts with ``#``
  (``# account``, ``cust_1001``), one empty row, then the table: a header row
  (:data:`CSV_COLUMNS`) and one row per message. Any cell that a spreadsheet would run as a
  formula (``= + - @``, tab, CR first) gets a leading ``'``.
- ``txt``: a provenance header, a rule, then one line per message with fixed columns: time in
  the chosen zone (ISO 8601), sender → receiver, MsgKey, ``RECALLED`` mark, content.

Message text is untrusted: in csv and txt, control characters become their visible Unicode
control pictures (txt shows line breaks as ``⏎``), bidirectional overrides are shown as
``<U+202E>``, and lone surrogates as U+FFFD, so nothing in an export can rewrite the terminal
or reorder what a reader sees.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal, Protocol, TypeVar

from roamtui import __version__
from roamtui.atomicfile import write_atomically as write_atomically
from roamtui.history.timeparse import zone_name
from roamtui.im.model import Message
from roamtui.text import file_text, json_escape

ExportFormat = Literal["jsonl", "csv", "txt"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "txt")
CSV_COLUMNS = ("time", "unix_time", "sender", "receiver", "recalled", "content", "msg_key")
RECALLED_MARK = "RECALLED"
_RECALLED_EMPTY = "(recalled; the service returned no content)"
_NO_CONTENT = "(no content)"

T = TypeVar("T")

_KIND_NAMES = {
    "TIMTextElem": "text", "TIMLocationElem": "location", "TIMFaceElem": "face",
    "TIMCustomElem": "custom", "TIMSoundElem": "voice", "TIMImageElem": "image",
    "TIMFileElem": "file", "TIMVideoFileElem": "video", "TIMRelayElem": "merged forward",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TextSink(Protocol):
    """Anything with ``write(str)``: a text file, ``sys.stdout``, ``io.StringIO``."""

    def write(self, s: str, /) -> object: ...


@dataclass(frozen=True, slots=True)
class ExportMeta:
    """Provenance printed in the csv and txt headers."""

    account: str  # whose history was read (From_Account / Operator_Account)
    peer: str
    min_time: int  # the window, inclusive Unix seconds
    max_time: int
    tz: tzinfo  # the zone people read the times in
    fetched_at: int  # Unix seconds when the fetch finished
    pages: int  # admin_getroammsg replies that carried messages or ended a chain
    calls: int  # HTTP calls made, retries included
    complete: bool  # every page of the window was fetched
    source: str = ""  # endpoint, SDKAppID and admin: where the records came from
    note: str = ""  # why the window is partial, when it is


@dataclass(frozen=True, slots=True)
class _Line:
    time: str
    unix_time: int
    sender: str
    receiver: str
    recalled: bool
    content: str
    key: str


def iso_time(ts: int, tz: tzinfo) -> str:
    """``2020-03-20T10:40:05+08:00``; ``@<ts>`` when outside the calendar."""
    try:
        return datetime.fromtimestamp(ts, tz).isoformat()
    except (OverflowError, ValueError, OSError):
        return f"@{ts}"


def csv_cell(text: str) -> str:
    """A csv cell that a spreadsheet shows as text: formulas defused, controls visible."""
    cell = file_text(text)
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _content(msg: Message) -> str:
    if not msg.elements:
        return _RECALLED_EMPTY if msg.recalled else _NO_CONTENT
    return msg.text()


def _kind_name(kind: str) -> str:
    return _KIND_NAMES.get(kind, kind or "unknown")


def _prepare(messages: Iterable[Message], tz: tzinfo) -> tuple[list[_Line], Counter[str]]:
    lines: list[_Line] = []
    kinds: Counter[str] = Counter()
    for msg in messages:
        for e in msg.elements:
            kinds[_kind_name(e.kind)] += 1
        lines.append(_Line(iso_time(msg.time, tz), msg.time, msg.sender, msg.receiver,
                           msg.recalled, _content(msg), msg.key))
    return lines, kinds


def _kinds_text(kinds: Counter[str]) -> str:
    text = kinds.pop("text", 0)
    parts = [f"text {text}"] if text else []
    parts.extend(f"{name} {n}" for name, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    return ", ".join(parts) or "none"


def _meta_fields(meta: ExportMeta, lines: Sequence[_Line], kinds: Counter[str]) -> list[list[str]]:
    """(label, value, …) rows shared by the csv and txt headers."""
    zone = zone_name(meta.tz)
    recalled = sum(1 for line in lines if line.recalled)
    state = "complete" if meta.complete else "PARTIAL"
    if not meta.complete:
        state += " — messages may be missing" + (f" ({meta.note})" if meta.note else "")
    rows = [
        ["export", f"roamtui {__version__}, v4/openim/admin_getroammsg"],
        ["account", meta.account],
        ["peer", meta.peer],
        ["window UTC", iso_time(meta.min_time, UTC), iso_time(meta.max_time, UTC)],
        [f"window {zone}", iso_time(meta.min_time, meta.tz), iso_time(meta.max_time, meta.tz)],
        ["fetched at", iso_time(meta.fetched_at, UTC), iso_time(meta.fetched_at, meta.tz)],
        ["pages", str(meta.pages)],
        ["calls", str(meta.calls)],
        ["completeness", state],
        ["messages", str(len(lines))],
        ["recalled", str(recalled)],
        ["elements by type", _kinds_text(kinds)],
    ]
    if meta.source:
        rows.append(["source", meta.source])
    return rows


def json_line(msg: Message) -> str:
    """The message object as received, as one line of JSON text (no newline)."""
    return json_escape(msg.raw_json, line_safe_only=True)


def write_jsonl(messages: Iterable[Message], out: TextSink) -> int:
    """One message per line, in the order given (oldest first); returns the count."""
    n = 0
    for msg in messages:
        out.write(json_line(msg))
        out.write("\n")
        n += 1
    return n


def write_csv(messages: Iterable[Message], meta: ExportMeta, out: TextSink) -> int:
    """Metadata block, empty row, header row, one row per message; returns the message count."""
    lines, kinds = _prepare(messages, meta.tz)
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    for label, *values in _meta_fields(meta, lines, kinds):
        writer.writerow([f"# {label}", *(csv_cell(v) for v in values)])
    writer.writerow([])
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow([
            line.time, line.unix_time, csv_cell(line.sender), csv_cell(line.receiver),
            RECALLED_MARK if line.recalled else "", csv_cell(line.content), csv_cell(line.key),
        ])
    return len(lines)


def write_txt(messages: Iterable[Message], meta: ExportMeta, out: TextSink) -> int:
    """A header for people, then one line per message; returns the message count."""
    lines, kinds = _prepare(messages, meta.tz)
    fields = _meta_fields(meta, lines, kinds)
    width = max(len(row[0]) for row in fields) + 2
    out.write("Conversation export (read-only copy of Tencent Cloud IM roaming messages)\n")
    for label, *values in fields:
        out.write(f"{(label[0].upper() + label[1:] + ':').ljust(width)}")
        joint = " .. " if label.startswith("window") else " = "
        out.write(joint.join(file_text(v, " ⏎ ", "␉") for v in values) + "\n")
    zone = zone_name(meta.tz)
    out.write(f"{'Columns:'.ljust(width)}time ({zone}) · sender → receiver · MsgKey · "
              f"{RECALLED_MARK} mark · content\n")
    out.write("=" * 78 + "\n")
    if not lines:
        out.write("(no messages in this window)\n")
        return 0
    parties = [f"{file_text(x.sender, ' ', ' ')} → {file_text(x.receiver, ' ', ' ')}"
               for x in lines]
    keys = [file_text(x.key, " ", " ") for x in lines]
    party_w = max(len(p) for p in parties)
    key_w = max(len(k) for k in keys)
    mark_w = len(RECALLED_MARK) if any(x.recalled for x in lines) else 0
    for line, party, key in zip(lines, parties, keys, strict=True):
        mark = (RECALLED_MARK if line.recalled else "").ljust(mark_w)
        cols = [line.time, party.ljust(party_w), key.ljust(key_w)]
        if mark_w:
            cols.append(mark)
        cols.append(file_text(line.content, " ⏎ ", "␉"))
        out.write("  ".join(cols).rstrip() + "\n")
    return len(lines)


def write_export(
    fmt: ExportFormat, messages: Sequence[Message], meta: ExportMeta, out: TextSink
) -> int:
    """Write ``messages`` in ``fmt``; returns how many were written."""
    if fmt == "jsonl":
        return write_jsonl(messages, out)
    if fmt == "csv":
        return write_csv(messages, meta, out)
    if fmt == "txt":
        return write_txt(messages, meta, out)
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")

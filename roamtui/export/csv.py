"""``csv``: for spreadsheets and ``csv.reader``, UTF-8 with a BOM so spreadsheets pick the
encoding (read it with ``encoding="utf-8-sig"``).

A metadata block of rows whose first cell starts with ``#`` (``# account``, ``cust_1001``), one
empty row, then the table: a header row (:data:`CSV_COLUMNS`) and one row per message.
``read`` is ``READ`` when the receiver sent a read receipt (IsPeerRead). Read from both sides
(``--sides both``), a last column ``held_by`` says ``both`` or the account name of the only
side whose history holds the message. ``content`` is the
text with placeholders; a merged forward's messages follow inside the same cell, one line each
behind a ``│`` per level, with their date, time and sender (:mod:`roamtui.export.body`).
``marked`` is ``MARKED`` for a message the agent marked, ``note`` the agent's note on it.
Message text is untrusted: controls, bidi controls, zero-width and other invisible format
characters and lone surrogates are made visible (:func:`roamtui.text.file_text`:
``pay<U+200B>pal.com``, as the transcript shows them), and any cell a spreadsheet would run as
a formula (``= + - @``, tab, CR first) gets a leading ``'``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable

from roamtui.atomicfile import TextSink
from roamtui.export.provenance import (
    MARKED_MARK,
    READ_MARK,
    RECALLED_MARK,
    ExportMeta,
    header_rows,
    message_rows,
)
from roamtui.im.model import Message
from roamtui.text import file_text

CSV_COLUMNS = ("time", "unix_time", "sender", "receiver", "recalled", "read", "content",
               "msg_key", "marked", "note")
HELD_BY = "held_by"  # the column added when both sides were read
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A csv cell that a spreadsheet shows as text: formulas defused, controls visible."""
    cell = file_text(text)
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def write_csv(messages: Iterable[Message], meta: ExportMeta, out: TextSink) -> int:
    """Metadata block, empty row, header row, one row per message; returns the message count."""
    rows, kinds = message_rows(messages, meta.tz, meta.held_by)
    sides = meta.held_by is not None
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    for label, *values in header_rows(meta, rows, kinds):
        writer.writerow([f"# {label}", *(csv_cell(v) for v in values)])
    writer.writerow([])
    writer.writerow((*CSV_COLUMNS, HELD_BY) if sides else CSV_COLUMNS)
    for row in rows:
        writer.writerow([
            row.time, row.unix_time, csv_cell(row.sender), csv_cell(row.receiver),
            RECALLED_MARK if row.recalled else "", READ_MARK if row.read else "",
            csv_cell(row.full_text), csv_cell(row.key),
            MARKED_MARK if row.key in meta.marked else "", csv_cell(meta.notes.get(row.key, "")),
            *((csv_cell(row.held_by),) if sides else ()),
        ])
    return len(rows)


"""`roamtui peers ACCOUNT [--since T] [--format text|jsonl|csv] [connection] [--tz Z]`.

The account's one-to-one conversations (``recentcontact/get_list``, paged to the end), newest
first, with the peers' nicknames (``portrait_get``, in batches of at most 100), one line each:
the peer, its nickname, the time of the last message in ``--tz``, and the command that opens it
(``roamtui ACCOUNT PEER --since …``: from a day before the last message, written with its UTC
offset so it reads back the same in any zone). ``--format jsonl`` or ``csv`` is for scripts.

Peers and nicknames come from the service and are untrusted: on the terminal every control or
bidi character is made visible (:func:`roamtui.text.screen_line`), in jsonl escaped, in csv
defused like an export's cells. Nicknames that cannot be read leave the accounts alone (a line
on stderr says why); a failed listing is one line and exit 1; a bad argument, exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, TextIO

from rich.cells import cell_len

from roamtui.export.csv import csv_cell
from roamtui.export.provenance import iso_time
from roamtui.history.timeparse import (
    TimeParseError,
    format_time,
    parse_time,
    resolve_zone,
    zone_name,
)
from roamtui.im.contacts import Conversation, ConversationList, fetch_conversations
from roamtui.im.errors import RoamError
from roamtui.im.profile import Nicknames
from roamtui.settings.config import ConfigError
from roamtui.settings.connection import Resolved, resolve_connection
from roamtui.settings.credentials import CredentialError
from roamtui.text import error_line, json_escape, screen_line

if TYPE_CHECKING:
    import httpx

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CSV_COLUMNS = ("peer", "nickname", "last_message", "last_message_unix", "pinned", "open")
_PROG = "roamtui peers"
NICK_CELLS = 24  # the nickname column on a terminal; longer ones are cut with …


@dataclass(frozen=True, slots=True)
class Row:
    """One conversation as printed (still untrusted: each format makes it inert)."""

    peer: str
    nickname: str
    last_time: int
    pinned: bool
    open: str


def open_hint(account: str, conv: Conversation, tz: tzinfo) -> str:
    """``roamtui ACCOUNT PEER --since T``: T a day before the last message, with its offset."""
    from roamtui.cli.main import SUBCOMMANDS

    start = conv.since_text(tz)
    since = ["--since", start] if start else []
    parties = [shlex.quote(account), shlex.quote(conv.peer)]
    # An account named like a subcommand, or a party that looks like an option, needs the
    # explicit form: `roamtui browse [--since T] -- ACCOUNT PEER`.
    if account in SUBCOMMANDS or account.startswith("-") or conv.peer.startswith("-"):
        words = ["roamtui", "browse", *since, "--", *parties]
    else:
        words = ["roamtui", *parties, *since]
    return " ".join(words)


def _stamp(t: int, tz: tzinfo) -> str:
    return format_time(t, tz, "%Y-%m-%d %H:%M:%S") if t else "—"


def _fit(text: str, cells: int) -> str:
    if cell_len(text) <= cells:
        return text + " " * (cells - cell_len(text))
    out = ""
    for ch in text:
        if cell_len(out + ch) > cells - 1:
            break
        out += ch
    return out + "…" + " " * (cells - 1 - cell_len(out))


def write_text(rows: list[Row], tz: tzinfo, out: TextIO) -> None:
    zone = zone_name(tz)
    peers = [screen_line(r.peer) for r in rows]
    width = max([cell_len(p) for p in peers] + [4])
    out.write(f"{_fit('PEER', width)}  {_fit('NICKNAME', NICK_CELLS)}  "
              f"{_fit('LAST MESSAGE', 19)}  OPEN WITH   (times in {zone})\n")
    for row, peer in zip(rows, peers, strict=True):
        nick = _fit(screen_line(row.nickname) or "—", NICK_CELLS)
        pin = "  (pinned)" if row.pinned else ""
        out.write(f"{_fit(peer, width)}  {nick}  {_stamp(row.last_time, tz):19}  "
                  f"{screen_line(row.open)}{pin}\n")


def write_jsonl(rows: list[Row], tz: tzinfo, out: TextIO) -> None:
    for row in rows:
        record = {"peer": row.peer, "nickname": row.nickname,
                  "last_message": iso_time(row.last_time, tz) if row.last_time else None,
                  "last_message_unix": row.last_time, "pinned": row.pinned, "open": row.open}
        out.write(json_escape(json.dumps(record, ensure_ascii=False)) + "\n")


def write_csv(rows: list[Row], tz: tzinfo, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(row.peer), csv_cell(row.nickname),
                         _stamp(row.last_time, tz), row.last_time, int(row.pinned),
                         csv_cell(row.open)])


WRITERS = {"text": write_text, "jsonl": write_jsonl, "csv": write_csv}


async def _list(
    resolved: Resolved, account: str, since: int | None,
    transport: httpx.AsyncBaseTransport | None, err: TextIO,
) -> tuple[ConversationList, Nicknames, int]:
    async with resolved.client(transport=transport) as client:
        listed = await fetch_conversations(client, account, since=since)
        names = Nicknames(client)
        try:
            await names.resolve(c.peer for c in listed.conversations)
        except RoamError as exc:
            err.write(f"{_PROG}: nicknames could not be read ({error_line(exc)}); "
                      "peers are shown by account\n")
        return listed, names, client.calls_started


def run(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    now: datetime | None = None,
) -> int:
    """Run `roamtui peers`; returns the exit status."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    account = (args.account or "").strip()
    try:
        if not account or any(ch.isspace() or not ch.isprintable() for ch in account):
            raise ValueError("ACCOUNT must be a UserID (no spaces or control characters)")
        resolved = resolve_connection(args).require_secret()
        tz = resolve_zone(resolved.tz)
        since = parse_time(args.since, tz, now) if getattr(args, "since", None) else None
    except (ConfigError, CredentialError, TimeParseError, ValueError) as exc:
        err.write(f"{_PROG}: {error_line(exc)}\n")
        return EXIT_USAGE
    try:
        listed, names, calls = asyncio.run(_list(resolved, account, since, transport, err))
    except RoamError as exc:
        if getattr(args, "debug", False):
            import traceback

            from roamtui.im.redact import scrub

            err.write(scrub("".join(traceback.format_exception(exc))))
        err.write(f"{_PROG}: {error_line(exc)}\n")
        return EXIT_FAILED
    rows = [Row(c.peer, names.nickname(c.peer), c.last_time, c.pinned,
                open_hint(account, c, tz)) for c in listed.conversations]
    WRITERS[getattr(args, "format", "text") or "text"](rows, tz, out)
    out.flush()
    left = f", {listed.skipped} older than --since" if listed.skipped else ""
    groups = f", {listed.groups} group conversation(s) not listed" if listed.groups else ""
    err.write(f"{_PROG}: {len(rows)} one-to-one conversation(s) of {screen_line(account)}"
              f"{left}{groups}; {listed.pages} page(s), {calls} call(s)\n")
    return EXIT_OK

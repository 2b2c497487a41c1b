"""`roamtui verify BUNDLE [--refetch [--out DIR2] [connection] [--tz Z]]`.

Offline (:mod:`roamtui.export.verify`): checksums, messages.jsonl against the manifest's counts
and page records, the transcripts against the jsonl. Intact: exit 0 and one line. Not: one line
per file or record that differs (``NAME: what``), then the verdict, exit 1.

``--refetch`` (:mod:`roamtui.export.refetch`): the bundle must be intact first; then the same
window of the same side (both sides for a ``--sides both`` bundle: a message whose holders
changed is a ``holder`` line) is fetched again (connection from flags, environment or
profile, as for ``roamtui export``; a fact that differs from the capture's is said in a
``note:`` line) and compared message by message: one ``recalled|changed|missing|new <MsgKey> …``
line per difference,
then a summary. Exit 0 when nothing changed, 1 when something did, 2 on any error (a damaged
bundle included). ``--out DIR2`` (or ``DIR2.zip``) writes the new capture as a second bundle whose
manifest names the first's SHA256SUMS digest (``"previous"``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from roamtui.cli.progress import ProgressLine, announcer
from roamtui.export.bundle_read import BundleSource, BundleUnreadable, open_bundle, read_messages
from roamtui.export.job import ExportJob, ExportRefused, Fetched
from roamtui.export.refetch import compare, connection_notes, messages_of, summary, unwrapped
from roamtui.export.verify import Verdict, verify_bundle
from roamtui.history.timeparse import TimeParseError, resolve_zone
from roamtui.im.errors import RoamError
from roamtui.settings.config import ConfigError
from roamtui.settings.connection import Resolved, resolve_connection
from roamtui.settings.credentials import CredentialError
from roamtui.text import error_line, one_line

if TYPE_CHECKING:
    import httpx

EXIT_SAME, EXIT_DIFFERS, EXIT_ERROR = 0, 1, 2
_PROG = "roamtui verify"


def run(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if getattr(args, "out", None) and not args.refetch:
        err.write(f"{_PROG}: --out needs --refetch\n")
        return EXIT_ERROR
    try:
        with open_bundle(args.bundle) as source:
            verdict = verify_bundle(source)
            name = Path(args.bundle).name
            if not args.refetch:
                return _offline(verdict, name, out)
            if not verdict.intact:
                for problem in verdict.problems:
                    out.write(one_line(problem.line(), 1000) + "\n")
                err.write(f"{_PROG}: {name} is not intact ({len(verdict.problems)} "
                          "problems above); not compared\n")
                return EXIT_ERROR
            return _refetch(args, source, verdict, transport, out, err)
    except BundleUnreadable as exc:
        err.write(f"{_PROG}: {error_line(exc)}\n")
        return EXIT_ERROR
    except OSError as exc:
        err.write(f"{_PROG}: cannot read {args.bundle!r}: {exc.strerror or exc}\n")
        return EXIT_ERROR


def _offline(v: Verdict, name: str, out: TextIO) -> int:
    counts = v.manifest.get("counts") or {}
    if v.intact:
        pages = counts.get("pages")
        out.write(f"{_PROG}: {name} is intact: {v.files} files match SHA256SUMS and the "
                  f"manifest; {counts.get('messages')} messages ({counts.get('recalled')} "
                  f"recalled) in {pages} page{'' if pages == 1 else 's'}{_sides(v)}; "
                  f"transcripts agree; SHA256SUMS sha256 {v.sums_sha256}\n")
        return EXIT_SAME
    for problem in v.problems:
        out.write(one_line(problem.line(), 1000) + "\n")
    n = len(v.problems)
    out.write(f"{_PROG}: {name} is NOT intact: {n} problem{'s' * (n != 1)}\n")
    return EXIT_DIFFERS


def _sides(v: Verdict) -> str:
    """``, both sides read: 910 held by both, 20 only A, 59 only B`` (verified counts)."""
    sides, conv = v.manifest.get("sides"), v.manifest.get("conversation")
    if not isinstance(sides, dict) or not isinstance(conv, dict):
        return ""
    n = sides.get("counts") or {}
    return (f", both sides read: {n.get('both')} held by both, {n.get('only_account')} only "
            f"{one_line(str(conv.get('account')))}, {n.get('only_peer')} only "
            f"{one_line(str(conv.get('peer')))}")


def _plan(args: argparse.Namespace, m: dict[str, object]) -> tuple[Resolved, ExportJob]:
    conv, window = m.get("conversation"), m.get("window")
    if not isinstance(conv, dict) or not isinstance(window, dict):
        raise BundleUnreadable("the manifest names no conversation or window")
    resolved = resolve_connection(args).require_secret()
    tz = resolve_zone(getattr(args, "tz", None) or str(window.get("zone") or "UTC"))
    both = conv.get("side") == "both" and isinstance(m.get("sides"), dict)
    # The same side as the capture (both: the same account first).
    account = str(conv["account"] if both else (conv.get("side") or conv["account"]))
    peer = str(conv["peer"] if account == conv["account"] else conv["account"])
    query = resolved.query(account, peer, int(window["min_time"]), int(window["max_time"]))
    fmt = "bundle" if getattr(args, "out", None) else "jsonl"
    job = ExportJob.plan(query, tz, fmt, getattr(args, "out", None),
                         connection=resolved.connection, both=both)
    return resolved, job


async def _fetch(resolved: Resolved, job: ExportJob, transport: httpx.AsyncBaseTransport | None,
                 progress: ProgressLine | None, err: TextIO) -> Fetched:
    client = resolved.client(transport=transport, on_event=announcer(progress, err, _PROG))
    try:
        return await job.fetch(client, progress)
    finally:
        await client.aclose()


def _refetch(
    args: argparse.Namespace,
    source: BundleSource,
    v: Verdict,
    transport: httpx.AsyncBaseTransport | None,
    out: TextIO,
    err: TextIO,
) -> int:
    m = v.manifest
    try:
        resolved, job = _plan(args, m)
    except (ConfigError, CredentialError, TimeParseError, ExportRefused, ValueError,
            KeyError, TypeError) as exc:
        err.write(f"{_PROG}: {error_line(exc)}\n")
        return EXIT_ERROR
    captured = m.get("connection") if isinstance(m.get("connection"), dict) else {}
    for note in connection_notes(captured or {}, job.facts):
        out.write(note + "\n")
    tty = getattr(err, "isatty", None)
    q = job.query
    progress = ProgressLine(err, f"refetching {q.account} ⇄ {q.peer}") if tty and tty() else None
    try:
        fetched = asyncio.run(_fetch(resolved, job, transport, progress, err))
    except RoamError as exc:
        if progress is not None:
            progress.clear()
        err.write(f"{_PROG}: the refetch failed: {error_line(exc)}\n")
        return EXIT_ERROR
    if progress is not None:
        progress.clear()
    objects = [obj for _, obj in read_messages(source) if isinstance(obj, dict)]
    now = fetched.sides.held_by if fetched.sides is not None else None
    if job.both and now is not None:  # verified: every line is the two-sided wrapper
        before, then = unwrapped(objects)
        diffs = compare(before, fetched.messages, (then, now))
    else:
        before = messages_of(objects)
        diffs = compare(before, fetched.messages)
    for d in diffs:
        out.write(d.line(job.tz) + "\n")
    out.write(summary(diffs, len(before), len(fetched.messages), sides=job.both) + "\n")
    if job.format.bundle:
        meta = job.provenance(fetched, int(datetime.now(UTC).timestamp()))
        previous = {"bundle": Path(args.bundle).name, "sums_sha256": v.sums_sha256,
                    "differences": len(diffs)}
        try:
            made = job.write_bundle(fetched, meta, extra={"previous": previous})
        except OSError as exc:
            err.write(f"{_PROG}: cannot write {str(job.output.path)!r}: "
                      f"{exc.strerror or exc}; nothing was left\n")
            return EXIT_ERROR
        out.write(f"new capture → {job.output.path} (SHA256SUMS sha256 {made.sha256}; "
                  f"its manifest names {v.sums_sha256} as the previous bundle)\n")
    return EXIT_DIFFERS if diffs else EXIT_SAME

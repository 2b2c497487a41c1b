"""`roamtui export ACCOUNT PEER --since T --until T [--format F] [-o FILE] [connection] [--tz Z]`.

The one job of :mod:`roamtui.export.job` (plan → fetch → provenance → digest → atomic write)
as the TUI's dialog runs it, plus what only a command line has. Every argument and the output
are checked before the first call (one line, exit 2). The window is fetched whole (both sides
with ``--sides both``; a progress line on a terminal) and written to ``-o FILE`` through a
temp file renamed into place, through to a FIFO or device, to stdout (UTF-8), or as a bundle.
A summary goes to stderr. On failure: exit 1, one line with the code and what to do, no file.

SIGINT, SIGTERM and SIGHUP end the command the same way (:class:`SignalGuard`): exit status
128+signum, one line on stderr, no traceback, and no hidden ``.NAME.XXXX.part`` left with the
conversation in it. Without the handlers, SIGTERM and SIGHUP kill the process where it stands
and the temp file's cleanup never runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from roamtui.atomicfile import TextSink
from roamtui.cli.export_marks import marks_for, selection_text
from roamtui.cli.progress import ProgressLine, announcer, budget_text, written_text
from roamtui.cli.signals import Interrupted, SignalGuard
from roamtui.export.bundle import check_bundle_output
from roamtui.export.formats import FORMATS, format_for, format_named
from roamtui.export.job import Digest, ExportJob, ExportRefused, Fetched, Output, check_output
from roamtui.export.provenance import ExportMeta
from roamtui.export.sides import summary_text
from roamtui.history.timeparse import TimeParseError, format_full, parse_window, resolve_zone
from roamtui.im import redact
from roamtui.im.errors import ProtocolError, RoamError, ServiceError, TransportError
from roamtui.im.roam import FetchProgress
from roamtui.im.sharing import Usage
from roamtui.settings.config import ConfigError
from roamtui.settings.connection import Resolved, resolve_connection
from roamtui.settings.credentials import CredentialError
from roamtui.settings.defaults import empty_window_hint
from roamtui.text import error_line

if TYPE_CHECKING:
    import httpx

    from roamtui.export.job import Written

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_PROG = "roamtui export"



class UsageError(Exception):
    """A bad argument, found before any call; ``str()`` is the one line shown."""


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """Everything checked and resolved; nothing has been asked of the service yet."""

    resolved: Resolved
    job: ExportJob


def plan_export(args: argparse.Namespace, now: datetime | None = None,
                err: TextIO | None = None) -> ExportPlan:
    """Check every argument and resolve the connection; UsageError (one line) if any is bad.

    The output is checked first, so a wrong ``-o`` is named even when the secret is missing.
    """
    account = (getattr(args, "account", None) or "").strip()
    peer = (getattr(args, "peer", None) or "").strip()
    if not account or not peer:
        raise UsageError("give both ACCOUNT and PEER")
    given = getattr(args, "output", None)
    try:
        fmt = format_for(getattr(args, "format", None), given)
    except ValueError as exc:
        raise UsageError(f"-o {exc}") from None
    splits = fmt in FORMATS and FORMATS[fmt].split is not None
    try:
        bundle = format_named(fmt).bundle
        output = (Output(check_bundle_output(given)) if bundle
                  else check_output(given, directories=splits))
    except (ExportRefused, ValueError) as exc:  # BundleRefused is a ValueError
        raise UsageError(f"-o {exc}") from None
    try:
        resolved = resolve_connection(args).require_secret()
    except (ConfigError, CredentialError) as exc:
        raise UsageError(error_line(exc)) from None
    try:
        tz = resolve_zone(resolved.tz)
        since, until = getattr(args, "since", None), getattr(args, "until", None)
        min_time, max_time = parse_window(since, until, tz, now)
        query = resolved.query(account, peer, min_time, max_time)
        marks = marks_for(args, resolved.connection.sdkappid, account, peer, err or sys.stderr)
        job = ExportJob.plan(query, tz, fmt, output, connection=resolved.connection, marks=marks,
                             both=getattr(args, "sides", "one") == "both")
    except (TimeParseError, ValueError) as exc:  # ExportRefused, MarksRefused are ValueErrors
        raise UsageError(error_line(exc)) from None
    return ExportPlan(resolved, job)


async def _fetch(
    plan: ExportPlan,
    transport: httpx.AsyncBaseTransport | None,
    calls: list[int],
    progress: Callable[[FetchProgress], None] | None,
    guard: SignalGuard | None = None,
    err: TextIO | None = None,
    usage: list[Usage] | None = None,
) -> Fetched:
    """The job's fetch on a client of the resolved connection; ``calls`` learns how many calls
    were made even when the fetch fails, ``usage`` the budget in force at the end."""
    if guard is not None:
        guard.watch(asyncio.current_task())
    client = plan.resolved.client(transport=transport, on_event=announcer(progress, err, _PROG))
    ticker = asyncio.create_task(progress.ticking()) if isinstance(progress, ProgressLine) \
        else None
    try:
        return await plan.job.fetch(client, progress)
    finally:
        if ticker is not None:
            ticker.cancel()
        calls[0] = client.calls_started
        if usage is not None:
            usage.append(client.limiter.usage())
        await client.aclose()


def _failure(exc: RoamError) -> str:
    text = error_line(exc)
    if isinstance(exc, TransportError):
        text += " — check the endpoint (--endpoint/--region) and the network, then try again"
    elif isinstance(exc, ProtocolError):
        text += " — the service broke the protocol; report it with --debug output"
    elif not isinstance(exc, ServiceError):
        text += " — try again; report it with --debug output if it persists"
    return text


def _stdout_sink(stdout: TextIO | None) -> tuple[TextSink, Callable[[], None]]:
    """Where stdout output goes, and how to flush it; UTF-8 bytes when writing to the real one."""
    if stdout is not None:
        return stdout, stdout.flush
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        return sys.stdout, sys.stdout.flush
    sys.stdout.flush()
    wrapper = io.TextIOWrapper(buffer, encoding="utf-8", newline="", write_through=True)

    def done() -> None:
        try:
            wrapper.flush()
        finally:
            wrapper.detach()  # leave sys.stdout's buffer open

    return wrapper, done


def run(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    now: datetime | None = None,
) -> int:
    """Run `roamtui export`; returns the exit status (0 only when the whole window was written)."""
    err = stderr if stderr is not None else sys.stderr
    try:
        plan = plan_export(args, now, err)
    except UsageError as exc:
        err.write(f"{_PROG}: {exc}\n")
        return EXIT_USAGE
    q = plan.job.query
    tty = getattr(err, "isatty", None)
    progress = ProgressLine(err, f"{q.account} ⇄ {q.peer}") if tty and tty() else None
    digest = Digest()
    with SignalGuard() as guard:
        try:
            return _run(plan, args, transport, stdout, err, now, progress, guard, digest)
        except (Interrupted, asyncio.CancelledError):
            if guard.signum is None:
                raise  # a cancellation that no signal of ours caused
            if progress is not None:
                progress.clear()
            err.write(f"{_PROG}: interrupted by {guard.name}; {_what_was_left(plan, digest)}\n")
            return 128 + guard.signum


def _what_was_left(plan: ExportPlan, digest: Digest) -> str:
    output = plan.job.output
    where = f"to {str(output.path)!r}" if output.path is not None else "on stdout"
    return "nothing written" if digest.size == 0 or output.atomic else (
        f"the output {where} is incomplete")


def _run(
    plan: ExportPlan,
    args: argparse.Namespace,
    transport: httpx.AsyncBaseTransport | None,
    stdout: TextIO | None,
    err: TextIO,
    now: datetime | None,
    progress: ProgressLine | None,
    guard: SignalGuard,
    digest: Digest,
) -> int:
    debug = bool(getattr(args, "debug", False))
    job = plan.job
    calls = [0]
    usage: list[Usage] = []
    try:
        fetched = asyncio.run(_fetch(plan, transport, calls, progress, guard, err, usage))
    except RoamError as exc:
        if progress is not None:
            progress.clear()
        if debug:
            _traceback(exc, plan, err)
        made = f"{calls[0]} call{'' if calls[0] == 1 else 's'}"
        err.write(f"{_PROG}: failed after {made}: {_failure(exc)}; nothing written\n")
        return EXIT_FAILED
    finally:
        guard.watch(None)
    if progress is not None:
        progress.clear()
    meta = job.provenance(fetched, int((now or datetime.now(UTC)).timestamp()))
    output = job.output
    try:
        written = _write(plan, fetched, meta, stdout, guard, digest)
    except ExportRefused as exc:  # found once the messages are known: too many for one file
        err.write(f"{_PROG}: {error_line(exc)} (-o DIR/); nothing written\n")
        return EXIT_FAILED
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if output.path is not None:
            left = "no file was left" if output.atomic else "the output to it is incomplete"
            if not output.atomic and digest.size == 0:
                left = "nothing was written"
            err.write(f"{_PROG}: cannot write {str(output.path)!r}: {reason}; {left}\n")
        else:
            if isinstance(exc, BrokenPipeError) and stdout is None:
                _silence_stdout()
            err.write(f"{_PROG}: stdout closed early ({reason}); the export is incomplete\n")
        return EXIT_FAILED
    finally:
        guard.committed()
    _summary(plan, fetched, written, err, usage[0] if usage else None)
    if guard.signum is not None:
        # Came while the rename was being committed: the export above is whole.
        err.write(
            f"{_PROG}: interrupted by {guard.name} just after the export was written whole\n"
        )
        return 128 + guard.signum
    return EXIT_OK


def _summary(
    plan: ExportPlan, fetched: Fetched, written: Written, err: TextIO, usage: Usage | None
) -> None:
    job = plan.job
    q = job.query
    retried = f" ({fetched.retries:,} retried)" if fetched.retries else ""
    target = str(job.output.path) if job.output.path is not None else "stdout"
    lines, what = written_text(written)
    if job.format.bundle:
        what = f"{written.size:,} bytes; SHA256SUMS sha256 {written.sha256}"
    err.writelines(f"{_PROG}: {line}\n" for line in lines)
    err.write(
        f"{_PROG}: {len(fetched.messages):,} messages, {fetched.recalled:,} recalled, "
        f"{fetched.pages:,} pages, {fetched.calls:,} calls{retried}, {fetched.seconds:.1f} s; "
        "window "
        f"{format_full(q.min_time, job.tz)} .. {format_full(q.max_time, job.tz)} complete; "
        f"{job.format.name} → {target} ({what})"
        f"{budget_text(fetched, usage)}{summary_text(fetched.sides, q.account, q.peer)}\n"
    )
    if fetched.selection is not None:  # never read as the whole window
        err.write(f"{_PROG}: {selection_text(fetched)}\n")
    if not fetched.messages:
        # The service answers an unknown peer or an expired window with an empty, complete page.
        err.write(f"{_PROG}: note: {empty_window_hint(q.account, q.peer)}\n")


def _write(
    plan: ExportPlan,
    fetched: Fetched,
    meta: ExportMeta,
    stdout: TextIO | None,
    guard: SignalGuard,
    digest: Digest,
) -> Written:
    """The job's write, to the planned path or to stdout: the size and SHA-256 written (of a
    bundle: its size and the SHA-256 of its SHA256SUMS)."""
    messages = fetched.messages
    job = plan.job
    if job.format.bundle:
        return job.write_bundle(fetched, meta, on_commit=guard.commit)
    if job.output.path is not None:
        return job.write(messages, meta, digest=digest, on_commit=guard.commit)
    sink, done = _stdout_sink(stdout)
    try:
        written = job.write(messages, meta, stream=sink, digest=digest)
    except Interrupted:
        if stdout is None:
            _silence_stdout()  # what is still buffered must not wait for a stalled reader
        raise
    finally:
        done()
    return written


def _silence_stdout() -> None:
    """After a closed pipe, keep the interpreter's final flush of stdout from complaining."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _traceback(exc: BaseException, plan: ExportPlan, err: TextIO) -> None:
    conn = plan.resolved.connection
    text = "".join(traceback.format_exception(exc))
    err.write(redact.scrub(text, (conn.secret_key, conn.usersig)))

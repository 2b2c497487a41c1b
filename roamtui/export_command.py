"""`roamtui export ACCOUNT PEER --since T --until T [--format F] [-o FILE] [connection] [--tz Z]`.

Every argument is checked before the first call (one line on stderr, exit 2). The whole window
is then fetched with the sliced concurrent fetch, with a progress line on stderr when stderr is
a terminal. Only a complete window is written: to ``-o FILE`` through a temporary file renamed
into place, or to stdout (UTF-8 whatever the locale). A summary goes to stderr. On failure:
exit 1, one line with the error code and what to do, and no file.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import math
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

from roamtui.config import ConfigError
from roamtui.connection import Resolved, resolve_connection
from roamtui.credentials import CredentialError
from roamtui.factory import make_client
from roamtui.history.export import FORMATS, ExportFormat, ExportMeta, TextSink, write_export
from roamtui.history.export import write_atomically as _write_atomically
from roamtui.im import redact
from roamtui.im.errors import ProtocolError, RoamError, ServiceError, TransportError
from roamtui.im.model import Message
from roamtui.im.roam import FetchProgress, RoamQuery, fetch_window
from roamtui.timeparse import TimeParseError, format_full, parse_window, resolve_zone

if TYPE_CHECKING:
    import httpx

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_PROG = "roamtui export"
#: Seconds between two redraws of the progress line.
_REDRAW = 0.1


class UsageError(Exception):
    """A bad argument, found before any call; ``str()`` is the one line shown."""


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """Everything checked and resolved; nothing has been asked of the service yet."""

    resolved: Resolved
    query: RoamQuery
    tz: tzinfo
    fmt: ExportFormat
    output: Path | None  # None: stdout


@dataclass(slots=True)
class FetchStats:
    pages: int = 0
    calls: int = 0
    retries: int = 0
    seconds: float = 0.0


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return redact.one_line(text.splitlines()[0]) if text else type(exc).__name__


def _connection_args(args: argparse.Namespace) -> argparse.Namespace:
    """The arguments as resolve_connection reads them.

    The zone is resolved here with timeparse, which accepts more forms (``+08:00``, ``local``)
    than the profile check does; a whole-number ``--max-rps`` parsed as a float becomes an int.
    """
    values = dict(vars(args))
    values["tz"] = None
    rps = values.get("max_rps")
    if isinstance(rps, float) and rps.is_integer():
        values["max_rps"] = int(rps)
    return argparse.Namespace(**values)


def _check_output(output: str | None) -> Path | None:
    if output is None or output == "-":
        return None
    path = Path(output).expanduser()
    if path.is_dir():
        raise UsageError(f"-o {output!r} is a directory; give a file name")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {output!r}: the directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {output!r}: no permission to write in {str(parent)!r}")
    return path


def plan_export(args: argparse.Namespace, now: datetime | None = None) -> ExportPlan:
    """Check every argument and resolve the connection; UsageError (one line) if any is bad."""
    account = (getattr(args, "account", None) or "").strip()
    peer = (getattr(args, "peer", None) or "").strip()
    if not account or not peer:
        raise UsageError("give both ACCOUNT and PEER")
    fmt = getattr(args, "format", None) or "jsonl"
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    output = _check_output(getattr(args, "output", None))
    try:
        resolved = resolve_connection(_connection_args(args))
        resolved.require_secret()
    except (ConfigError, CredentialError) as exc:
        raise UsageError(_one_line(exc)) from None
    try:
        tz = resolve_zone(getattr(args, "tz", None) or resolved.tz)
        since, until = getattr(args, "since", None), getattr(args, "until", None)
        min_time, max_time = parse_window(since, until, tz, now)
    except TimeParseError as exc:
        raise UsageError(_one_line(exc)) from None
    try:
        query = RoamQuery(account, peer, min_time, max_time, resolved.page_size, resolved.naming)
    except ValueError as exc:
        raise UsageError(_one_line(exc)) from None
    return ExportPlan(resolved, query, tz, cast(ExportFormat, fmt), output)


class _ProgressLine:
    """One self-overwriting line on a terminal, redrawn at most every ``_REDRAW`` seconds."""

    def __init__(self, err: TextIO, label: str) -> None:
        self._err = err
        self._label = label
        self._last = 0.0
        self._shown = False

    def __call__(self, p: FetchProgress) -> None:
        now = time.monotonic()
        if now - self._last < _REDRAW and p.covered_seconds < p.total_seconds:
            return
        self._last = now
        self._err.write(
            f"\r{self._label}: {p.messages:,} messages · {p.calls:,} pages · "
            f"{math.floor(p.fraction * 100)}% of the window\x1b[K"  # 100% only when it is
        )
        self._err.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self._err.write("\r\x1b[K")
            self._err.flush()


@dataclass(slots=True)
class _Digest:
    """Passes text on and keeps the size and SHA-256 of its UTF-8 form (the file's bytes)."""

    out: TextSink
    sha: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0

    def write(self, s: str, /) -> object:
        data = s.encode("utf-8", "surrogatepass")
        self.sha.update(data)
        self.size += len(data)
        return self.out.write(s)


async def _fetch(
    plan: ExportPlan,
    transport: httpx.AsyncBaseTransport | None,
    stats: FetchStats,
    progress: Callable[[FetchProgress], None] | None,
) -> list[Message]:
    def on_progress(p: FetchProgress) -> None:
        stats.pages = p.calls
        if progress is not None:
            progress(p)

    client = make_client(plan.resolved, transport=transport)
    try:
        return await fetch_window(client, plan.query, progress=on_progress)
    finally:
        stats.calls, stats.retries = client.calls_started, client.retries
        await client.aclose()


def _failure(exc: RoamError) -> str:
    text = str(exc)
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
    debug = bool(getattr(args, "debug", False))
    try:
        plan = plan_export(args, now)
    except UsageError as exc:
        err.write(f"{_PROG}: {exc}\n")
        return EXIT_USAGE
    q = plan.query
    tty = getattr(err, "isatty", None)
    progress = _ProgressLine(err, f"fetching {q.account} ⇄ {q.peer}") if tty and tty() else None
    stats = FetchStats()
    started = time.monotonic()
    try:
        messages = asyncio.run(_fetch(plan, transport, stats, progress))
    except RoamError as exc:
        if progress is not None:
            progress.clear()
        if debug:
            _traceback(exc, plan, err)
        calls = f"{stats.calls} call{'' if stats.calls == 1 else 's'}"
        err.write(f"{_PROG}: failed after {calls}: {_failure(exc)}; nothing written\n")
        return EXIT_FAILED
    finally:
        stats.seconds = time.monotonic() - started
    if progress is not None:
        progress.clear()
    fetched_at = int((now or datetime.now(UTC)).timestamp())
    conn = plan.resolved.connection
    meta = ExportMeta(
        account=q.account, peer=q.peer, min_time=q.min_time, max_time=q.max_time, tz=plan.tz,
        fetched_at=fetched_at, pages=stats.pages, calls=stats.calls, complete=True,
        source=f"{conn.endpoint} · SDKAppID {conn.sdkappid} · admin {conn.identifier}",
    )
    try:
        digest = _write(plan, messages, meta, stdout)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if plan.output is not None:
            err.write(f"{_PROG}: cannot write {str(plan.output)!r}: {reason}; no file was left\n")
        else:
            if isinstance(exc, BrokenPipeError) and stdout is None:
                _silence_stdout()
            err.write(f"{_PROG}: stdout closed early ({reason}); the export is incomplete\n")
        return EXIT_FAILED
    recalled = sum(1 for m in messages if m.recalled)
    retried = f" ({stats.retries} retried)" if stats.retries else ""
    target = str(plan.output) if plan.output else "stdout"
    err.write(
        f"{_PROG}: {len(messages)} messages, {recalled} recalled, {stats.pages} pages, "
        f"{stats.calls} calls{retried}, {stats.seconds:.1f} s; window "
        f"{format_full(q.min_time, plan.tz)} .. {format_full(q.max_time, plan.tz)} complete; "
        f"{plan.fmt} → {target} ({digest.size:,} bytes, sha256 {digest.sha.hexdigest()})\n"
    )
    if not messages:
        # The service answers an unknown peer or an expired window with an empty, complete page.
        err.write(
            f"{_PROG}: note: no messages in this window; check the spelling of "
            f"{q.account!r} and {q.peer!r}, and that the window lies within the app's "
            "history retention (7 days unless extended)\n"
        )
    return EXIT_OK


def _write(
    plan: ExportPlan, messages: list[Message], meta: ExportMeta, stdout: TextIO | None
) -> _Digest:
    def write(sink: TextSink) -> _Digest:
        digest = _Digest(sink)
        write_export(plan.fmt, messages, meta, digest)
        return digest

    if plan.output is not None:
        return _write_atomically(plan.output, write)
    sink, done = _stdout_sink(stdout)
    try:
        return write(sink)
    finally:
        done()


def _silence_stdout() -> None:
    """After a closed pipe, keep the interpreter's final flush of stdout from complaining."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _traceback(exc: BaseException, plan: ExportPlan, err: TextIO) -> None:
    conn = plan.resolved.connection
    text = "".join(traceback.format_exception(exc))
    err.write(redact.scrub(text, (conn.secret_key, conn.usersig)))

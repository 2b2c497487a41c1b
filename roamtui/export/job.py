"""The one export job: plan → fetch → provenance → digest → atomic write.

``roamtui export`` (:mod:`roamtui.cli.export`) and the TUI's export dialog both run it, step
by step; they differ only in where the messages come from and in how they report:

    job = ExportJob.plan(query, tz, "csv", "out.csv", connection=conn)  # checked, no call yet
    fetched = await job.fetch(client, progress)        # the whole window, sliced and concurrent
    fetched = await job.from_timeline(tl, load_rest=True, progress=...)  # or: the transcript's
    meta = job.provenance(fetched, fetched_at)         # ExportMeta: the one provenance text
    written = job.write(fetched.messages, meta)        # digest + atomic write -> size, SHA-256

- **plan** checks the format and what the output path names (:func:`check_output`) before
  any call: a socket, a block device, a directory, a dangling symlink or a missing folder is
  refused with one line; with ``streams=False`` (the dialog) a FIFO or a device too (it could
  block the app's thread while nobody reads, or draw over the screen). ``both``: both sides.
- **write** goes through :func:`~roamtui.atomicfile.write_atomically` (a regular file whole or
  absent, a FIFO or device written through); the :class:`Digest` counts the bytes and their
  SHA-256 as they pass; a ``stop`` event (Esc) is seen every :data:`STOP_CHECK_EVERY` messages.

Textual-free; the command line's signals, progress line and exit statuses: cli.export.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from roamtui.atomicfile import Target, TextSink, UnsupportedTarget, resolve_target, write_atomically
from roamtui.export.bundle import BundleRefused, check_bundle_output, write_bundle
from roamtui.export.directory import WrittenFile, directory_problem, names_directory, write_parts
from roamtui.export.formats import Format, format_named
from roamtui.export.manifest import FileDigest, build_manifest, connection_facts
from roamtui.export.provenance import ExportMeta, source_of
from roamtui.export.selection import MarkSet, Selection, manifest_section, select
from roamtui.export.sides import BothSides, fetch_sides, manifest_sides, timeline_sides
from roamtui.export.slices import Part
from roamtui.im.errors import RoamError
from roamtui.im.pagelog import PageRecord
from roamtui.im.profile import Nicknames
from roamtui.im.roam import FetchProgress, RoamCaller, RoamQuery

if TYPE_CHECKING:
    from roamtui.im.client import Connection, ImClient
    from roamtui.im.model import Message

#: How often (in messages) a write looks whether it was asked to stop.
STOP_CHECK_EVERY = 512
#: Why a window written from the transcript before it was loaded whole is partial.
PARTIAL_NOTE = "written from the transcript before it was loaded whole"


class ExportRefused(ValueError):
    """The export cannot be done as asked (format, output), found before any call; ``str()`` is
    one line naming what to change."""


class Stopped(Exception):
    """The write was asked to stop (``stop`` set); the atomic write left no file behind."""


@dataclass(frozen=True, slots=True)
class Output:
    """Where the export goes: a checked path and what it names, or (``path`` None) the stream the
    caller hands to :meth:`ExportJob.write` (stdout)."""

    path: Path | None = None
    target: Target | None = None
    #: A directory to write one file per slice into (a format that splits, ``-o DIR/``).
    directory: bool = False

    @property
    def atomic(self) -> bool:
        """True when the output is whole or absent (a regular file, or a directory export,
        whose files are removed again on failure); False when written through."""
        return self.path is not None and (self.target is None or self.target.atomic)


def check_output(
    given: str | os.PathLike[str] | None, *, streams: bool = True, directories: bool = False
) -> Output:
    """What ``given`` names and whether it can be written, without opening it (a FIFO's reader
    is not consumed); ExportRefused when it cannot, one line that starts with the path as given.
    None or ``-``: the caller's stream. With ``directories`` (a format that splits), an existing
    directory or a path ending in ``/`` is a directory to write the slices into."""
    if given is None or os.fspath(given) in ("", "-"):
        return Output()
    shown = repr(os.fspath(given))
    path = Path(os.path.expanduser(os.fspath(given)))
    if directories and names_directory(os.fspath(given), path):
        problem = directory_problem(path)
        if problem is not None:
            raise ExportRefused(f"{shown}: {problem}")
        return Output(path, directory=True)
    if os.fspath(given).endswith(("/", os.sep)):  # Path() would drop the "/" and write a file
        raise ExportRefused(f"{shown} names a directory; this format is one file: give its name")
    try:
        target = resolve_target(path)
    except UnsupportedTarget as exc:
        raise ExportRefused(f"{shown} {exc.strerror}") from None
    except OSError as exc:
        raise ExportRefused(f"{shown}: {exc.strerror or exc}") from None
    if target.kind == "stream":
        if not streams:
            raise ExportRefused(
                f"{shown} is a FIFO or a device, which the export dialog does not write into "
                "(it could wait forever for a reader); give a file, or stream with "
                "`roamtui export -o`"
            )
        if not os.access(target.path, os.W_OK):
            raise ExportRefused(f"{shown}: no permission to write to it")
        return Output(path, target)
    parent = target.path.parent
    if not parent.is_dir():
        raise ExportRefused(f"{shown}: the directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportRefused(f"{shown}: no permission to write in {str(parent)!r}")
    return Output(path, target)


@dataclass(frozen=True, slots=True)
class Fetched:
    """The messages of the window, oldest first, and what it took to get them."""

    messages: Sequence[Message]
    pages: int
    calls: int
    complete: bool
    retries: int = 0
    seconds: float = 0.0
    #: Why the window is partial, when it is.
    note: str = ""
    #: account -> nickname of the parties that have one (portrait_get), for the headers.
    names: Mapping[str, str] = field(default_factory=dict)
    #: One record per call that returned a page, as the replies landed (the bundle's manifest).
    records: tuple[PageRecord, ...] = ()
    #: Wall-clock Unix seconds when the fetch started and ended.
    started: float = 0.0
    finished: float = 0.0
    #: Set when only the marked messages (with context) were kept of the window.
    selection: Selection | None = None
    sides: BothSides | None = None  # read from both sides: who holds what (export.sides)

    @property
    def recalled(self) -> int:
        return sum(1 for m in self.messages if m.recalled)


@dataclass(frozen=True, slots=True)
class Written:
    """What the write handed to the output."""

    messages: int
    size: int
    #: The file's SHA-256; for a directory export, the SHA-256 of its SHA256SUMS listing.
    sha256: str
    #: A directory export's files, each with its own SHA-256 (empty for one file).
    files: tuple[WrittenFile, ...] = ()


def too_many(fmt: Format, count: int) -> str | None:
    """Why ``count`` messages do not fit in one file of ``fmt`` (None when they do)."""
    if fmt.per_file is None or count <= fmt.per_file:
        return None
    way = (f"give a directory to write one file per slice of at most {fmt.per_file:,}"
           if fmt.split is not None else "export a shorter window")
    return (f"{count:,} messages are more than one {fmt.name} file holds "
            f"({fmt.per_file:,}); {way}")


@dataclass(slots=True)
class Digest:
    """Passes text on and keeps the size and SHA-256 of its UTF-8 form (the output's bytes).

    The caller may hold it to learn after an interrupt how much was handed over (``size``).
    """

    out: TextSink | None = None
    sha: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0

    def write(self, s: str, /) -> object:
        if self.out is None:
            raise RuntimeError("the digest's output was not set")
        data = s.encode("utf-8", "surrogatepass")
        self.sha.update(data)
        self.size += len(data)
        return self.out.write(s)


class TimelineSource(Protocol):
    """What :meth:`ExportJob.from_timeline` reads of a ``history.Timeline``."""

    @property
    def complete(self) -> bool: ...
    @property
    def calls(self) -> int: ...
    @property
    def client(self) -> object: ...
    def messages(self) -> Iterable[Message]: ...
    async def load_all(self, progress: Callable[..., None] | None = None) -> object: ...


def _checked(messages: Iterable[Message], stop: threading.Event) -> Iterator[Message]:
    for n, message in enumerate(messages):
        if n % STOP_CHECK_EVERY == 0 and stop.is_set():
            raise Stopped
        yield message


@dataclass(frozen=True, slots=True)
class ExportJob:
    """One window of one conversation, to be written in one format to one output."""

    query: RoamQuery
    tz: tzinfo
    format: Format
    output: Output
    #: Where the records come from (endpoint, SDKAppID, admin), for the provenance header.
    source: str = ""
    #: The same, as the bundle's manifest lists it (never a secret).
    facts: Mapping[str, object] = field(default_factory=dict)
    #: The pair's stored marks and notes; with a ``context``, only the marked are written.
    marks: MarkSet | None = None
    both: bool = False  # read from both sides, merged (``--sides both``; export.sides)

    @classmethod
    def plan(
        cls,
        query: RoamQuery,
        tz: tzinfo,
        fmt: str,
        output: Output | str | os.PathLike[str] | None,
        *,
        connection: Connection | None = None,
        streams: bool = True,
        marks: MarkSet | None = None,
        both: bool = False,
    ) -> ExportJob:
        """Check the format and the output (unless given as an Output :func:`check_output` made);
        ExportRefused (one line) before any call if either is bad; ``marks`` as the field."""
        try:
            chosen = format_named(fmt)
        except ValueError as exc:
            raise ExportRefused(str(exc)) from None
        if chosen.bundle:
            given = output.path if isinstance(output, Output) else output
            try:
                output = Output(check_bundle_output(given))
            except BundleRefused as exc:
                raise ExportRefused(str(exc)) from None
        elif not isinstance(output, Output):
            output = check_output(output, streams=streams, directories=chosen.split is not None)
        facts = connection_facts(connection, query.naming)
        return cls(query, tz, chosen, output, source_of(connection), facts, marks, both)

    async def fetch(
        self,
        client: ImClient,
        progress: Callable[[FetchProgress], None] | None = None,
        *,
        names: Nicknames | None = None,
    ) -> Fetched:
        """The whole window with the sliced concurrent fetch (a RoamError if it cannot be had
        whole), and the parties' nicknames (through ``names`` when given). The caller owns
        ``client`` and closes it."""
        pages = 0

        def on_progress(p: FetchProgress) -> None:
            nonlocal pages
            pages = p.calls
            if progress is not None:
                progress(p)

        started, wall = time.monotonic(), time.time()
        records: list[PageRecord] = []
        got = await fetch_sides(client, self.query, both=self.both, progress=on_progress,
                                on_record=records.append)
        finished = time.time()  # the window's fetch; the nicknames are not part of it
        nicknames = await self.display_names(client, names)
        return self.selected(Fetched(
            got.messages, pages, client.calls_started, True, client.retries,
            time.monotonic() - started, names=nicknames, records=tuple(records), started=wall,
            finished=finished, sides=got if self.both else None))

    async def from_timeline(
        self,
        timeline: TimelineSource,
        *,
        load_rest: bool,
        progress: Callable[..., None] | None = None,
        names: Nicknames | None = None,
    ) -> Fetched:
        """What the transcript holds, after loading the rest of the window when asked (a
        RoamError if that fails), with the parties' nicknames (``names``: the app's cache). A
        snapshot: the transcript may go on loading meanwhile."""
        started, wall = time.monotonic(), time.time()
        if load_rest and not timeline.complete:
            await timeline.load_all(progress)
        messages = list(timeline.messages())
        complete = timeline.complete  # of this snapshot, before anything else is awaited
        nicknames: dict[str, str] = {}
        if names is not None:  # the app's cache: known already, or looked up once for the run
            nicknames = await self.display_names(cast("RoamCaller", timeline.client), names)
        # The timeline's own calls, as the status bar counts them: the client is shared by
        # every timeline of the session (`p` reads the other side on it), so its counter
        # would add the other side's calls, and the first side's again after a second `p`.
        return self.selected(Fetched(
            messages, timeline.calls, timeline.calls, complete,
            seconds=time.monotonic() - started, note="" if complete else PARTIAL_NOTE,
            names=nicknames, started=wall, finished=time.time(),
            sides=timeline_sides(timeline, messages)))

    def selected(self, fetched: Fetched) -> Fetched:
        """``fetched`` cut down to the marked messages with context, when the job asks so."""
        if self.marks is None or self.marks.context is None:
            return fetched
        chosen, how = select(fetched.messages, self.marks, self.query, complete=fetched.complete)
        return replace(fetched, messages=chosen, selection=how)

    async def display_names(
        self, client: RoamCaller, cache: Nicknames | None = None
    ) -> dict[str, str]:
        """The two parties' nicknames (portrait_get, through ``cache`` when given): account ->
        nickname for those that have one. A failed lookup gives none: the export names the
        parties by account then, it does not fail for a courtesy."""
        names = cache if cache is not None else Nicknames(client)
        parties = (self.query.account, self.query.peer)
        try:
            await names.resolve(parties)
        except RoamError:
            return {}
        return names.names(parties)

    def provenance(
        self, fetched: Fetched, fetched_at: int, names: Mapping[str, str] | None = None
    ) -> ExportMeta:
        """The provenance every format writes (csv and txt headers); ``names`` (else the
        fetch's own) maps accounts to nicknames for "nickname (account)" in headers."""
        q, marks = self.query, self.marks or MarkSet()
        return ExportMeta(
            account=q.account, peer=q.peer, min_time=q.min_time, max_time=q.max_time,
            tz=self.tz, fetched_at=fetched_at, pages=fetched.pages, calls=fetched.calls,
            complete=fetched.complete, source=self.source, note=fetched.note,
            names=dict(fetched.names if names is None else names),
            notes=dict(marks.notes), marked=frozenset(marks.marked), selection=fetched.selection,
            **(fetched.sides.meta() if fetched.sides is not None else {}),
        )

    def write(
        self,
        messages: Iterable[Message],
        meta: ExportMeta,
        *,
        stream: TextSink | None = None,
        digest: Digest | None = None,
        stop: threading.Event | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> Written:
        """Write to the planned path (atomically), or to ``stream`` when the plan has none.

        ``on_commit`` runs once all text is written to a file that is about to be renamed into
        place (the command line holds signals from then on); ``stop`` ends the write early with
        :class:`Stopped` and no file; ``digest`` lets the caller watch the bytes go by.
        """
        digest = Digest() if digest is None else digest
        if self.output.directory:
            return self._write_directory(messages, meta, stop, on_commit)
        if self.format.per_file is not None:
            messages = messages if isinstance(messages, Sequence) else list(messages)
            refused = too_many(self.format, len(messages))
            if refused is not None:
                raise ExportRefused(refused)
        items = messages if stop is None else _checked(messages, stop)
        path = self.output.path
        if path is None:
            if stream is None:
                raise ValueError("no output path was planned and no stream was given")
            digest.out = stream
            count = self.format.write(items, meta, digest)
        else:
            atomic = self.output.atomic

            def write(sink: TextSink) -> int:
                digest.out = sink
                n = self.format.write(items, meta, digest)
                if atomic and on_commit is not None:
                    on_commit()  # only the fsync and the rename are left
                return n

            count = write_atomically(path, write)
        return Written(count, digest.size, digest.sha.hexdigest())

    def _write_directory(
        self,
        messages: Iterable[Message],
        meta: ExportMeta,
        stop: threading.Event | None,
        on_commit: Callable[[], None] | None,
    ) -> Written:
        split, path = self.format.split, self.output.path
        if split is None or path is None:
            raise ExportRefused(f"{self.format.name} is written to one file, not a directory")
        held = messages if isinstance(messages, Sequence) else list(messages)

        def write(part: Part, sink: TextSink) -> tuple[int, int, str]:
            items = part.messages if stop is None else _checked(part.messages, stop)
            digest = Digest(sink)
            n = self.format.write(items, part.meta, digest)
            return n, digest.size, digest.sha.hexdigest()

        files, listing = write_parts(path, split(held, meta), write, on_commit=on_commit)
        return Written(sum(f.messages for f in files), sum(f.size for f in files),
                       listing.sha256, tuple(files))

    def write_bundle(
        self,
        fetched: Fetched,
        meta: ExportMeta,
        *,
        extra: Mapping[str, object] | None = None,
        stop: threading.Event | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> Written:
        """Write the planned bundle (folder or zip) whole or not at all: its size and the
        SHA-256 of its SHA256SUMS. ``extra`` adds sections to its manifest (a refetch names
        the bundle it was compared with); both sides read add ``sides``."""
        path = self.output.path
        if path is None or not self.format.bundle:
            raise ValueError("this job does not write a bundle")
        section = manifest_sides(fetched.sides, self.query, fetched.records)  # {} for one side

        def manifest_for(files: Mapping[str, FileDigest]) -> dict[str, Any]:
            return build_manifest(
                query=self.query, tz=self.tz, facts=self.facts, messages=fetched.messages,
                complete=fetched.complete, records=fetched.records, started=fetched.started,
                finished=fetched.finished, calls=fetched.calls, retries=fetched.retries,
                files=files, both=bool(section), extra={"names": dict(meta.names), **section,
                **manifest_section(meta.notes, meta.marked, [m.key for m in fetched.messages]),
                **(extra or {})})

        made = write_bundle(path, fetched.messages, meta, manifest_for, stop=stop,
                            on_commit=on_commit)
        return Written(made.messages, made.size, made.sums_sha256)

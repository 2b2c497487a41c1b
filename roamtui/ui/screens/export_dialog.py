"""`e`: export the transcript's window with the same writers as `roamtui export`.

The dialog asks for a format and a path (by default in the user's download folder, else the
current one, named from the parties and the window). A window that is not loaded whole is never
written as if it were: the user either fetches the rest first (``Timeline.load_all``, with
progress) or writes what is loaded, marked PARTIAL. The export is the one job of
:mod:`roamtui.export.job` (plan → fetch → provenance → digest → atomic write), the same as
`roamtui export`'s; the file is written in a thread so the app keeps drawing, Esc cancels at
any point and leaves no file behind, and a FIFO or a device is refused (the thread could wait
forever for a reader).

The notice of a written export ends with its SHA-256 (for a folder of RSMF slices, that of its
SHA256SUMS, which names each file's). The format and the folder last written to are remembered
for the rest of the session (:class:`roamtui.ui.app.ExportChoice`, in the app's session; not
saved on disk: the next run starts from the defaults again). A format that holds at most so many
messages per file (RSMF: 10,000) proposes a folder (a path ending in ``/``) when the loaded
window is larger, and switches the path to one if the file was refused after fetching the rest.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message as TextualMessage
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, RadioButton, RadioSet, Static

from roamtui.export.formats import DEFAULT_FORMAT, FORMATS, format_for, named_by
from roamtui.export.job import ExportJob, ExportRefused, Stopped
from roamtui.export.selection import MarkSet
from roamtui.history.timeparse import format_time, zone_name
from roamtui.im.errors import RoamError
from roamtui.text import error_line, screen_line
from roamtui.ui.app import ExportChoice
from roamtui.ui.screens.export_marked import MarkedOnly, job_marks, only_marked
from roamtui.ui.screens.export_target import (
    PARTIAL_TAG,
    ExportResult,
    FormatChoice,
    PathInput,
    default_directory,
    default_filename,
    joined,
    too_big,
)
from roamtui.ui.transcript.messages import StatsChanged

if TYPE_CHECKING:
    from roamtui.history.timeline import LoadProgress, Timeline
    from roamtui.im.profile import Nicknames

#: The dialog's formats, in the registry's order.
FORMAT_NAMES: tuple[str, ...] = tuple(FORMATS)


class ExportDialog(ModalScreen[ExportResult | None]):
    """Format, path and, for a window not loaded whole, fetch-the-rest or write-partial."""

    HELP_GROUP = "Export"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "export", "Export", show=False),
    ]
    # Below 70 columns the five formats fit on their row only packed closer. Not a ClassVar:
    # Textual declares it so that mypy reads it as an instance variable.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (70, "")]  # noqa: RUF012

    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    #export-dialog {
        width: 84; max-width: 95%; height: auto; max-height: 95%;
        border: round $primary; border-title-color: $primary; background: $surface;
        padding: 0 1;
    }
    #export-dialog > Static { width: 1fr; }
    #export-dialog .export-row { height: auto; margin-top: 1; }
    #export-dialog .export-label { width: 8; color: $text-muted; }
    #export-format { layout: horizontal; width: 1fr; }
    #export-format > RadioButton { width: auto; margin-right: 2; }
    ExportDialog.-narrow #export-format > RadioButton { margin-right: 0; }
    #export-path { width: 1fr; }
    #export-partial { height: auto; margin-top: 1; }
    #export-partial > Static { color: $text-warning; text-style: bold; }
    #export-mode { width: 1fr; }
    #export-progress { margin-top: 1; display: none; }
    #export-progress.-busy { display: block; }
    #export-status { color: $text-muted; height: auto; }
    #export-status.-empty { display: none; }
    #export-error { color: $text-error; text-style: bold; height: auto; display: none; }
    #export-error.-shown { display: block; }
    #export-buttons { height: auto; margin: 1 0; align-horizontal: right; }
    #export-buttons > Button { margin-left: 2; }
    """

    class _Progress(TextualMessage):
        def __init__(self, progress: LoadProgress) -> None:
            super().__init__()
            self.progress = progress

        def can_replace(self, message: TextualMessage) -> bool:
            return isinstance(message, ExportDialog._Progress)

    class _Failed(TextualMessage):
        def __init__(self, reason: str, *, needs_folder: bool = False) -> None:
            super().__init__()
            self.reason = reason
            self.needs_folder = needs_folder  # too many for one file: propose a folder

    class _Written(TextualMessage):
        def __init__(self, result: ExportResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, timeline: Timeline, *, directory: Path | None = None,
                 clock: Callable[[], float] = time.time,
                 remembered: ExportChoice | None = None, marks: MarkSet | None = None,
                 names: Nicknames | None = None) -> None:
        super().__init__()
        self.timeline = timeline
        self.marks = marks  # the side's marks and notes (notes go into every export)
        self.names = names  # the run's nicknames: "nickname (account)" in the headers
        self.clock = clock
        self.remembered = remembered if remembered is not None else ExportChoice()
        last = self.remembered.directory
        if directory is None and last is not None and last.is_dir():
            directory = last
        self.directory = directory if directory is not None else default_directory()
        chosen = self.remembered.format
        self.format: str = chosen if chosen is not None and chosen in FORMATS else DEFAULT_FORMAT
        self.fetch_rest = True
        self.busy = False
        self._stop = threading.Event()
        self._confirmed: Path | None = None  # an existing file the user agreed to replace
        self._proposed = ""  # a path the dialog put in the field itself (not the user's typing)
        self._default_name = self._default_for()

    def _default_for(self, *, folder: bool | None = None) -> str:
        if folder is None:
            folder = too_big(self.timeline, self.format)
        return default_filename(self.timeline, self.format, partial=self.partial, folder=folder,
                                marked=only_marked(self))

    # -- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        q = self.timeline.query
        tz = self.timeline.tz
        window = (f"{format_time(q.min_time, tz, '%Y-%m-%d %H:%M')} → "
                  f"{format_time(q.max_time, tz, '%Y-%m-%d %H:%M')} ({zone_name(tz)})")
        who = f"{screen_line(q.account)} ⇄ {screen_line(q.peer)}"
        with Vertical(id="export-dialog") as dialog:
            dialog.border_title = "Export the window"
            yield Static(Content(f"{who} · {window}"), id="export-what", markup=False)
            yield Static(Content(self._state_text()), id="export-state", markup=False)
            with Horizontal(classes="export-row"):
                yield Label("Format", classes="export-label")
                with FormatChoice(id="export-format", compact=True):
                    for fmt in FORMAT_NAMES:
                        yield RadioButton(fmt, value=fmt == self.format, id=f"export-{fmt}")
            with Horizontal(classes="export-row"):
                yield Label("Path", classes="export-label")
                yield PathInput(joined(self.directory, self._default_name), id="export-path",
                                compact=True)
            if self.marks is not None:
                yield MarkedOnly(self.marks, id="export-marked-row")
            with Vertical(id="export-partial"):
                yield Static(Content("The window is not loaded whole."), markup=False)
                with RadioSet(id="export-mode", compact=True):
                    yield RadioButton("Fetch the rest first, then write it complete",
                                      value=True, id="export-fetch")
                    yield RadioButton(f"Write what is loaded, marked {PARTIAL_TAG}",
                                      id="export-partial-write")
            yield ProgressBar(total=100, show_eta=False, id="export-progress")
            yield Static("", id="export-status", classes="-empty", markup=False)
            yield Static("", id="export-error", markup=False)
            with Horizontal(id="export-buttons"):
                yield Button("Export", variant="primary", id="export-go", compact=True)
                yield Button("Cancel", id="export-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#export-partial").display = not self.timeline.complete
        self.query_one("#export-path", Input).focus()

    def _state_text(self) -> str:
        tl = self.timeline
        loaded = f"{tl.loaded_count:,} messages loaded ({tl.recalled_count:,} recalled)"
        if tl.complete:
            return f"{loaded} · the whole window"
        gaps = len(tl.gaps)
        return f"{loaded} · not complete: {gaps} stretch{'es' * (gaps != 1)} not loaded yet"

    @on(StatsChanged)
    def _timeline_changed(self) -> None:
        """Pages that came in while the dialog is open (`e` before the window was loaded):
        the counts, the not-loaded-whole choice and the proposed name follow the timeline."""
        self.query_one("#export-state", Static).update(Content(self._state_text()))
        self.query_one("#export-partial").display = not self.timeline.complete
        # Only when the proposal changes (no longer PARTIAL, now a folder): a running export
        # keeps its path, and a complaint about the path stays until the path changes.
        if not self.busy and self._default_for() != self._default_name:
            self._rename()

    # -- form -------------------------------------------------------------------------------------

    @property
    def path_input(self) -> Input:
        return self.query_one("#export-path", Input)

    @property
    def partial(self) -> bool:
        """True when the file will be written from a window that is not loaded whole."""
        return not self.timeline.complete and not self.fetch_rest

    @on(RadioSet.Changed, "#export-format")
    def _format_changed(self, event: RadioSet.Changed) -> None:
        self.format = FORMAT_NAMES[event.index]
        if named_by(self.path_input.value.strip()) != self.format:  # else the path chose it
            self._rename()

    @on(RadioSet.Changed, "#export-mode")
    def _mode_changed(self, event: RadioSet.Changed) -> None:
        self.fetch_rest = event.index == 0
        self._rename()

    def _rename(self, *, folder: bool | None = None) -> None:
        """Follow format and partial choices in the file name, unless the user typed their own."""
        text = self.path_input.value.strip()
        path = Path(text)
        new_default = self._default_for(folder=folder)
        if path.name == self._default_name.rstrip("/"):
            text = joined(path.parent, new_default)
        elif path.suffix.lstrip(".") in FORMATS:
            text = str(path.with_suffix(f".{self.format}"))
        self._default_name = new_default
        self.path_input.value = text

    @on(MarkedOnly.Changed)
    def _marked_changed(self) -> None:
        self._rename()

    @on(Input.Changed, "#export-path")
    def _path_changed(self, event: Input.Changed) -> None:
        self._confirmed = None
        if event.value != self._proposed:  # typed by the user: the old complaint is moot
            self._show_error("")
            named = named_by(event.value.strip())  # `out.csv` chooses csv, as on the CLI
            if named in FORMATS and named != self.format and not self.busy:
                self.query_one(f"#export-{named}", RadioButton).value = True

    @on(Input.Submitted, "#export-path")
    def _path_submitted(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#export-go")
    def _go_pressed(self) -> None:
        self.action_export()

    def action_export(self) -> None:
        """Plan the export for the path typed, then fetch the rest if asked and write the file."""
        if self.busy:
            return
        job = self._planned()
        if job is None:
            return
        self._set_busy(True)
        self._stop = threading.Event()
        self._run(job, fetch=self.fetch_rest and not self.timeline.complete)

    def _planned(self) -> ExportJob | None:
        """The export job for the path typed, or None with the reason shown under the form."""
        text = self.path_input.value.strip()
        if not text:
            self._show_error("Give a file name to write.")
            return None
        named = named_by(text)
        if named is None and not text.endswith(("/", os.sep)) \
                and not Path(os.path.expanduser(text)).exists():
            # A new name without a format's ending gets this one's (`v1.2` too: `v1.2.csv`).
            text = f"{text.rstrip('.')}.{self.format}"
        elif named is not None and named not in FORMATS:  # a .zip: the CLI's evidence bundle
            self._show_error("A .zip is an evidence bundle: `roamtui export --format bundle` "
                             "writes one; give another name.")
            return None
        try:
            format_for(self.format, text, choose="the {} format")
        except ValueError as exc:
            self._show_error(error_line(exc))
            return None
        path = Path(os.path.expanduser(text))
        if not path.is_absolute():
            path = Path.cwd() / path
        tl = self.timeline
        # Path() drops a trailing "/", which is what names a folder for slices.
        given = str(path) + ("/" if text.endswith(("/", os.sep)) else "")
        try:
            job = ExportJob.plan(tl.query, tl.tz, self.format, given, streams=False,
                                 connection=getattr(tl.client, "connection", None),
                                 marks=job_marks(self, self.marks))
        except ExportRefused as exc:
            self._show_error(error_line(exc))
            return None
        if job.output.directory:
            return job  # its files are named by their slices; SHA256SUMS lists them
        if path.exists() and self._confirmed != path:
            self._confirmed = path
            self._show_error(f"{screen_line(path.name)} exists: press Export again to replace it.")
            return None
        return job

    def _show_error(self, text: str) -> None:
        error = self.query_one("#export-error", Static)
        error.update(Content(text))
        error.set_class(bool(text), "-shown")

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        for selector in ("#export-format", "#export-path", "#export-mode", "#export-go"):
            self.query_one(selector).disabled = busy
        self.query_one("#export-progress").set_class(busy, "-busy")
        if not busy:
            self._status("")

    def _status(self, text: str) -> None:
        status = self.query_one("#export-status", Static)
        status.update(Content(text))
        status.set_class(not text, "-empty")

    # -- work -------------------------------------------------------------------------------------

    @work(exclusive=True, group="export", exit_on_error=False)
    async def _run(self, job: ExportJob, *, fetch: bool) -> None:
        if fetch:
            self._status("Fetching the rest of the window…")
        try:
            fetched = await job.from_timeline(self.timeline, load_rest=fetch, progress=self._report,
                                              names=self.names)
        except RoamError as exc:
            self.post_message(self._Failed(f"Could not fetch the rest: {error_line(exc)}"))
            return
        except Exception as exc:  # a bug must not leave the dialog locked: one line
            self.log.error(f"export fetch failed: {exc!r}")
            self.post_message(self._Failed(f"Could not fetch the rest: internal error "
                                           f"({type(exc).__name__})"))
            return
        meta = job.provenance(fetched, int(self.clock()))
        self._status(f"Writing {len(fetched.messages):,} messages…")
        stop = self._stop
        path = job.output.path
        assert path is not None  # planned from a path
        where = screen_line(str(path))
        try:
            written = await asyncio.to_thread(job.write, fetched.messages, meta, stop=stop)
        except Stopped:
            return
        except ExportRefused as exc:  # too many for one file, known once the rest is loaded
            self.post_message(self._Failed(f"{error_line(exc)}: the path now names a folder; "
                                           "press Export to write the slices",
                                           needs_folder=True))
            return
        except OSError as exc:
            reason = exc.strerror or error_line(exc)
            self.post_message(self._Failed(f"Could not write {where}: {reason}"))
            return
        except Exception as exc:  # the temp file is gone already; say so in one line
            self.log.error(f"export write failed: {exc!r}")
            self.post_message(self._Failed(f"Could not write {where}: internal error "
                                           f"({type(exc).__name__})"))
            return
        finally:
            stop.set()  # a cancelled await leaves the thread running: make it stop
        chosen = fetched.selection
        result = ExportResult(path, job.format.name, written.messages, fetched.recalled,
                              fetched.complete, written.sha256, len(written.files),
                              f"{chosen.selected:,} of {chosen.total:,}" if chosen else "")
        self.post_message(self._Written(result))

    def _report(self, progress: LoadProgress) -> None:
        self.post_message(self._Progress(progress))

    @on(_Progress)
    def _progress(self, event: _Progress) -> None:
        p = event.progress
        self.query_one("#export-progress", ProgressBar).update(progress=100 * p.fraction)
        self._status(f"Fetching: {p.messages:,} messages · {p.calls:,} calls · "
                     f"{p.fraction:.0%} of the window")

    @on(_Failed)
    def _failed(self, event: _Failed) -> None:
        self._set_busy(False)
        self.query_one("#export-state", Static).update(Content(self._state_text()))
        if event.needs_folder:
            self._rename(folder=True)
            value = self.path_input.value
            if not value.endswith("/"):  # a name the user typed: make it a folder's
                value = str(Path(value).with_suffix("")) + "/"
            self._proposed = self.path_input.value = value
        self._show_error(event.reason)
        if not event.needs_folder:
            # A folder proposed is an instruction shown in the dialog, not a failure; a toast
            # would also sit over the Export button the user is asked to press.
            self.app.notify(event.reason, title="Export failed", severity="error", timeout=8,
                            markup=False)

    @on(_Written)
    def _written(self, event: _Written) -> None:
        result = event.result
        self.remembered.format = result.format
        self.remembered.directory = result.path.parent
        self.app.notify(result.notice(), title="Export", severity="information"
                        if result.complete else "warning", timeout=20, markup=False)
        self.dismiss(result)

    @on(Button.Pressed, "#export-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        """Close; a fetch or write in progress is stopped and no file is left behind."""
        if self.busy:
            self._stop.set()
            self.workers.cancel_group(self, "export")
            self.app.notify("Export cancelled; no file was written.", timeout=4, markup=False)
        self.dismiss(None)

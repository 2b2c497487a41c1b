"""`e`: export the transcript's window with the same writers as `roamtui export`.

The dialog asks for a format and a path (by default in the user's download folder, else the
current one, named from the parties and the window). A window that is not loaded whole is never
written as if it were: the user either fetches the rest first (``Timeline.load_all``, with
progress) or writes what is loaded, marked PARTIAL. The file is written atomically in a thread
so the app keeps drawing; Esc cancels at any point and leaves no file behind.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

import platformdirs
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message as TextualMessage
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, RadioButton, RadioSet, Static

from roamtui.history.export import (
    FORMATS,
    ExportFormat,
    ExportMeta,
    TextSink,
    write_atomically,
    write_csv,
    write_jsonl,
    write_txt,
)
from roamtui.history.timeparse import format_time, zone_name
from roamtui.im.errors import RoamError
from roamtui.text import error_line, screen_line

if TYPE_CHECKING:
    from roamtui.history.timeline import LoadProgress, Timeline
    from roamtui.im.model import Message

PARTIAL_TAG = "PARTIAL"
#: How often (in messages) the writer thread looks whether the export was cancelled.
CANCEL_CHECK_EVERY = 512


@dataclass(frozen=True, slots=True)
class ExportResult:
    """A file that was written: where, in which format, how many messages, whole or not."""

    path: Path
    format: ExportFormat
    messages: int
    recalled: int
    complete: bool

    def notice(self) -> str:
        state = "complete" if self.complete else f"{PARTIAL_TAG}: the window was not loaded whole"
        return (f"Exported {self.messages:,} messages ({self.recalled:,} recalled) as "
                f"{self.format} to {screen_line(str(self.path))} — {state}")


def default_directory() -> Path:
    """The user's download folder when it exists, else the current directory."""
    try:
        downloads = Path(platformdirs.user_downloads_dir())
    except (OSError, RuntimeError, ValueError):
        downloads = None
    if downloads is not None and downloads.is_dir():
        return downloads
    return Path.cwd()


def _slug(name: str) -> str:
    """An account name made safe for a file name on every system (letters of any script kept)."""
    kept = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip("._")
    return kept[:40] or "x"


def default_filename(timeline: Timeline, fmt: ExportFormat, *, partial: bool = False) -> str:
    """``roam-<account>-<peer>-<start>-<end>[-PARTIAL].<fmt>``, times in the chosen zone."""
    q = timeline.query
    start = format_time(q.min_time, timeline.tz, "%Y%m%d-%H%M")
    end = format_time(q.max_time, timeline.tz, "%Y%m%d-%H%M")
    tag = f"-{PARTIAL_TAG}" if partial else ""
    return f"roam-{_slug(q.account)}-{_slug(q.peer)}-{start}-{end}{tag}.{fmt}".replace("@", "")


def _source(timeline: Timeline) -> str:
    """Endpoint (scheme, host, path only), SDKAppID and admin: where the records came from."""
    conn = getattr(timeline.client, "connection", None)
    if conn is None:
        return ""
    parts = urlsplit(conn.endpoint)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    endpoint = f"{parts.scheme}://{host}{parts.path}" if parts.scheme else ""
    return f"{endpoint} · SDKAppID {conn.sdkappid} · admin {conn.identifier}".strip(" ·")


class _Cancelled(Exception):
    """The user cancelled while the writer thread was running."""


def _guarded(messages: Iterable[Message], stop: threading.Event) -> Iterator[Message]:
    for n, message in enumerate(messages):
        if n % CANCEL_CHECK_EVERY == 0 and stop.is_set():
            raise _Cancelled
        yield message


def _writer(fmt: ExportFormat, messages: Iterable[Message],
            meta: ExportMeta) -> Callable[[TextSink], int]:
    if fmt == "jsonl":
        return lambda out: write_jsonl(messages, out)
    if fmt == "csv":
        return lambda out: write_csv(messages, meta, out)
    return lambda out: write_txt(messages, meta, out)


class ExportDialog(ModalScreen[ExportResult | None]):
    """Format, path and, for a window not loaded whole, fetch-the-rest or write-partial."""

    HELP_GROUP = "Export"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "export", "Export", show=False),
    ]

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
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    class _Written(TextualMessage):
        def __init__(self, result: ExportResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, timeline: Timeline, *, directory: Path | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.timeline = timeline
        self.clock = clock
        self.directory = directory if directory is not None else default_directory()
        self.format: ExportFormat = "jsonl"
        self.fetch_rest = True
        self.busy = False
        self._stop = threading.Event()
        self._confirmed: Path | None = None  # an existing file the user agreed to replace
        self._default_name = default_filename(timeline, self.format)

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
                with RadioSet(id="export-format", compact=True):
                    for fmt in FORMATS:
                        yield RadioButton(fmt, value=fmt == self.format, id=f"export-{fmt}")
            with Horizontal(classes="export-row"):
                yield Label("Path", classes="export-label")
                yield Input(str(self.directory / self._default_name), id="export-path",
                            compact=True)
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
        return f"{loaded} · not complete: {len(tl.gaps)} stretch(es) not loaded yet"

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
        self.format = FORMATS[event.index]
        self._rename()

    @on(RadioSet.Changed, "#export-mode")
    def _mode_changed(self, event: RadioSet.Changed) -> None:
        self.fetch_rest = event.index == 0
        self._rename()

    def _rename(self) -> None:
        """Follow format and partial choices in the file name, unless the user typed their own."""
        path = Path(self.path_input.value.strip())
        new_default = default_filename(self.timeline, self.format, partial=self.partial)
        if path.name == self._default_name:
            path = path.with_name(new_default)
        elif path.suffix.lstrip(".") in FORMATS:
            path = path.with_suffix(f".{self.format}")
        self._default_name = new_default
        self.path_input.value = str(path)

    @on(Input.Changed, "#export-path")
    def _path_changed(self) -> None:
        self._confirmed = None
        self._show_error("")

    @on(Input.Submitted, "#export-path")
    def _path_submitted(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#export-go")
    def _go_pressed(self) -> None:
        self.action_export()

    def action_export(self) -> None:
        """Check the path, then fetch the rest if asked and write the file."""
        if self.busy:
            return
        path = self._checked_path()
        if path is None:
            return
        self._set_busy(True)
        self._stop = threading.Event()
        self._run(path, self.format, fetch=self.fetch_rest and not self.timeline.complete)

    def _checked_path(self) -> Path | None:
        text = self.path_input.value.strip()
        if not text:
            self._show_error("Give a file name to write.")
            return None
        path = Path(os.path.expanduser(text))
        if not path.is_absolute():
            path = Path.cwd() / path
        if path.is_dir():
            self._show_error(f"{path} is a folder; add a file name.")
            return None
        if not path.parent.is_dir():
            self._show_error(f"The folder {path.parent} does not exist.")
            return None
        if path.exists() and self._confirmed != path:
            self._confirmed = path
            self._show_error(f"{path.name} exists: press Export again to replace it.")
            return None
        return path

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
    async def _run(self, path: Path, fmt: ExportFormat, *, fetch: bool) -> None:
        tl = self.timeline
        if fetch:
            self._status("Fetching the rest of the window…")
            try:
                await tl.load_all(self._report)
            except RoamError as exc:
                self.post_message(self._Failed(f"Could not fetch the rest: {error_line(exc)}"))
                return
            except Exception as exc:  # a bug must not leave the dialog locked: one line
                self.log.error(f"export fetch failed: {exc!r}")
                self.post_message(self._Failed(f"Could not fetch the rest: internal error "
                                               f"({type(exc).__name__})"))
                return
        # A snapshot on the event loop: the transcript may go on loading while the thread writes.
        messages = list(tl.messages())
        complete = tl.complete
        client = tl.client
        meta = ExportMeta(
            account=tl.query.account, peer=tl.query.peer,
            min_time=tl.query.min_time, max_time=tl.query.max_time, tz=tl.tz,
            fetched_at=int(self.clock()), pages=tl.calls,
            calls=int(getattr(client, "calls_started", tl.calls)), complete=complete,
            source=_source(tl),
            note="" if complete else "written from the transcript before it was loaded whole",
        )
        self._status(f"Writing {len(messages):,} messages…")
        stop = self._stop
        write = _writer(fmt, _guarded(messages, stop), meta)
        try:
            count = await asyncio.to_thread(write_atomically, path, write)
        except _Cancelled:
            return
        except OSError as exc:
            reason = exc.strerror or error_line(exc)
            where = screen_line(str(path))
            self.post_message(self._Failed(f"Could not write {where}: {reason}"))
            return
        except Exception as exc:  # the temp file is gone already; say so in one line
            self.log.error(f"export write failed: {exc!r}")
            self.post_message(self._Failed(f"Could not write {screen_line(str(path))}: "
                                           f"internal error "
                                           f"({type(exc).__name__})"))
            return
        finally:
            stop.set()  # a cancelled await leaves the thread running: make it stop
        recalled = sum(1 for m in messages if m.recalled)
        self.post_message(self._Written(ExportResult(path, fmt, count, recalled, complete)))

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
        self._show_error(event.reason)
        self.app.notify(event.reason, title="Export failed", severity="error", timeout=8,
                        markup=False)

    @on(_Written)
    def _written(self, event: _Written) -> None:
        result = event.result
        self.app.notify(result.notice(), title="Export", severity="information"
                        if result.complete else "warning", timeout=8, markup=False)
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

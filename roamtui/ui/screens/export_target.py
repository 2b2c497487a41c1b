"""Where the export dialog writes and what it says it wrote.

The path it proposes (`roam-<account>-<peer>-<start>-<end>[-MARKED][-PARTIAL].<fmt>`, a folder
``…-<fmt>/`` when the loaded window is more than one file of the format holds), in the user's
download folder or else the current one; the field it is typed in (:class:`PathInput`: focus
selects the file's name, so typing renames the file and keeps its folder, and a ``/`` or ``~``
typed first starts a whole new path; up and down go to the fields above and below); and the
notice of a written file, with its SHA-256.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import platformdirs
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import Input, RadioSet
from textual.widgets.input import Selection

from roamtui.export.formats import FORMATS
from roamtui.export.job import too_many
from roamtui.export.slices import file_slug
from roamtui.history.timeparse import format_time
from roamtui.text import screen_line
from roamtui.ui.screens.export_marked import MARKED_TAG

if TYPE_CHECKING:
    from roamtui.history.timeline import Timeline

PARTIAL_TAG = "PARTIAL"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """A file that was written: where, in which format, how many messages, whole or not, and
    its SHA-256 (a folder of slices: ``files`` of them, and the SHA-256 of SHA256SUMS)."""

    path: Path
    format: str
    messages: int
    recalled: int
    complete: bool
    sha256: str = ""
    files: int = 0
    selected: str = ""  # "12 of 3,412" when only the marked messages were written

    def notice(self) -> str:
        state = "complete" if self.complete else f"{PARTIAL_TAG}: the window was not loaded whole"
        if self.selected:  # never "complete": the file is not the whole window
            state = "a selection" + ("" if self.complete else f"; {state}")
        where = screen_line(str(self.path))
        if self.files:
            where += f" ({self.files} files)"
        digest = "SHA256SUMS SHA-256" if self.files else "SHA-256"
        count = f"{self.selected} messages (marked only)" if self.selected else \
            f"{self.messages:,} messages"
        # Short lines, the digest on one of its own, which the toast fits (roamtui.tcss):
        # folded, or cut by a scroll bar, it could not be compared with sha256sum's.
        return (f"Exported {count} ({self.recalled:,} recalled) as {self.format} — {state}\n"
                f"to {where}\n{digest} {self.sha256}")


def default_directory() -> Path:
    """The user's download folder when it exists, else the current directory."""
    try:
        downloads = Path(platformdirs.user_downloads_dir())
    except (OSError, RuntimeError, ValueError):
        downloads = None
    if downloads is not None and downloads.is_dir():
        return downloads
    return Path.cwd()


def default_filename(timeline: Timeline, fmt: str, *, partial: bool = False,
                     folder: bool = False, marked: bool = False) -> str:
    """``roam-<account>-<peer>-<start>-<end>[-PARTIAL].<fmt>``, times in the chosen zone; a
    folder for slices: ``…-<fmt>/``."""
    q = timeline.query
    start = format_time(q.min_time, timeline.tz, "%Y%m%d-%H%M")
    end = format_time(q.max_time, timeline.tz, "%Y%m%d-%H%M")
    tag = (f"-{MARKED_TAG}" if marked else "") + (f"-{PARTIAL_TAG}" if partial else "")
    last = f"-{fmt}/" if folder else f".{fmt}"
    name = f"roam-{file_slug(q.account)}-{file_slug(q.peer)}-{start}-{end}{tag}"
    return (name + last).replace("@", "")


def too_big(timeline: Timeline, fmt: str) -> bool:
    """More messages are loaded than one file of ``fmt`` holds (and it can write slices)."""
    chosen = FORMATS[fmt]
    return chosen.split is not None and too_many(chosen, timeline.loaded_count) is not None


def joined(directory: Path, name: str) -> str:
    """``directory/name`` as the path field shows it, a folder's trailing ``/`` kept."""
    return str(directory / name.rstrip("/")) + ("/" if name.endswith("/") else "")


def name_span(text: str) -> tuple[int, int]:
    """Where the file's name is in a path as typed: after the last separator (a folder: before
    its trailing separator)."""
    end = len(text.rstrip("/" + os.sep))
    return max(text.rfind("/", 0, end), text.rfind(os.sep, 0, end)) + 1, end


#: Up and down between the dialog's fields, from the format row and from the path field.
FIELD_KEYS: tuple[BindingType, ...] = (
    Binding("up", "app.focus_previous", "Field above", show=False),
    Binding("down", "app.focus_next", "Field below", show=False),
)


class FormatChoice(RadioSet):
    """The formats, side by side: left and right choose among them, up and down go to the
    fields above and below (as from the path field), not round the formats."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "previous_button", "Previous format", show=False),
        Binding("right", "next_button", "Next format", show=False),
        *FIELD_KEYS,
    ]


class PathInput(Input):
    """The path field: focus selects the file's name (:func:`name_span`), not the whole path
    (one key would replace the folder); up and down move between the dialog's fields, which
    a text field has no other use for."""

    BINDINGS: ClassVar[list[BindingType]] = [*FIELD_KEYS]

    def __init__(self, value: str, *, id: str | None = None, compact: bool = False) -> None:
        super().__init__(value, select_on_focus=False, id=id, compact=compact)

    def on_focus(self, event: events.Focus) -> None:
        if not event.from_app_focus:  # back to the terminal: keep the cursor where it was
            self.selection = Selection(*name_span(self.value))

    def on_key(self, event: events.Key) -> None:
        # Runs before Input's own handler types the key: a path typed from its start replaces
        # the whole field, not the name in the proposed folder (``/work//tmp/x.csv``).
        if event.character in ("/", "~") and self.selection == Selection(*name_span(self.value)):
            self.selection = Selection(0, len(self.value))

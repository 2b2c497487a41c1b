"""The progress line of `roamtui export` on a terminal: one line that overwrites itself; and the
parts of the summary line that say what was used (the budget) and what was written.

It shows the messages, pages and share of the window fetched, and, while a call is tried again,
why (a slow or failing service is never silence). Off a terminal nothing is drawn: stderr then
holds only the one summary or error line.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from roamtui.im.client import ClientEvent
from roamtui.im.roam import FetchProgress
from roamtui.im.sharing import Usage

if TYPE_CHECKING:
    from roamtui.export.job import Fetched, Written

#: Seconds between two redraws of the line.
_REDRAW = 0.1

class ProgressLine:
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

    def retrying(self, event: ClientEvent) -> None:
        """A call is being tried again: say why on the line, so a slow service is not silence."""
        if event.kind != "retry":
            return
        self._err.write(f"\r{self._label}: retrying: {event.detail}\x1b[K")
        self._err.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self._err.write("\r\x1b[K")
            self._err.flush()


def announcer(
    progress: Callable[[FetchProgress], None] | None, err: TextIO | None, prog: str
) -> Callable[[ClientEvent], None]:
    """Retries go to the progress line (a terminal only); a change of budget is always one
    line on stderr: the user learns that the sharing stopped, or came back."""

    def announce(event: ClientEvent) -> None:
        if event.kind == "budget":
            if err is not None:
                if isinstance(progress, ProgressLine):
                    progress.clear()
                err.write(f"{prog}: note: {event.detail}\n")
        elif isinstance(progress, ProgressLine):
            progress.retrying(event)

    return announce


def budget_text(fetched: Fetched, usage: Usage | None) -> str:
    """``; budget local shared 50/s, this export got 31/s`` (and the rate when backed off)."""
    if usage is None:
        return ""
    got = fetched.calls / fetched.seconds if fetched.seconds > 0 else 0.0
    text = f"; budget {usage.label} {usage.rate:g}/s, this export got {got:.0f}/s"
    if usage.backed_off:
        text += f", backed off to {usage.effective:.3g}/s"
    return text


def written_text(written: Written) -> tuple[list[str], str]:
    """A directory export's line per file, and what the summary says was written."""
    lines = [f"{f.messages:,} messages → {f.path.name} ({f.size:,} bytes, sha256 {f.sha256})"
             for f in written.files]
    if written.files:
        return lines, (f"{len(written.files)} files, {written.size:,} bytes; SHA256SUMS sha256 "
                       f"{written.sha256}")
    return lines, f"{written.size:,} bytes, sha256 {written.sha256}"

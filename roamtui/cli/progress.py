"""The progress bar of `roamtui export` on a terminal, one line that overwrites itself; and the
parts of the summary line that say what was used (the budget) and what was written.

``a ⇄ b [█████░░░░░] 42% · 1,234 msgs · 56 calls · 2.9/7.0 d · ETA 12s``: the share
of the window known to be fetched whole, the messages and calls so far, the window covered and
the time left at the pace so far; parts are dropped from the end to fit the terminal's width.
A storm of retries (calls tried again with no more than ``STORM_GAP`` seconds between them) is
one line of its own, kept above the bar with the first reason, and the export's count of
retries rides on the bar while it lasts: a slow or failing service is never silence, nor a
scroll of repeats. The line is redrawn every :data:`TICK` seconds even when no reply comes
(:meth:`ProgressLine.ticking`), so the time waited moves while a call hangs; after
:data:`STALL` seconds with nothing new the ETA gives way to ``waiting 8s`` (an ETA from the
pace so far would stand still, or read 0s, while a reply is late). Every line is cut to the
terminal's width in cells: one that wrapped could not be overwritten. Off a terminal nothing is
drawn: stderr then holds only the one summary or error line.
"""

from __future__ import annotations

import asyncio
import math
import os
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
#: Retries closer together than this belong to one storm (one line).
STORM_GAP = 5.0
#: Cells of the bar itself (half on a terminal narrower than WIDE), and the width assumed
#: when the terminal does not say.
BAR_CELLS = 20
WIDE = 100
FALLBACK_WIDTH = 80
#: Seconds of fetching before an ETA is shown (the first pages say little about the pace).
ETA_AFTER = 1.0
#: Seconds between redraws when nothing arrives (the wait and the ETA keep moving).
TICK = 1.0
#: Seconds without a new page after which the line says how long it has waited, not an ETA.
STALL = 3.0


def terminal_width(err: TextIO) -> int:
    """Columns of the terminal behind ``err`` (FALLBACK_WIDTH when it does not say)."""
    try:
        return os.get_terminal_size(err.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return FALLBACK_WIDTH


def bar(fraction: float, cells: int = BAR_CELLS) -> str:
    """``[█████░░░░░]``; full only when the fraction is 1 (floor, never rounded up)."""
    done = min(cells, math.floor(max(0.0, fraction) * cells))
    return "[" + "█" * done + "░" * (cells - done) + "]"


def _span(seconds: float) -> str:
    """``45s``, ``3m05s``, ``2h10m``: a duration for the ETA."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def fit(line: str, room: int) -> str:
    """``line`` cut to ``room`` terminal cells (an ellipsis at the cut), measured as the TUI
    measures them (rich, imported here: not by `roamtui export` before it draws)."""
    if len(line) <= room // 2:
        return line
    from rich.cells import cell_len, set_cell_size

    return line if cell_len(line) <= room else set_cell_size(line, max(0, room - 1)) + "…"


def _covered(p: FetchProgress) -> str:
    """The window covered: in days for a window over two days, else in hours."""
    unit, name = (86_400, "d") if p.total_seconds > 2 * 86_400 else (3600, "h")
    return f"{p.covered_seconds / unit:.1f}/{p.total_seconds / unit:.1f} {name}"


class ProgressLine:
    """One self-overwriting line on a terminal, redrawn at most every ``_REDRAW`` seconds."""

    def __init__(
        self,
        err: TextIO,
        label: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        width: Callable[[], int] | None = None,
    ) -> None:
        self._err = err
        self._label = label
        self._clock = clock
        self._width = width if width is not None else (lambda: terminal_width(err))
        self._started = clock()
        self._last = -math.inf
        self._shown = False
        self._progress: FetchProgress | None = None
        self._storm_retries = 0  # retries of the storm going on (0: none)
        self._retries = 0  # of the whole export: the count shown only grows
        self._last_retry = -math.inf
        self._moved_at = self._started  # when the last page came in

    def __call__(self, p: FetchProgress) -> None:
        now = self._clock()
        before = self._progress
        if before is None or (before.calls, before.messages) != (p.calls, p.messages):
            self._moved_at = now
        self._progress = p
        if now - self._last < _REDRAW and p.covered_seconds < p.total_seconds:
            return
        self._draw(now)

    def text(self, now: float) -> str:
        """The bar as it reads at ``now``, fitted to the terminal's width."""
        p = self._progress
        elapsed = now - self._started
        retries = self._retries_text(now)
        width = self._width()
        room = max(10, width - 1)  # the last column would wrap on some terminals
        if p is None:  # the shorter forms keep the seconds waited on a narrow terminal
            tail = f" · {retries}" if retries else ""
            for line in (f"{self._label}: waiting for the first reply… {_span(elapsed)}{tail}",
                         f"{self._label}: waiting {_span(elapsed)}{tail}"):
                if fit(line, room) == line:
                    return line
            return fit(f"waiting {_span(elapsed)}{tail} · {self._label}", room)
        cells = BAR_CELLS if width >= WIDE else BAR_CELLS // 2
        parts = [
            f"{self._label} {bar(p.fraction, cells)} {math.floor(p.fraction * 100)}%",
            f"{p.messages:,} msgs",
            f"{p.calls:,} calls",
            _covered(p),
        ]
        if 0 < p.fraction < 1 and now - self._moved_at >= STALL:
            parts.append(f"waiting {_span(now - self._moved_at)}")
        elif 0 < p.fraction < 1 and elapsed >= ETA_AFTER:
            parts.append(f"ETA {_span(elapsed * (1 - p.fraction) / p.fraction)}")
        if retries:
            parts.append(retries)
        while len(parts) > 1 and fit(line := " · ".join(parts), room) != line:
            storm = parts[-1].endswith(("retry", "retries"))
            parts.pop(-2 if storm and len(parts) > 2 else -1)
        return fit(" · ".join(parts), room)

    def _retries_text(self, now: float) -> str:
        """``24 retries`` (the export's count) while a storm lasts, else ""."""
        if not self._storm_retries or now - self._last_retry > STORM_GAP:
            return ""
        return f"{self._retries} {'retry' if self._retries == 1 else 'retries'}"

    def _draw(self, now: float) -> None:
        self._last = now
        self._err.write(f"\r{self.text(now)}\x1b[K")
        self._err.flush()
        self._shown = True

    def retrying(self, event: ClientEvent) -> None:
        """A call is tried again. The first retry of a storm is a line of its own (the reason);
        the rest of the storm only counts up on the bar."""
        if event.kind != "retry":
            return
        now = self._clock()
        if now - self._last_retry > STORM_GAP:
            self._storm_retries = 0
            self._err.write(f"\r\x1b[K{self._label}: retrying: {event.detail}\n")
        self._storm_retries += 1
        self._retries += 1
        self._last_retry = now
        self._draw(now)

    def tick(self) -> None:
        """Redraw now (the time waited, the ETA), whatever has arrived."""
        self._draw(self._clock())

    async def ticking(self) -> None:
        """Redraw every :data:`TICK` seconds until cancelled (run beside the fetch)."""
        self.tick()
        while True:
            await asyncio.sleep(TICK)
            self.tick()

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

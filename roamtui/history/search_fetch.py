"""The fetch of the rest of a timeline's window that a search asks for, as a state machine.

Textual-free. ``idle`` → ``running`` (:meth:`WindowFetch.begin`) → ``done`` | ``failed`` (one
line in :attr:`WindowFetch.error`) | ``stopped`` (:meth:`WindowFetch.stop`, or the run
cancelled); ``stopped`` / ``failed`` → ``idle`` again with :meth:`WindowFetch.rearm`. Only
these methods change the state. One object per timeline: a run of a timeline the search left
ends in the object left behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Literal

from roamtui.history.timeline import LoadProgress, Timeline
from roamtui.im.errors import RoamError
from roamtui.text import error_line

FetchState = Literal["idle", "running", "stopped", "failed", "done"]
StatusKind = Literal["progress", "error", "info"]
#: What the status line says in the filter view when nothing else is to be said.
FILTER_HELP = "filter: matches with context — Enter or & shows the selected one, Esc goes back"
#: The notice of a step that found nothing while the rest of the window is still coming.
NO_MATCHES_YET = "no matches yet"


class WindowFetch:
    """Loads the rest of ``timeline``'s window (``Timeline.load_all``) when asked."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.state: FetchState = "idle"
        self.error = ""
        self.progress: LoadProgress | None = None
        self._runs = 0  # which run is the current one (a stopped one ends unheard)

    def begin(self) -> bool:
        """``idle``/``done`` → ``running`` when there is something left to fetch."""
        if self.timeline.complete or self.state not in ("idle", "done"):
            return False
        self.state, self.progress, self.error = "running", None, ""
        self._runs += 1
        return True

    def stop(self) -> bool:
        """``running`` → ``stopped`` (the owner cancels the run); False when none was running."""
        if self.state != "running":
            return False
        self.state = "stopped"
        self._runs += 1
        return True

    def rearm(self) -> None:
        """``stopped``/``failed`` → ``idle``: the next :meth:`begin` tries again."""
        if self.state in ("stopped", "failed"):
            self.state = "idle"

    async def run(self, progress: Callable[[LoadProgress], None]) -> None:
        """Load the rest of the window (beginning first if need be); :attr:`state` says how it
        ended. Never raises but for cancellation (``stopped``)."""
        if self.state != "running" and not self.begin():
            return
        mine = self._runs

        def seen(p: LoadProgress) -> None:
            if mine == self._runs:
                self.progress = p
                progress(p)

        state: FetchState = "done"
        error = ""
        try:
            await self.timeline.load_all(seen)
        except asyncio.CancelledError:
            state = "stopped"
            raise
        except RoamError as exc:  # str() is one redacted line with the code and advice
            state, error = "failed", error_line(exc)
        except Exception as exc:  # a bug must not take the app down: logged, told in one line
            # Only the type: the text of an unexpected error could hold a signed URL.
            logging.getLogger(__name__).error("fetching the window failed: %s", type(exc).__name__)
            state, error = "failed", f"internal error ({type(exc).__name__})"
        finally:
            if mine == self._runs and self.state == "running":  # not stopped meanwhile
                self.state, self.error = state, error

    def status(self, searching: bool) -> tuple[str, StatusKind] | None:
        """What the find bar says about the rest of the window (how it went, once
        ``searching``), and in which style."""
        progress = self.progress
        if self.state == "running":
            text = "fetching the rest of the window"
            if progress is not None:
                text += (f": {progress.calls:,} calls · {progress.messages:,} messages · "
                         f"{progress.fraction:.0%}")
            return f"{text} — Esc or click here to stop", "progress"
        if not searching:
            return None
        if self.state == "failed":
            return (f"could not fetch the rest of the window: {self.error} "
                    "— matches in the loaded part only; / tries again", "error")
        if self.state == "stopped":
            share = f", {progress.fraction:.0%} of the window" if progress is not None else ""
            return (f"stopped: only loaded messages are searched{share} "
                    "— / fetches the rest", "info")
        return None

    def line(self, searching: bool, notice: str, filtering: bool, matched: bool = False
             ) -> tuple[str | None, StatusKind]:
        """The find bar's second line but for an error (a failed fetch has its own form): the
        fetch (with ``notice`` before its progress) > the filter view's help > ``notice``.
        A step's "no matches yet" holds only while nothing matched and the fetch runs."""
        if notice == NO_MATCHES_YET and (matched or self.state != "running"):
            notice = "" if matched else "no matches"
        fetch = self.status(searching)
        if fetch is not None:
            text, kind = fetch
            return (f"{notice}: {text}" if notice and kind == "progress" else text), kind
        return (FILTER_HELP if filtering else notice or None), "info"

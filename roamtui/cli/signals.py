"""How ``roamtui export`` ends on SIGINT, SIGTERM or SIGHUP: cleanly, with 128+signal.

:class:`SignalGuard` turns the first of them into a cancelled fetch (the workers stop at their
next await, the client is closed) or an :class:`Interrupted` raised in the main thread (a file
being written loses its temp file; a FIFO is closed without waiting for its reader), holds it
while an atomic write is being committed, and ignores later ones so a second signal cannot cut
the cleanup short. Without the handlers, SIGTERM and SIGHUP kill the process where it stands
and the temp file's cleanup never runs. Used by :mod:`roamtui.cli.export` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from types import FrameType, TracebackType
from typing import Any


class Interrupted(SystemExit):
    """The first SIGINT/SIGTERM/SIGHUP, raised in the main thread; its code is 128+signum.

    A SystemExit, so that no ``except Exception`` on the way swallows it, every ``finally`` and
    ``except BaseException`` cleanup runs (the temp file's among them), and asyncio re-raises it
    from a task at once.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


#: Signals that end an export cleanly (SIGHUP: the terminal went away).
_SIGNALS: tuple[int, ...] = tuple(
    sig for sig in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if sig
)


class SignalGuard:
    """Turns the first SIGINT/SIGTERM/SIGHUP into a clean end of the export, then ignores more.

    - While the fetch runs, the signal cancels its task (as asyncio.run does for Ctrl+C), so the
      workers stop at their next await and the HTTP client is closed.
    - Otherwise it raises :class:`Interrupted` in the main thread: a file being written loses its
      temp file, a FIFO being streamed into is closed without waiting for its reader.
    - While an atomic write is being committed (all text written, the rename to come), it is only
      noted, so that a whole export is never reported as "nothing written"; it is acted on once
      the rename is done.
    - Later signals are ignored so that a second one cannot cut the cleanup short.

    Handlers can only be installed from the main thread; elsewhere the guard does nothing.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.deferring = False
        self._task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: dict[int, Any] = {}

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else "a signal"

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in _SIGNALS:
                # Not allowed for this signal here: leave it alone.
                with contextlib.suppress(ValueError, OSError):
                    self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def watch(self, task: asyncio.Task[Any] | None) -> None:
        """The fetch task to cancel on a signal (None: raise instead)."""
        self._task = task
        self._loop = asyncio.get_running_loop() if task is not None else None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            return  # the first signal is being acted on
        self.signum = signum
        if self.deferring:
            return
        task, loop = self._task, self._loop
        if task is not None and loop is not None and not task.done():
            task.cancel()
            loop.call_soon_threadsafe(lambda: None)  # wake the selector to run the cancel
            return
        raise Interrupted(signum)

    def commit(self) -> None:
        """The atomic write's text is complete: hold signals until its rename is done."""
        self.deferring = True

    def committed(self) -> None:
        self.deferring = False

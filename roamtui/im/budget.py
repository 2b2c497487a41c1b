"""Budgets shared between processes: one generic cell rate algorithm (GCRA) per SDKAppID.

The service's 200 calls/s are the whole app's, so every roamtui process of an app has to draw
from one budget, not one each. A budget hands out *slots*: a reservation of ``interval``
seconds returns how long to wait until the caller's slot, and moves the budget's theoretical
arrival time (TAT) on by ``interval``. That is GCRA without burst tolerance: slots are spaced
evenly, FIFO, and a budget nobody used for a while starts again at "now" (no burst after
idling), so the server never sees more than one slot's worth of calls per ``interval``. Each
process reserves with its own interval (``(1 + GUARD) / its rate``): processes at different
``--max-rps`` share fairly, the slower one's reservations simply weigh more.

:class:`FileBudget` is the local one: the TAT lives in a 16-byte file in the user's runtime
dir (or state dir; the path comes from the caller, ``im`` knows nothing of platformdirs),
read and written under ``fcntl.flock``. Measured on this machine (``/tmp/quota20`` bench, 20,000
reservations, one process): flock + pread + pwrite 5.7 µs a reservation, SQLite in WAL mode
(``BEGIN IMMEDIATE``, select, update, commit, ``synchronous=NORMAL``) 32 µs. The file wins on
speed and on robustness:

* a crashed process never holds the budget: a flock belongs to the open file and dies with the
  process, and the GCRA state has no owner to clean up (a TAT in the past means "free");
* nothing to recover: the state is one fixed-size record written by a single ``pwrite`` under
  the lock; a torn, foreign or stale record (another boot's clock, more than
  :data:`MAX_AHEAD` s ahead) reads as "free";
* no journal, no WAL file, no schema, no busy-timeout tuning; SQLite's own locking also uses
  fcntl record locks underneath, with more ways to be left busy.

The lock is only ever tried without blocking (``LOCK_NB``) and retried from the event loop, so
a roamtui stopped with Ctrl+Z while holding it for its few microseconds cannot freeze the
others: after :data:`LOCK_WAIT` s they give up on the file with :class:`BudgetUnavailable`, and
the limiter goes on with its own in-process budget (one notice).

The clock is ``time.monotonic`` (system-wide on Linux and macOS, never stepped by NTP); the
record carries the boot id so a file that outlived a reboot reads as free.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

#: A TAT further ahead than this is from another clock (a reboot), not a queue: it reads as free.
MAX_AHEAD = 600.0
#: How long a busy lock is retried before the file budget is given up for this process.
LOCK_WAIT = 1.0
_LOCK_POLL = 0.001
_RECORD = struct.Struct("<8sd")  # boot tag, TAT (monotonic seconds)


class BudgetUnavailable(Exception):
    """The shared budget cannot be used now; ``str()`` is one line saying why."""


class Budget(Protocol):
    """A source of evenly spaced call slots shared with other processes."""

    #: How the status bar and the export summary name it: "local shared", "redis HOST:PORT/DB".
    label: str

    async def reserve(self, interval: float, not_before: float = 0.0) -> float:
        """Reserve one slot ``interval`` s wide, starting ``not_before`` s from now at the
        earliest; the seconds to wait until it (0: now).

        Raises :class:`BudgetUnavailable` when the budget cannot be reached."""
        ...

    async def aclose(self) -> None:
        """Let go of what the current event loop holds (connections); safe to call again."""
        ...


def _boot_tag() -> bytes:
    try:
        with open("/proc/sys/kernel/random/boot_id", "rb") as fh:
            return fh.read(8).ljust(8, b"-")
    except OSError:
        return b"no-boot!"  # no boot id (macOS): MAX_AHEAD alone catches a stale record


def gcra_step(
    tat: float, now: float, interval: float, not_before: float = 0.0
) -> tuple[float, float]:
    """One reservation: (seconds to wait, the new TAT). A TAT in the past or impossibly far
    ahead means the budget is free now; ``not_before`` pushes the slot that far from now."""
    if tat < now or tat > now + MAX_AHEAD:
        tat = now
    tat = max(tat, now + not_before)
    return tat - now, tat + interval


class FileBudget:
    """The local shared budget: GCRA over a small file, under ``fcntl.flock``."""

    label = "local shared"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.monotonic,
        lock_wait: float | None = None,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock_wait = LOCK_WAIT if lock_wait is None else lock_wait
        self._thread_lock = threading.Lock()  # flock is per open file: threads share ours
        self._boot = _boot_tag()
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
            flags |= getattr(os, "O_NOFOLLOW", 0)
            self._fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise BudgetUnavailable(
                f"cannot open the local budget {self.path}: {exc.strerror or exc}"
            ) from None
        # A filesystem without flock (some network mounts) says so now, not mid-fetch.
        # (a lock busy right now is fine: another process is using it).
        self._try(0.0)

    def __repr__(self) -> str:
        return f"FileBudget({str(self.path)!r})"

    def _try(self, interval: float, not_before: float = 0.0) -> float | None:
        """The wait for one slot, or None while another process holds the lock."""
        with self._thread_lock:
            if self._fd < 0:
                raise BudgetUnavailable(f"the local budget {self.path} was closed")
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            except OSError as exc:
                raise BudgetUnavailable(
                    f"cannot lock the local budget {self.path}: "
                    f"{exc.strerror or errno.errorcode.get(exc.errno or 0, exc)}"
                ) from None
            try:
                raw = os.pread(self._fd, _RECORD.size, 0)
                tat = -1.0
                if len(raw) == _RECORD.size:
                    boot, stored = _RECORD.unpack(raw)
                    if boot == self._boot and stored == stored:  # NaN reads as free
                        tat = stored
                now = self._clock()
                wait, tat = gcra_step(tat, now, interval, not_before)
                if interval:
                    os.pwrite(self._fd, _RECORD.pack(self._boot, tat), 0)
                return wait
            except OSError as exc:
                raise BudgetUnavailable(
                    f"cannot use the local budget {self.path}: {exc.strerror or exc}"
                ) from None
            finally:
                with contextlib.suppress(OSError):
                    fcntl.flock(self._fd, fcntl.LOCK_UN)

    async def reserve(self, interval: float, not_before: float = 0.0) -> float:
        deadline: float | None = None
        while (wait := self._try(interval, not_before)) is None:
            now = self._clock()
            if deadline is None:
                deadline = now + self._lock_wait
            elif now > deadline:
                raise BudgetUnavailable(
                    f"the local budget {self.path} stayed locked for {self._lock_wait:g}s "
                    "(a stopped roamtui process?)"
                )
            await asyncio.sleep(_LOCK_POLL)
        return wait

    async def aclose(self) -> None:
        """Nothing per event loop; the file stays open for the process (see :meth:`close`)."""

    def close(self) -> None:
        with self._thread_lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

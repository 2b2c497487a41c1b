"""The transcript's loading: the opening, jumps and their landings, gap filling, retries.

Each timeline operation is a :class:`Job` run in a Textual worker of the transcript widget
(``run_worker(..., group=job.group, exclusive=True)``): a newer job of a group cancels the
older one. A worker's result is how its job failed (a RoamError; an unexpected exception
becomes an "internal error" line) or None. The widget hands every ``Worker.StateChanged`` to
:meth:`Loader.settled`, which learns the outcome: a job of a swapped-out timeline is ignored,
a cancelled one does not land, a failure is posted as ``LoadFailed``; the failed gap keeps its
error (the timeline sees to that) and waits for ``r``.

Where a jump lands is :func:`roamtui.history.navigation.seek`; ``d``/``D`` step calendar days
in the transcript's zone and ``o``/``O`` hours (:func:`~roamtui.history.navigation.stepped`)
from the time the last step named (:meth:`Loader.step` says when), landing on the first
message at or after the new time (back: the last at or before it); a landing far from the
time it named says so (:func:`~roamtui.history.navigation.quiet_notice`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Literal

from textual.worker import Worker, WorkerState

from roamtui.history.navigation import StepUnit, quiet_notice, reach, seek, stepped
from roamtui.history.rows import Gap, GapRow
from roamtui.history.sides import TwoSidedTimeline
from roamtui.im.errors import RoamError
from roamtui.im.model import Message
from roamtui.ui.transcript.index import GAP, MESSAGES
from roamtui.ui.transcript.layout import TranscriptLayout

if TYPE_CHECKING:
    from roamtui.history.timeline import Timeline
    from roamtui.ui.transcript.widget import Transcript

Edge = Literal["top", "bottom"]
Work = Callable[[], Coroutine[None, None, object]]
#: loaded, recalled, complete, calls, in flight, gaps, one-sided (-1: one side is read)
Stats = tuple[int, int, int, int, int, int, int]
SETTLED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)


@dataclass(frozen=True, slots=True)
class Landing:
    """Where a jump puts the cursor once its rows are in."""

    time: int
    earlier: bool = False  # the last message at or before ``time``, not the first at or after
    origin: Message | None = None  # where a step started: landing there again means an edge
    moves: int = 0  # the view's count of user moves when asked: a newer move cancels the landing
    announce: bool = False  # say "nothing between …" when the landing is far from ``time``
    step: bool = False  # a d/D/o/O step: the next step starts from ``time``, not the message


@dataclass(frozen=True, slots=True)
class Job:
    """One timeline operation: what it does (``"open"``, ``"jump"``, ``("gap", min_time)``),
    its worker group, its timeline and, for a jump, where it lands."""

    what: Hashable
    group: str
    timeline: Timeline
    land: Landing | None = None


def failed_rows(layout: TranscriptLayout) -> list[int]:
    """The gap rows whose last load failed (what ``r`` retries)."""
    timeline = layout.timeline
    return [row for row in layout.index.rows_of(GAP)
            if isinstance(item := timeline.row(row), GapRow) and item.gap.state == "error"]


def stats(layout: TranscriptLayout) -> Stats:
    """What the status bar shows of the timeline, as one comparable tuple."""
    timeline = layout.timeline
    in_flight = int(getattr(timeline.client, "calls_in_flight", 0))
    one_sided = timeline.one_sided_count if isinstance(timeline, TwoSidedTimeline) else -1
    return (timeline.loaded_count, timeline.recalled_count, int(timeline.complete),
            timeline.calls, in_flight, layout.index.count(GAP), one_sided)


def as_roam_error(error: BaseException) -> RoamError:
    """A failure as the core's one-line error: an unexpected exception names only its type."""
    if isinstance(error, RoamError):
        return error
    return RoamError(f"internal error while loading ({type(error).__name__})")


class Loader:
    """Runs the transcript's timeline operations as workers; see the module docstring."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self.jobs: dict[Worker[RoamError | None], Job] = {}  # workers running timeline jobs
        self.pending: Landing | None = None  # where a jump in flight will land
        self.land_end = True  # the opening: land at the newest end as rows come in
        self._last_stats: Stats | None = None
        self._can_retry = False  # what the footer shows for ``r``; rebuilt only when it flips
        #: The time the last step named and the MsgKey it landed on: while the cursor stays
        #: there, the next step counts from that time (steps never drift to where they landed).
        self.last_step: tuple[int, str] | None = None

    @property
    def layout(self) -> TranscriptLayout:
        return self.transcript.row_layout

    def reset(self) -> None:
        """Another timeline: forget the jobs (the widget cancelled their workers)."""
        self.jobs.clear()
        self.pending = None
        self.last_step = None
        self.land_end = True
        self._last_stats = None  # the counts of the old timeline must not stay on show

    def busy(self, what: Hashable) -> bool:
        """Whether a job doing ``what`` runs and was not replaced."""
        return any(job.what == what and not worker.is_cancelled
                   for worker, job in self.jobs.items())

    def _run(self, job: Job, work: Work) -> None:
        """Run ``work`` in an exclusive worker of the job's group. The worker's result is how
        it failed (a RoamError) or None: it never ends in error, so waiting for workers (as
        tests do) never raises, and :meth:`settled` reads the failure from the result."""
        view = self.transcript

        async def run() -> RoamError | None:
            try:
                await work()
            except RoamError as exc:
                return exc
            except Exception as exc:  # a bug must not take the app down: one line, logged
                view.log.error(f"transcript {job.group}: {exc!r}")
                return as_roam_error(exc)
            return None

        # A worker cancelled before it began never reports: forget those now.
        for stale in [w for w in self.jobs if w.is_cancelled and w not in view.app.workers]:
            del self.jobs[stale]
        worker: Worker[RoamError | None] = view.run_worker(
            run, name=f"transcript {job.group}", group=job.group, exclusive=True,
            exit_on_error=False)
        self.jobs[worker] = job
        self.post_stats()

    # -- starting jobs ------------------------------------------------------------------------

    def open(self) -> None:
        """The newest page (no call when the newest end is loaded already)."""
        timeline = self.layout.timeline
        self._run(Job("open", "history-open", timeline), timeline.open)

    def jump(self, landing: Landing) -> None:
        """Fetch around the landing's time, then load until no gap hides where it lands."""
        self.land_end = False
        self.pending = landing
        timeline = self.layout.timeline

        async def work() -> None:
            await timeline.jump(landing.time)
            await reach(timeline, landing.time, landing.earlier)

        self._run(Job("jump", "history-jump", timeline, landing), work)

    def step(self, count: int, unit: StepUnit) -> None:
        """``count`` calendar days (in the transcript's zone) or whole hours on: to the first
        message at or after the new time (back: the last at or before it), saying so when that
        is far from it. The step counts from the time the last step named while the cursor
        stays where that step landed and the new time gets past it (no drift towards
        landings; no standing still after a long silence), else from the cursor's message.
        Quick presses add up (from the jump in flight)."""
        view = self.transcript
        back = count < 0
        pending = self.pending
        if pending is None and view.cursor.at_edge(-1 if back else 1):
            view.say("start of window" if back else "end of window")
            return
        base: int | None
        origin = view.cursor_message
        tz = view.tz
        if pending is not None:
            base, origin = pending.time, pending.origin
        elif origin is not None:
            base = origin.time
            named = self.last_step
            if named is not None and named[1] == origin.key:
                ahead = stepped(named[0], count, unit, tz)
                if (ahead < origin.time) if back else (ahead > origin.time):
                    base = named[0]
        else:
            base = view.viewport.time_at_top()
        query = self.layout.timeline.query
        if base is None:
            base = query.max_time
        target = min(max(stepped(base, count, unit, tz), query.min_time), query.max_time)
        view.moves += 1
        self.jump(Landing(target, back, origin, view.moves, announce=True, step=True))

    def fill_near(self) -> None:
        """Fill every idle gap within a page of the viewport, above or below it."""
        view = self.transcript
        if self.busy("open") or not self.layout.width:
            return  # the newest page comes first; the gap on screen is the one it fills
        index = self.layout.index
        for row in view.visible_rows(margin=view.viewport_height):
            if index.kind(row) == GAP:
                self.fill(row, retry=False)

    def fill(self, row: int, *, retry: bool) -> None:
        """Load into the gap on ``row`` (a failed one only when ``retry``)."""
        timeline = self.layout.timeline
        item = timeline.row(row)
        if not isinstance(item, GapRow):
            return
        gap: Gap = item.gap
        if gap.state == "loading" or (gap.state == "error" and not retry):
            return
        if self.busy(("gap", gap.min_time)):
            return
        index = self.layout.index
        edge: Edge
        if index.find(MESSAGES, row - 1, -1) is None:  # before every message: older history
            group, edge = "history-older", "bottom"
        elif index.find(MESSAGES, row + 1, 1) is None:  # after every message: newer history
            group, edge = "history-newer", "top"
        else:
            # Fill from the side the user comes from: a gap above the middle of the screen
            # is reached scrolling up, so it grows from its newer (bottom) side.
            view = self.transcript
            middle = view.top_line + view.viewport_height // 2
            edge = "bottom" if index.start(row) < middle else "top"
            group = f"history-gap-{gap.min_time}"
        self._run(Job(("gap", gap.min_time), group, timeline), partial(timeline.fill, gap, edge))

    def retry(self) -> None:
        """Load again the failed stretch nearest to the middle of the screen; when nothing
        could be loaded at all (the first page failed), open again, landing at the newest end."""
        rows = failed_rows(self.layout)
        if rows and not self.layout.timeline.loaded_count:
            if not self.busy("open"):
                self.land_end = True
                self.open()
        elif rows:
            view = self.transcript
            middle = view.top_line + view.viewport_height // 2
            index = self.layout.index
            self.fill(min(rows, key=lambda r: abs(index.start(r) - middle)), retry=True)

    # -- outcomes -----------------------------------------------------------------------------

    def settled(self, event: Worker.StateChanged) -> None:
        """A worker changed state; when a job of ours ended, act on how it ended."""
        if event.state not in SETTLED:
            return
        worker = event.worker
        job = self.jobs.pop(worker, None)
        view = self.transcript
        if job is None or job.timeline is not self.layout.timeline:
            return  # not ours, or a job of a swapped-out timeline
        error = worker.result if event.state == WorkerState.SUCCESS else None
        if error is not None:
            view.post_message(view.LoadFailed(error))
        self.finish_opening()
        # A replaced job is cancelled, even one that had ended before it was replaced.
        if job.land is not None and event.state == WorkerState.SUCCESS \
                and not worker.is_cancelled:
            self.pending = None
            if job.land.moves == view.moves:  # else the user went elsewhere meanwhile
                self.land(job.land)
        self.after_change()

    def after_change(self) -> None:
        """After rows changed or a job ended: fill what came near, report, update the footer."""
        self.fill_near()
        self.post_stats()
        self.sync_retry()

    def sync_retry(self) -> None:
        """Refresh the bindings when ``r`` comes or goes (a refresh rebuilds the whole footer)."""
        can_retry = bool(failed_rows(self.layout))
        if can_retry != self._can_retry:
            self._can_retry = can_retry
            self.transcript.refresh_bindings()

    def post_stats(self) -> None:
        """Post ``StatsChanged`` if the counts differ from the last ones posted."""
        now = stats(self.layout)
        if now != self._last_stats:
            self._last_stats = now
            loaded, recalled, complete, calls, in_flight, gaps, one_sided = now
            view = self.transcript
            view.post_message(view.StatsChanged(loaded, recalled, bool(complete), calls,
                                                in_flight, gaps,
                                                None if one_sided < 0 else one_sided))

    def finish_opening(self) -> None:
        """Land at the newest end once the first page is in and the width is known."""
        if self.land_end and not self.busy("open") and self.layout.width:
            self.land_end = False
            self.transcript.cursor.to_end()

    def land(self, landing: Landing) -> None:
        """The cursor on the message ``landing`` asks for, centred; a gap in the way (a failed
        or unfinished load) is centred instead, to show its state; an edge is said."""
        view = self.transcript
        if not len(self.layout.index):
            return
        row, _ = seek(self.layout.timeline, landing.time, landing.earlier)
        if row is not None and self.layout.index.kind(row) == GAP:
            view.viewport.center(row)
            view.cursor.keep_in_view()
            return
        if row is not None:
            view.cursor.select(row, center=True)
        landed = view.cursor_message
        if (landing.step or landing.announce) and landed is not None:  # :goto names a time too
            self.last_step = (landing.time, landed.key)
        origin = landing.origin
        edge = origin is not None and landed in (None, origin) and (
            landing.time < origin.time if landing.earlier else landing.time > origin.time)
        if edge:
            view.say("start of window" if landing.earlier else "end of window")
        elif landing.announce:
            query = self.layout.timeline.query
            notice = quiet_notice(landing.time, None if landed is None else landed.time, view.tz,
                                  earlier=landing.earlier, window=(query.min_time, query.max_time))
            if notice is not None:
                view.say(notice)

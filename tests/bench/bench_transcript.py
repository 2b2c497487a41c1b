"""Transcript scale (PRODUCT.md §6): frame time and memory with 1,000 vs 100,000 messages loaded.

    python -m tests.bench.bench_transcript [--small N] [--large N]   (or through tests/bench/run.py)

One generated customer ⇄ agent conversation is loaded whole into a Timeline (through the
sandbox service called in-process, so no HTTP or rate limit slows the set-up), then shown by
a Transcript 120×40 in a headless app. Frame time is the time of ``render_lines`` for the full
screen right after the view moved to a part not drawn before (caches dropped, so every strip
is built), once after a jump to a random line and once after a PgUp; the figure is the median
of many frames, taken turn about on the two transcripts. Memory is traced (tracemalloc) and
counted per message as the difference between the two sizes, so fixed costs (the app, the
bounded caches) cancel out.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from textual.app import App
from textual.geometry import Region

from roamtui.history.timeline import Timeline
from roamtui.im.model import _elements_of
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import ROAM_PATH, Dataset, SandboxService
from roamtui.ui.transcript import Transcript
from tests.bench.table import Goal, format_table, normalise

FRAME_RATIO_TARGET = 1.3
BYTES_TARGET = 600  # issue 18: memory per loaded message
END_TIME = 1_700_000_000
FRAMES = 150


class DirectCaller:
    """Calls the sandbox service in-process: set-up speed only, the protocol is unchanged."""

    def __init__(self, service: SandboxService) -> None:
        self.service = service
        self.query = service.make_query()

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = self.service.handle("POST", ROAM_PATH, self.query, json.dumps(body).encode())
        doc: dict[str, Any] = reply.json()
        return doc


def make_timeline(n: int) -> Timeline:
    dataset = Dataset(seed=1, messages=n, end_time=END_TIME, days=max(2, n // 2_000), pairs=1)
    customer, agent = dataset.conversations[0]
    lo, hi = dataset.span(customer, agent) or (END_TIME - 86400, END_TIME)
    service = SandboxService(dataset, rate_limit=None, page_cap_bytes=1 << 40)
    query = RoamQuery(agent, customer, lo, hi, page_size=n + 1)
    return Timeline(DirectCaller(service), query, UTC)


class Host(App[None]):
    """Both transcripts on one screen, so their frames can be timed turn about: the machine's
    noise then falls on both alike."""

    CSS = "Transcript { height: 40; }"


@dataclass
class Figures:
    messages: int
    lines: int = 0
    jump: list[float] = field(default_factory=list)
    pageup: list[float] = field(default_factory=list)
    jump_cold: list[float] = field(default_factory=list)  # parsed elements dropped as well
    pageup_cold: list[float] = field(default_factory=list)
    timeline_bytes: int = 0
    transcript_bytes: int = 0


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def frame(view: Transcript, crop: Region, line: int, jumps: list[float], pageups: list[float],
          *, model_cold: bool) -> None:
    """One frame after a jump to ``line`` and one after a PgUp from there, caches cold.

    ``model_cold`` also drops the model's bounded cache of parsed elements, which holds all
    of a 1,000-message window but only a few thousand of 100,000: without it the figure shows
    that cache as much as the transcript.
    """
    for jump in (True, False):
        view.drop_caches()  # the 1,000-message transcript would otherwise sit in them whole
        if model_cold:
            _elements_of.cache_clear()
        if jump:
            view.scroll_to_line(line)
        started = time.perf_counter()
        if not jump:
            view.action_page_up()
        view.render_lines(crop)
        (jumps if jump else pageups).append(time.perf_counter() - started)


async def compare(small: int, large: int) -> list[tuple[str, str, str, str] | Goal]:
    tracemalloc.start()
    runs = [Figures(small), Figures(large)]
    timelines = []
    for figures in runs:
        before = traced()
        timeline = make_timeline(figures.messages)
        await timeline.load_all()
        assert timeline.complete and timeline.loaded_count == figures.messages
        figures.timeline_bytes = traced() - before
        timelines.append(timeline)
    app = Host()
    async with app.run_test(size=(120, 80)) as pilot:
        views = []
        for figures, timeline in zip(runs, timelines, strict=True):
            before = traced()
            view = Transcript(timeline, UTC)
            await app.mount(view)
            await app.workers.wait_for_complete()
            await pilot.pause()
            # The app measures far rows a slice at a time; the steady state is what is timed.
            while view.row_layout.pending:
                view.row_layout.measure_pending(1.0)
            view.update_virtual_size()
            await pilot.pause()
            figures.transcript_bytes = traced() - before
            figures.lines = view.virtual_size.height
            views.append(view)
        tracemalloc.stop()
        crop = Region(0, 0, views[0].size.width, views[0].size.height)
        rng = random.Random(0)
        for _ in range(FRAMES):
            where = rng.random()
            for view, f in zip(views, runs, strict=True):
                frame(view, crop, int(where * f.lines), f.jump, f.pageup, model_cold=False)
                frame(view, crop, int(where * f.lines), f.jump_cold, f.pageup_cold,
                      model_cold=True)
        rewrap = narrower(views[1])
    return rows(runs[0], runs[1], rewrap)


def narrower(view: Transcript) -> tuple[float, float]:
    """Seconds to re-wrap for a width 20 columns less: until the screen is right, and until
    every row far away is measured too (done a slice at a time in the app)."""
    layout = view.row_layout
    started = time.perf_counter()
    layout.set_width(layout.width - 20)
    view.measure_visible()
    screen = time.perf_counter() - started
    while layout.pending:
        layout.measure_pending(1.0)
    return screen, time.perf_counter() - started


def rows(a: Figures, b: Figures, rewrap: tuple[float, float]
         ) -> list[tuple[str, str, str, str] | Goal]:
    extra = b.messages - a.messages
    timeline_per = (b.timeline_bytes - a.timeline_bytes) / extra
    transcript_per = (b.transcript_bytes - a.transcript_bytes) / extra
    total_per = timeline_per + transcript_per
    tag = f"{a.messages:,} vs {b.messages:,} msgs"
    out: list[tuple[str, str, str, str] | Goal] = []
    for what, small, large in (("a jump", a.jump, b.jump), ("PgUp", a.pageup, b.pageup),
                               ("a jump, elements unparsed", a.jump_cold, b.jump_cold),
                               ("PgUp, elements unparsed", a.pageup_cold, b.pageup_cold)):
        ms_a, ms_b = statistics.median(small) * 1e3, statistics.median(large) * 1e3
        ratio = ms_b / ms_a
        out.append(Goal(f"transcript frame after {what} ({tag})",
                        f"{ms_a:.2f} / {ms_b:.2f} ms = {ratio:.2f}×", ratio, FRAME_RATIO_TARGET,
                        "×"))
    out.append(Goal("memory per loaded message (timeline + transcript)",
                    f"{total_per:.0f} B/msg ({timeline_per:.0f} timeline + {transcript_per:.0f} "
                    f"view) at {b.messages:,}", total_per, BYTES_TARGET, "B"))
    out.append((f"transcript re-wrap for a new width ({b.messages:,} msgs, {b.lines:,} lines)",
                f"{rewrap[0] * 1e3:.0f} ms to the frame, {rewrap[1]:.1f} s for all rows",
                "-", "info"))
    return out


def run(small: int = 1_000, large: int = 100_000) -> list[tuple[str, str, str, str] | Goal]:
    """Rows for tests/bench/run.py."""
    return asyncio.run(compare(small, large))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    options = parser.parse_args()
    print(format_table(normalise(run(options.small, options.large))))

"""Make the README pictures from the demo: screenshots/*.svg, and *.png when rsvg-convert exists.

    python scripts/screenshots.py [--out screenshots] [--size 120x40]

The demo runs in-process (the sandbox through a mock transport) over a dataset that ends at a
fixed moment, shown in Asia/Shanghai, so the pictures are the same on every run. PNGs need
`rsvg-convert` (Debian: `apt-get install -y --no-install-recommends librsvg2-bin`) and, for the
Chinese half of the demo text, a CJK font (e.g. `fonts-wqy-microhei`).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from textual.pilot import Pilot  # noqa: E402
from textual.widgets import Input  # noqa: E402

from roamtui.history.timeparse import format_time  # noqa: E402
from roamtui.ui.app import RoamApp  # noqa: E402
from roamtui.ui.factory import demo_app  # noqa: E402
from roamtui.ui.screens.browse import BrowseScreen  # noqa: E402

#: 2020-03-20 10:00 in Shanghai: the demo dataset ends here and the app's clock stands still.
END = 1584669600
ZONE = ZoneInfo("Asia/Shanghai")
MESSAGES = 5000

Scene = Callable[[Pilot[Any]], Awaitable[None]]


async def _settle(pilot: Pilot[Any]) -> None:
    app = pilot.app
    for _ in range(30):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(worker.is_running for worker in app.workers):
            break
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


async def transcript(pilot: Pilot[Any]) -> None:
    """The transcript around the newest recalled message (placeholders nearby)."""
    await _settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BrowseScreen)
    timeline = screen.transcript.timeline
    query = timeline.query
    recalled = [m for m in timeline.messages() if m.recalled]
    if recalled:
        when = recalled[-1].time
        screen.goto(format_time(when, ZONE, "%Y-%m-%d %H:%M:%S"))
    await _settle(pilot)
    assert query.account


async def help_screen(pilot: Pilot[Any]) -> None:
    await _settle(pilot)
    await pilot.press("f1")
    await _settle(pilot)


async def query_screen(pilot: Pilot[Any]) -> None:
    await _settle(pilot)
    await pilot.press("escape")  # back to the form (q quits a transcript the demo opened)
    await _settle(pilot)
    screen = pilot.app.screen
    screen.query_one("#since", Input).value = "-2h"
    await _settle(pilot)


async def marks(pilot: Pilot[Any]) -> None:
    """Three marked messages, one with a note, the inspector closed again: gutter and count."""
    await _settle(pilot)
    await pilot.press("m", "k", "k", "m", "k", "k", "k", "m")
    screen = pilot.app.screen
    assert isinstance(screen, BrowseScreen)
    screen.marking.set_note("customer says a refund was promised on the phone")
    await pilot.press("j")
    await _settle(pilot)


async def marked_view(pilot: Pilot[Any]) -> None:
    """The same marks, then M: only the marked messages, each with a line of context."""
    await marks(pilot)
    await pilot.press("M")


async def peers_screen(pilot: Pilot[Any]) -> None:
    """The query screen's list of an agent's conversations, with the customers' nicknames."""
    await _settle(pilot)
    await pilot.press("escape")  # back to the form (q quits a transcript the demo opened)
    await _settle(pilot)
    pilot.app.screen.query_one("#account", Input).value = "agent_alice"
    await pilot.press("ctrl+l")
    await _settle(pilot)


async def both_sides(pilot: Pilot[Any]) -> None:
    """P: both parties' histories merged; < from the end: the newest one-sided message, its
    badge naming the only holder, the count in the status bar."""
    await _settle(pilot)
    await pilot.press("P")
    await _settle(pilot)
    await pilot.press("G")
    await _settle(pilot)
    await pilot.press("less_than_sign")
    await _settle(pilot)
    await pilot.press("less_than_sign")
    await _settle(pilot)


SCENES: dict[str, Scene] = {
    "transcript": transcript,
    "marks": marks,
    "marked-view": marked_view,
    "help": help_screen,
    "query": query_screen,
    "both-sides": both_sides,
    "peers": peers_screen,
}


def shoot(name: str, scene: Scene, size: tuple[int, int]) -> str:
    """Run the demo app headless, play `scene`, return the SVG of the screen."""
    result: dict[str, str] = {}

    async def main() -> None:
        with demo_app(
            messages=MESSAGES, in_process=True, end_time=END, clock=lambda: float(END), tz=ZONE
        ) as app:
            async with app.run_test(size=size) as pilot:
                await scene(pilot)
                assert isinstance(pilot.app, RoamApp)
                result["svg"] = pilot.app.export_screenshot(title=f"roamtui demo — {name}")

    asyncio.run(main())
    return result["svg"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "screenshots")
    parser.add_argument("--size", default="120x40", help="terminal size, WIDTHxHEIGHT")
    parser.add_argument("--only", choices=tuple(SCENES), help="make just this picture")
    args = parser.parse_args(argv)
    width, _, height = args.size.partition("x")
    size = (int(width), int(height))
    args.out.mkdir(parents=True, exist_ok=True)
    converter = shutil.which("rsvg-convert")
    for name, scene in SCENES.items():
        if args.only and name != args.only:
            continue
        svg_path = args.out / f"{name}.svg"
        svg_path.write_text(shoot(name, scene, size), encoding="utf-8")
        print(svg_path)
        if converter is not None:
            png_path = svg_path.with_suffix(".png")
            subprocess.run([converter, "-o", str(png_path), str(svg_path)], check=True)
            print(png_path)
    if converter is None:
        print("rsvg-convert not found: SVGs only (apt-get install librsvg2-bin)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

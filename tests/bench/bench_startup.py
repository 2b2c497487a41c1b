"""Start-up (PRODUCT.md §6): `roamtui demo` to its first transcript frame vs a bare Textual app.

Each sample is a fresh Python process (imports and all), timed from spawn to the moment the
first frame that matters has been composed:

- bare: a minimal Textual app (Header, Static, Footer), first refresh after mount;
- demo: `roamtui.factory.demo_app` with the sandbox as a real HTTP server on 127.0.0.1, as
  `roamtui demo` runs it, until the transcript shows the newest messages and has refreshed.

Both run headless through `App.run_test` (same compositor; the terminal write is skipped), in
alternation, and the medians are compared. Target: demo within 2× of bare.

    python tests/bench/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
TARGET_RATIO = 2.0
RUNS = 5
DEMO_MESSAGES = 5000

Row = tuple[str, str, str, str | bool]


async def _bare_frame() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("hello")
            yield Footer()

    app = Bare()
    async with app.run_test(size=(120, 40)):
        await _after_refresh(app)


async def _demo_frame() -> None:
    from roamtui.factory import demo_app
    from roamtui.ui.widgets.transcript import Transcript

    landed = asyncio.Event()

    def hook(message: Any) -> None:
        # The first CursorMoved with a time: the newest message is selected and on screen.
        if isinstance(message, Transcript.CursorMoved) and message.message is not None:
            landed.set()

    with demo_app(messages=DEMO_MESSAGES) as app:
        async with app.run_test(size=(120, 40), message_hook=hook):
            await landed.wait()
            await _after_refresh(app)


async def _after_refresh(app: Any) -> None:
    done = asyncio.Event()
    app.call_after_refresh(done.set)
    await done.wait()


def child(kind: str) -> None:
    """Run one start in this process and print the wall-clock time of the frame."""
    asyncio.run(_bare_frame() if kind == "bare" else _demo_frame())
    print(f"FRAME {time.time():.6f}", flush=True)


def sample(kind: str) -> float:
    """Seconds from spawning a process to its first frame of `kind`."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    started = time.time()
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", kind],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    frames = [line for line in done.stdout.splitlines() if line.startswith("FRAME ")]
    if done.returncode != 0 or not frames:
        raise RuntimeError(f"{kind} start failed: {done.stderr.strip().splitlines()[-1:]}")
    return float(frames[-1].split()[1]) - started


def run(runs: int = RUNS) -> list[Row]:
    bare: list[float] = []
    demo: list[float] = []
    sample("bare")  # warm the OS file cache so neither side pays for it alone
    for _ in range(runs):
        bare.append(sample("bare"))
        demo.append(sample("demo"))
    bare_ms = statistics.median(bare) * 1000
    demo_ms = statistics.median(demo) * 1000
    ratio = demo_ms / bare_ms
    return [
        ("start-up: bare Textual app, first frame", f"{bare_ms:.0f} ms (median of {runs})", "", ""),
        (
            f"start-up: roamtui demo ({DEMO_MESSAGES} msgs) to transcript",
            f"{demo_ms:.0f} ms (median of {runs})",
            "",
            "",
        ),
        ("start-up: demo / bare", f"{ratio:.2f}×", f"≤ {TARGET_RATIO:.0f}×", ratio <= TARGET_RATIO),
    ]


def _cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=("bare", "demo"), help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return
    for name, figure, target, verdict in run(args.runs):
        print(f"{name:<50} {figure:<26} {target:<6} {verdict}")


if __name__ == "__main__":
    _cli()

"""Start-up (PRODUCT.md §6): `roamtui demo` to its first transcript frame vs a bare Textual app.

Each sample is a fresh Python process, timed from its spawn to the first frame that matters,
and the two kinds run in alternation so that both see the same machine; the medians are
compared. Target: demo within 2× of bare.

- bare: a minimal Textual app (Header, Static, Footer), until its text is drawn;
- demo: `python -m roamtui demo` (the sandbox as a real HTTP server on 127.0.0.1, as a user
  starts it), until messages are drawn: the first `HH:MM:SS` on the screen, as only message
  rows and the cursor's position line show seconds (gap rows and the window do not).

By default both draw on a real pseudo-terminal (120×40) and the time is taken when the frame
arrives on it, so nothing is timed that a user would not wait for. `--headless` (the only way
without a pty, as on Windows) times them inside `App.run_test` instead: until the transcript
has landed and the app, idle again, has refreshed.

Both sides load bytecode, as from an installed wheel: the children write their .pyc files to a
temporary directory (`PYTHONPYCACHEPREFIX`) even when `PYTHONDONTWRITEBYTECODE` is set, and a
first sample of each kind, not counted, compiles them. Without this the demo would pay for
compiling roamtui's sources in every sample, while Textual's come precompiled.

    python tests/bench/bench_startup.py [--runs N] [--headless]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
TARGET_RATIO = 2.0
RUNS = 5
DEMO_MESSAGES = 5000  # `roamtui demo`'s default
SIZE = (120, 40)
TIMEOUT = 120.0

Row = tuple[str, str, str, str | bool]

BARE_TEXT = "bare app first frame"
BARE_APP = f"""
from textual.app import App
from textual.widgets import Footer, Header, Static

class Bare(App):
    def compose(self):
        yield Header()
        yield Static({BARE_TEXT!r})
        yield Footer()

Bare().run()
"""
# A message row's time, or the position line's "▸ Fri 2020-03-20 10:40:12" after it.
DEMO_SHOWN = re.compile(rb"\d\d:\d\d:\d\d")
BARE_DRAWN = re.compile(re.escape(BARE_TEXT.encode()))
# CSI, OSC and DCS sequences, then two-byte escapes: what is left is the text drawn.
ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1bP.*?\x1b\\|\x1b[@-Z\\-_]",
    re.DOTALL,
)


# -- in a terminal ----------------------------------------------------------------------------


def terminal_sample(kind: str, env: dict[str, str]) -> float:
    """Seconds from spawning `kind` on a new pty to the frame that shows it is ready."""
    import fcntl
    import pty
    import struct
    import termios

    if kind == "bare":
        argv, ready = [sys.executable, "-c", BARE_APP], BARE_DRAWN
    else:
        argv = [sys.executable, "-m", "roamtui", "demo", "--messages", str(DEMO_MESSAGES)]
        ready = DEMO_SHOWN
    columns, lines = SIZE
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    started = time.monotonic()
    child = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO_ROOT,
        start_new_session=True, close_fds=True,
    )
    os.close(slave)
    drawn = b""
    try:
        while time.monotonic() - started < TIMEOUT:
            readable, _, _ = select.select([master], [], [], 1.0)
            if not readable:
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # the child is gone and the pty closed
                break
            if not chunk:
                break
            at = time.monotonic()
            drawn += chunk
            if ready.search(ESCAPES.sub(b"", drawn)):
                return at - started
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        os.close(master)
    tail = ESCAPES.sub(b"", drawn)[-300:].decode(errors="replace")
    raise RuntimeError(f"{kind} never drew its first frame; last text: {tail!r}")


# -- headless ---------------------------------------------------------------------------------


async def _bare_frame() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static(BARE_TEXT)
            yield Footer()

    app = Bare()
    async with app.run_test(size=SIZE):
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
        async with app.run_test(size=SIZE, message_hook=hook):
            await landed.wait()
            await _after_refresh(app)


async def _after_refresh(app: Any) -> None:
    done = asyncio.Event()
    app.call_after_refresh(done.set)
    await done.wait()


def child(kind: str) -> None:
    """Run one headless start in this process and print the wall-clock time of the frame."""
    asyncio.run(_bare_frame() if kind == "bare" else _demo_frame())
    print(f"FRAME {time.time():.6f}", flush=True)


def headless_sample(kind: str, env: dict[str, str]) -> float:
    """Seconds from spawning a process to its first headless frame of `kind`."""
    started = time.time()
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", kind],
        capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=TIMEOUT, check=False,
    )
    frames = [line for line in done.stdout.splitlines() if line.startswith("FRAME ")]
    if done.returncode != 0 or not frames:
        raise RuntimeError(f"{kind} start failed: {done.stderr.strip().splitlines()[-1:]}")
    return float(frames[-1].split()[1]) - started


# -- the comparison ---------------------------------------------------------------------------


def child_env(pycache: str) -> dict[str, str]:
    """The environment of every sample: this checkout first, bytecode kept in `pycache`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        PYTHONPYCACHEPREFIX=pycache,
        TERM="xterm-256color",
        COLORTERM="truecolor",
    )
    return env


def has_pty() -> bool:
    try:
        import pty  # noqa: F401
    except ImportError:
        return False
    return True


def run(runs: int = RUNS, *, headless: bool = False) -> list[Row]:
    headless = headless or not has_pty()
    sample: Callable[[str, dict[str, str]], float] = (
        headless_sample if headless else terminal_sample
    )
    how = "headless" if headless else "in a pty"
    bare: list[float] = []
    demo: list[float] = []
    with tempfile.TemporaryDirectory(prefix="roamtui-bench-pyc-") as pycache:
        env = child_env(pycache)
        sample("bare", env)  # compiles bytecode and warms the OS file cache for both sides
        sample("demo", env)
        for _ in range(runs):
            bare.append(sample("bare", env))
            demo.append(sample("demo", env))
    bare_ms = statistics.median(bare) * 1000
    demo_ms = statistics.median(demo) * 1000
    ratio = demo_ms / bare_ms
    return [
        (f"start-up: bare Textual app, first frame ({how})",
         f"{bare_ms:.0f} ms (median of {runs})", "", ""),
        (f"start-up: roamtui demo ({DEMO_MESSAGES} msgs) to transcript ({how})",
         f"{demo_ms:.0f} ms (median of {runs})", "", ""),
        ("start-up: demo / bare", f"{ratio:.2f}×", f"≤ {TARGET_RATIO:.0f}×", ratio <= TARGET_RATIO),
    ]


def _cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=("bare", "demo"), help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--headless", action="store_true",
                        help="time inside App.run_test instead of on a pseudo-terminal")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return
    for name, figure, target, verdict in run(args.runs, headless=args.headless):
        print(f"{name:<62} {figure:<26} {target:<6} {verdict}")


if __name__ == "__main__":
    _cli()

"""Start-up (PRODUCT.md §6): `roamtui demo` to its first transcript frame vs a bare Textual app.

Each sample is a fresh Python process, timed from its spawn to the first frame that matters,
and the two kinds run in alternation so that both see the same machine; the medians are
compared. Target: demo within 1.5× of bare (issue 18).

- bare: a minimal Textual app (Header, Static, Footer), until its text is drawn;
- demo: `python -m roamtui demo` (the sandbox as a real HTTP server on 127.0.0.1, as a user
  starts it), until messages are drawn: the first `HH:MM:SS` on the screen, as only message
  rows and the cursor's position line show seconds (gap rows and the window do not).

Both draw on a real pseudo-terminal (120×40), and the time is taken when the frame arrives on
it: what a user waits for, no more (the former in-process timing, `App.run_test` until the app
was idle, also counted the prefetch of older pages after the first frame). POSIX only.

Beside the wall clock, each sample reads the CPU time the child had used by then (all its
threads, from /proc on Linux; left out elsewhere). Other processes stretch the wall clock of
both kinds unevenly; the CPU time moves much less, so its ratio tells a change in roamtui from
a busy machine.

Both sides load bytecode, as from an installed wheel: the children write their .pyc files to a
temporary directory (`PYTHONPYCACHEPREFIX`) even when `PYTHONDONTWRITEBYTECODE` is set, and a
first sample of each kind, not counted, compiles them. Without this the demo would pay for
compiling roamtui's sources in every sample, while Textual's come precompiled.

    python tests/bench/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import NamedTuple

from tests.bench.table import Goal, format_table, normalise

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
TARGET_RATIO = 1.5  # issue 18
RUNS = 5
DEMO_MESSAGES = 5000  # `roamtui demo`'s default
SIZE = (120, 40)
TIMEOUT = 120.0

Row = tuple[str, str, str, str | bool] | Goal

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


class Sample(NamedTuple):
    wall: float  # seconds from the spawn to the frame
    cpu: float | None  # CPU seconds the child had used by then (None: no /proc)


def cpu_seconds(pid: int) -> float | None:
    """CPU time of every thread of ``pid`` so far (Linux: the first field of each task's
    schedstat, in nanoseconds), or None where /proc does not say."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def terminal_sample(kind: str, env: dict[str, str]) -> Sample:
    """From spawning `kind` on a new pty to the frame that shows it is ready."""
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
                return Sample(at - started, cpu_seconds(child.pid))
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        os.close(master)
    tail = ESCAPES.sub(b"", drawn)[-300:].decode(errors="replace")
    raise RuntimeError(f"{kind} never drew its first frame; last text: {tail!r}")


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


def run(runs: int = RUNS) -> list[Row]:
    bare: list[Sample] = []
    demo: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="roamtui-bench-pyc-") as pycache:
        env = child_env(pycache)
        terminal_sample("bare", env)  # compiles bytecode, warms the OS file cache, both sides
        terminal_sample("demo", env)
        for _ in range(runs):
            bare.append(terminal_sample("bare", env))
            demo.append(terminal_sample("demo", env))
    bare_ms = statistics.median(s.wall for s in bare) * 1000
    demo_ms = statistics.median(s.wall for s in demo) * 1000
    ratio = demo_ms / bare_ms
    return [
        ("start-up: bare Textual app, first frame", f"{bare_ms:.0f} ms (median of {runs})", "", ""),
        (
            f"start-up: roamtui demo ({DEMO_MESSAGES} msgs) to transcript",
            f"{demo_ms:.0f} ms (median of {runs})",
            "",
            "",
        ),
        Goal("start-up: demo / bare", f"{demo_ms:.0f} / {bare_ms:.0f} ms = {ratio:.2f}×", ratio,
             TARGET_RATIO, "×"),
        *_cpu_rows(bare, demo, runs),
    ]


def _cpu_rows(bare: list[Sample], demo: list[Sample], runs: int) -> list[Row]:
    """The CPU time to the first frame of each kind and its ratio (none without /proc)."""
    bare_cpu = [s.cpu for s in bare if s.cpu is not None]
    demo_cpu = [s.cpu for s in demo if s.cpu is not None]
    if not bare_cpu or not demo_cpu:
        return []
    bare_ms = statistics.median(bare_cpu) * 1000
    demo_ms = statistics.median(demo_cpu) * 1000
    return [
        ("start-up: CPU to first frame, bare / demo",
         f"{bare_ms:.0f} / {demo_ms:.0f} ms (median of {runs})", "", ""),
        ("start-up: CPU demo / bare (less load-bound)", f"{demo_ms / bare_ms:.2f}×", "", ""),
    ]


def _cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args(argv)
    print(format_table(normalise(run(args.runs))))


if __name__ == "__main__":
    _cli()

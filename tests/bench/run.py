"""Run every benchmark module and print one table.

    python -m tests.bench.run [--only SUBSTRING] [--strict] [--list]
    python tests/bench/run.py  [--only SUBSTRING] [--strict] [--list]

A benchmark module is any ``tests/bench/bench_*.py`` with a ``run()`` (or else ``main()``),
sync or async, callable without arguments, that returns rows: a ``tests.bench.table.Goal``
for each figure held to a goal (printed with the goal and the figure as a share of it), a
plain ``(benchmark, figure, target, verdict)`` for the others. All rows come from one run of
every module, so a ratio's two sides saw the same machine. Benchmarks print figures, they do
not assert: the machine is too noisy for that, so the exit status is non-zero only when a
module crashed, or with ``--strict`` when a goal was missed.

To add a row: return one more ``Goal`` from a module's ``run()``; to add a benchmark: a new
``bench_*.py`` with a ``run()``. ``--only`` picks modules by name.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent.parent


def _ensure_importable() -> None:
    # Run as a script, only tests/bench is on sys.path; the modules import roamtui and tests.*.
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)


_ensure_importable()
from tests.bench.table import Line, format_table, missed, normalise  # noqa: E402


def discover(only: str | None = None) -> list[str]:
    """Module names of the benchmarks, sorted; ``only`` keeps names containing it."""
    names = sorted(path.stem for path in BENCH_DIR.glob("bench_*.py"))
    if only:
        names = [name for name in names if only in name]
    return [f"tests.bench.{name}" for name in names]


def run_module(name: str) -> list[Line]:
    """Import one benchmark module and run its entry point; a crash becomes an error row."""
    short = name.rsplit(".", 1)[-1]
    try:
        module = importlib.import_module(name)
        # run() first: a module may also keep a main(argv) of its own for the command line.
        entry = getattr(module, "run", None) or getattr(module, "main", None)
        if entry is None:
            return [(short, "-", "-", "-", "error: no run() or main()")]
        result = entry()
        if inspect.isawaitable(result):
            result = asyncio.run(_await(result))
        if result is None:
            return [(short, "-", "-", "-", "error: returned no rows")]
        return normalise(result)
    except Exception as exc:  # a broken benchmark must not hide the others' figures
        traceback.print_exc(file=sys.stderr)
        return [(short, "-", "-", "-", f"error: {type(exc).__name__}")]


async def _await(awaitable: object) -> object:
    return await awaitable  # type: ignore[misc]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run roamtui's benchmarks and print a table.")
    parser.add_argument("--only", help="run only benchmark modules whose name contains this")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--list", action="store_true", help="list the benchmark modules and exit")
    args = parser.parse_args(argv)
    _ensure_importable()
    names = discover(args.only)
    if args.list:
        print("\n".join(names))
        return 0
    if not names:
        print("no benchmark modules found", file=sys.stderr)
        return 1
    rows: list[Line] = []
    started = time.perf_counter()
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        rows.extend(run_module(name))
    print(format_table(rows))
    print(f"({len(names)} modules, {time.perf_counter() - started:.1f} s)")
    crashed = any(row[4].startswith("error") for row in rows)
    short = missed(rows)
    if short:
        print(f"goals missed: {', '.join(short)}")
    return 1 if crashed or (args.strict and short) else 0


if __name__ == "__main__":
    sys.exit(main())

"""`roamtui sandbox`: serve the stand-in in the foreground and tell scripts how to reach it.

Prints `key: value` lines (endpoint, sdkappid, identifier, secret_key — the demo key is printed
on purpose, it protects nothing — then one `conversation:` line per pair), then the lines the
caller adds (the command line adds ready-to-paste `export ROAMTUI_…=` lines: the variable names
belong to `settings`, a floor above this one), then serves until Ctrl+C or SIGTERM and exits 0
without a traceback.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TextIO

from roamtui.sandbox.dataset import Dataset
from roamtui.sandbox.later import (
    Later,
    LaterStore,
    describe_changes,
    describe_holders,
    holder_changes,
    later_plans,
)
from roamtui.sandbox.server import SandboxServer
from roamtui.sandbox.service import DEMO_ADMIN, DEMO_SDKAPPID, DEMO_SECRET_KEY, SandboxService
from roamtui.sandbox.sides import SidedStore, demo_plans, demo_store, describe_sides

_Handler = Callable[[int, FrameType | None], object] | int | None


def _iso(stamp: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def describe(dataset: Dataset, endpoint: str, sides: SidedStore | None = None) -> list[str]:
    """The `key: value` lines `roamtui sandbox` prints for a dataset served at `endpoint`
    (with per-side histories: one `side:` line per account of a conversation that differs)."""
    lines = [
        f"endpoint: {endpoint}",
        f"sdkappid: {DEMO_SDKAPPID}",
        f"identifier: {DEMO_ADMIN}",
        f"secret_key: {DEMO_SECRET_KEY}",
        f"messages: {len(dataset)}",
        f"seed: {dataset.seed}",
    ]
    for customer, agent in dataset.conversations:
        span = dataset.span(customer, agent)
        count = dataset.count(customer, agent)
        when = f" first={_iso(span[0])} last={_iso(span[1])}" if span else ""
        lines.append(f"conversation: {customer} {agent} messages={count}{when}")
    if sides is not None:
        lines.extend(f"side: {line}" for line in describe_sides(sides, dataset.conversations))
    return lines


def _invalid(messages: int, latency_ms: int, fault_rate: float, port: int) -> str | None:
    if messages < 0:
        return "--messages must be 0 or more"
    if latency_ms < 0:
        return "--latency-ms must be 0 or more"
    if not 0.0 <= fault_rate <= 1.0:
        return "--fault-rate must be between 0 and 1"
    if not 0 <= port <= 65535:
        return "--port must be between 0 and 65535"
    return None


def run(
    port: int,
    messages: int,
    seed: int,
    latency_ms: int,
    fault_rate: float,
    out: TextIO = sys.stdout,
    *,
    same_sides: bool = False,
    err: TextIO | None = None,
    stop: threading.Event | None = None,
    then: Callable[[str], Sequence[str]] | None = None,
    later: int = 0,
    end_time: int | None = None,
) -> int:
    """Serve until Ctrl+C / SIGTERM (or `stop` is set); return the process exit status.

    `then(endpoint)` gives lines printed after the description (the shell exports); `later`
    serves the same history later (`sandbox.later`), its changes printed as `change:` lines;
    `end_time` ends the dataset there instead of now (the same history run after run)."""
    err = sys.stderr if err is None else err
    problem = _invalid(messages, latency_ms, fault_rate, port)
    if problem:
        print(f"roamtui sandbox: {problem}", file=err)
        return 2
    stop = threading.Event() if stop is None else stop
    dataset = Dataset(seed=seed, messages=messages, end_time=end_time)
    later_store = LaterStore(dataset, Later.each(later, seed)) if later else None
    holders: list[str] = []  # `change: holder` lines (a side deleted more since)
    if same_sides:
        sides = None
    elif later_store is None:
        sides = demo_store(dataset)
    else:  # each side reads its own view of the history later, having deleted some more
        plans = demo_plans(dataset, dataset.conversations, seed)
        since = later_plans(plans, later_store)
        sides = SidedStore(later_store, since)
        holders = describe_holders(holder_changes(later_store, plans, since))
    store = sides if sides is not None else later_store if later_store is not None else dataset
    service = SandboxService(store, latency_ms=latency_ms, fault_rate=fault_rate, seed=seed)
    server = SandboxServer(service, port=port)
    try:
        endpoint = server.start()
    except OSError as exc:
        print(f"roamtui sandbox: cannot listen on 127.0.0.1:{port}: {exc.strerror}", file=err)
        return 1
    previous: _Handler = None
    on_main = threading.current_thread() is threading.main_thread()
    try:
        if on_main:
            previous = signal.signal(signal.SIGTERM, lambda _sig, _frame: stop.set())
        extra = then(endpoint) if then else ()
        changes = describe_changes(later_store, dataset.conversations) if later_store else []
        changes += holders
        for line in [*describe(dataset, endpoint, sides), *changes, *extra]:
            print(line, file=out)
        print("serving: press Ctrl+C to stop", file=out)
        out.flush()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if on_main:
            signal.signal(signal.SIGTERM, previous)
    print("roamtui sandbox: stopped", file=err)
    return 0

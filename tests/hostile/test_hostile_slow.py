"""Replies that never come whole (issue 12, point 2): each call must end at a deadline.

trickle-body (headers, then one body byte every 2 s), trickle-headers (one header line every
2 s) and silent (accepts, never answers) each hold the real `roamtui export`. Every read then
arrives within httpx's 10 s read timeout, so only a deadline per attempt ends the call; with
bounded retries the export ends with one timeout line within about a minute.

The three runs take the client's deadline × attempts (~50 s) each, so they run side by side:
the module fixture starts all three at once and each test looks at its own run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from standin import Mode, Outcome, StandIn, failure_line, make_messages, record, run_export

T0 = 1_700_000_000
SPAN = 600
#: The client's attempts per call: ImClient's max_retries (4) and the first.
ATTEMPTS = 5
#: A subprocess that has not ended by then is killed, and the test fails.
TIMEOUT = 90.0
TIMEOUT_WORDS = re.compile(r"no (complete )?reply|time(d)? ?out|deadline", re.IGNORECASE)
SLOW_MODES: tuple[Mode, ...] = ("trickle-body", "trickle-headers", "silent")


@pytest.fixture(scope="module")
def slow_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[StandIn, Future[Outcome]]]]:
    messages = make_messages(60, T0, SPAN)
    pool = ThreadPoolExecutor(max_workers=len(SLOW_MODES))
    runs: dict[str, tuple[StandIn, Future[Outcome]]] = {}
    standins = []
    try:
        for mode in SLOW_MODES:
            standin = StandIn(mode, messages).__enter__()
            standins.append(standin)
            workdir: Path = tmp_path_factory.mktemp(mode)
            future = pool.submit(
                run_export, standin.endpoint, workdir, T0, T0 + SPAN - 1, timeout=TIMEOUT
            )
            runs[mode] = (standin, future)
        yield runs
    finally:
        pool.shutdown(wait=True)
        for standin in standins:
            standin.__exit__(None, None, None)


def _check(mode: str, runs: dict[str, tuple[StandIn, Future[Outcome]]], test: str) -> None:
    standin, future = runs[mode]
    outcome = future.result()
    record(test, standin, outcome)
    line = failure_line(outcome)
    assert TIMEOUT_WORDS.search(line), line
    # One chain (nothing was learnt of the window to split it by): its attempts, no more.
    assert 1 <= len(standin.calls) <= ATTEMPTS, f"{len(standin.calls)} calls"


def test_a_trickled_body_ends_at_the_deadline(
    slow_runs: dict[str, tuple[StandIn, Future[Outcome]]],
) -> None:
    _check("trickle-body", slow_runs, "test_a_trickled_body_ends_at_the_deadline")


def test_trickled_headers_end_at_the_deadline(
    slow_runs: dict[str, tuple[StandIn, Future[Outcome]]],
) -> None:
    _check("trickle-headers", slow_runs, "test_trickled_headers_end_at_the_deadline")


def test_a_silent_service_ends_at_the_deadline(
    slow_runs: dict[str, tuple[StandIn, Future[Outcome]]],
) -> None:
    _check("silent", slow_runs, "test_a_silent_service_ends_at_the_deadline")

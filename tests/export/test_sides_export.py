"""`roamtui export … --sides both` against a sandbox whose parties hold different histories, with
faults injected: every format holds the union of both sides in the service's order, says who
holds each message (csv ``held_by``, txt ``ONLY``, html badge, jsonl wrapper with the objects
verbatim) and counts each kind; reading both sides costs at most twice one side plus two."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC
from pathlib import Path

import pytest

from roamtui.cli.export import run
from roamtui.export.csv import CSV_COLUMNS, HELD_BY
from roamtui.export.job import ExportJob
from roamtui.export.sides import fetch_both
from roamtui.history.sides import TwoSidedTimeline
from roamtui.im.client import Connection, ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.roam import RoamQuery, fetch_window
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, Dataset, SandboxService
from roamtui.sandbox.faults import Fault, FaultPlan
from roamtui.sandbox.sides import SidedStore, demo_store
from tests.clikit import parse

T0 = 1_700_000_000
SECRET = "s3cr3t-key-of-this-test-0123456789abcdef"


@pytest.fixture(scope="module")
def store() -> SidedStore:
    return demo_store(Dataset(seed=3, messages=700, end_time=T0, pairs=2))


def parties(store: SidedStore) -> tuple[str, str, int, int]:
    dataset: Dataset = store.base  # type: ignore[assignment]
    a, b = dataset.conversations[0]
    span = dataset.span(a, b)
    assert span is not None
    return a, b, span[0], span[1]


def truth(store: SidedStore) -> list[tuple[str, str, str]]:
    """(MsgKey, held_by, the object's JSON) of the union of both sides, in service order."""
    a, b, _, _ = parties(store)
    conv = store.base.conversation(a, b)
    assert conv is not None
    pa, pb = store.plan(a, b), store.plan(b, a)
    out = []
    for i, t in enumerate(conv.times):
        key = conv.key(i)
        ours, theirs = not pa.hides(t, key), not pb.hides(t, key)
        if ours or theirs:
            out.append((key, "both" if ours and theirs else a if ours else b,
                        conv.message_json(i)))
    return out


def service(store: SidedStore, fault_rate: float = 0.1) -> SandboxService:
    svc = SandboxService(store, secret_key=SECRET, rate_limit=None)
    svc.faults = FaultPlan(fault_rate=fault_rate, seed=5,
                           faults=(Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED))
    return svc


def export(store: SidedStore, svc: SandboxService, fmt: str, out: Path | None,
           sides: str = "both") -> str:
    a, b, lo, hi = parties(store)
    err = io.StringIO()
    argv = parse("export", a, b, since=f"@{lo}", until=f"@{hi}", format=fmt,
                 output=None if out is None else str(out), tz="UTC",
                 endpoint="http://127.0.0.1:9", sdkappid=str(DEMO_SDKAPPID),
                 identifier=DEMO_ADMIN, max_rps=200, sides=sides)
    code = run(argv, transport=svc.mock_transport(), stderr=err)
    assert code == 0, err.getvalue()
    return err.getvalue()


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", SECRET)


def test_csv_has_held_by_right_for_every_message_under_faults(
    store: SidedStore, tmp_path: Path
) -> None:
    svc = service(store)
    summary = export(store, svc, "csv", tmp_path / "both.csv")
    assert svc.stats().faults, "the export must have gone through injected faults"
    rows = list(csv.reader(io.StringIO((tmp_path / "both.csv").read_text("utf-8-sig"))))
    head = rows.index([*CSV_COLUMNS, HELD_BY])
    table = rows[head + 1:]
    key_at, held_at = CSV_COLUMNS.index("msg_key"), len(CSV_COLUMNS)
    expected = truth(store)
    assert [(r[key_at], r[held_at]) for r in table] == [(k, h) for k, h, _ in expected]
    a, b, _, _ = parties(store)
    meta = {r[0]: r[1:] for r in rows[:head] if r}
    counts = {h: sum(1 for _, x, _ in expected if x == h) for h in ("both", a, b)}
    assert counts[a] and counts[b] and counts["both"]
    assert meta["# sides read"][0].startswith("both")
    assert meta["# held by both"] == [str(counts["both"])]
    assert meta["# only in the account's"] == [str(counts[a])]
    assert meta["# only in the peer's"] == [str(counts[b])]
    assert (f"both sides read: {counts['both']} held by both, {counts[a]} only {a}, "
            f"{counts[b]} only {b}") in summary


def test_jsonl_wraps_the_services_objects_verbatim(store: SidedStore, tmp_path: Path) -> None:
    target = tmp_path / "both.jsonl"
    export(store, service(store), "jsonl", target)
    lines = target.read_text("utf-8").splitlines()
    expected = truth(store)
    assert len(lines) == len(expected)
    for line, (key, held, raw) in zip(lines, expected, strict=True):
        doc = json.loads(line)
        assert doc["held_by"] == held and doc["message"]["MsgKey"] == key
        # The object's text is copied into the line byte for byte.
        assert line.startswith(f'{{"held_by":{json.dumps(held)},"message":{raw}')
    # One side read: the plain objects, as before.
    plain = tmp_path / "one.jsonl"
    export(store, service(store, 0.0), "jsonl", plain, sides="one")
    assert all("held_by" not in json.loads(x) for x in plain.read_text("utf-8").splitlines())


def test_txt_and_html_mark_the_one_sided_messages(store: SidedStore, tmp_path: Path) -> None:
    expected = truth(store)
    export(store, service(store, 0.0), "txt", tmp_path / "both.txt")
    text = (tmp_path / "both.txt").read_text("utf-8")
    body = text.split("=" * 78 + "\n", 1)[1].splitlines()
    assert len(body) >= len(expected)
    for key, held, _ in expected:
        line = next(x for x in body if key in x)
        assert (f"ONLY {held}" in line) == (held != "both")
    export(store, service(store, 0.0), "html", tmp_path / "both.html")
    page = (tmp_path / "both.html").read_text("utf-8")
    badges = re.findall(r'<span class="badge only"[^>]*>only ([^<]+)</span>', page)
    assert sorted(badges) == sorted(h for _, h, _ in expected if h != "both")
    assert page.count('class="msg') >= len(expected)


class Wide(RateLimiter):
    """No pacing, and a rate so high that the sliced fetch always splits as wide as it may:
    the call counts do not depend on how fast this machine is today."""

    effective_rate = 1e9

    async def acquire(self) -> None:  # type: ignore[override]
        await asyncio.sleep(0)


def test_both_sides_cost_each_side_alone_at_most_twice_one_side_plus_two(
    store: SidedStore,
) -> None:
    """Calls counted at the service: the account's window alone, the peer's alone, both."""
    a, b, lo, hi = parties(store)

    async def calls(read: Callable[[ImClient], Awaitable[object]]) -> int:
        svc = service(store, 0.0)
        conn = Connection("http://127.0.0.1:9", DEMO_SDKAPPID, DEMO_ADMIN, secret_key=SECRET)
        async with ImClient(conn, transport=svc.mock_transport(), limiter=Wide(200)) as client:
            await read(client)
        return svc.stats().calls

    ours = asyncio.run(calls(lambda c: fetch_window(c, RoamQuery(a, b, lo, hi))))
    theirs = asyncio.run(calls(lambda c: fetch_window(c, RoamQuery(b, a, lo, hi))))
    both = asyncio.run(calls(lambda c: fetch_both(c, RoamQuery(a, b, lo, hi))))
    assert both == ours + theirs
    assert both <= 2 * max(ours, theirs) + 2


def test_the_tui_export_of_a_two_sided_transcript_says_who_holds_what(store: SidedStore) -> None:
    """The dialog's path: ExportJob.from_timeline over a transcript read from both sides."""
    a, b, lo, hi = parties(store)
    svc = service(store, 0.0)

    async def go() -> str:
        conn = Connection("http://127.0.0.1:9", DEMO_SDKAPPID, DEMO_ADMIN, secret_key=SECRET)
        async with ImClient(conn, transport=svc.mock_transport()) as client:
            query = RoamQuery(a, b, lo, hi)
            timeline = TwoSidedTimeline(client, query, UTC)
            job = ExportJob.plan(query, UTC, "csv", None, streams=False)
            fetched = await job.from_timeline(timeline, load_rest=True)
            out = io.StringIO()
            job.write(fetched.messages, job.provenance(fetched, T0), stream=out)
            return out.getvalue()

    rows = list(csv.reader(io.StringIO(asyncio.run(go()).lstrip("\ufeff"))))
    table = rows[rows.index([*CSV_COLUMNS, HELD_BY]) + 1:]
    key_at = CSV_COLUMNS.index("msg_key")
    assert [(r[key_at], r[-1]) for r in table] == [(k, h) for k, h, _ in truth(store)]

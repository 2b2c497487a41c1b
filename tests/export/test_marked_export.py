"""Export of the marked messages (issue 19 #4): `roamtui export --marked --context N` reads the
stored marks of the pair and writes exactly the expected slice of the sandbox's truth; every
format carries the notes, inert; the provenance calls it a selection of N of M, never the whole
window, and names the marked messages the service no longer returns."""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
from pathlib import Path
from typing import Any

import pytest
from clikit import parse
from rsmfkit import check_manifest, read_rsmf

from roamtui.cli.export import run
from roamtui.cli.verify import run as verify
from roamtui.export.csv import CSV_COLUMNS
from roamtui.export.selection import MarkSet, select
from roamtui.im.model import message_obj, parse_message
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, Dataset, SandboxService
from roamtui.sandbox.faults import Fault, FaultPlan
from roamtui.settings.marks import ENV_MARKS, MarkStore, Pair

T0 = 1_700_000_000
SECRET = "s3cr3t-key-of-this-test-0123456789abcdef"
HOSTILE = "<script>alert(1)</script> [bold red]x[/] =cmd|' /C calc'!A0 \x1b[2J\u202eevil"
CONTEXT = 2


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(seed=11, messages=900, end_time=T0, pairs=1)


def truth(ds: Dataset) -> tuple[str, str, int, int, list[dict[str, Any]]]:
    a, b = ds.conversations[0]
    span = ds.span(a, b)
    assert span is not None
    lo, hi = span
    return a, b, lo, hi, [ds.message_obj(r.index) for r in ds.messages_between(a, b, lo, hi)]


def args(ds: Dataset, **over: Any) -> argparse.Namespace:
    a, b, lo, hi, _ = truth(ds)
    options: dict[str, Any] = dict(
        since=f"@{lo}", until=f"@{hi}", format="jsonl", output=None, tz="Asia/Shanghai",
        endpoint="http://127.0.0.1:9", sdkappid=str(DEMO_SDKAPPID), identifier=DEMO_ADMIN,
        max_rps=200,
    )
    options.update(over)
    return parse("export", a, b, **options)


@pytest.fixture
def marked(dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Three marks (one at each end of the window, one inside, a note on it) and a marked
    message the service does not have, stored where ROAMTUI_MARKS says."""
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", SECRET)
    path = tmp_path / "marks.json"
    monkeypatch.setenv(ENV_MARKS, str(path))
    a, b, lo, hi, objs = truth(dataset)
    book = MarkStore(path).book(Pair(DEMO_SDKAPPID, a, b))
    picks = [0, len(objs) // 2, len(objs) - 1]
    for i in picks:
        book.toggle(objs[i]["MsgKey"], objs[i]["MsgTimeStamp"])
    book.set_note(objs[picks[1]]["MsgKey"], objs[picks[1]]["MsgTimeStamp"], HOSTILE)
    book.toggle("999_1_" + str(lo + 5), lo + 5)  # never returned by the service
    book.toggle("elsewhere", hi + 10_000)  # outside the window: not this export's business
    keep = sorted({j for i in picks for j in range(i - CONTEXT, i + CONTEXT + 1)
                   if 0 <= j < len(objs)})
    return {"objs": objs, "picks": picks, "keep": keep, "middle": objs[picks[1]]["MsgKey"]}


def export(ds: Dataset, out: Path, fmt: str, **over: Any) -> str:
    svc = SandboxService(ds, secret_key=SECRET, rate_limit=None)
    svc.faults = FaultPlan(fault_rate=0.1, seed=5,
                           faults=(Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED))
    err = io.StringIO()
    code = run(args(ds, format=fmt, output=str(out), **over), transport=svc.mock_transport(),
               stderr=err)
    assert code == 0, err.getvalue()
    return err.getvalue()


def test_select_keeps_each_mark_and_its_context_once_in_order() -> None:
    msgs = [parse_message(message_obj(sender="a", receiver="b", time=100 + i, text=str(i),
                                      seq=i + 1, random=1)) for i in range(20)]
    marks = MarkSet({msgs[3].key: 103, msgs[5].key: 105, msgs[19].key: 119, "gone": 110,
                     "later": 500}, {}, 1)
    chosen, sel = select(msgs, marks, RoamQuery("a", "b", 100, 200), complete=True)
    assert [m.text() for m in chosen] == ["2", "3", "4", "5", "6", "18", "19"]
    assert (sel.selected, sel.total, sel.marked, sel.context) == (7, 20, 3, 1)
    assert sel.absent == (("gone", 110),)
    assert "7 of the 20 messages" in sel.describe() and "not the whole window" in sel.describe()
    assert "no longer returned" in sel.absent_text()


def test_marked_with_context_is_the_slice_of_the_truth(
        dataset: Dataset, marked: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "marked.jsonl"
    said = export(dataset, out, "jsonl", marked=True, context=CONTEXT)
    objs, keep = marked["objs"], marked["keep"]
    assert [json.loads(line) for line in out.read_text("utf-8").splitlines()] == \
        [objs[j] for j in keep]
    assert f"selection: {len(keep)} of the window's {len(objs)} messages (3 marked" in said
    assert "999_1_" in said and "no longer returned" in said and "elsewhere" not in said


def test_every_format_carries_the_notes_inert_and_says_selection(
        dataset: Dataset, marked: dict[str, Any], tmp_path: Path) -> None:
    objs, keep, middle = marked["objs"], marked["keep"], marked["middle"]
    export(dataset, tmp_path / "m.csv", "csv", marked=True, context=CONTEXT)
    text = (tmp_path / "m.csv").read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    meta = {r[0]: r[1:] for r in rows if r and r[0].startswith("#")}
    assert "only a selection of" in meta["# completeness"][0]
    assert meta["# completeness"][0].startswith("window fetched complete")
    assert "not the whole window" in meta["# selection"][0]
    table = rows[rows.index(list(CSV_COLUMNS)) + 1:]
    assert [r[CSV_COLUMNS.index("msg_key")] for r in table] == [objs[j]["MsgKey"] for j in keep]
    notes = {r[CSV_COLUMNS.index("msg_key")]: r[CSV_COLUMNS.index("note")] for r in table}
    assert notes[middle].startswith("<script>") and "\x1b" not in notes[middle]
    assert "\u202e" not in notes[middle]
    assert sum(r[CSV_COLUMNS.index("marked")] == "MARKED" for r in table) == 3

    export(dataset, tmp_path / "m.txt", "txt", marked=True, context=CONTEXT)
    txt = (tmp_path / "m.txt").read_text("utf-8")
    assert "NOTE: <script>alert(1)</script> [bold red]x[/]" in txt and "\x1b" not in txt
    assert "not the whole window" in txt and "Completeness:" in txt

    export(dataset, tmp_path / "m.html", "html", marked=True, context=CONTEXT)
    page = (tmp_path / "m.html").read_text("utf-8")
    assert "<script>alert(1)" not in page and html.escape("<script>alert(1)</script>") in page
    assert 'class="note"' in page and 'id="rt-selection"' in page and "\x1b" not in page
    assert page.count('<span class="mark">marked</span>') == 3

    export(dataset, tmp_path / "m.rsmf", "rsmf", marked=True, context=CONTEXT)
    rsmf = read_rsmf((tmp_path / "m.rsmf").read_bytes())
    check_manifest(rsmf.manifest)
    events = rsmf.manifest["events"]
    assert [e["id"] for e in events] == [objs[j]["MsgKey"] for j in keep]
    custom = {e["id"]: {c["name"]: c["value"] for c in e["custom"]} for e in events}
    assert custom[middle]["Note"] == HOSTILE.strip()  # data in JSON, as typed
    conv = {c["name"]: c["value"] for c in rsmf.manifest["conversations"][0]["custom"]}
    assert "not the whole window" in conv["Selection"] and "999_1_" in conv["MarkedAbsent"]


def test_a_whole_window_export_still_carries_the_notes(
        dataset: Dataset, marked: dict[str, Any], tmp_path: Path) -> None:
    export(dataset, tmp_path / "all.txt", "txt")
    txt = (tmp_path / "all.txt").read_text("utf-8")
    header = txt.split("=" * 78)[0]
    assert "Selection:" not in header and f"Messages:             {len(marked['objs'])}" in header
    assert "Completeness:         complete" in header and "Notes:                1" in header
    assert "NOTE: <script>alert(1)</script>" in txt and txt.count("  MARKED  ") == 3


@pytest.mark.parametrize("over, why", [
    ({"context": 2}, "--context goes with --marked"),
    ({"marked": True, "context": 5000}, "--context takes 0 to"),
    ({"marked": True, "no_history": True}, "--no-history"),
])
def test_bad_marked_arguments_stop_before_any_call(
        dataset: Dataset, marked: dict[str, Any], over: dict[str, Any], why: str) -> None:
    err = io.StringIO()
    svc = SandboxService(dataset, secret_key=SECRET, rate_limit=None)
    assert run(args(dataset, **over), transport=svc.mock_transport(), stderr=err) == 2
    assert why in err.getvalue() and svc.stats().calls == 0


def test_marked_without_marks_says_where_it_looked(
        dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", SECRET)
    monkeypatch.setenv(ENV_MARKS, str(tmp_path / "none.json"))
    err = io.StringIO()
    assert run(args(dataset, marked=True), stderr=err) == 2
    assert "no marked messages" in err.getvalue() and "none.json" in err.getvalue()


def test_a_bundle_is_the_whole_window_with_the_marks_in_its_manifest_and_verifies(
        dataset: Dataset, marked: dict[str, Any], tmp_path: Path) -> None:
    objs, middle = marked["objs"], marked["middle"]
    err = io.StringIO()
    assert run(args(dataset, format="bundle", output=str(tmp_path / "no"), marked=True),
               stderr=err) == 2 and "a bundle is the whole window" in err.getvalue()
    export(dataset, tmp_path / "case", "bundle")
    manifest = json.loads((tmp_path / "case" / "manifest.json").read_text("utf-8"))
    assert manifest["counts"]["messages"] == len(objs) and "selection" not in manifest
    assert manifest["marks"]["notes"] == {middle: HOSTILE.strip()}
    assert len(manifest["marks"]["marked"]) == 3  # of the window; the absent one is not in it
    assert "NOTE: <script>" in (tmp_path / "case" / "transcript.txt").read_text("utf-8")
    out = io.StringIO()
    assert verify(parse("verify", str(tmp_path / "case")), stdout=out, stderr=out) == 0, \
        out.getvalue()

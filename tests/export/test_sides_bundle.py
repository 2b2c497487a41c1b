"""A bundle read from both sides (`roamtui export --format bundle --sides both`) against a sandbox
whose parties hold different histories, captured through injected faults: its manifest says both
sides were read, counts each kind and holds each side's page records tagged by side; its jsonl
and transcripts say who holds every message; `sha256sum -c` passes; `roamtui verify` names a
changed byte, a forged holder and a dropped page record of one side; `verify --refetch` against
the same history later (recalls, edits, deletions, and each side deleting more of its own
history) reports exactly those changes, holders included, and nothing when nothing changed."""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from clikit import parse

from roamtui.cli import export as export_cli
from roamtui.cli import verify as verify_cli
from roamtui.export.csv import CSV_COLUMNS, HELD_BY
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, Dataset, SandboxService
from roamtui.sandbox.faults import Fault, FaultPlan
from roamtui.sandbox.later import Later, LaterStore, holder_changes, later_plans
from roamtui.sandbox.sides import SidedStore, SidePlan, demo_plans
from roamtui.sandbox.store import MessageStore

T0 = 1_700_000_000
SECRET = "s3cr3t-key-of-the-sides-bundle-0123456789"
FILES = ("messages.jsonl", "transcript.html", "transcript.txt", "transcript.csv",
         "transcript.rsmf", "manifest.json", "SHA256SUMS")
LATER = Later(recalls=2, edits=2, deletions=2, seed=3)
Plans = dict[tuple[str, str], SidePlan]


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(seed=7, messages=600, end_time=T0, pairs=1)


@pytest.fixture(scope="module")
def plans(dataset: Dataset) -> Plans:
    return demo_plans(dataset, dataset.conversations, dataset.seed)


def window(ds: Dataset) -> tuple[str, str, int, int]:
    a, b = ds.conversations[0]
    span = ds.span(a, b)
    assert span is not None
    return a, b, span[0], span[1]


def truth(ds: Dataset, store: MessageStore, plans: Plans) -> list[tuple[str, str]]:
    """(MsgKey, held_by) of the union of both sides of ``store``, in the service's order."""
    a, b, _, _ = window(ds)
    conv = store.conversation(a, b)
    assert conv is not None
    pa, pb = plans[(a, b)], plans[(b, a)]
    out = []
    for i, t in enumerate(conv.times):
        key = conv.key(i)
        ours, theirs = not pa.hides(t, key), not pb.hides(t, key)
        if ours or theirs:
            out.append((key, "both" if ours and theirs else a if ours else b))
    return out


def service(store: MessageStore, fault_rate: float) -> SandboxService:
    svc = SandboxService(store, secret_key=SECRET, rate_limit=None)
    svc.faults = FaultPlan(fault_rate=fault_rate, seed=8,
                           faults=(Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED))
    return svc


def connection(**over: Any) -> dict[str, Any]:
    return dict(endpoint="http://127.0.0.1:9", sdkappid=str(DEMO_SDKAPPID),
                identifier=DEMO_ADMIN, max_rps=200, page_size=40, **over)


def run_verify(bundle: Path, svc: SandboxService | None = None,
               **over: Any) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    args: argparse.Namespace = parse("verify", str(bundle), refetch=svc is not None,
                                     **(connection(**over) if svc is not None else {}))
    code = verify_cli.run(args, transport=svc.mock_transport() if svc else None, stdout=out,
                          stderr=err)
    return code, out.getvalue() + err.getvalue()


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", SECRET)


@pytest.fixture(scope="module")
def captured(dataset: Dataset, plans: Plans, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One two-sided bundle of the conversation, fetched through 10 % injected faults."""
    svc = service(SidedStore(dataset, plans), 0.1)
    a, b, lo, hi = window(dataset)
    path = tmp_path_factory.mktemp("sides") / "evidence"
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROAMTUI_SECRET_KEY", SECRET)
        code = export_cli.run(parse("export", a, b, since=f"@{lo}", until=f"@{hi}",
                                    format="bundle", output=str(path), tz="UTC", sides="both",
                                    **connection()),
                              transport=svc.mock_transport(), stderr=err)
    assert code == 0, err.getvalue()
    assert svc.stats().faults, "the capture must have gone through injected faults"
    return path


def remake_sums(folder: Path, changed: str) -> None:
    """Make the checksums agree with a changed file again, as a forger would."""
    data = (folder / changed).read_bytes()
    m = json.loads((folder / "manifest.json").read_text())
    m["files"][changed] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (folder / "manifest.json").write_text(json.dumps(m, indent=2))
    sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()
            if p.name != "SHA256SUMS"}
    (folder / "SHA256SUMS").write_text("".join(f"{d}  {n}\n" for n, d in sorted(sums.items())))


def test_a_two_sided_bundle_records_both_sides_and_verifies(
    captured: Path, dataset: Dataset, plans: Plans
) -> None:
    a, b, _, _ = window(dataset)
    want = truth(dataset, dataset, plans)
    kinds = [h for _, h in want]
    assert {"both", a, b} == set(kinds), "the plans must make messages of every kind"
    assert sorted(p.name for p in captured.iterdir()) == sorted(FILES)
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=captured, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    code, out = run_verify(captured)
    assert code == 0 and out.startswith("roamtui verify: evidence is intact"), out
    assert (f"both sides read: {kinds.count('both')} held by both, {kinds.count(a)} only {a}, "
            f"{kinds.count(b)} only {b}; transcripts agree") in out
    m = json.loads((captured / "manifest.json").read_text())
    assert m["conversation"]["side"] == "both"
    assert m["sides"]["read"] == [a, b]
    assert m["sides"]["counts"] == {"both": kinds.count("both"), "only_account": kinds.count(a),
                                    "only_peer": kinds.count(b)}
    readers = [p["side"] for p in m["pages"]]
    assert [p["request"]["From_Account"] for p in m["pages"]] == readers
    assert m["sides"]["pages"] == {"account": readers.count(a), "peer": readers.count(b)}
    assert readers.count(a) and readers.count(b) and m["counts"]["pages"] == len(readers)
    held = [sum(p["new"] for p in m["pages"] if p["side"] == side) for side in (a, b)]
    assert held == [kinds.count("both") + kinds.count(side) for side in (a, b)]
    lines = [json.loads(x) for x in (captured / "messages.jsonl").read_text().splitlines()]
    assert [(x["message"]["MsgKey"], x["held_by"]) for x in lines] == want
    rows = list(csv.reader(io.StringIO(
        (captured / "transcript.csv").read_text(encoding="utf-8-sig"))))
    table = rows[rows.index([*CSV_COLUMNS, HELD_BY]) + 1:]
    assert [(r[CSV_COLUMNS.index("msg_key")], r[-1]) for r in table] == want
    html = (captured / "transcript.html").read_text()
    assert html.count('<span class="badge only"') == kinds.count(a) + kinds.count(b)
    assert SECRET not in html + (captured / "manifest.json").read_text()


@pytest.mark.parametrize("name", FILES)
def test_a_changed_byte_in_any_file_is_named(captured: Path, tmp_path: Path, name: str) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(captured, copy)
    data = bytearray((copy / name).read_bytes())
    at = len(data) // 2
    while not chr(data[at]).isalnum():  # an ASCII letter or digit: the file stays UTF-8
        at += 1
    data[at] = ord("7") if data[at] != ord("7") else ord("8")
    (copy / name).write_bytes(bytes(data))
    code, out = run_verify(copy)
    assert code == 1, out
    assert out.splitlines()[0].startswith(name), out


def test_a_forged_holder_is_named_even_with_the_checksums_remade(
    captured: Path, dataset: Dataset, plans: Plans, tmp_path: Path
) -> None:
    a, _, _, _ = window(dataset)
    key = next(k for k, h in truth(dataset, dataset, plans) if h == a)
    copy = tmp_path / "copy"
    shutil.copytree(captured, copy)
    text = (copy / "transcript.csv").read_bytes().decode("utf-8-sig")
    row = next(line for line in text.split("\r\n") if f",{key}," in line)
    assert row.endswith(f",{a}")
    forged = text.replace(row, row[: -len(a)] + "both")
    (copy / "transcript.csv").write_text("\ufeff" + forged, encoding="utf-8", newline="")
    remake_sums(copy, "transcript.csv")
    code, out = run_verify(copy)
    assert code == 1
    assert out.splitlines()[:-1] == [
        f"transcript.csv: {key} is marked held by 'both', messages.jsonl says '{a}'"], out


@pytest.mark.parametrize("forgery", ["only removed", "only added"])
def test_a_forged_only_mark_in_the_txt_is_named(
    captured: Path, dataset: Dataset, plans: Plans, tmp_path: Path, forgery: str
) -> None:
    a, _, _, _ = window(dataset)
    held = truth(dataset, dataset, plans)
    one_sided = next(k for k, h in held if h == a)
    both = next(k for k, h in held if h == "both")
    copy = tmp_path / "copy"
    shutil.copytree(captured, copy)
    text = (copy / "transcript.txt").read_text(encoding="utf-8")
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if one_sided in line)
    mark = f"ONLY {a}"
    offset = lines[at].index(mark)
    if forgery == "only removed":
        key = one_sided
        lines[at] = lines[at][:offset] + " " * len(mark) + lines[at][offset + len(mark):]
    else:  # the same columns, the mark put on a line both sides hold
        key = both
        i = next(i for i, line in enumerate(lines) if both in line)
        assert not lines[i][offset:offset + len(mark)].strip()
        lines[i] = lines[i][:offset] + mark + lines[i][offset + len(mark):]
    (copy / "transcript.txt").write_text("\n".join(lines), encoding="utf-8")
    remake_sums(copy, "transcript.txt")
    code, out = run_verify(copy)
    assert code == 1
    problem = (f"transcript.txt: {key} is not marked {mark}, unlike messages.jsonl"
               if forgery == "only removed" else
               f"transcript.txt: {key} is marked {mark!r} where messages.jsonl says both sides "
               "hold it")
    assert out.splitlines()[:-1] == [problem], out


def test_a_dropped_page_record_of_one_side_is_named(
    captured: Path, dataset: Dataset, tmp_path: Path
) -> None:
    a, b, _, _ = window(dataset)
    copy = tmp_path / "copy"
    shutil.copytree(captured, copy)
    m = json.loads((copy / "manifest.json").read_text())
    dropped = next(i for i, p in enumerate(m["pages"])
                   if p["side"] == b and p["reply"]["Complete"] == 1 and p["new"])
    del m["pages"][dropped]
    m["counts"]["pages"] -= 1
    (copy / "manifest.json").write_text(json.dumps(m, indent=2))
    remake_sums(copy, "manifest.json")
    code, out = run_verify(copy)
    problems = out.splitlines()[:-1]
    assert code == 1
    assert f"manifest.json sides.pages.peer: says {m['sides']['pages']['peer']}, pages lists " \
           f"{m['sides']['pages']['peer'] - 1} of {b}'s side" in problems
    assert any(p.startswith(f"manifest.json pages: new messages of {b}'s side add up to")
               for p in problems), out
    assert any(f"no record of {b}'s side covers second" in p or "not continued" in p
               for p in problems), out
    assert not any(f"{a}'s side" in p for p in problems), out  # the other side is whole


def test_refetch_of_both_sides_unchanged_says_so(captured: Path, dataset: Dataset,
                                                 plans: Plans) -> None:
    code, out = run_verify(captured, service(SidedStore(dataset, plans), 0.05))
    assert code == 0, out
    assert out.splitlines() == ["refetch: unchanged: 0 recalled, 0 changed, 0 missing, 0 new, "
                                f"0 holder ({len(truth(dataset, dataset, plans)):,} messages in "
                                f"the bundle, {len(truth(dataset, dataset, plans)):,} returned "
                                "now)"]


def test_refetch_of_both_sides_later_reports_exactly_the_changes(
    captured: Path, dataset: Dataset, plans: Plans, tmp_path: Path
) -> None:
    a, b, lo, hi = window(dataset)
    later = LaterStore(dataset, LATER)
    since = later_plans(plans, later)
    holders = holder_changes(later, plans, since)
    assert {x[0] for x in holders} == {a, b}
    order = [k for k, _ in truth(dataset, dataset, plans)]
    applied = [(c.kind, c.key) for c in later.changes(a, b, lo, hi)]
    applied += [("holder", key) for _, _, key, _ in holders]
    applied.sort(key=lambda c: order.index(c[1]))
    out_dir = tmp_path / "second"
    out, err = io.StringIO(), io.StringIO()
    code = verify_cli.run(parse("verify", str(captured), refetch=True, out=str(out_dir),
                                **connection()),
                          transport=service(SidedStore(later, since), 0.05).mock_transport(),
                          stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert code == 1, out.getvalue() + err.getvalue()
    assert [tuple(line.split(" ")[:2]) for line in lines[:-2]] == applied
    left = {key: b if who == a else a for who, _, key, _ in holders}
    for line in lines[:-2]:
        kind, key = line.split(" ")[:2]
        if kind == "holder":
            assert line.endswith(f" — was held by both, now only {left[key]}"), line
    n = {k: sum(1 for kind, _ in applied if kind == k)
         for k in ("recalled", "changed", "missing", "holder")}
    assert lines[-2].startswith(f"refetch: {len(applied)} differences: {n['recalled']} "
                                f"recalled, {n['changed']} changed, {n['missing']} missing, "
                                f"0 new, {n['holder']} holder")
    # The new capture is a two-sided bundle of its own, intact, with the holders as now.
    assert run_verify(out_dir)[0] == 0
    second = json.loads((out_dir / "manifest.json").read_text())
    now = truth(dataset, later, since)
    assert second["sides"]["counts"]["both"] == [h for _, h in now].count("both")
    assert second["previous"]["differences"] == len(applied)

"""The evidence bundle end to end against the sandbox under injected faults: `sha256sum -c`
passes in the folder and in the unpacked zip, messages.jsonl is the sandbox's truth, the page
records come from the real fetch, a changed byte in any file makes `roamtui verify` fail naming
it, a failed export leaves nothing that looks complete, and `verify --refetch` against "the
same history later" reports exactly the changes the sandbox applied (and nothing when there
are none)."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from clikit import parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roamtui.cli import export as export_cli
from roamtui.cli import verify as verify_cli
from roamtui.export import bundle
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, Dataset, SandboxService
from roamtui.sandbox.faults import Fault, FaultPlan
from roamtui.sandbox.later import Later, LaterStore
from roamtui.sandbox.store import MessageStore

T0 = 1_700_000_000
SECRET = "s3cr3t-key-of-the-bundle-test-0123456789ab"
FILES = ("messages.jsonl", "transcript.html", "transcript.txt", "transcript.csv",
         "transcript.rsmf", "manifest.json", "SHA256SUMS")
LATER = Later(recalls=3, edits=4, deletions=2, seed=5)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(seed=11, messages=1800, end_time=T0, pairs=2)


def window(ds: Dataset) -> tuple[str, str, int, int]:
    a, b = ds.conversations[0]
    span = ds.span(a, b)
    assert span is not None
    return a, b, span[0], span[1]


def service(store: MessageStore, fault_rate: float = 0.0) -> SandboxService:
    svc = SandboxService(store, secret_key=SECRET, rate_limit=None)
    svc.faults = FaultPlan(fault_rate=fault_rate, seed=4,
                           faults=(Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED))
    return svc


def connection(**over: Any) -> dict[str, Any]:
    options: dict[str, Any] = dict(endpoint="http://127.0.0.1:9", sdkappid=str(DEMO_SDKAPPID),
                                   identifier=DEMO_ADMIN, max_rps=200, page_size=40)
    options.update(over)
    return options


def export_args(ds: Dataset, output: Path, **over: Any) -> argparse.Namespace:
    a, b, lo, hi = window(ds)
    return parse("export", a, b, since=f"@{lo}", until=f"@{hi}", format="bundle",
                 output=str(output), tz="Asia/Shanghai", **connection(**over))


class Recording(httpx.AsyncBaseTransport):
    """Notes every admin_getroammsg POST: its body, and whether the reply was a clean page."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.posts: list[tuple[str, bool]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("admin_getroammsg"):
            await response.aread()
            try:
                ok = response.status_code == 200 and json.loads(response.content)["ErrorCode"] == 0
            except ValueError:
                ok = False  # a truncated body
            self.posts.append((canonical(json.loads(request.content)), ok))
        return response


def canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True)


def run_export(ds: Dataset, svc: SandboxService | httpx.AsyncBaseTransport,
               output: Path) -> tuple[int, str]:
    err = io.StringIO()
    transport = svc.mock_transport() if isinstance(svc, SandboxService) else svc
    code = export_cli.run(export_args(ds, output), transport=transport, stderr=err)
    return code, err.getvalue()


def run_verify(bundle: Path, svc: SandboxService | None = None, **over: Any) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    refetch = svc is not None
    args = parse("verify", str(bundle), refetch=refetch, **(connection(**over) if refetch else {}))
    code = verify_cli.run(args, transport=svc.mock_transport() if svc else None, stdout=out,
                          stderr=err)
    return code, out.getvalue() + err.getvalue()


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", SECRET)


@pytest.fixture(scope="module")
def captured(dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """One bundle of the first conversation, fetched through 10 % injected faults."""
    svc = service(dataset, fault_rate=0.1)
    recording = Recording(svc.mock_transport())
    path = tmp_path_factory.mktemp("bundle") / "evidence"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROAMTUI_SECRET_KEY", SECRET)
        code, err = run_export(dataset, recording, path)
    assert code == 0, err
    assert svc.stats().faults, "the capture must have gone through injected faults"
    return path, recording


def test_sha256sum_checks_the_folder(captured: tuple[Path, Any]) -> None:
    path, _ = captured
    assert sorted(p.name for p in path.iterdir()) == sorted(FILES)
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=path, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(line.split(":")[0] for line in done.stdout.splitlines()) == sorted(FILES[:-1])


def test_the_jsonl_is_the_sandbox_truth_under_faults(
    dataset: Dataset, captured: tuple[Path, Any]
) -> None:
    path, _ = captured
    a, b, lo, hi = window(dataset)
    truth = [dataset.message_obj(r.index) for r in dataset.messages_between(a, b, lo, hi)]
    lines = (path / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == truth


def test_the_manifest_records_how_the_window_was_fetched(
    dataset: Dataset, captured: tuple[Path, Any]
) -> None:
    path, recording = captured
    a, b, lo, hi = window(dataset)
    m = json.loads((path / "manifest.json").read_text())
    assert m["complete"] is True and m["tool"]["name"] == "roamtui"
    assert m["conversation"] == {"account": a, "peer": b, "side": a}
    assert (m["window"]["min_time"], m["window"]["max_time"]) == (lo, hi)
    assert m["window"]["zone"] == "Asia/Shanghai"
    assert m["window"]["local"]["from"].endswith("+08:00")
    assert m["connection"] == {"endpoint": "http://127.0.0.1:9", "endpoint_host": "127.0.0.1",
                               "region": None, "sdkappid": DEMO_SDKAPPID, "admin": DEMO_ADMIN,
                               "field_naming": "from-to"}
    pages = m["pages"]
    assert m["counts"] == {"messages": sum(p["new"] for p in pages), "recalled":
                           m["counts"]["recalled"], "pages": len(pages)}
    # One record per call the service answered with a page, its body as sent, its attempts
    # the POSTs of that body (the failed ones of injected faults included).
    answered = sorted(body for body, ok in recording.posts if ok)
    assert sorted(canonical(p["request"]) for p in pages) == answered
    for p in pages:
        assert p["attempts"] == sum(1 for body, _ in recording.posts
                                    if body == canonical(p["request"]))
    assert any(p["attempts"] > 1 for p in pages)
    for p in pages:
        assert p["reply"]["MsgCnt"] == p["messages"]
        assert set(p["request"]) <= {"From_Account", "To_Account", "MaxCnt", "MinTime",
                                     "MaxTime", "LastMsgKey"}
    assert m["files"].keys() == set(FILES[:-2])
    text = "".join((path / name).read_text(encoding="utf-8") for name in FILES)
    assert SECRET not in text and "usersig" not in text.lower()


def test_verify_says_an_intact_bundle_is_intact(captured: tuple[Path, Any]) -> None:
    code, out = run_verify(captured[0])
    assert code == 0, out
    assert out.count("\n") == 1 and "is intact" in out


def test_a_zip_is_the_same_bundle(dataset: Dataset, captured: tuple[Path, Any],
                                  tmp_path: Path) -> None:
    target = tmp_path / "evidence.zip"
    code, err = run_export(dataset, service(dataset, fault_rate=0.05), target)
    assert code == 0, err
    with zipfile.ZipFile(target) as zf:
        assert sorted(zf.namelist()) == sorted(f"evidence/{n}" for n in FILES)
        zf.extractall(tmp_path / "unpacked")
        jsonl = zf.read("evidence/messages.jsonl")
    assert jsonl == (captured[0] / "messages.jsonl").read_bytes()
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path / "unpacked/evidence",
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert run_verify(target)[0] == 0
    # A changed byte inside the zip is named too (the zip's own CRC or our checksums).
    data = bytearray(target.read_bytes())
    with zipfile.ZipFile(target) as zf:
        info = zf.getinfo("evidence/transcript.txt")
    data[info.header_offset + 30 + len(info.filename) + info.compress_size // 2] ^= 0x01
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    code, out = run_verify(bad)
    assert code == 1 and "transcript.txt" in out, out


@pytest.mark.parametrize("name", FILES)
def test_a_changed_byte_in_any_file_is_named(
    captured: tuple[Path, Any], tmp_path: Path, name: str
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(captured[0], copy)
    target = copy / name
    data = bytearray(target.read_bytes())
    at = len(data) // 2
    while not chr(data[at]).isalnum():  # an ASCII letter or digit: the file stays UTF-8
        at += 1
    data[at] = ord("7") if data[at] != ord("7") else ord("8")
    target.write_bytes(bytes(data))
    code, out = run_verify(copy)
    assert code == 1, out
    assert out.splitlines()[0].startswith(name), out
    assert out.splitlines()[-1].endswith("problems") or out.splitlines()[-1].endswith("problem")


def test_a_recalled_mark_taken_off_the_txt_is_named(
    captured: tuple[Path, Any], tmp_path: Path
) -> None:
    from test_sides_bundle import remake_sums

    copy = tmp_path / "copy"
    shutil.copytree(captured[0], copy)
    lines = (copy / "transcript.txt").read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if "  RECALLED  " in line)
    key = re.split(r"  +", lines[at])[2]  # time, sender → receiver, MsgKey, marks, content
    lines[at] = lines[at].replace("  RECALLED  ", "  " + " " * len("RECALLED") + "  ", 1)
    (copy / "transcript.txt").write_text("\n".join(lines), encoding="utf-8")
    remake_sums(copy, "transcript.txt")
    code, out = run_verify(copy)
    assert code == 1
    assert out.splitlines()[:-1] == [
        f"transcript.txt: {key} is not marked RECALLED, unlike messages.jsonl"], out


def test_verify_names_page_records_that_do_not_cover_the_window(
    captured: tuple[Path, Any], tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(captured[0], copy)
    m = json.loads((copy / "manifest.json").read_text())
    dropped = next(i for i, p in enumerate(m["pages"]) if p["reply"]["Complete"] == 1)
    del m["pages"][dropped]
    m["counts"]["pages"] -= 1
    (copy / "manifest.json").write_text(json.dumps(m, indent=2))
    code, out = run_verify(copy)
    assert code == 1
    assert "manifest.json: SHA-256 differs from SHA256SUMS" in out
    assert "manifest.json pages: new messages add up to" in out
    assert "no record covers second" in out or "not continued" in out


def test_a_failed_export_leaves_nothing_that_looks_complete(
    dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", "not-the-key-of-this-sandbox-0123456789ab")
    code, err = run_export(dataset, service(dataset), out / "gone")
    assert code == 1 and "nothing written" in err, err
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", SECRET)
    calls = []

    def broken(messages: Any, meta: Any, sink: Any) -> int:
        calls.append(1)
        sink.write("<!DOCTYPE html>")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bundle, "BUNDLE_FILES", tuple(
        dataclasses.replace(f, write=broken) if f.name == "transcript.html" else f
        for f in bundle.BUNDLE_FILES))
    for name in ("half", "half.zip"):
        code, err = run_export(dataset, service(dataset), out / name)
        assert code == 1 and "No space left on device" in err, err
    assert calls == [1, 1]
    assert sorted(p.name for p in out.iterdir()) == []  # no folder, zip or temp left


def test_a_folder_that_is_not_empty_is_refused_before_any_call(
    dataset: Dataset, tmp_path: Path
) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "keep.txt").write_text("mine")
    svc = service(dataset)
    code, err = run_export(dataset, svc, tmp_path / "old")
    assert code == 2 and "not empty" in err
    assert svc.stats().calls == 0
    assert (tmp_path / "old" / "keep.txt").read_text() == "mine"


def test_refetch_against_the_same_history_is_unchanged(captured: tuple[Path, Any],
                                                       dataset: Dataset) -> None:
    code, out = run_verify(captured[0], service(dataset, fault_rate=0.05))
    assert code == 0, out
    assert out.splitlines() == [out.splitlines()[0]]
    assert out.startswith("refetch: unchanged: 0 recalled, 0 changed, 0 missing, 0 new")


def test_refetch_against_the_history_later_reports_exactly_the_changes(
    captured: tuple[Path, Any], dataset: Dataset, tmp_path: Path
) -> None:
    later = LaterStore(dataset, LATER)
    a, b, lo, hi = window(dataset)
    applied = later.changes(a, b, lo, hi)
    assert {c.kind for c in applied} == {"recalled", "changed", "missing"}
    out_dir = tmp_path / "second"
    out, err = io.StringIO(), io.StringIO()
    args = parse("verify", str(captured[0]), refetch=True, out=str(out_dir),
                 **connection(endpoint="http://127.0.0.1:10"))
    code = verify_cli.run(args, transport=service(later, fault_rate=0.05).mock_transport(),
                          stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert code == 1, out.getvalue() + err.getvalue()
    assert lines[0] == ("note: endpoint http://127.0.0.1:10 differs from the capture's "
                        "http://127.0.0.1:9")
    reported = [tuple(line.split(" ")[:2]) for line in lines[1:-2]]
    assert reported == [(c.kind, c.key) for c in applied]
    edits = {c.key: c.what for c in applied if c.kind == "changed"}
    for line in lines[1:-2]:
        kind, key = line.split(" ")[:2]
        if kind == "changed":
            assert f"{edits[key]} differs" in line
    n = {k: sum(1 for c in applied if c.kind == k) for k in ("recalled", "changed", "missing")}
    assert lines[-2].startswith(f"refetch: {len(applied)} differences: {n['recalled']} "
                                f"recalled, {n['changed']} changed, {n['missing']} missing, 0 new")
    # The new capture is a bundle of its own that names the first one.
    first = json.loads((captured[0] / "manifest.json").read_text())
    second = json.loads((out_dir / "manifest.json").read_text())
    sums = subprocess.run(["sha256sum", "SHA256SUMS"], cwd=captured[0], capture_output=True,
                          text=True, timeout=30).stdout.split()[0]
    assert second["previous"] == {"bundle": "evidence", "sums_sha256": sums,
                                  "differences": len(applied)}
    assert second["counts"]["messages"] == first["counts"]["messages"] - n["missing"]
    assert run_verify(out_dir)[0] == 0
    assert sums in lines[-1]


def test_refetch_of_a_damaged_bundle_is_an_error(captured: tuple[Path, Any], tmp_path: Path,
                                                 dataset: Dataset) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(captured[0], copy)
    (copy / "transcript.csv").write_bytes(b"x" + (copy / "transcript.csv").read_bytes())
    svc = service(dataset)
    code, out = run_verify(copy, svc)
    assert code == 2 and "not intact" in out and "transcript.csv" in out
    assert svc.stats().calls == 0


def test_verify_of_what_is_not_a_bundle_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_bytes(b"PK not really")
    for bundle_path in (tmp_path / "nothing", tmp_path, tmp_path / "x.zip"):
        code, out = run_verify(bundle_path)
        assert code == 2 and out.count("\n") == 1, out


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle of a few dozen messages: cheap to verify many times over."""
    ds = Dataset(seed=2, messages=80, end_time=T0, pairs=1)
    path = tmp_path_factory.mktemp("small") / "small"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROAMTUI_SECRET_KEY", SECRET)
        code, err = run_export(ds, service(ds), path)
    assert code == 0, err
    return path


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(section=st.sampled_from(["files", "counts", "window", "pages", "conversation",
                                "connection", "complete"]),
       value=_JSON, page=st.booleans())
def test_a_hostile_manifest_is_named_never_a_crash(
    small: Path, tmp_path_factory: pytest.TempPathFactory, section: str, value: Any, page: bool
) -> None:
    copy = tmp_path_factory.mktemp("hostile") / "copy"
    shutil.copytree(small, copy)
    m = json.loads((copy / "manifest.json").read_text())
    if page and section == "pages":
        m["pages"][0] = value
    else:
        m[section] = value
    (copy / "manifest.json").write_text(json.dumps(m))
    code, out = run_verify(copy)
    assert code == 1, out
    assert out.splitlines()[0].startswith("manifest.json")

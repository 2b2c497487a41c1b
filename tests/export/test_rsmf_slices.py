"""More than 10,000 messages: `roamtui export --format rsmf -o DIR/` writes one valid .rsmf per
slice of at most 10,000 events, cut at days of the export's zone, named by time range, with
nothing lost or repeated; a single file of more is refused; a failure leaves no slice behind."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from clikit import parse
from rsmfkit import check_manifest, read_rsmf

from roamtui.cli import export as cli_export
from roamtui.cli.export import run
from roamtui.export import directory, formats
from roamtui.export.job import ExportJob
from roamtui.export.provenance import ExportMeta
from roamtui.export.slices import parts, slice_window
from roamtui.im.model import Message, parse_message
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, Dataset, SandboxService

T0 = 1_700_000_000
SECRET = "s3cr3t-key-of-the-rsmf-slices-test-0123456789"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def big() -> tuple[list[dict[str, Any]], list[Message], ExportMeta]:
    """One sandbox conversation of 25,000 messages over ten days, as the fetch returns it."""
    ds = Dataset(seed=16, messages=25_000, end_time=T0, pairs=1)
    a, b = ds.conversations[0]
    span = ds.span(a, b)
    assert span is not None
    objs = [ds.message_obj(r.index) for r in ds.messages_between(a, b, *span)]
    meta = ExportMeta(account=a, peer=b, min_time=span[0], max_time=span[1], tz=SHANGHAI,
                      fetched_at=T0 + 60, pages=250, calls=250, complete=True)
    return objs, [parse_message(o) for o in objs], meta


def test_25000_messages_give_three_valid_day_slices(big: Any, tmp_path: Path) -> None:
    objs, messages, meta = big
    out = tmp_path / "review"
    query = RoamQuery(meta.account, meta.peer, meta.min_time, meta.max_time)
    written = ExportJob.plan(query, SHANGHAI, "rsmf", f"{out}/").write(messages, meta)
    files = sorted(out.glob("*.rsmf"))
    assert len(files) == 3 and [f.path for f in written.files] == files
    ids: list[str] = []
    days: list[tuple[Any, Any]] = []
    collection = set()
    for f in files:
        parsed = read_rsmf(f.read_bytes())
        check_manifest(parsed.manifest, by_shape=True)
        events = parsed.manifest["events"]
        assert 0 < len(events) <= 10_000
        assert parsed.message["X-RSMF-EventCount"] == str(len(events))
        collection.add(parsed.manifest["eventcollectionid"])
        ids += [e["id"] for e in events]
        first, last = (datetime.fromisoformat(e["timestamp"]) for e in (events[0], events[-1]))
        days.append((first.date(), last.date()))
        # Named by the stretch it covers, in the export's zone: a later one from its first day.
        assert f.name.startswith(f"roam-{meta.account}-{meta.peer}-")
        assert f is files[0] or f"-{first:%Y%m%d}-000000-" in f.name
    assert ids == [o["MsgKey"] for o in objs]  # nothing lost, nothing repeated, in order
    assert len(collection) == 1  # the slices say they belong together
    # Cut at days: no calendar day (Shanghai) is split between two files.
    assert all(prev[1] < nxt[0] for prev, nxt in pairwise(days))
    sums = (out / "SHA256SUMS").read_text().splitlines()
    assert sums == [f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.name}" for f in files]
    assert written.sha256 == hashlib.sha256((out / "SHA256SUMS").read_bytes()).hexdigest()


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    """The command line with RSMF files of at most 500 events (the path is the same as with
    10,000; a 2,400-message window then needs slices without a 25,000-message fetch)."""
    limit = 500
    rsmf = dataclasses.replace(formats.FORMATS["rsmf"], per_file=limit,
                               split=lambda m, meta: parts(m, meta, limit, "rsmf"))
    table = MappingProxyType({**formats.FORMATS, "rsmf": rsmf})
    monkeypatch.setattr(formats, "FORMATS", table)
    monkeypatch.setattr(cli_export, "FORMATS", table)
    return limit


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(seed=16, messages=2400, end_time=T0, pairs=1)


def export(ds: Dataset, output: str, monkeypatch: pytest.MonkeyPatch,
           served: list[SandboxService] | None = None) -> tuple[int, str]:
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", SECRET)
    a, b = ds.conversations[0]
    span = ds.span(a, b)
    assert span is not None
    args = parse("export", a, b, since=f"@{span[0]}", until=f"@{span[1]}", format="rsmf",
                 output=output, tz="Asia/Shanghai", endpoint="http://127.0.0.1:9",
                 sdkappid=str(DEMO_SDKAPPID), identifier=DEMO_ADMIN, max_rps=200)
    svc = SandboxService(ds, secret_key=SECRET, rate_limit=None)
    if served is not None:
        served.append(svc)
    err = io.StringIO()
    return run(args, transport=svc.mock_transport(), stderr=err), err.getvalue()


def test_cli_writes_slices_into_a_directory_and_says_each(
    dataset: Dataset, small_limit: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = export(dataset, f"{tmp_path}/review/", monkeypatch)
    assert code == 0, err
    files = sorted((tmp_path / "review").glob("*.rsmf"))
    assert len(files) >= 3
    for f in files:
        events = read_rsmf(f.read_bytes()).manifest["events"]
        assert 0 < len(events) <= small_limit
        assert f"{len(events):,} messages → {f.name} ({f.stat().st_size:,} bytes, sha256 " in err
    assert f"({len(files)} files, " in err and "SHA256SUMS sha256" in err


def test_one_file_of_too_many_is_refused_in_one_line(
    dataset: Dataset, small_limit: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = export(dataset, str(tmp_path / "all.rsmf"), monkeypatch)
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith("roamtui export: ") and line.endswith(
        f"messages are more than one rsmf file holds ({small_limit}); give a directory to "
        f"write one file per slice of at most {small_limit} (-o DIR/); nothing written")
    assert not (tmp_path / "all.rsmf").exists()


def test_a_failed_slice_leaves_no_slice_behind(
    dataset: Dataset, small_limit: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "review").mkdir()
    (tmp_path / "review" / "theirs.txt").write_text("kept")
    real = directory.write_atomically
    calls = []

    def third_fails(path: Any, fn: Any) -> Any:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(path, fn)

    monkeypatch.setattr(directory, "write_atomically", third_fails)
    code, err = export(dataset, str(tmp_path / "review"), monkeypatch)
    assert code == 1 and "No space left on device" in err, err
    assert [p.name for p in (tmp_path / "review").iterdir()] == ["theirs.txt"]


def test_a_directory_holding_another_export_is_refused_before_any_call(
    dataset: Dataset, small_limit: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second export into a folder that holds one already would replace its SHA256SUMS by a
    listing of the new files only: the first export's slices would lie there unlisted, mixed
    with the new ones, and `sha256sum -c` would still pass. Refused, before any call."""
    code, err = export(dataset, f"{tmp_path}/review/", monkeypatch)
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in (tmp_path / "review").iterdir()}
    assert "SHA256SUMS" in before
    served: list[SandboxService] = []
    code, err = export(dataset, f"{tmp_path}/review/", monkeypatch, served)
    assert code == 2 and served[0].stats().calls == 0
    (line,) = err.strip().splitlines()
    assert line == (f"roamtui export: -o '{tmp_path}/review/': already holds an export "
                    "(SHA256SUMS): give a new or empty directory")
    assert {p.name: p.read_bytes() for p in (tmp_path / "review").iterdir()} == before


def hours(*spec: tuple[int, int]) -> list[int]:
    """Message times: ``(hour offset from T0, count)`` each, a second apart."""
    return [T0 + h * 3600 + i for h, n in spec for i in range(n)]


def test_slices_pack_whole_days_and_cover_the_window_once() -> None:
    day = 86_400
    times = [T0 + d * day + i * 10 for d in range(6) for i in range(400)]
    cuts = slice_window(times, T0 - 5, times[-1] + 5, SHANGHAI, 1000)
    assert [s.stop - s.start for s in cuts] == [800, 800, 800]  # two whole days each
    assert cuts[0].min_time == T0 - 5 and cuts[-1].max_time == times[-1] + 5
    assert all(a.max_time + 1 == b.min_time for a, b in pairwise(cuts))
    for s in cuts[1:]:  # each later slice starts at a Shanghai midnight
        assert datetime.fromtimestamp(s.min_time, SHANGHAI).strftime("%H:%M:%S") == "00:00:00"


def test_a_day_too_big_is_cut_at_hours_and_a_second_too_big_inside_it() -> None:
    times = hours((0, 600), (1, 600), (2, 300))
    cuts = slice_window(times, T0, T0 + 4 * 3600, NEW_YORK, 1000)
    assert [s.stop - s.start for s in cuts] == [600, 900]
    assert datetime.fromtimestamp(cuts[1].min_time, NEW_YORK).minute == 0
    same_second = [T0] * 2500
    cuts = slice_window(same_second, T0, T0, NEW_YORK, 1000)
    assert [s.stop - s.start for s in cuts] == [1000, 1000, 500]
    assert {s.min_time for s in cuts} == {T0}
    assert slice_window([], T0, T0 + 9, NEW_YORK, 1000)[0].stop == 0

"""`roamtui export` end to end against the sandbox: every format equals the dataset under injected
faults, failures leave no file and say why in one line, bad arguments stop before any call,
and no secret or UserSig ever shows."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from clikit import parse

from roamtui import cli
from roamtui.cli.export import run
from roamtui.export.csv import CSV_COLUMNS, csv_cell
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, Dataset, SandboxServer, SandboxService
from roamtui.sandbox.faults import Fault, FaultPlan

T0 = 1_700_000_000
KEY, CONTENT = CSV_COLUMNS.index("msg_key"), CSV_COLUMNS.index("content")
SECRET = "s3cr3t-key-of-this-test-0123456789abcdef"
USERSIG_LIKE = re.compile(r"e[AFJN][A-Za-z0-9*_+/=-]{100,}")
QUICK_FAULTS = (Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED)  # no slow replies: no waiting


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(seed=7, messages=2400, end_time=T0, pairs=2)


def window(ds: Dataset) -> tuple[str, str, int, int]:
    a, b = ds.conversations[0]
    span = ds.span(a, b)
    assert span is not None
    return a, b, span[0], span[1]


def expected_objects(ds: Dataset) -> list[dict[str, Any]]:
    a, b, lo, hi = window(ds)
    return [ds.message_obj(r.index) for r in ds.messages_between(a, b, lo, hi)]


def service(
    ds: Dataset,
    *,
    fault_rate: float = 0.0,
    faults: tuple[Fault, ...] = QUICK_FAULTS,
    secret: str = SECRET,
) -> SandboxService:
    svc = SandboxService(ds, secret_key=secret, rate_limit=None)
    svc.faults = FaultPlan(fault_rate=fault_rate, seed=3, faults=faults)
    return svc


def args(ds: Dataset, **over: Any) -> argparse.Namespace:
    a, b, lo, hi = window(ds)
    options: dict[str, Any] = dict(
        since=f"@{lo}",
        until=f"@{hi}",
        format="jsonl",
        output=None,
        tz="Asia/Shanghai",
        endpoint="http://127.0.0.1:9",
        sdkappid=str(DEMO_SDKAPPID),
        identifier=DEMO_ADMIN,
        max_rps=200,
    )
    options.update(over)
    return parse("export", options.pop("account", a), options.pop("peer", b), **options)


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", SECRET)


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    out = tmp_path / "exports"
    out.mkdir()
    return out


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Counting(httpx.AsyncBaseTransport):
    """Counts requests; any request at all is a failure for the argument checks."""

    def __init__(self) -> None:
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(500)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
        assert USERSIG_LIKE.search(text) is None
        assert "usersig=" not in text.lower()


# -- every format equals the dataset, with faults injected ---------------------------------------


@pytest.mark.usefixtures("secret_env")
def test_jsonl_equals_the_dataset_object_by_object(dataset: Dataset, outdir: Path) -> None:
    svc = service(dataset, fault_rate=0.1)
    target = outdir / "conv.jsonl"
    err = io.StringIO()
    code = run(args(dataset, output=str(target)), transport=svc.mock_transport(), stderr=err)
    assert code == 0, err.getvalue()
    assert svc.stats().faults, "the test must have gone through injected faults"
    lines = target.read_text(encoding="utf-8").splitlines()
    expected = expected_objects(dataset)
    assert len(lines) == len(expected) > 500
    for line, obj in zip(lines, expected, strict=True):
        assert json.loads(line) == obj
    summary = err.getvalue()
    assert summary.count("\n") == 1 and "\r" not in summary  # not a tty: no progress line
    recalled = sum(1 for o in expected if o.get("MsgFlagBits", 0) & 8)
    assert f"{len(expected):,} messages, {recalled:,} recalled" in summary
    assert "complete" in summary and "calls" in summary and "pages" in summary
    assert_no_secret(summary, target.read_text(encoding="utf-8"))
    assert sorted(p.name for p in outdir.iterdir()) == ["conv.jsonl"]


@pytest.mark.usefixtures("secret_env")
def test_csv_equals_the_dataset_and_reads_with_csv_module(dataset: Dataset, outdir: Path) -> None:
    svc = service(dataset, fault_rate=0.1)
    target = outdir / "conv.csv"
    err = io.StringIO()
    code = run(
        args(dataset, format="csv", output=str(target)), transport=svc.mock_transport(), stderr=err
    )
    assert code == 0, err.getvalue()
    with target.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    blank = rows.index([])
    meta = {row[0]: row[1:] for row in rows[:blank]}
    table = rows[blank + 2 :]
    expected = expected_objects(dataset)
    assert meta["# completeness"] == ["complete"]
    assert meta["# messages"] == [str(len(expected))]
    assert [r[KEY] for r in table] == [o["MsgKey"] for o in expected]
    assert [r[4] == "RECALLED" for r in table] == [bool(o["MsgFlagBits"] & 8) for o in expected]
    read = CSV_COLUMNS.index("read")
    assert [r[read] == "READ" for r in table] == [o.get("IsPeerRead") == 1 for o in expected]
    assert [(r[1], r[2], r[3]) for r in table] == [
        (str(o["MsgTimeStamp"]), o["From_Account"], o["To_Account"]) for o in expected
    ]
    for r, o in zip(table, expected, strict=True):
        body = o.get("MsgBody") or []
        if len(body) == 1 and body[0]["MsgType"] == "TIMTextElem":
            assert r[CONTENT] == csv_cell(body[0]["MsgContent"]["Text"])  # hostile text defused
        elif not body:
            assert r[CONTENT].startswith("(")
    assert_no_secret(err.getvalue(), target.read_text(encoding="utf-8"))


@pytest.mark.usefixtures("secret_env")
def test_txt_to_stdout_has_one_line_per_message(dataset: Dataset) -> None:
    svc = service(dataset, fault_rate=0.1)
    out, err = io.StringIO(), io.StringIO()
    code = run(args(dataset, format="txt"), transport=svc.mock_transport(), stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    header, _, body = out.getvalue().partition("=" * 78 + "\n")
    expected = expected_objects(dataset)
    # A message's own line starts with its time; its forwarded messages follow, indented.
    lines = [line for line in body.splitlines() if not line.startswith(" ")]
    assert len(lines) == len(expected)
    for line, obj in zip(lines, expected, strict=True):
        assert obj["MsgKey"] in line
        assert ("RECALLED" in line) == bool(obj["MsgFlagBits"] & 8)
        assert ("  READ  " in line) == (obj.get("IsPeerRead") == 1)
    forwarded = sum(len(m["MsgContent"].get("MsgList") or []) for o in expected
                    for m in o.get("MsgBody") or [] if m["MsgType"] == "TIMRelayElem")
    shown = sum(1 for x in body.splitlines() if x.lstrip().startswith("│"))
    assert forwarded and shown >= forwarded
    assert "Completeness:" in header and "complete" in header
    assert "→ stdout" in err.getvalue()


@pytest.mark.usefixtures("secret_env")
def test_progress_line_only_on_a_terminal(dataset: Dataset) -> None:
    err = TTY()
    code = run(
        args(dataset), transport=service(dataset).mock_transport(), stdout=io.StringIO(), stderr=err
    )
    assert code == 0
    shown = err.getvalue()
    assert "\r" in shown and "100% · " in shown and " calls · " in shown and "█" in shown
    assert shown.rstrip("\n").split("\r")[-1].startswith("\x1b[K")  # cleared before the summary


class FirstFails(httpx.AsyncBaseTransport):
    """HTTP 502 for the first call, then the sandbox."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.calls = inner, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls == 1:
            return httpx.Response(502, content=b"<html>Bad Gateway</html>")
        return await self.inner.handle_async_request(request)


@pytest.mark.usefixtures("secret_env")
def test_a_retry_is_said_on_the_terminal_not_in_silence(dataset: Dataset) -> None:
    err = TTY()
    flaky = FirstFails(service(dataset).mock_transport())
    code = run(args(dataset), transport=flaky, stdout=io.StringIO(), stderr=err)
    assert code == 0, err.getvalue()
    assert "retrying: HTTP 502" in err.getvalue()
    plain = io.StringIO()  # off a terminal: only the summary line
    flaky = FirstFails(service(dataset).mock_transport())
    assert run(args(dataset), transport=flaky, stdout=io.StringIO(), stderr=plain) == 0
    assert "retrying" not in plain.getvalue() and plain.getvalue().count("\n") == 1


@pytest.mark.usefixtures("secret_env")
def test_default_stdout_gets_utf8_bytes(
    dataset: Dataset, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    code = run(args(dataset), transport=service(dataset).mock_transport(), stderr=io.StringIO())
    assert code == 0
    lines = capfdbinary.readouterr().out.decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == expected_objects(dataset)


# -- failures -----------------------------------------------------------------------------------


def test_wrong_secret_key_fails_with_the_code_and_no_file(
    dataset: Dataset, outdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", SECRET)
    svc = service(dataset, secret="the-key-the-service-really-has-0000")
    target = outdir / "conv.csv"
    out, err = io.StringIO(), io.StringIO()
    code = run(
        args(dataset, format="csv", output=str(target)),
        transport=svc.mock_transport(),
        stdout=out,
        stderr=err,
    )
    assert code == 1
    message = err.getvalue()
    assert message.count("\n") == 1 and "70009" in message
    assert "secret key" in message  # the advice: what to do about it
    assert list(outdir.iterdir()) == [] and out.getvalue() == ""
    assert_no_secret(message)


@pytest.mark.usefixtures("secret_env")
def test_a_service_that_keeps_failing_leaves_the_old_file_alone(
    dataset: Dataset, outdir: Path
) -> None:
    target = outdir / "conv.jsonl"
    target.write_text("yesterday's export\n")
    svc = service(dataset, fault_rate=1.0, faults=(Fault.ERROR_91000,))
    err = io.StringIO()
    code = run(args(dataset, output=str(target)), transport=svc.mock_transport(), stderr=err)
    assert code == 1
    assert err.getvalue().count("\n") == 1 and "91000" in err.getvalue()
    assert "gave up after" in err.getvalue()
    assert target.read_text() == "yesterday's export\n"
    assert sorted(p.name for p in outdir.iterdir()) == ["conv.jsonl"]


BAD_ARGS = [
    ({"since": "@1700000000", "until": "@1699990000"}, "starts after it ends"),
    ({"since": "next tuesday-ish"}, "cannot read"),
    ({"tz": "Mars/Olympus_Mons"}, "unknown time zone"),
    ({"output": "/nonexistent-dir-for-roamtui/out.jsonl"}, "does not exist"),
    ({"output": "out.csv"}, "out.csv names a csv file but the format is jsonl"),  # explicit
    ({"account": ""}, "ACCOUNT and PEER"),
]
#: Refused by the parser itself (exit 2, usage and one error line), before any handler runs.
BAD_FLAGS = [
    (["--format", "xml"], "invalid choice: 'xml'"),
    (["--max-rps", "500"], "calls per second must be from 1 to 200"),
    (["--page-size", "0"], "at least 1"),
]


@pytest.mark.usefixtures("secret_env")
@pytest.mark.parametrize(("over", "says"), BAD_ARGS)
def test_bad_arguments_stop_before_any_call(
    dataset: Dataset, over: dict[str, Any], says: str
) -> None:
    transport = Counting()
    err = io.StringIO()
    assert run(args(dataset, **over), transport=transport, stderr=err) == 2
    assert transport.requests == 0
    assert err.getvalue().startswith("roamtui export: ") and err.getvalue().count("\n") == 1
    assert says in err.getvalue()


@pytest.mark.parametrize(("flags", "says"), BAD_FLAGS)
def test_bad_flags_are_refused_by_the_parser(
    flags: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", "a", "b", "--since", "-1h", "--until", "now", *flags])
    assert exit_info.value.code == 2
    assert says in capsys.readouterr().err


def test_missing_credentials_stop_before_any_call(dataset: Dataset) -> None:
    transport = Counting()
    err = io.StringIO()
    assert run(args(dataset), transport=transport, stderr=err) == 2
    assert transport.requests == 0
    assert "ROAMTUI_SECRET_KEY" in err.getvalue() and err.getvalue().count("\n") == 1


def test_output_that_is_a_directory_is_refused(dataset: Dataset, outdir: Path) -> None:
    transport = Counting()
    err = io.StringIO()
    assert run(args(dataset, output=str(outdir)), transport=transport, stderr=err) == 2
    assert transport.requests == 0 and "is a directory" in err.getvalue()


@pytest.mark.usefixtures("secret_env")
def test_offset_zone_and_whole_number_rate_are_accepted(dataset: Dataset) -> None:
    out = io.StringIO()
    code = run(
        args(dataset, format="txt", tz="+08:00", max_rps=200),
        transport=service(dataset).mock_transport(),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 0 and "UTC+08:00" in out.getvalue()


# -- the real command line over a real sandbox on 127.0.0.1 ---------------------------------------


def test_cli_export_against_a_sandbox_server(
    dataset: Dataset,
    outdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", SECRET)
    a, b, lo, hi = window(dataset)
    target = outdir / "evidence.csv"
    with SandboxServer(service(dataset, fault_rate=0.05)) as server:
        monkeypatch.setenv("ROAMTUI_ENDPOINT", server.endpoint)
        code = cli.main(
            [
                "export",
                a,
                b,
                f"--since=@{lo}",
                f"--until=@{hi}",
                "--format",
                "csv",
                "-o",
                str(target),
                "--sdkappid",
                str(DEMO_SDKAPPID),
                "--identifier",
                DEMO_ADMIN,
                "--max-rps",
                "200",
                "--tz",
                "UTC",
            ]
        )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    with target.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    table = rows[rows.index([]) + 2 :]
    assert [r[KEY] for r in table] == [o["MsgKey"] for o in expected_objects(dataset)]
    assert captured.out == ""
    assert_no_secret(captured.err, target.read_text(encoding="utf-8"))


def test_an_empty_window_says_what_to_check(tmp_path: Path) -> None:
    from roamtui.sandbox import DEMO_SECRET_KEY, ListStore

    service = SandboxService(
        ListStore({}, accounts=("alice", "bob")),
        sdkappid=DEMO_SDKAPPID,
        secret_key=DEMO_SECRET_KEY,
        admins=(DEMO_ADMIN,),
    )
    args = parse(
        "export",
        "alice",
        "bobb",
        since="@1584669600",
        until="@1584673200",
        output=str(tmp_path / "out.jsonl"),
        tz="UTC",
        endpoint="http://sandbox.test",
        sdkappid=str(DEMO_SDKAPPID),
        identifier=DEMO_ADMIN,
    )
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROAMTUI_SECRET_KEY", DEMO_SECRET_KEY)
        code = run(args, transport=service.mock_transport(), stdout=out, stderr=err)
    assert code == 0
    assert "no messages in this window" in err.getvalue()
    assert "'bobb'" in err.getvalue()


@pytest.mark.usefixtures("secret_env")
@pytest.mark.parametrize(("name", "written"), [("conv.csv", "csv"), ("conv.TXT", "txt"),
                                                ("conv.htm", "html"), ("conv.log", "jsonl")])
def test_without_format_the_file_name_says_which(
    dataset: Dataset, outdir: Path, name: str, written: str
) -> None:
    svc = service(dataset)
    err = io.StringIO()
    target = outdir / name
    code = run(args(dataset, format=None, output=str(target)), transport=svc.mock_transport(),
               stderr=err)
    assert code == 0, err.getvalue()
    start = target.read_text(encoding="utf-8-sig")[:200]
    looks = {"csv": start.startswith("# "), "txt": not start.startswith(("{", "#", "<")),
             "html": start.lstrip().startswith("<!DOCTYPE html>"), "jsonl": start.startswith("{")}
    assert looks[written], start

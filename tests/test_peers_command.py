"""`roamtui peers` against the sandbox: newest first, nicknames inert in every format, a hint
that opens the conversation, batches past 100 peers, and failures in one line."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from roamtui.cli.main import build_parser
from roamtui.cli.peers import run
from roamtui.history.timeparse import parse_time, resolve_zone
from roamtui.im.contacts import LOOKBACK
from roamtui.sandbox import DEMO_SECRET_KEY, Dataset, ListStore, SandboxService
from roamtui.sandbox.directory import PORTRAIT_PATH, ApiError
from roamtui.sandbox.people import Directory, Session

END = 1_700_000_000
HOSTILE = "\x1b]8;;http://evil\x07click\x1b[2J [b]x[/b] \u202eevil =cmd"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", DEMO_SECRET_KEY)
    for name in ("ROAMTUI_USERSIG", "ROAMTUI_PROFILE", "ROAMTUI_TZ"):
        monkeypatch.delenv(name, raising=False)


def _run(service: SandboxService, *extra: str) -> tuple[int, str, str]:
    args = build_parser().parse_args([
        "peers", *extra, "--endpoint", "http://127.0.0.1:9", "--sdkappid", "1400000000",
        "--identifier", "administrator"])
    out, err = io.StringIO(), io.StringIO()
    code = run(args, transport=service.mock_transport(), stdout=out, stderr=err,
               now=datetime.fromtimestamp(END, UTC))
    return code, out.getvalue(), err.getvalue()


def test_a_demo_agent_lists_its_customers_newest_first_with_nicknames() -> None:
    dataset = Dataset(messages=600, end_time=END)
    code, out, err = _run(SandboxService(dataset), "agent_alice", "--tz", "Asia/Shanghai")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("PEER") and "Asia/Shanghai" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["cust_1003", "cust_1001"]
    assert "[b]boss[/b]" in lines[1] and "王小明" in lines[2] and "(pinned)" in lines[2]
    span = dataset.span("cust_1001", "agent_alice")
    assert span is not None
    hint = lines[2][lines[2].index("roamtui "):].removesuffix("  (pinned)")
    hinted = build_parser().parse_args(["browse", *hint.split()[1:]])
    assert (hinted.account, hinted.peer) == ("agent_alice", "cust_1001")
    since = parse_time(hinted.since, resolve_zone("UTC"))
    assert span[1] - LOOKBACK - 60 < since <= span[1] - LOOKBACK
    assert "1 group conversation(s) not listed" in err and "2 call(s)" in err


def _hostile_service(peers: int = 3) -> SandboxService:
    directory = Directory(accounts={"agent"})
    for i in range(peers):
        directory.add_session("agent", Session(f"c{i:03d}", END - i * 60))
    directory.nicknames = {"c000": HOSTILE, "c001": "=HYPERLINK(\"http://x\")"}
    return SandboxService(ListStore({}), directory=directory, rate_limit=None, contacts_page=40)


def test_hostile_nicknames_are_inert_in_text_jsonl_and_csv() -> None:
    code, out, _ = _run(_hostile_service(), "agent", "--tz", "UTC")
    assert code == 0 and "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "␛" in out.splitlines()[1]
    code, out, _ = _run(_hostile_service(), "agent", "--format", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert "\x1b" not in out and records[0]["nickname"] == HOSTILE  # escaped, same value
    assert records[0]["open"].startswith("roamtui agent c000 --since ")
    code, out, _ = _run(_hostile_service(), "agent", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:2] == ["peer", "nickname"]
    assert rows[2][1].startswith("'=HYPERLINK") and "\x1b" not in out


def test_more_than_a_hundred_peers_get_their_nicknames_in_batches() -> None:
    service = _hostile_service(250)
    seen: list[int] = []
    handler = service.directory_api.handlers[PORTRAIT_PATH]

    def counting(doc: dict[str, Any]) -> bytes:
        seen.append(len(doc["To_Account"]))
        return handler(doc)

    service.directory_api.handlers = {**service.directory_api.handlers, PORTRAIT_PATH: counting}
    code, out, err = _run(service, "agent", "--format", "jsonl")
    assert code == 0 and len(out.splitlines()) == 250
    assert sorted(seen) == [50, 100, 100]
    assert "7 page(s), 10 call(s)" in err


def test_nicknames_that_cannot_be_read_leave_the_accounts() -> None:
    service = _hostile_service()

    def refuse(doc: dict[str, Any]) -> bytes:
        raise ApiError(40004, "Err_Profile_Need_Admin")

    service.directory_api.handlers = {**service.directory_api.handlers, PORTRAIT_PATH: refuse}
    code, out, err = _run(service, "agent", "--format", "jsonl")
    assert code == 0 and [json.loads(x)["nickname"] for x in out.splitlines()] == ["", "", ""]
    assert "nicknames could not be read (40004" in err


@pytest.mark.parametrize(("argv", "code", "text"), [
    (["nobody"], 1, "50001"),
    (["agent", "--since", "someday"], 2, "roamtui peers:"),
    (["bad account"], 2, "UserID"),
])
def test_failures_are_one_line(argv: list[str], code: int, text: str) -> None:
    got, out, err = _run(_hostile_service(), *argv)
    assert got == code and out == "" and text in err and len(err.splitlines()) == 1

"""The one export job: plan (format and output checked before any call), fetch from the
service or from a transcript's timeline, one provenance, digest, atomic write, stop."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from roamtui.export.formats import FORMATS
from roamtui.export.job import (
    PARTIAL_NOTE,
    STOP_CHECK_EVERY,
    Digest,
    ExportJob,
    ExportRefused,
    Fetched,
    Stopped,
    check_output,
)
from roamtui.im.client import Connection, ImClient
from roamtui.im.model import Message, message_obj, parse_message
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, DEMO_SECRET_KEY, ListStore, SandboxService

T0 = 1_584_669_600
ZONE = ZoneInfo("Asia/Shanghai")
QUERY = RoamQuery("cust_1", "agent_2", T0, T0 + 3600)
CONN = Connection("https://user:pw@console.tim.qq.com/?q=1", 1400000000, "admin")


def messages(n: int) -> list[Message]:
    return [parse_message(message_obj(sender="cust_1", receiver="agent_2", time=T0 + i,
                                      text=f"m{i}", seq=i, random=i)) for i in range(n)]


def test_the_registry_holds_every_format_in_order() -> None:
    assert list(FORMATS) == ["jsonl", "csv", "txt", "html", "rsmf"]


def test_an_unknown_format_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ExportRefused, match="unknown export format 'xml'; choose one of jsonl"):
        ExportJob.plan(QUERY, ZONE, "xml", tmp_path / "x.xml")


def test_outputs_are_checked_without_being_opened(tmp_path: Path) -> None:
    assert check_output(None).path is None and check_output("-").path is None
    assert check_output(tmp_path / "new.csv").atomic
    with pytest.raises(ExportRefused, match="directory"):
        check_output(tmp_path)
    with pytest.raises(ExportRefused, match="does not exist"):
        check_output(tmp_path / "gone" / "x.csv")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    streamed = check_output(fifo)  # the command line streams into it
    assert streamed.path is not None and not streamed.atomic
    with pytest.raises(ExportRefused, match="FIFO or a device"):
        check_output(fifo, streams=False)  # the dialog's thread must never wait on a reader
    sock_path = f"/tmp/roamtui-job-sock-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(sock_path)
        with pytest.raises(ExportRefused, match="socket"):
            check_output(sock_path)
    finally:
        sock.close()
        os.unlink(sock_path)


def test_provenance_names_the_source_without_user_info_or_query(tmp_path: Path) -> None:
    job = ExportJob.plan(QUERY, ZONE, "csv", tmp_path / "x.csv", connection=CONN)
    meta = job.provenance(Fetched(messages(2), pages=1, calls=2, complete=True), T0 + 7200)
    assert meta.source == "https://console.tim.qq.com/ · SDKAppID 1400000000 · admin admin"
    assert (meta.account, meta.peer, meta.pages, meta.calls, meta.complete) == (
        "cust_1", "agent_2", 1, 2, True)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder (tmp_path also holds the isolated home of conftest)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def test_the_digest_is_the_files_bytes(out: Path) -> None:
    target = out / "out.txt"
    job = ExportJob.plan(QUERY, ZONE, "txt", target)
    fetched = Fetched(messages(3), pages=1, calls=1, complete=True)
    written = job.write(fetched.messages, job.provenance(fetched, T0))
    data = target.read_bytes()
    assert written.messages == 3 and written.size == len(data)
    assert written.sha256 == hashlib.sha256(data).hexdigest()
    assert sorted(p.name for p in out.iterdir()) == ["out.txt"]


def test_a_stream_is_written_when_no_path_was_planned() -> None:
    job = ExportJob.plan(QUERY, ZONE, "jsonl", None)
    out = io.StringIO()
    digest = Digest()
    fetched = Fetched(messages(2), pages=1, calls=1, complete=True)
    job.write(fetched.messages, job.provenance(fetched, T0), stream=out, digest=digest)
    assert out.getvalue().count("\n") == 2 and digest.size == len(out.getvalue().encode())


def test_a_stop_leaves_no_file_and_the_old_one_alone(out: Path) -> None:
    target = out / "out.jsonl"
    target.write_text("keep\n")
    job = ExportJob.plan(QUERY, ZONE, "jsonl", target)
    stop = threading.Event()
    many = messages(3 * STOP_CHECK_EVERY)

    def stopping() -> Iterable[Message]:
        for i, m in enumerate(many):
            if i == STOP_CHECK_EVERY + 1:
                stop.set()
            yield m

    fetched = Fetched(many, pages=1, calls=1, complete=True)
    with pytest.raises(Stopped):
        job.write(stopping(), job.provenance(fetched, T0), stop=stop)
    assert target.read_text() == "keep\n" and [p.name for p in out.iterdir()] == ["out.jsonl"]


def test_commit_is_announced_before_the_rename(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    seen: list[bool] = []
    job = ExportJob.plan(QUERY, ZONE, "csv", target)
    fetched = Fetched(messages(1), pages=1, calls=1, complete=True)
    job.write(fetched.messages, job.provenance(fetched, T0), on_commit=lambda: seen.append(
        target.exists()))
    assert seen == [False] and target.exists()


class _Timeline:
    """What the job reads of a history.Timeline."""

    def __init__(self, held: list[Message], rest: list[Message]) -> None:
        self.held, self.rest = held, rest
        self.calls = 3
        # The shared client also counts the other side's calls (`p`): not this window's.
        self.client = type("C", (), {"calls_started": 5})()

    @property
    def complete(self) -> bool:
        return not self.rest

    def messages(self) -> Iterable[Message]:
        return iter(self.held)

    async def load_all(self, progress: Callable[..., None] | None = None) -> object:
        self.held, self.rest = self.held + self.rest, []
        self.calls += 1
        return None


async def test_from_a_timeline_whole_or_marked_partial() -> None:
    all_of = messages(4)
    job = ExportJob.plan(QUERY, ZONE, "jsonl", None)
    partial = await job.from_timeline(_Timeline(all_of[:2], all_of[2:]), load_rest=False)
    assert (len(partial.messages), partial.complete, partial.note) == (2, False, PARTIAL_NOTE)
    assert (partial.pages, partial.calls) == (3, 3)  # as the status bar counts them
    whole = await job.from_timeline(_Timeline(all_of[:2], all_of[2:]), load_rest=True)
    assert (len(whole.messages), whole.complete, whole.note) == (4, True, "")


async def test_fetch_reads_the_whole_window_from_the_service() -> None:
    objs = [message_obj(sender="cust_1", receiver="agent_2", time=T0 + i, text=f"m{i}",
                        seq=i, random=i) for i in range(250)]
    service = SandboxService(ListStore({("cust_1", "agent_2"): objs}), sdkappid=DEMO_SDKAPPID,
                             secret_key=DEMO_SECRET_KEY, admins=(DEMO_ADMIN,))
    conn = Connection("http://127.0.0.1:9", DEMO_SDKAPPID, DEMO_ADMIN, secret_key=DEMO_SECRET_KEY)
    job = ExportJob.plan(QUERY, ZONE, "jsonl", None, connection=conn)
    seen: list[Any] = []
    async with ImClient(conn, max_rps=200, transport=service.mock_transport()) as client:
        fetched = await job.fetch(client, seen.append)
    assert [m.key for m in fetched.messages] == [o["MsgKey"] for o in objs]
    assert fetched.complete and fetched.calls >= fetched.pages >= 3 and seen

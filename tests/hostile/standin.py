"""A hostile stand-in of `admin_getroammsg`, and a runner for the real `roamtui export` against it.

The stand-in is a real TCP server on 127.0.0.1 (asyncio, in a background thread) that speaks
HTTP/1.1 by hand, so that it can misbehave at the byte level: trickle a body or the headers,
say nothing, stream 150 MB, answer JSON nested 100,000 deep. Its protocol answers (UserSig
check, paging, continuation, 13 KB cap) come from the sandbox's `SandboxService` over messages
the test made, so a fetch that survives the misbehaviour can be compared with what it holds.
Every request is counted with its arrival time, so tests can bound calls and rate.

`run_export` runs `python -m roamtui export …` as a subprocess with a private HOME, config and
keyring, and reports its exit status, output, duration and peak RSS (the child's own VmHWM,
read from /proc while it runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from clikit import REPO, isolated_env

from roamtui.sandbox import ROAM_PATH, ListStore, SandboxService

SECRET = "hostile-stand-in-secret-key-0123456789abcdef"
SDKAPPID = 1400000123
ADMIN = "admin"
ACCOUNT, PEER = "cust_7", "agent_3"
USERSIG_LIKE = re.compile(r"e[AFJN][A-Za-z0-9*_+/=-]{100,}")

Mode = Literal[
    "ok",
    "trickle-body",
    "trickle-headers",
    "silent",
    "same-second",
    "lying-cursor",
    "huge-length",
    "huge-chunked",
    "deep-json",
    "quota",
    "retry-after",
]

_JSON = "application/json; charset=utf-8"
_REASONS = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 400: "Bad Request"}


def make_messages(count: int, start: int, seconds: int, seed: int = 1) -> list[dict[str, Any]]:
    """``count`` text messages between ACCOUNT and PEER in ``[start, start + seconds)``.

    Times are drawn with bursts (several messages in one second, more than a page at times), in
    service order; every MsgKey is unique.
    """
    rng = random.Random(seed)
    times = sorted(start + rng.randrange(seconds) for _ in range(count))
    out = []
    for i, t in enumerate(times):
        sender, receiver = (ACCOUNT, PEER) if rng.random() < 0.5 else (PEER, ACCOUNT)
        seq, rand = 1000 + i, rng.getrandbits(32)
        out.append(
            {
                "From_Account": sender,
                "To_Account": receiver,
                "MsgSeq": seq,
                "MsgRandom": rand,
                "MsgTimeStamp": t,
                "MsgFlagBits": 8 if i % 23 == 5 else 0,
                "IsPeerRead": i % 2,
                "MsgKey": f"{seq}_{rand}_{t}",
                "MsgBody": [
                    {
                        "MsgType": "TIMTextElem",
                        "MsgContent": {
                            "Text": f"message {i}: " + "lorem ipsum " * rng.randrange(1, 12)
                        },
                    }
                ],
                "CloudCustomData": "",
            }
        )
    return out


@dataclass(slots=True)
class Call:
    """One request the stand-in read whole."""

    arrived: float  # time.monotonic()
    body: dict[str, Any] | None
    status: int = 0
    code: int | None = None  # ErrorCode answered, when the reply was JSON
    answered: float | None = None  # when the reply (or its head) was sent


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class StandIn:
    """The hostile service in one ``mode``; ``with StandIn(mode, messages) as s: s.endpoint``."""

    def __init__(
        self,
        mode: Mode,
        messages: Sequence[dict[str, Any]] = (),
        *,
        trickle_every: float = 2.0,
        huge_bytes: int = 150 * 1024 * 1024,
        deep: int = 100_000,
        quota: int = 30,
        retry_after: int = 2,
        chain_page: int = 10,
    ) -> None:
        self.mode = mode
        self.messages = list(messages)
        self.service = SandboxService(
            ListStore({(ACCOUNT, PEER): self.messages}, accounts=(ACCOUNT, PEER)),
            sdkappid=SDKAPPID,
            secret_key=SECRET,
            admins=(ADMIN,),
            rate_limit=None,
        )
        self.trickle_every = trickle_every
        self.huge_bytes = huge_bytes
        self.deep = deep
        self.quota = quota
        self.retry_after = retry_after
        self.chain_page = chain_page
        self.calls: list[Call] = []
        self.bytes_sent = 0
        self._lock = threading.Lock()
        self._accepted: deque[float] = deque()
        self._chain_serial = 0
        self._lied = False
        self._refused_once = False
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> StandIn:
        self._thread = threading.Thread(target=self._main, name=f"standin-{self.mode}", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the stand-in did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(15)

    def _main(self) -> None:
        asyncio.run(self._serve_forever())

    async def _serve_forever(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0, limit=1 << 16)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.wait_closed()

    # -- statistics -----------------------------------------------------------------------------

    def arrivals(self) -> list[float]:
        with self._lock:
            return [c.arrived for c in self.calls]

    def max_in_one_second(self) -> int:
        """The most requests that arrived within any one second (a sliding window)."""
        times = self.arrivals()
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= 1.0:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def codes(self) -> dict[int, int]:
        out: dict[int, int] = {}
        with self._lock:
            for c in self.calls:
                if c.code is not None:
                    out[c.code] = out.get(c.code, 0) + 1
        return out

    # -- HTTP by hand ----------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                call = self._record(request)
                if not await self._answer(call, request, reader, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _record(self, request: _Request) -> Call:
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            body = None
        call = Call(time.monotonic(), body if isinstance(body, dict) else None)
        with self._lock:
            self.calls.append(call)
        return call

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        call: Call,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
    ) -> bool:
        fields = {"Content-Type": _JSON, **(headers or {}), "Content-Length": str(len(body))}
        head = _head(status, fields)
        writer.write(head + body)
        await writer.drain()
        call.status, call.answered = status, time.monotonic()
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            doc = json.loads(body)
            if isinstance(doc, dict) and isinstance(doc.get("ErrorCode"), int):
                call.code = doc["ErrorCode"]
        self.bytes_sent += len(head) + len(body)
        return True

    def _protocol(self, request: _Request) -> tuple[int, bytes]:
        reply = self.service.handle(request.method, request.path, request.query, request.body)
        return reply.status, reply.body

    async def _answer(
        self,
        call: Call,
        request: _Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answer one request as the mode says; False closes the connection."""
        mode = self.mode
        if mode == "silent":
            await _until_gone(reader, self._stop)
            return False
        if mode == "trickle-headers":
            return await self._trickle_headers(call, reader, writer)
        if mode == "trickle-body":
            status, body = self._protocol(request)
            return await self._trickle_body(call, status, body, reader, writer)
        if mode in ("huge-length", "huge-chunked"):
            return await self._huge(call, writer, chunked=mode == "huge-chunked")
        if mode == "deep-json":
            return await self._send(writer, call, 200, b"[" * self.deep)
        if mode == "same-second":
            return await self._send(writer, call, 200, self._same_second_page(call.body or {}))
        if mode == "quota" and not self._take_quota():
            body = _fail(60007, "REST API call frequency limit exceeded, please retry later")
            return await self._send(writer, call, 200, body)
        if mode == "retry-after" and not self._refused_once:
            self._refused_once = True
            page = b"<html><body><h1>429 Too Many Requests</h1></body></html>"
            headers = {"Content-Type": "text/html", "Retry-After": str(self.retry_after)}
            return await self._send(writer, call, 429, page, headers)
        status, body = self._protocol(request)
        if mode == "lying-cursor" and not self._lied:
            body = self._lie(body)
        return await self._send(writer, call, status, body)

    async def _trickle_body(
        self,
        call: Call,
        status: int,
        body: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        writer.write(_head(status, {"Content-Type": _JSON, "Content-Length": str(len(body))}))
        await writer.drain()
        call.status, call.answered = status, time.monotonic()
        gone = asyncio.ensure_future(_until_gone(reader, self._stop))
        try:
            for i in range(len(body)):
                writer.write(body[i : i + 1])
                await writer.drain()
                self.bytes_sent += 1
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(gone), self.trickle_every)
                if gone.done():
                    return False
            return True
        finally:
            gone.cancel()

    async def _trickle_headers(
        self, call: Call, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        await writer.drain()
        call.status, call.answered = 200, time.monotonic()
        gone = asyncio.ensure_future(_until_gone(reader, self._stop))
        try:
            n = 0
            while not gone.done():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(gone), self.trickle_every)
                n += 1
                writer.write(f"X-Trickle-{n}: {n}\r\n".encode())
                await writer.drain()
            return False
        finally:
            gone.cancel()

    async def _huge(self, call: Call, writer: asyncio.StreamWriter, *, chunked: bool) -> bool:
        """A well-formed, complete page whose one message is ~150 MB: only its size is wrong."""
        t = int((call.body or {}).get("MinTime", 0))
        prefix = (
            b'{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"Complete":1,"MsgCnt":1,'
            b'"LastMsgTime":%d,"LastMsgKey":"1_1_%d","MsgList":[{"From_Account":"%s",'
            b'"To_Account":"%s","MsgSeq":1,"MsgRandom":1,"MsgTimeStamp":%d,"MsgFlagBits":0,'
            b'"MsgKey":"1_1_%d","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"'
        ) % (t, t, ACCOUNT.encode(), PEER.encode(), t, t)
        suffix = b'"}}]}]}'
        pad = self.huge_bytes - len(prefix) - len(suffix)
        headers = {"Content-Type": _JSON}
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Content-Length"] = str(self.huge_bytes)
        writer.write(_head(200, headers))
        call.status, call.answered = 200, time.monotonic()
        block = b"x" * (1 << 20)
        pieces = [prefix]
        while pad > 0:
            pieces.append(block[: min(pad, len(block))])
            pad -= len(pieces[-1])
        pieces.append(suffix)
        for piece in pieces:
            data = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
            writer.write(data)
            await writer.drain()  # raises once the client hangs up
            self.bytes_sent += len(data)
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        return True

    def _same_second_page(self, body: dict[str, Any]) -> bytes:
        """Complete 0 forever: fresh messages and a fresh cursor, all in the slice's top second."""
        top = int(body.get("MaxTime", 0))
        msgs = []
        with self._lock:
            for _ in range(self.chain_page):
                self._chain_serial += 1
                serial = self._chain_serial
                msgs.append(
                    {
                        "From_Account": ACCOUNT,
                        "To_Account": PEER,
                        "MsgSeq": serial,
                        "MsgRandom": serial * 7919,
                        "MsgTimeStamp": top,
                        "MsgFlagBits": 0,
                        "IsPeerRead": 0,
                        "MsgKey": f"{serial}_{serial * 7919}_{top}",
                        "MsgBody": [
                            {"MsgType": "TIMTextElem", "MsgContent": {"Text": f"again {serial}"}}
                        ],
                    }
                )
        doc = {
            "ActionStatus": "OK",
            "ErrorInfo": "",
            "ErrorCode": 0,
            "Complete": 0,
            "MsgCnt": len(msgs),
            "LastMsgTime": top,
            "LastMsgKey": msgs[0]["MsgKey"],  # a consistent cursor: the page's oldest
            "MsgList": msgs,
        }
        return json.dumps(doc, separators=(",", ":")).encode()

    def _lie(self, body: bytes) -> bytes:
        """The first page's cursor, moved to a message ~100 older than the page's oldest."""
        doc = json.loads(body)
        page = doc.get("MsgList") or []
        if doc.get("Complete") != 0 or not page:
            return body
        keys = [m["MsgKey"] for m in self.messages]
        oldest = keys.index(page[0]["MsgKey"])
        liar = self.messages[max(0, oldest - 101)]
        doc["LastMsgTime"], doc["LastMsgKey"] = liar["MsgTimeStamp"], liar["MsgKey"]
        self._lied = True
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()

    def _take_quota(self) -> bool:
        """At most ``quota`` accepted calls in any sliding second, as the app's shared quota."""
        now = time.monotonic()
        with self._lock:
            while self._accepted and now - self._accepted[0] >= 1.0:
                self._accepted.popleft()
            if len(self._accepted) >= self.quota:
                return False
            self._accepted.append(now)
            return True


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _fail(code: int, info: str) -> bytes:
    return json.dumps({"ActionStatus": "FAIL", "ErrorInfo": info, "ErrorCode": code}).encode()


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    url = urlsplit(target)
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    return _Request(method, url.path or ROAM_PATH, query, headers, body)


async def _until_gone(reader: asyncio.StreamReader, stop: asyncio.Event | None) -> None:
    """Returns when the client hangs up (or the stand-in stops)."""
    stopping = asyncio.ensure_future(stop.wait()) if stop is not None else None
    try:
        while True:
            read = asyncio.ensure_future(reader.read(4096))
            waiting = {read} if stopping is None else {read, stopping}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if read not in done:
                read.cancel()
                return
            try:
                data = read.result()
            except ConnectionError:
                return
            if not data:
                return
    finally:
        if stopping is not None:
            stopping.cancel()


# -- the real command line --------------------------------------------------------------------


@dataclass
class Outcome:
    code: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float
    output: Path
    files_left: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()


def child_env(home: Path) -> dict[str, str]:
    """A private HOME, config, XDG dirs and a failing keyring: nothing of the user's is touched."""
    return isolated_env(home, ROAMTUI_SECRET_KEY=SECRET)


#: The child may use at most this much address space, so that a client without a reply-size
#: cap fails (MemoryError) instead of exhausting the test machine.
CHILD_ADDRESS_SPACE = 4 * 1024**3


def run_export(
    endpoint: str,
    workdir: Path,
    since: int,
    until: int,
    *,
    max_rps: int = 50,
    extra: Sequence[str] = (),
    timeout: float = 90.0,
) -> Outcome:
    """Run `roamtui export … -o OUT` against ``endpoint`` as a subprocess; kill at ``timeout``."""
    outdir = workdir / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    output = outdir / "conv.jsonl"
    command = [
        sys.executable, "-m", "roamtui", "export", ACCOUNT, PEER,
        f"--since=@{since}", f"--until=@{until}", "--tz", "UTC",
        "--endpoint", endpoint, "--sdkappid", str(SDKAPPID), "--identifier", ADMIN,
        "--max-rps", str(max_rps), "-o", str(output), *extra,
    ]  # fmt: skip
    out_path, err_path = workdir / "stdout.txt", workdir / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            command,
            cwd=REPO,
            env=child_env(workdir / "home"),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        # Set from outside (no preexec_fn: the tests run several children from threads); the
        # child spends far longer importing than this takes.
        if hasattr(resource, "prlimit"):
            limit = (CHILD_ADDRESS_SPACE, CHILD_ADDRESS_SPACE)
            with contextlib.suppress(OSError):
                resource.prlimit(proc.pid, resource.RLIMIT_AS, limit)
        status, peak_mb = _wait(proc.pid, started + timeout)
        seconds = time.monotonic() - started
    proc.returncode = status if status is not None else -signal.SIGKILL
    return Outcome(
        code=status,
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
        seconds=seconds,
        max_rss_mb=peak_mb,
        output=output,
        files_left=sorted(p.name for p in outdir.iterdir()),
    )


def _wait(pid: int, deadline: float) -> tuple[int | None, float]:
    """Wait for the child, killing it at the deadline (status None); also its peak RSS in MiB.

    The peak is the child's own ``VmHWM``, read while it runs: ``ru_maxrss`` from wait4 would
    not do, as Linux carries the parent's high-water mark across fork and exec into it.
    """
    peak_kib = 0
    while True:
        peak_kib = max(peak_kib, _vm_hwm_kib(pid))
        done, status, _ = os.wait4(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), peak_kib / 1024
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            return None, peak_kib / 1024
        time.sleep(0.02)


def _vm_hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


# -- the report ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    test: str
    mode: str
    code: int | None
    seconds: float
    calls: int
    per_second: int
    rss_mb: float
    line: str


ROWS: list[Row] = []


def record(test: str, standin: StandIn, outcome: Outcome) -> None:
    """Keep one run for the summary table."""
    last = outcome.lines[-1] if outcome.lines else ""
    ROWS.append(
        Row(
            test,
            standin.mode,
            outcome.code,
            outcome.seconds,
            len(standin.calls),
            standin.max_in_one_second(),
            outcome.max_rss_mb,
            last[:150],
        )
    )



# -- what every test asserts ------------------------------------------------------------------


def assert_no_secret(outcome: Outcome) -> None:
    for text in (outcome.stdout, outcome.stderr):
        assert SECRET not in text
        assert USERSIG_LIKE.search(text) is None
        assert "usersig=" not in text.lower()


def failure_line(outcome: Outcome) -> str:
    """The one line of a clean failure: bounded, exit 1, no traceback, no secret, no file."""
    assert outcome.code is not None, (
        f"no bounded end: killed after {outcome.seconds:.0f} s; stderr: {outcome.stderr[-400:]!r}"
    )
    assert outcome.code == 1, f"exit {outcome.code}; stderr: {outcome.stderr[-600:]!r}"
    assert "Traceback" not in outcome.stderr, outcome.stderr[-2000:]
    assert len(outcome.lines) == 1, f"not one line: {outcome.stderr[-1500:]!r}"
    line = outcome.lines[0]
    assert line.startswith("roamtui export: "), line
    assert_no_secret(outcome)
    assert outcome.stdout == ""
    assert outcome.files_left == [], f"left behind: {outcome.files_left}"
    return line


def assert_exact_export(outcome: Outcome, messages: Sequence[dict[str, Any]]) -> None:
    """Exit 0 and the file holds exactly the stand-in's messages, in order."""
    assert outcome.code is not None, (
        f"no bounded end: killed after {outcome.seconds:.0f} s; stderr: {outcome.stderr[-400:]!r}"
    )
    assert outcome.code == 0, f"exit {outcome.code}; stderr: {outcome.stderr[-800:]!r}"
    assert "Traceback" not in outcome.stderr
    assert_no_secret(outcome)
    assert outcome.files_left == [outcome.output.name], outcome.files_left
    got = [json.loads(line) for line in outcome.output.read_text(encoding="utf-8").splitlines()]
    assert len(got) == len(messages)
    assert [m["MsgKey"] for m in got] == [m["MsgKey"] for m in messages]
    assert got == list(messages)

"""The sandbox over a real socket on 127.0.0.1, and `roamtui sandbox` (serve.run)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest
from sandboxkit import SEED_MAX, SEED_MIN, seed_store

from roamtui.sandbox import (
    DEMO_ADMIN,
    DEMO_SDKAPPID,
    DEMO_SECRET_KEY,
    ROAM_PATH,
    Dataset,
    Fault,
    SandboxServer,
    SandboxService,
    demo_connection,
)
from roamtui.sandbox.serve import run

BODY = {
    "From_Account": "user2",
    "To_Account": "user1",
    "MaxCnt": 100,
    "MinTime": SEED_MIN,
    "MaxTime": SEED_MAX,
}


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxService(seed_store())) as running:
        yield running


def test_post_over_a_socket_gets_the_page(server: SandboxServer) -> None:
    assert server.endpoint.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=server.endpoint) as client:
        replies = [
            client.post(ROAM_PATH, params=server.service.make_query(), json=BODY) for _ in range(5)
        ]
    for reply in replies:
        assert reply.status_code == 200
        assert reply.headers["Content-Length"] == str(len(reply.content))
        assert reply.json()["MsgCnt"] == 17
    assert server.service.stats().ok == 5


def test_web_server_answers_for_wrong_path_and_method(server: SandboxServer) -> None:
    with httpx.Client(base_url=server.endpoint) as client:
        missing = client.post("/v4/openim/nope", params=server.service.make_query(), json=BODY)
        get = client.get(ROAM_PATH, params=server.service.make_query())
        head = client.head(ROAM_PATH)
    assert missing.status_code == 404
    assert (get.status_code, get.headers["Allow"]) == (405, "POST")
    assert head.status_code == 405 and head.content == b""


def test_error_answers_are_http_200(server: SandboxServer) -> None:
    query = {**server.service.make_query(), "usersig": "garbage"}
    with httpx.Client(base_url=server.endpoint) as client:
        reply = client.post(ROAM_PATH, params=query, content=b"{}")
    assert reply.status_code == 200 and reply.json()["ErrorCode"] == 70003


def test_chunked_request_body_is_read() -> None:
    with SandboxServer(SandboxService(seed_store())) as running, httpx.Client() as client:
        chunks = iter([json.dumps(BODY).encode()[:20], json.dumps(BODY).encode()[20:]])
        reply = client.post(
            running.endpoint + ROAM_PATH, params=running.service.make_query(), content=chunks
        )
    assert reply.json()["MsgCnt"] == 17


def test_server_injects_502_from_its_gateway() -> None:
    service = SandboxService(seed_store(), fault_rate=1.0)
    service.faults.faults = (Fault.HTTP_502,)
    with SandboxServer(service) as running, httpx.Client() as client:
        reply = client.post(running.endpoint + ROAM_PATH, params=service.make_query(), json=BODY)
    assert reply.status_code == 502


def test_stop_ends_serving_even_with_a_reply_pending() -> None:
    service = SandboxService(seed_store(), fault_rate=1.0, slow_reply_s=300.0)
    service.faults.faults = (Fault.SLOW,)
    running = SandboxServer(service)
    endpoint = running.start()
    failures: list[BaseException] = []

    def call() -> None:
        try:
            httpx.post(endpoint + ROAM_PATH, params=service.make_query(), json=BODY, timeout=600)
        except httpx.HTTPError as exc:
            failures.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while service.stats().calls == 0:
        threading.Event().wait(0.01)
    running.stop()
    caller.join()
    assert failures  # the pending call was dropped, not answered 300 s later
    with pytest.raises(httpx.ConnectError):
        httpx.post(endpoint + ROAM_PATH, json=BODY)


def test_store_with_options_as_in_the_architecture_doc() -> None:
    dataset = Dataset(seed=0, messages=50, end_time=1_700_000_000)
    with SandboxServer(dataset, latency_ms=0, rate_limit=200, admin="boss") as running:
        assert running.service.admins == {"boss"}
        conn = running.demo_connection()
        assert (conn.endpoint, conn.identifier) == (running.endpoint, "boss")
    with pytest.raises(TypeError):
        SandboxServer(SandboxService(dataset), latency_ms=5)


def test_demo_connection_has_the_demo_credentials() -> None:
    conn = demo_connection("http://127.0.0.1:1234")
    assert (conn.endpoint, conn.sdkappid, conn.identifier, conn.secret_key) == (
        "http://127.0.0.1:1234",
        DEMO_SDKAPPID,
        DEMO_ADMIN,
        DEMO_SECRET_KEY,
    )
    assert len(DEMO_SECRET_KEY) == 64 and int(DEMO_SECRET_KEY, 16) >= 0


class _Lines(io.StringIO):
    """Collects run()'s output and signals once the serving line is out."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = threading.Event()

    def flush(self) -> None:
        super().flush()
        if "serving:" in self.getvalue():
            self.ready.set()


def test_run_prints_key_value_lines_serves_and_stops_cleanly() -> None:
    out, err, stop = _Lines(), io.StringIO(), threading.Event()
    result: list[int] = []
    worker = threading.Thread(
        target=lambda: result.append(run(0, 300, 7, 0, 0.0, out, err=err, stop=stop))
    )
    worker.start()
    assert out.ready.wait(60)
    lines = [line.split(": ", 1) for line in out.getvalue().splitlines() if ": " in line]
    fields = dict(pair for pair in lines if pair[0] != "conversation")
    conversations = [value for key, value in lines if key == "conversation"]
    assert fields["sdkappid"] == str(DEMO_SDKAPPID) and fields["identifier"] == DEMO_ADMIN
    assert fields["secret_key"] == DEMO_SECRET_KEY and fields["messages"] == "300"
    assert len(conversations) >= 4
    customer, agent, count, first, last = conversations[0].split(" ")
    assert customer.startswith("cust_") and count.startswith("messages=")
    assert first.startswith("first=") and last.startswith("last=")
    service = SandboxService(seed_store())
    body = {
        "From_Account": customer,
        "To_Account": agent,
        "MaxCnt": 5,
        "MinTime": 0,
        "MaxTime": 2**32,
    }
    reply = httpx.post(fields["endpoint"] + ROAM_PATH, params=service.make_query(), json=body)
    assert reply.json()["MsgCnt"] == 5
    stop.set()
    worker.join()
    assert result == [0]


def test_run_reports_a_busy_port_without_a_traceback(server: SandboxServer) -> None:
    err = io.StringIO()
    assert run(server.port, 10, 0, 0, 0.0, io.StringIO(), err=err) == 1
    assert "cannot listen" in err.getvalue() and "Traceback" not in err.getvalue()


def test_run_rejects_bad_options() -> None:
    err = io.StringIO()
    assert run(0, 10, 0, 0, 1.5, io.StringIO(), err=err) == 2
    assert "--fault-rate" in err.getvalue()


def test_ctrl_c_exits_zero_without_a_traceback() -> None:
    # A runner may start the tests with SIGINT ignored (a background job of a shell), and the
    # child would inherit that: give it the default Ctrl+C, as a terminal does.
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from roamtui.sandbox.serve import run; sys.exit(run(0, 200, 1, 0, 0.0))"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    for line in proc.stdout:
        if line.startswith("serving:"):
            break
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr

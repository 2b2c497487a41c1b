"""ImClient over httpx.MockTransport: URL, signing, retries, re-signing, counters, redaction."""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from urllib.parse import quote

import httpx
import pytest
from imfakes import (
    ADMIN,
    API,
    ENDPOINT,
    READY_SIG,
    SDKAPPID,
    SECRET,
    FakeService,
    MakeClient,
    Reply,
    Sleeps,
    fail_reply,
    ok_reply,
    ready_conn,
    secret_conn,
)

from roamtui.im import usersig
from roamtui.im.client import (
    REGIONS,
    ClientEvent,
    Connection,
    ImClient,
    endpoint_for,
)
from roamtui.im.errors import (
    ERRORS,
    Action,
    ProtocolError,
    RoamError,
    ServiceError,
    TransportError,
)
from roamtui.im.limiter import Grant, RateLimiter
from roamtui.im.reply import RATE_LIMIT_CODES

BODY = {"From_Account": "user2", "To_Account": "user1", "MaxCnt": 100, "MinTime": 1, "MaxTime": 2}


# --- regions and connection -------------------------------------------------------------------


def test_regions_and_endpoints() -> None:
    assert endpoint_for(None, None) == "https://console.tim.qq.com"
    assert set(REGIONS) == {
        "mainland", "singapore", "seoul", "tokyo", "frankfurt", "silicon-valley", "jakarta",
        "mumbai",
    }  # fmt: skip
    assert endpoint_for("Singapore", None) == "https://adminapisgp.im.qcloud.com"
    assert endpoint_for("silicon_valley", None) == "https://adminapiusa.im.qcloud.com"
    assert all(url.startswith("https://") for url in REGIONS.values())
    assert endpoint_for("seoul", "http://127.0.0.1:8080/") == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("region", "endpoint", "message"),
    [
        ("atlantis", None, "choose one of: mainland, singapore"),
        (None, "console.tim.qq.com", "http"),
        (None, "ftp://x.example", "http"),
        (None, "https://x.example/?usersig=1", "query"),
    ],
)
def test_bad_region_or_endpoint_is_refused(
    region: str | None, endpoint: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        endpoint_for(region, endpoint)


def test_connection_repr_hides_secrets() -> None:
    for conn in (secret_conn(usersig=READY_SIG), ready_conn()):
        for text in (repr(conn), str(conn)):
            assert SECRET not in text and READY_SIG not in text
            assert ENDPOINT in text and ADMIN in text and str(SDKAPPID) in text
    assert "secret_key=***" in repr(secret_conn())
    assert "usersig=None" in repr(secret_conn())


def test_a_client_needs_a_secret_or_a_usersig() -> None:
    with pytest.raises(RoamError, match="ROAMTUI_SECRET_KEY"):
        ImClient(Connection(ENDPOINT, SDKAPPID, ADMIN))


# --- the request ------------------------------------------------------------------------------


async def test_request_url_query_and_body(make_client: MakeClient) -> None:
    service = FakeService(ok_reply(MsgCnt=0))
    client = make_client(service)
    reply = await client.call(API, BODY)
    await client.call(API, BODY)

    assert reply["ActionStatus"] == "OK" and reply["MsgCnt"] == 0
    request = service.requests[0]
    assert request.method == "POST"
    assert str(request.url).startswith(f"{ENDPOINT}/{API}?sdkappid=")
    query = service.query(0)
    assert list(query) == ["sdkappid", "identifier", "usersig", "random", "contenttype"]
    assert query["sdkappid"] == str(SDKAPPID)
    assert query["identifier"] == ADMIN
    assert query["contenttype"] == "json"
    assert 0 <= int(query["random"]) <= 2**32 - 1
    assert query["random"] != service.query(1)["random"]
    assert service.body(0) == BODY
    assert request.headers["content-type"].startswith("application/json")


async def test_signs_its_own_short_lived_usersig(make_client: MakeClient) -> None:
    service = FakeService()
    client = make_client(service)
    await client.call(API, BODY)
    await client.call(API, BODY)
    sig = service.sigs[0]
    claims = usersig.verify(sig, SDKAPPID, SECRET, ADMIN)
    assert claims.expire == 3600
    assert service.sigs[1] == sig  # reused while it is fresh


async def test_renews_the_usersig_before_it_expires(make_client: MakeClient) -> None:
    now = [1_700_000_000.0]
    service = FakeService()
    client = make_client(service, clock=lambda: now[0])
    await client.call(API, BODY)
    now[0] += 3600 - 299  # inside the renewal margin
    await client.call(API, BODY)
    first, second = (usersig.decode(s) for s in service.sigs)
    assert second.time > first.time
    usersig.verify(service.sigs[1], SDKAPPID, SECRET, ADMIN, now=int(now[0]) + 3000)


async def test_ready_usersig_is_sent_verbatim(make_client: MakeClient) -> None:
    service = FakeService()
    client = make_client(service, conn=ready_conn())
    await client.call(API, BODY)
    assert service.sigs == [READY_SIG]


async def test_every_attempt_goes_through_the_limiter(make_client: MakeClient) -> None:
    class Counting(RateLimiter):
        acquired = 0

        async def acquire(self) -> Grant:
            Counting.acquired += 1
            return await super().acquire()

    service = FakeService(fail_reply(91000), httpx.Response(502), ok_reply())
    client = make_client(service, limiter=Counting(200))
    await client.call(API, BODY)
    assert Counting.acquired == 3 == client.calls_started
    assert client.limiter.rate == 200


# --- actions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(set(ERRORS) - RATE_LIMIT_CODES))
async def test_each_code_gets_its_action(
    code: int, make_client: MakeClient, sleeps: Sleeps
) -> None:
    service = FakeService(fail_reply(code, "from the service"))
    client = make_client(service, max_retries=3)
    with pytest.raises(ServiceError) as info:
        await client.call(API, BODY)
    assert info.value.code == code
    action = ERRORS[code].action
    if action is Action.RETRY:
        assert len(service.requests) == 4 and len(sleeps) == 3
        assert "gave up after 4 attempts" in str(info.value)
    elif action is Action.RESIGN:
        assert len(service.requests) == 2 and sleeps == []
        assert service.sigs[0] != service.sigs[1]
        usersig.verify(service.sigs[1], SDKAPPID, SECRET, ADMIN)
    else:
        assert len(service.requests) == 1 and sleeps == []
    assert client.calls_in_flight == 0


async def test_retry_then_success_with_bounded_jittered_backoff(
    make_client: MakeClient, sleeps: Sleeps
) -> None:
    service = FakeService(fail_reply(91000), fail_reply(60007), fail_reply(70500), ok_reply())
    client = make_client(service, backoff_base=0.5, backoff_cap=1.5)
    reply = await client.call(API, BODY)
    assert reply["ErrorCode"] == 0
    assert client.retries == 3 and client.calls_started == 4
    assert len(sleeps) == 3
    for delay, ceiling in zip(sleeps, (0.5, 1.0, 1.5), strict=True):
        assert 0 <= delay <= ceiling


async def test_gives_up_after_max_retries_and_reports_the_last_error(
    make_client: MakeClient,
) -> None:
    service = FakeService(fail_reply(91000), fail_reply(60008), fail_reply(70500), ok_reply())
    client = make_client(service, max_retries=2)
    with pytest.raises(ServiceError) as info:
        await client.call(API, BODY)
    assert info.value.code == 70500
    assert len(service.requests) == 3
    assert "gave up after 3 attempts" in str(info.value)


async def test_resigns_once_on_70001_then_succeeds(make_client: MakeClient) -> None:
    service = FakeService(fail_reply(70001, "usersig expired"), ok_reply())
    client = make_client(service)
    assert (await client.call(API, BODY))["ActionStatus"] == "OK"
    assert len(service.requests) == 2
    assert service.sigs[0] != service.sigs[1]
    # The new signature is kept for later calls.
    await client.call(API, BODY)
    assert service.sigs[2] == service.sigs[1]


async def test_a_second_70001_stops(make_client: MakeClient) -> None:
    service = FakeService(fail_reply(70001), fail_reply(91000), fail_reply(70052), ok_reply())
    client = make_client(service)
    with pytest.raises(ServiceError) as info:
        await client.call(API, BODY)
    assert info.value.code == 70052
    assert len(service.requests) == 3
    assert "clock" in str(info.value)


async def test_concurrent_rejections_share_one_new_usersig(make_client: MakeClient) -> None:
    gate = asyncio.Event()
    arrived = asyncio.Semaphore(0)
    first_sig: list[str] = []

    async def expire_the_first_sig(request: httpx.Request) -> httpx.Response:
        sig = request.url.params["usersig"]
        first_sig[:] = first_sig or [sig]
        if sig == first_sig[0]:
            arrived.release()
            await gate.wait()  # hold all four until each has been sent with the old sig
            return fail_reply(70001)
        return ok_reply()

    service = FakeService(expire_the_first_sig)  # type: ignore[arg-type]
    client = make_client(service)
    calls = [asyncio.create_task(client.call(API, BODY)) for _ in range(4)]
    for _ in range(4):
        await arrived.acquire()
    gate.set()
    await asyncio.gather(*calls)
    assert len(service.requests) == 8
    assert len(set(service.sigs[4:])) == 1 and service.sigs[4] != first_sig[0]


async def test_a_ready_usersig_cannot_be_resigned(make_client: MakeClient) -> None:
    service = FakeService(fail_reply(70001), ok_reply())
    client = make_client(service, conn=ready_conn())
    with pytest.raises(ServiceError) as info:
        await client.call(API, BODY)
    assert len(service.requests) == 1
    assert str(info.value).startswith("70001 UserSig expired — ")
    assert "get a new one" in str(info.value)


async def test_70050_stops_at_once(make_client: MakeClient, sleeps: Sleeps) -> None:
    service = FakeService(fail_reply(70050), ok_reply())
    client = make_client(service)
    with pytest.raises(ServiceError, match="wait at least one minute"):
        await client.call(API, BODY)
    assert len(service.requests) == 1 and sleeps == []


# --- transport failures -----------------------------------------------------------------------

TRANSIENT: dict[str, Reply] = {
    "502": httpx.Response(502, text="<html>Bad Gateway</html>"),
    "503": httpx.Response(503),
    "timeout": httpx.ReadTimeout("timed out"),
    "connect": httpx.ConnectError("connection refused"),
    "reset": httpx.ReadError("connection reset by peer"),
    "garbage": httpx.Response(200, content=b"<html>proxy error</html>"),
    "truncated": httpx.Response(200, content=b'{"ActionStatus":"OK","ErrorCode":0,"MsgL'),
    "not-utf8": httpx.Response(200, content=b"\xff\xfe{}"),
    "not-object": httpx.Response(200, json=[1, 2, 3]),
}


@pytest.mark.parametrize("kind", sorted(TRANSIENT))
async def test_transient_failures_are_retried_then_reported(
    kind: str, make_client: MakeClient, sleeps: Sleeps
) -> None:
    service = FakeService(TRANSIENT[kind])
    client = make_client(service, max_retries=2)
    with pytest.raises(TransportError) as info:
        await client.call(API, BODY)
    assert len(service.requests) == 3 and len(sleeps) == 2
    assert "gave up after 3 attempts" in str(info.value)
    assert client.calls_in_flight == 0


@pytest.mark.parametrize("kind", sorted(TRANSIENT))
async def test_transient_failure_then_success(kind: str, make_client: MakeClient) -> None:
    service = FakeService(TRANSIENT[kind], ok_reply(MsgCnt=7))
    client = make_client(service)
    assert (await client.call(API, BODY))["MsgCnt"] == 7
    assert client.retries == 1


async def test_what_each_transport_failure_says(make_client: MakeClient) -> None:
    texts = {}
    for kind in ("502", "timeout", "connect", "truncated"):
        client = make_client(FakeService(TRANSIENT[kind]), max_retries=0)
        with pytest.raises(TransportError) as info:
            await client.call(API, BODY)
        texts[kind] = str(info.value)
    assert texts["502"].startswith("HTTP 502 Bad Gateway")
    assert texts["timeout"] == "no complete reply within 10s"
    assert texts["connect"] == "connection failed (ConnectError: connection refused)"
    assert texts["truncated"].startswith("unreadable reply")


async def test_client_errors_other_than_429_are_not_retried(make_client: MakeClient) -> None:
    service = FakeService(httpx.Response(404))
    client = make_client(service)
    with pytest.raises(TransportError, match="HTTP 404 Not Found: check the endpoint URL"):
        await client.call(API, BODY)
    assert len(service.requests) == 1


@pytest.mark.parametrize(
    "reply",
    [
        {"ActionStatus": "FAIL", "ErrorCode": "seventy"},
        {"ActionStatus": "FAIL", "ErrorCode": 0, "ErrorInfo": "?"},
        {"ActionStatus": "FAIL", "ErrorCode": None},
    ],
)
async def test_replies_that_break_the_protocol_stop(reply: object, make_client: MakeClient) -> None:
    service = FakeService(httpx.Response(200, json=reply))
    client = make_client(service)
    with pytest.raises(ProtocolError):
        await client.call(API, BODY)
    assert len(service.requests) == 1


async def test_error_code_given_as_a_string_is_understood(make_client: MakeClient) -> None:
    service = FakeService(httpx.Response(200, json={"ActionStatus": "FAIL", "ErrorCode": "90009"}))
    with pytest.raises(ServiceError) as info:
        await make_client(service).call(API, BODY)
    assert info.value.code == 90009


# --- counters and events ----------------------------------------------------------------------


async def test_counters_track_calls_in_flight(make_client: MakeClient) -> None:
    arrived = asyncio.Semaphore(0)
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        arrived.release()
        await release.wait()
        return ok_reply()

    service = FakeService(slow)  # type: ignore[arg-type]
    client = make_client(service)
    calls = [asyncio.create_task(client.call(API, BODY)) for _ in range(3)]
    for _ in range(3):
        await arrived.acquire()
    assert client.calls_in_flight == 3 and client.calls_started == 3
    release.set()
    await asyncio.gather(*calls)
    assert client.calls_in_flight == 0 and client.calls_started == 3 and client.retries == 0


async def test_events_tell_about_retries_resigns_and_failures(make_client: MakeClient) -> None:
    events: list[ClientEvent] = []
    service = FakeService(fail_reply(70001), httpx.Response(503), fail_reply(90008, "no such"))
    client = make_client(service, on_event=events.append)
    with pytest.raises(ServiceError):
        await client.call(API, BODY)
    assert [(e.kind, e.attempt) for e in events] == [("resign", 1), ("retry", 2), ("failed", 3)]
    assert events[1].detail.startswith("HTTP 503 Service Unavailable")
    assert events[2].detail.startswith("90008 ")


# --- redaction --------------------------------------------------------------------------------


def _echo_url_error(request: httpx.Request) -> httpx.Response:
    # httpx's own errors often quote the URL, which holds the UserSig.
    raise httpx.ConnectError(f"cannot reach {request.url}", request=request)


def _echo_sig_info(request: httpx.Request) -> httpx.Response:
    sig = request.url.params["usersig"]
    return fail_reply(70009, f"UserSig verification failed: {sig} (key {SECRET})")


def _echo_sig_garbage(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=f"<html>{request.url}</html>".encode())


def _echo_sig_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout(f"timed out: {request.url}", request=request)


def _echo_sig_502(request: httpx.Request) -> httpx.Response:
    return httpx.Response(502, text=str(request.url), extensions={"reason_phrase": b"Bad Gateway"})


FAILURES = {
    "connect": _echo_url_error,
    "service": _echo_sig_info,
    "garbage": _echo_sig_garbage,
    "timeout": _echo_sig_timeout,
    "http": _echo_sig_502,
    "ready-sig-expired": lambda request: fail_reply(70001, request.url.params["usersig"]),
}


async def _capture(client: ImClient) -> RoamError:
    # Only this frame and the client's are in the traceback; neither holds a secret in its locals.
    try:
        await client.call(API, BODY)
    except RoamError as exc:
        return exc
    raise AssertionError("the call was expected to fail")


@pytest.mark.parametrize("mode", ["secret", "ready"])
@pytest.mark.parametrize("failure", sorted(FAILURES))
async def test_no_secret_or_usersig_leaks_anywhere(
    mode: str, failure: str, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    conn = secret_conn() if mode == "secret" else ready_conn()
    service = FakeService(ok_reply(), FAILURES[failure])
    client = make_client(service, conn=conn, max_retries=1)
    await client.call(API, BODY)  # a good call first: httpx logs its URL at INFO
    exc = await _capture(client)

    assert exc.__cause__ is None and exc.__context__ is None
    secrets = {SECRET, READY_SIG, *service.sigs}
    secrets |= {quote(s, safe="") for s in secrets}
    texts = {
        "str": str(exc),
        "repr": repr(exc),
        "traceback": "".join(traceback.format_exception(exc)),
        "traceback with locals": "".join(
            traceback.TracebackException.from_exception(exc, capture_locals=True).format()
        ),
        "client": repr(client),
        "connection": repr(conn),
        "log": caplog.text + "\n".join(r.getMessage() for r in caplog.records),
    }
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"secret leaked in {where}"
    assert any("HTTP Request: POST" in r.getMessage() for r in caplog.records)
    assert "usersig=***" in texts["log"]


async def test_body_text_is_sent_as_utf8_json(make_client: MakeClient) -> None:
    service = FakeService()
    await make_client(service).call(API, {"From_Account": "客服-01", "To_Account": "用户"})
    assert json.loads(service.requests[0].content.decode("utf-8"))["From_Account"] == "客服-01"

"""Every call is bounded in time and memory, and a hostile reply stays inside the error contract.

Issue 12, points 2, 5 and 6: a server that trickles its reply (or never answers) must not hold a
call open; a reply of any size must not fill memory; a reply nested 5,000 deep (or any other
garbage) must end in one clear RoamError line, never in RecursionError or another exception.
The slow servers are real sockets on 127.0.0.1 (httpx's own per-read timeouts are what failed).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from imfakes import API, FakeService, MakeClient, Sleeps, ok_reply

from roamtui.im.client import DEFAULT_TIMEOUT, ClientEvent
from roamtui.im.errors import ProtocolError, RoamError, TransportError
from roamtui.im.reply import MAX_DEPTH, MAX_REPLY_BYTES

BODY = {"From_Account": "user2", "To_Account": "user1", "MaxCnt": 100, "MinTime": 1, "MaxTime": 2}
# However a test goes wrong, it ends: a hang is reported as a failure within this.
BOUND = 20.0

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> None:
    size = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            size = int(value)
    await reader.readexactly(size)


async def trickle_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Headers at once, then one body byte every 0.1 s (a reply that never quite ends)."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n")
    while True:
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(0.1)


async def trickle_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The status line, then one more header line every 0.1 s."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\n")
    n = 0
    while True:
        n += 1
        writer.write(f"X-Slow-{n}: yes\r\n".encode())
        await writer.drain()
        await asyncio.sleep(0.1)


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads the request and never answers."""
    await _read_request(reader)
    await asyncio.sleep(3600)


async def serve(handler: Handler) -> tuple[asyncio.Server, str]:
    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def test_the_default_deadline_is_well_above_the_services_own() -> None:
    assert 3.0 < DEFAULT_TIMEOUT <= 10.0
    assert MAX_REPLY_BYTES == 4 * 1024 * 1024


@pytest.mark.parametrize("handler", [trickle_body, trickle_headers, silent])
async def test_a_slow_server_cannot_hold_a_call_open(handler: Handler) -> None:
    from imfakes import secret_conn

    from roamtui.im.client import ImClient
    from roamtui.im.limiter import RateLimiter

    server, endpoint = await serve(handler)
    events: list[ClientEvent] = []
    sleeps = Sleeps()
    client = ImClient(
        secret_conn(endpoint=endpoint),
        timeout=0.4,  # the whole attempt; a byte arrives every 0.1 s, so no single read is slow
        max_retries=2,
        limiter=RateLimiter(200),
        sleep=sleeps,
        on_event=events.append,
    )
    try:
        async with asyncio.timeout(BOUND):
            with pytest.raises(TransportError) as info:
                await client.call(API, BODY)
    finally:
        await client.aclose()
        server.close()
    assert str(info.value) == "no complete reply within 0.4s [gave up after 3 attempts]"
    assert client.calls_started == 3 and client.calls_in_flight == 0
    # The user hears about each retry, and then about the end.
    assert [e.kind for e in events] == ["retry", "retry", "failed"]
    assert events[0].detail.startswith("no complete reply within 0.4s; retry 1/2, ")


# --- reply size --------------------------------------------------------------------------------


class Endless(httpx.AsyncByteStream):
    """A body with no Content-Length that goes on and on; counts the chunks anyone pulled."""

    def __init__(self, chunk: bytes = b"[" + b" " * 65_535, limit: int = 10_000) -> None:
        self.chunk, self.limit, self.pulled = chunk, limit, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.limit:
            self.pulled += 1
            yield self.chunk


async def test_a_huge_declared_reply_is_refused_before_reading_it(
    make_client: MakeClient, sleeps: Sleeps
) -> None:
    body = Endless(limit=100)  # declared 5 MiB; nothing of it should be read
    reply = httpx.Response(200, headers={"Content-Length": str(5 * 1024 * 1024)}, stream=body)
    service = FakeService(reply)
    client = make_client(service)
    with pytest.raises(TransportError) as info:
        await client.call(API, BODY)
    assert str(info.value) == (
        "reply refused: 5,242,880 bytes, more than the 4 MiB roamtui accepts (the service's "
        "replies are about 13 KB); check the endpoint and any proxy in between"
    )
    assert body.pulled == 0
    assert len(service.requests) == 1 and sleeps == []  # the same request gets the same reply


async def test_an_endless_reply_is_cut_off_at_the_cap(make_client: MakeClient) -> None:
    body = Endless()  # 10,000 chunks of 64 KiB = 625 MiB, if anyone read them all
    service = FakeService(httpx.Response(200, stream=body))
    client = make_client(service)
    async with asyncio.timeout(BOUND):
        with pytest.raises(TransportError, match=r"^reply refused: over 4,194,304 bytes"):
            await client.call(API, BODY)
    assert body.pulled <= MAX_REPLY_BYTES // 65_536 + 1  # memory stayed near the cap
    assert len(service.requests) == 1


async def test_a_big_reply_below_the_cap_is_read_whole(make_client: MakeClient) -> None:
    text = "x" * (3 * 1024 * 1024)
    client = make_client(FakeService(ok_reply(Note=text)))
    assert (await client.call(API, BODY))["Note"] == text


async def test_the_cap_can_be_set(make_client: MakeClient) -> None:
    client = make_client(FakeService(ok_reply(Note="y" * 2000)), max_reply_bytes=1000)
    with pytest.raises(TransportError, match=r"^reply refused: 2,0.. bytes, more than the 1,000 "):
        await client.call(API, BODY)


# --- deep and hostile JSON ---------------------------------------------------------------------


def nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    inner = b'{"a":' * (depth - 1) + b"1" + b"}" * (depth - 1)
    return b'{"ActionStatus":"OK","ErrorCode":0,"Deep":' + inner + b"}"


@pytest.mark.parametrize("kind", ["list", "dict"])
@pytest.mark.parametrize("depth", [5_000, 100_000])
async def test_json_nested_thousands_deep_is_a_protocol_error(
    kind: str, depth: int, make_client: MakeClient
) -> None:
    service = FakeService(httpx.Response(200, content=nested(depth, kind)))
    with pytest.raises(ProtocolError) as info:
        await make_client(service).call(API, BODY)
    assert str(info.value) in (
        "reply refused: JSON nested too deeply",
        f"reply refused: JSON nested more than {MAX_DEPTH} deep",
    )
    assert len(service.requests) == 1


async def test_json_nested_past_the_depth_limit_is_refused(make_client: MakeClient) -> None:
    # Deep enough to trouble whoever walks it later, not deep enough to trouble json.loads.
    service = FakeService(httpx.Response(200, content=nested(MAX_DEPTH + 5, "dict")))
    with pytest.raises(ProtocolError, match=f"nested more than {MAX_DEPTH} deep"):
        await make_client(service).call(API, BODY)


async def test_json_nested_like_real_replies_is_fine(make_client: MakeClient) -> None:
    service = FakeService(httpx.Response(200, content=nested(60, "dict")))
    reply = await make_client(service).call(API, BODY)
    assert reply["ErrorCode"] == 0


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("-" + "9" * 5000, id="beyond-int-digit-limit"),
        pytest.param("²", id="isdigit-but-not-int"),
        pytest.param("٩٠٠٠٩", id="arabic-indic-digits"),
        pytest.param("--90009", id="two-signs"),
        pytest.param("9" * 30, id="thirty-digits"),
    ],
)
async def test_error_codes_that_only_look_like_numbers_are_protocol_errors(
    code: str, make_client: MakeClient
) -> None:
    reply = httpx.Response(200, json={"ActionStatus": "FAIL", "ErrorCode": code})
    with pytest.raises(ProtocolError, match="ErrorCode that is not a number"):
        await make_client(FakeService(reply)).call(API, BODY)


async def test_an_unexpected_exception_from_the_transport_is_contained(
    make_client: MakeClient,
) -> None:
    service = FakeService(ValueError("the parser of some proxy choked"))
    with pytest.raises(TransportError) as info:
        await make_client(service).call(API, BODY)
    assert str(info.value) == "unexpected failure while reading the reply (ValueError)"
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert len(service.requests) == 1


async def test_cancelling_a_call_still_cancels(make_client: MakeClient) -> None:
    started = asyncio.Event()

    async def forever(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    client = make_client(FakeService(forever))  # type: ignore[arg-type]
    task = asyncio.create_task(client.call(API, BODY))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client.calls_in_flight == 0


async def test_no_error_text_is_more_than_one_line(make_client: MakeClient) -> None:
    reason = b"Bad\r\nGateway\x1b[2J" + b"!" * 500
    service = FakeService(httpx.Response(502, extensions={"reason_phrase": reason}))
    with pytest.raises(RoamError) as info:
        await make_client(service, max_retries=0).call(API, BODY)
    text = str(info.value)
    assert "\n" not in text and "\r" not in text and "\x1b" not in text and len(text) <= 400
    json.dumps(text)


# --- compressed replies ------------------------------------------------------------------------


def gzipped(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, compresslevel=9)


class Wire(httpx.AsyncByteStream):
    """A body streamed in 16 KiB pieces, as a socket delivers it (not decoded by anyone yet)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.data), 16384):
            yield self.data[i : i + 16384]


async def test_identity_is_asked_for(make_client: MakeClient) -> None:
    service = FakeService(ok_reply())
    await make_client(service).call(API, BODY)
    assert service.requests[0].headers["Accept-Encoding"] == "identity"


async def test_a_gzip_bomb_is_refused_without_unpacking_it(make_client: MakeClient) -> None:
    bomb = gzipped(b"[" + b" " * (200 * 1024 * 1024))  # 200 MiB unpacked, ~200 KB packed
    assert len(bomb) < 1024 * 1024
    reply = httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=Wire(bomb))
    client = make_client(FakeService(reply))
    with pytest.raises(TransportError, match=r"^reply refused: over 4,194,304 bytes unpacked"):
        await client.call(API, BODY)


async def test_a_gzipped_reply_of_honest_size_is_read(make_client: MakeClient) -> None:
    payload = json.dumps({"ActionStatus": "OK", "ErrorCode": 0, "Note": "好" * 5000}).encode()
    gz = Wire(gzipped(payload))
    reply = httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=gz)
    assert (await make_client(FakeService(reply)).call(API, BODY))["Note"] == "好" * 5000


async def test_an_encoding_nobody_asked_for_is_refused(make_client: MakeClient) -> None:
    reply = httpx.Response(200, headers={"Content-Encoding": "br"}, stream=Wire(b"\x00\x01"))
    with pytest.raises(TransportError, match=r"compressed as 'br', which was not asked for"):
        await make_client(FakeService(reply)).call(API, BODY)

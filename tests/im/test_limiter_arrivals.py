"""The limiter measured where it matters: at the server, over real loopback HTTP.

A tiny HTTP/1.1 server runs in a child process (its own interpreter, so its time stamps do not
wait for our GIL) and notes when each request line arrives. The client is the real ``ImClient``
with its real httpx transport, calls fanned out over 16 tasks like a window fetch. The check is
the service's: never more than ``rate`` arrivals in ANY one-second window (half-open, sliding).

No timing is asserted about speed; only the count per window, which the limiter guarantees
whatever the machine's load, as long as a request reaches the server within the limiter's guard
of the moment it was written (loopback: well under a millisecond).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from test_limiter import most_in_any_window

from roamtui.im.client import Connection, ImClient
from roamtui.im.limiter import RateLimiter

API = "v4/openim/admin_getroammsg"

# Stdlib only: starts in a few tens of milliseconds. Prints its port, serves until stdin closes;
# GET /arrivals answers the arrival times (time.monotonic, the same clock system-wide on Linux).
_SERVER = r"""
import asyncio, json, sys, time
arrivals = []
OK = b'{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"Complete":1,"MsgList":[]}'
async def handle(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            now = time.monotonic()
            size = 0
            while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = header.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    size = int(value)
            if size:
                await reader.readexactly(size)
            if line.startswith(b"GET /arrivals"):
                body = json.dumps(arrivals).encode()
            else:
                arrivals.append(now)
                body = OK
            head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
            writer.write(head + body)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
"""


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class SlowStarts(httpx.AsyncBaseTransport):
    """Holds every ``every``-th request back ``delay`` s before it is written, like a TLS
    handshake or a busy event loop between the limiter's grant and the socket."""

    def __init__(self, every: int, delay: float) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._every, self._delay, self._n = every, delay, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._n += 1
        if self._n % self._every == 1:
            await asyncio.sleep(self._delay)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def arrivals_of(
    endpoint: str,
    limiter: RateLimiter,
    calls: int,
    *,
    tasks: int = 16,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[float]:
    """Make ``calls`` calls over ``tasks`` tasks; the server's arrival times of exactly those."""
    async with httpx.AsyncClient() as plain:
        before = len((await plain.get(f"{endpoint}/arrivals")).json())
    conn = Connection(endpoint, 1400000000, "administrator", secret_key="k" * 64)
    async with ImClient(conn, limiter=limiter, transport=transport) as client:
        todo = iter(range(calls))

        async def worker() -> None:
            for n in todo:
                await client.call(API, {"n": n})

        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(tasks))), 60)
    async with httpx.AsyncClient() as plain:
        stamps: list[float] = (await plain.get(f"{endpoint}/arrivals")).json()
    assert len(stamps) - before == calls
    return stamps[before:]


@pytest.mark.parametrize("rate", [10, 50, 200])
async def test_the_server_never_sees_more_than_the_rate_in_any_second(
    endpoint: str, rate: int
) -> None:
    # A second and a half's worth, from a cold start (the first call also connects).
    stamps = await arrivals_of(endpoint, RateLimiter(rate), rate * 3 // 2 + 1)
    most = most_in_any_window(stamps)
    print(f"rate {rate}: at most {most} arrivals in any 1 s window ({len(stamps)} calls)")
    assert most <= rate


async def test_requests_written_late_still_keep_the_bound(endpoint: str) -> None:
    # Every 7th request leaves 150 ms after its grant: the limiter counts it from when it was
    # written (httpx's trace extension), not from when it was granted.
    transport = SlowStarts(every=7, delay=0.15)
    stamps = await arrivals_of(endpoint, RateLimiter(50), 76, transport=transport)
    most = most_in_any_window(stamps)
    print(f"rate 50, every 7th request written 150 ms late: at most {most} in any 1 s window")
    assert most <= 50

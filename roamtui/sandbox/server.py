"""Transports for a `SandboxService`: a stdlib HTTP server on 127.0.0.1, and an httpx mock.

The server uses HTTP/1.1 keep-alive with TCP_NODELAY and always sends Content-Length; without
those the stdlib stalls 40 ms per request (reference/environment.md §5). It never logs request
lines: they carry the UserSig.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlsplit

from roamtui.sandbox.service import (
    DEMO_ADMIN,
    DEMO_SDKAPPID,
    DEMO_SECRET_KEY,
    Reply,
    SandboxService,
)
from roamtui.sandbox.store import MessageStore

if TYPE_CHECKING:
    import httpx

    from roamtui.im.client import Connection

_MAX_BODY = 1 << 20


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 resets connections when a window fetch fans out
    service: SandboxService
    stopping: threading.Event
    open_sockets: set[socket.socket]
    sockets_lock: threading.Lock


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are dropped after this
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request line holds the UserSig."""

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        raw = self.headers.get("Content-Length", "0") or "0"
        if not raw.isdigit() or int(raw) > _MAX_BODY:
            return None
        return self.rfile.read(int(raw))

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            body = None
        if body is None:
            self.close_connection = True
            self._send(Reply(400, {"Content-Type": "text/html"}, b"<html>400 Bad Request</html>"))
            return
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        reply = self.server.service.handle(self.command, url.path, query, body)
        if reply.delay and self.server.stopping.wait(reply.delay):
            self.close_connection = True
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client went away (e.g. the TUI quit mid-load): normal, not worth a traceback.
            self.close_connection = True

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve


class SandboxServer:
    """Serve a `SandboxService` on `host:port` (0 = any free port) from a background thread.

    `SandboxServer(service)`, or `SandboxServer(store, latency_ms=…, …)` which makes the service
    with those options. `start()` returns the endpoint URL; `stop()` ends it (also on leaving a
    `with` block). Idle keep-alive connections are closed on stop.
    """

    def __init__(
        self,
        service: SandboxService | MessageStore,
        host: str = "127.0.0.1",
        port: int = 0,
        **service_options: Any,
    ) -> None:
        if isinstance(service, SandboxService):
            if service_options:
                raise TypeError("service options only apply when a store is given")
            self.service = service
        else:
            service_options.setdefault("admins", (service_options.pop("admin", DEMO_ADMIN),))
            self.service = SandboxService(service, **service_options)
        self.host, self.port = host, port
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox server is not running")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> str:
        """Bind, serve in a daemon thread, and return the endpoint (`http://127.0.0.1:PORT`)."""
        if self._httpd is not None:
            return self.endpoint
        httpd = _HttpServer((self.host, self.port), _Handler)
        httpd.service = self.service
        httpd.stopping = threading.Event()
        httpd.open_sockets = set()
        httpd.sockets_lock = threading.Lock()
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="roamtui-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self.endpoint

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = self._thread = None
        httpd.stopping.set()  # wakes handlers sleeping out latency or a slow-reply fault
        httpd.shutdown()
        httpd.server_close()
        with httpd.sockets_lock:
            for sock in list(httpd.open_sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join()

    def demo_connection(self) -> Connection:
        """A client Connection for this server, signing with its secret key."""
        from roamtui.im.client import Connection

        return Connection(
            endpoint=self.endpoint,
            sdkappid=self.service.sdkappid,
            identifier=next(iter(sorted(self.service.admins)), DEMO_ADMIN),
            secret_key=self.service.secret_key,
        )

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def demo_connection(endpoint: str) -> Connection:
    """The Connection for a sandbox at `endpoint` with the demo app, admin and secret key."""
    from roamtui.im.client import Connection

    return Connection(
        endpoint=endpoint, sdkappid=DEMO_SDKAPPID, identifier=DEMO_ADMIN, secret_key=DEMO_SECRET_KEY
    )


@functools.cache
def _mock_transport_class() -> Callable[[SandboxService], httpx.MockTransport]:
    import httpx

    class _Transport(httpx.MockTransport):
        def __init__(self, service: SandboxService) -> None:
            super().__init__(self)
            self.service = service

        async def __call__(self, request: httpx.Request) -> httpx.Response:
            body = await request.aread()
            query = dict(request.url.params.items())
            reply = self.service.handle(request.method, request.url.path, query, body)
            if reply.delay:
                timeouts = request.extensions.get("timeout", {})
                read_timeout = timeouts.get("read")
                if read_timeout is not None and reply.delay > read_timeout:
                    await asyncio.sleep(read_timeout)
                    raise httpx.ReadTimeout("reply slower than the read timeout", request=request)
                await asyncio.sleep(reply.delay)
            return httpx.Response(reply.status, headers=dict(reply.headers), content=reply.body)

    return _Transport


if TYPE_CHECKING:

    class SandboxMockTransport(httpx.MockTransport):
        service: SandboxService

        def __init__(self, service: SandboxService) -> None: ...
        async def __call__(self, request: httpx.Request) -> httpx.Response: ...


def make_mock_transport(service: SandboxService) -> SandboxMockTransport:
    transport = _mock_transport_class()(service)
    return cast("SandboxMockTransport", transport)


__all__ = ["SandboxServer", "demo_connection", "make_mock_transport"]

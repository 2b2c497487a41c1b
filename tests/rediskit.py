"""A real ``redis-server`` for the team-budget tests: its own port and directory, nothing saved.

The Debian package ``redis-server`` is installed by ``.ci/run``; without it the tests that need
a server skip with that reason.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

REDIS_SERVER = shutil.which("redis-server")
NO_REDIS = "redis-server is not installed (Debian package redis-server; .ci/run installs it)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """``redis-server`` on 127.0.0.1 in ``where``; :meth:`stop` ends it (SIGTERM, then KILL)."""

    def __init__(self, where: Path, port: int | None = None) -> None:
        if REDIS_SERVER is None:
            pytest.skip(NO_REDIS)
        try:
            import redis  # noqa: F401 - the client library the budget needs
        except ImportError:
            pytest.skip("the redis package is not installed (pip install 'roamtui[team]')")
        where.mkdir(parents=True, exist_ok=True)
        self.port = _free_port() if port is None else port
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(where), "--daemonize", "no",
             "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self._answers():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

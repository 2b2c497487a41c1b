"""`roamtui export -o` onto what is not a regular file, and signals (issue 12, points 8 and 9).

- A FIFO or a character device is written through and stays what it was; a symlink stays a
  link; a socket, a block device, a dangling link are refused before any call, in one line.
- SIGTERM, SIGHUP and SIGINT during the fetch or during the write end the real command (a
  subprocess against a sandbox on 127.0.0.1) with exit status 128+signum, one line on stderr, no
  traceback, and no hidden ``.NAME.XXXX.part`` left behind.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from clikit import REPO, isolated_env, parse

from roamtui.cli.export import run
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, Dataset, SandboxServer, SandboxService

T0 = 1_700_000_000
SECRET = "s3cr3t-key-of-the-output-tests-0123456789"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(seed=11, messages=2400, end_time=T0, pairs=2)


def window(ds: Dataset) -> tuple[str, str, int, int]:
    a, b = ds.conversations[0]
    span = ds.span(a, b)
    assert span is not None
    return a, b, span[0], span[1]


def expected(ds: Dataset) -> list[dict[str, Any]]:
    a, b, lo, hi = window(ds)
    return [ds.message_obj(r.index) for r in ds.messages_between(a, b, lo, hi)]


def args(ds: Dataset, output: str | None, **over: Any) -> argparse.Namespace:
    a, b, lo, hi = window(ds)
    options: dict[str, Any] = dict(
        since=f"@{lo}", until=f"@{hi}", format="jsonl", output=output, tz="UTC",
        endpoint="http://127.0.0.1:9", sdkappid=str(DEMO_SDKAPPID), identifier=DEMO_ADMIN,
        max_rps=200,
    )
    options.update(over)
    return parse("export", a, b, **options)


def service(ds: Dataset, **options: Any) -> SandboxService:
    return SandboxService(ds, secret_key=SECRET, rate_limit=None, **options)


class Counting(httpx.AsyncBaseTransport):
    """Counts requests; for refusals any request at all is a failure."""

    def __init__(self) -> None:
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(500)


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", SECRET)


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    out = tmp_path / "exports"
    out.mkdir()
    return out


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


class FifoReader:
    """`cat FIFO` in a thread; with ``stall_after`` it stops reading after that many bytes."""

    def __init__(self, path: Path, stall_after: int | None = None) -> None:
        self.path = path
        self.data = b""
        self.opened = threading.Event()
        self.release = threading.Event()
        self._stall = stall_after
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as fh:
            self.opened.set()
            if self._stall is not None:
                self.data = fh.read(self._stall)
                self.release.wait(60)
            self.data += fh.read()

    def join(self) -> bytes:
        self.release.set()
        self._thread.join(30)
        assert not self._thread.is_alive()
        return self.data


# -- point 8: what -o names -----------------------------------------------------------------------


@pytest.mark.usefixtures("secret_env")
def test_export_onto_a_fifo_streams_to_its_reader(dataset: Dataset, outdir: Path) -> None:
    fifo = outdir / "pipe"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    err = io.StringIO()
    code = run(args(dataset, str(fifo)), transport=service(dataset).mock_transport(), stderr=err)
    assert code == 0, err.getvalue()
    lines = reader.join().decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == expected(dataset)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert names(outdir) == ["pipe"]
    assert err.getvalue().count("\n") == 1 and str(fifo) in err.getvalue()


@pytest.mark.usefixtures("secret_env")
def test_export_onto_a_device_node_keeps_the_node(dataset: Dataset, outdir: Path) -> None:
    device = outdir / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    before = os.lstat(device)
    err = io.StringIO()
    code = run(args(dataset, str(device)), transport=service(dataset).mock_transport(), stderr=err)
    assert code == 0, err.getvalue()
    st = os.lstat(device)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert (st.st_ino, st.st_mode) == (before.st_ino, before.st_mode)
    assert names(outdir) == ["null"]


@pytest.mark.usefixtures("secret_env")
def test_export_through_a_symlink_keeps_the_link(dataset: Dataset, tmp_path: Path) -> None:
    share, desk = tmp_path / "share", tmp_path / "desk"
    share.mkdir()
    desk.mkdir()
    real = share / "case-17.jsonl"
    real.write_text("an older export\n")
    link = desk / "latest.jsonl"
    link.symlink_to(real)
    err = io.StringIO()
    code = run(args(dataset, str(link)), transport=service(dataset).mock_transport(), stderr=err)
    assert code == 0, err.getvalue()
    assert link.is_symlink() and Path(os.readlink(link)) == real
    lines = real.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == expected(dataset)
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert names(share) == ["case-17.jsonl"] and names(desk) == ["latest.jsonl"]


def _refusal(dataset: Dataset, output: Path) -> str:
    transport = Counting()
    err = io.StringIO()
    code = run(args(dataset, str(output)), transport=transport, stderr=err)
    assert code == 2, err.getvalue()
    assert transport.requests == 0, "refused only after calling the service"
    text = err.getvalue()
    assert text.startswith("roamtui export: ") and text.count("\n") == 1
    return text


@pytest.mark.usefixtures("secret_env")
def test_a_socket_is_refused_before_any_call(dataset: Dataset) -> None:
    path = Path(f"/tmp/roamtui-export-sock-{os.getpid()}")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(path))
        assert "socket" in _refusal(dataset, path)
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        sock.close()
        path.unlink(missing_ok=True)


@pytest.mark.usefixtures("secret_env")
@pytest.mark.skipif(not IS_ROOT, reason="making a block device node needs root")
def test_a_block_device_is_refused_before_any_call(dataset: Dataset, outdir: Path) -> None:
    disk = outdir / "disk"
    os.mknod(disk, 0o600 | stat.S_IFBLK, os.makedev(7, 0))
    assert "block device" in _refusal(dataset, disk)
    assert stat.S_ISBLK(os.lstat(disk).st_mode)


@pytest.mark.usefixtures("secret_env")
def test_a_dangling_symlink_is_refused_before_any_call(dataset: Dataset, outdir: Path) -> None:
    link = outdir / "out.jsonl"
    link.symlink_to(outdir / "gone" / "x.jsonl")
    assert "does not exist" in _refusal(dataset, link)
    assert link.is_symlink()


@pytest.mark.usefixtures("secret_env")
def test_a_symlink_to_a_directory_is_refused_before_any_call(
    dataset: Dataset, outdir: Path, tmp_path: Path
) -> None:
    link = tmp_path / "to-dir"
    link.symlink_to(outdir)
    assert "directory" in _refusal(dataset, link)


# -- point 9: signals, through the real command line ----------------------------------------------


def child_env(tmp_path: Path, endpoint: str) -> dict[str, str]:
    return isolated_env(tmp_path / "home", ROAMTUI_SECRET_KEY=SECRET, ROAMTUI_ENDPOINT=endpoint)


def spawn(
    ds: Dataset, tmp_path: Path, endpoint: str, output: Path, *, fmt: str = "jsonl"
) -> subprocess.Popen[str]:
    a, b, lo, hi = window(ds)
    command = [
        sys.executable, "-m", "roamtui", "export", a, b, f"--since=@{lo}", f"--until=@{hi}",
        "--format", fmt, "-o", str(output), "--sdkappid", str(DEMO_SDKAPPID),
        "--identifier", DEMO_ADMIN, "--max-rps", "200", "--tz", "UTC",
    ]
    return subprocess.Popen(
        command, cwd=REPO, env=child_env(tmp_path, endpoint), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the export did not end within 60 s of the signal; stderr: {err!r}")
    return proc.returncode, out, err


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def assert_one_clean_line(err: str, says: str) -> None:
    assert err.count("\n") == 1, err
    assert err.startswith("roamtui export: interrupted by ") and says in err, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert SECRET not in err


SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_during_the_fetch_ends_cleanly_with_nothing_written(
    dataset: Dataset, tmp_path: Path, outdir: Path, signum: int
) -> None:
    svc = service(dataset, latency_ms=400)
    target = outdir / "conv.jsonl"
    with SandboxServer(svc) as server:
        proc = spawn(dataset, tmp_path, server.endpoint, target)
        wait_for(lambda: svc.stats().calls >= 1 or proc.poll() is not None, 60, "the first call")
        assert proc.poll() is None, proc.communicate()
        sent = time.monotonic()
        proc.send_signal(signum)
        code, out, err = finish(proc)
        took = time.monotonic() - sent
    name = signal.Signals(signum).name
    assert code == 128 + signum, err
    assert_one_clean_line(err, f"interrupted by {name}; nothing written")
    assert out == ""
    assert names(outdir) == []
    assert took < 30, f"took {took:.1f} s to stop"


def _catch_mid_write(proc: subprocess.Popen[str], outdir: Path) -> bool:
    """Freeze the child while its ``.part`` exists; False if the write ended before we looked."""
    while proc.poll() is None:
        if any(n.endswith(".part") for n in os.listdir(outdir)):
            os.kill(proc.pid, signal.SIGSTOP)
            if any(n.endswith(".part") for n in os.listdir(outdir)):
                return True
            os.kill(proc.pid, signal.SIGCONT)
            return False
        time.sleep(0.0002)
    return False


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_during_the_file_write_leaves_no_part_file(
    tmp_path: Path, signum: int
) -> None:
    big = Dataset(seed=5, messages=12_000, end_time=T0, pairs=1)
    svc = service(big)
    name = signal.Signals(signum).name
    with SandboxServer(svc) as server:
        for attempt in range(5):
            outdir = tmp_path / f"try{attempt}"
            outdir.mkdir()
            target = outdir / "conv.txt"
            proc = spawn(big, tmp_path, server.endpoint, target, fmt="txt")
            caught = _catch_mid_write(proc, outdir)
            if caught:
                proc.send_signal(signum)
                os.kill(proc.pid, signal.SIGCONT)
            code, _, err = finish(proc)
            if not caught:
                assert code == 0, err  # the write was too quick to catch: try again
                continue
            assert code == 128 + signum, err
            assert_one_clean_line(err, f"interrupted by {name}; nothing written")
            assert names(outdir) == [], "a .part or a half file was left"
            return
    pytest.fail("never caught the export in the middle of its write")


def test_a_signal_while_a_fifo_reader_stalls_ends_the_export(
    dataset: Dataset, tmp_path: Path, outdir: Path
) -> None:
    fifo = outdir / "pipe"
    os.mkfifo(fifo)
    with SandboxServer(service(dataset)) as server:
        proc = spawn(dataset, tmp_path, server.endpoint, fifo, fmt="txt")
        reader = FifoReader(fifo, stall_after=1024)
        wait_for(lambda: reader.opened.is_set() or proc.poll() is not None, 60, "the write")
        time.sleep(0.5)  # the pipe fills up and the export blocks in write()
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        code, _, err = finish(proc)  # bounded although the reader still reads nothing
        reader.join()
    assert code == 128 + signal.SIGTERM, err
    assert_one_clean_line(err, "interrupted by SIGTERM; the output to")
    assert "incomplete" in err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and names(outdir) == ["pipe"]

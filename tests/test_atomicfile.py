"""`write_atomically` never replaces what is not a regular file (issue 12, point 8).

Regular and new files: temp file beside the target, fsync, rename, mode 0600, nothing left on
failure. Character devices and FIFOs: written through (no temp file, no rename; the node stays
what it was). Sockets, block devices, directories: refused with one clear line. Symlinks:
followed, the link stays a link; dangling links and foreign links in sticky shared directories
are refused.
"""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from roamtui.atomicfile import (
    TextSink,
    UnsupportedTarget,
    build_atomically,
    resolve_target,
    write_atomically,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


def make_null_device(path: Path) -> None:
    """A character device node like /dev/null (major 1, minor 3), made in a temporary folder."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")


class FifoReader:
    """Reads a FIFO whole in a thread, as `cat fifo > file` would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = b""
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as fh:
            self.data = fh.read()

    def join(self) -> bytes:
        self._thread.join(10)
        assert not self._thread.is_alive()
        return self.data


@pytest.fixture
def fifo(folder: Path) -> Iterator[Path]:
    path = folder / "pipe"
    os.mkfifo(path)
    yield path


# -- regular files: as before ---------------------------------------------------------------------


def test_regular_file_is_replaced_whole_and_private(folder: Path) -> None:
    target = folder / "out.jsonl"
    target.write_text("old\n")
    os.chmod(target, 0o644)
    assert write_atomically(target, lambda out: out.write("new\n") and 7) == 7
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert names(folder) == ["out.jsonl"]


def test_a_failed_write_leaves_the_old_file_and_no_temp(folder: Path) -> None:
    target = folder / "out.jsonl"
    target.write_text("old\n")

    def fail(out: TextSink) -> None:
        out.write("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_atomically(target, fail)
    assert target.read_text() == "old\n"
    assert names(folder) == ["out.jsonl"]


# -- character devices and FIFOs: written through -------------------------------------------------


def test_a_character_device_is_written_through_not_replaced(folder: Path) -> None:
    device = folder / "null"
    make_null_device(device)
    before = os.stat(device)
    assert write_atomically(device, lambda out: out.write("private conversation\n") and 1) == 1
    after = os.lstat(device)
    assert stat.S_ISCHR(after.st_mode), "the device node was replaced"
    assert (after.st_ino, after.st_rdev, stat.S_IMODE(after.st_mode)) == (
        before.st_ino,
        before.st_rdev,
        stat.S_IMODE(before.st_mode),
    )
    assert names(folder) == ["null"]  # no temp file either


def test_a_fifo_is_written_through_to_its_reader(folder: Path, fifo: Path) -> None:
    reader = FifoReader(fifo)
    text = "".join(f"line {i} ☃\n" for i in range(20_000))  # more than a pipe buffer
    write_atomically(fifo, lambda out: out.write(text))
    assert reader.join() == text.encode("utf-8")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert names(folder) == ["pipe"]


def test_a_failed_write_through_is_reported_and_leaves_the_fifo(folder: Path, fifo: Path) -> None:
    reader = FifoReader(fifo)

    def fail(out: TextSink) -> None:
        out.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(fifo, fail)
    reader.join()  # the write end was closed: the reader saw the end
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert names(folder) == ["pipe"]


def test_resolve_target_tells_streams_from_files(folder: Path, fifo: Path) -> None:
    assert resolve_target(fifo).kind == "stream"
    assert resolve_target(folder / "new.csv").kind == "new"
    (folder / "old.csv").write_text("x")
    assert resolve_target(folder / "old.csv").kind == "regular"


# -- refused: one clear line, nothing touched -----------------------------------------------------


def test_a_directory_is_refused(folder: Path) -> None:
    with pytest.raises(UnsupportedTarget) as info:
        write_atomically(folder, lambda out: out.write("x"))
    assert info.value.strerror is not None and "is a directory" in info.value.strerror
    assert names(folder) == []


def test_a_socket_is_refused(tmp_path: Path) -> None:
    short = Path(os.environ.get("TMPDIR", "/tmp"))
    path = Path(os.path.join(short, f"roamtui-sock-{os.getpid()}"))
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(path))
        with pytest.raises(UnsupportedTarget) as info:
            write_atomically(path, lambda out: out.write("x"))
        assert info.value.strerror is not None and "socket" in info.value.strerror
        assert "\n" not in info.value.strerror
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        sock.close()
        path.unlink(missing_ok=True)


@pytest.mark.skipif(not IS_ROOT, reason="making a block device node needs root")
def test_a_block_device_is_refused(folder: Path) -> None:
    disk = folder / "disk"
    os.mknod(disk, 0o600 | stat.S_IFBLK, os.makedev(7, 0))
    with pytest.raises(UnsupportedTarget) as info:
        write_atomically(disk, lambda out: out.write("x"))
    assert info.value.strerror is not None and "block device" in info.value.strerror
    assert stat.S_ISBLK(os.lstat(disk).st_mode)
    assert names(folder) == ["disk"]


# -- symlinks: followed, never replaced -----------------------------------------------------------


def test_a_symlink_stays_a_link_and_its_target_gets_the_text(tmp_path: Path) -> None:
    real_dir, link_dir = tmp_path / "real", tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    real = real_dir / "evidence.jsonl"
    real.write_text("old\n")
    link = link_dir / "latest.jsonl"
    link.symlink_to(os.path.relpath(real, link_dir))
    write_atomically(link, lambda out: out.write("new\n"))
    assert link.is_symlink() and os.readlink(link) == os.path.relpath(real, link_dir)
    assert real.read_text() == "new\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert names(real_dir) == ["evidence.jsonl"] and names(link_dir) == ["latest.jsonl"]


def test_a_chain_of_links_to_a_fifo_writes_through(folder: Path, fifo: Path) -> None:
    first, second = folder / "a", folder / "b"
    second.symlink_to(fifo)
    first.symlink_to(second)
    reader = FifoReader(fifo)
    write_atomically(first, lambda out: out.write("through\n"))
    assert reader.join() == b"through\n"
    assert first.is_symlink() and second.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_dangling_symlink_is_refused(folder: Path) -> None:
    link = folder / "out.jsonl"
    link.symlink_to(folder / "missing" / "nowhere.jsonl")
    with pytest.raises(UnsupportedTarget) as info:
        write_atomically(link, lambda out: out.write("x"))
    assert info.value.strerror is not None and "does not exist" in info.value.strerror
    assert link.is_symlink() and names(folder) == ["out.jsonl"]


def test_a_symlink_loop_is_refused(folder: Path) -> None:
    a, b = folder / "a", folder / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(UnsupportedTarget):
        write_atomically(a, lambda out: out.write("x"))
    assert a.is_symlink() and b.is_symlink()


def test_a_symlink_to_a_directory_is_refused(tmp_path: Path, folder: Path) -> None:
    link = tmp_path / "dirlink"
    link.symlink_to(folder)
    with pytest.raises(UnsupportedTarget) as info:
        write_atomically(link, lambda out: out.write("x"))
    assert info.value.strerror is not None and "directory" in info.value.strerror
    assert link.is_symlink()


@pytest.mark.skipif(not IS_ROOT, reason="owning a link as another user needs root")
def test_a_foreign_link_in_a_shared_sticky_directory_is_not_followed(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    victim = tmp_path / "victim.txt"
    victim.write_text("someone's file\n")
    link = shared / "export.jsonl"
    link.symlink_to(victim)
    os.lchown(link, 65534, 65534)  # planted by "nobody"
    with pytest.raises(UnsupportedTarget) as info:
        write_atomically(link, lambda out: out.write("x"))
    assert info.value.strerror is not None and "symlink" in info.value.strerror
    assert victim.read_text() == "someone's file\n"


# -- build_atomically: a folder (an evidence bundle) or a binary file, whole or absent -----------


def test_a_folder_is_built_aside_and_renamed_whole(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    seen: list[Path] = []

    def build(tmp: Path) -> int:
        seen.append(tmp)
        assert tmp.parent == tmp_path and tmp.name.startswith(".bundle.")
        (tmp / "a.txt").write_text("one")
        assert not (tmp_path / "bundle").exists()  # nothing looks complete before the rename
        return 7

    assert build_atomically(tmp_path / "bundle", build, directory=True) == 7
    assert (tmp_path / "bundle" / "a.txt").read_text() == "one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_a_failed_build_leaves_nothing_and_the_old_file_alone(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    def failing(tmp: Path) -> None:
        if tmp.is_dir():
            (tmp / "half.txt").write_text("half")
        else:
            tmp.write_bytes(b"PK")
        raise OSError(28, "No space left on device")

    (tmp_path / "old.zip").write_bytes(b"old")
    with pytest.raises(OSError):
        build_atomically(tmp_path / "new", failing, directory=True)
    with pytest.raises(OSError):
        build_atomically(tmp_path / "old.zip", failing, directory=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.zip"]
    assert (tmp_path / "old.zip").read_bytes() == b"old"


def test_a_folder_filled_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    target = tmp_path / "bundle"
    target.mkdir()

    def build(tmp: Path) -> None:
        (tmp / "a.txt").write_text("new")
        (target / "theirs.txt").write_text("someone else's")  # appears while we write

    with pytest.raises(OSError):
        build_atomically(target, build, directory=True)
    assert [p.name for p in target.iterdir()] == ["theirs.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]

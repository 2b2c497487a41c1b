"""Write an output file so that it is either whole or absent, and never replace what is not a file.

Used for exports (evidence must never be half-written yet look complete) and for the config
file. What happens depends on what the path names (:func:`resolve_target`):

- **A regular file, or nothing yet**: a temp file ``.NAME.XXXX.part`` beside it, fsync, rename
  over it, fsync of the directory. Mode 0600: both exports and the config hold private data.
  On any error or interrupt the temp file is removed and the old file is left as it was.
- **A character device or a FIFO** (``/dev/null``, ``/dev/stdout``, a terminal, ``mkfifo``):
  written through, opened for writing and streamed into, with no temp file and no rename. A
  rename would swap the node for a regular 0600 file holding the conversation (as root,
  ``-o /dev/null`` did exactly that), and whoever reads the FIFO would never see a byte.
  Written through, a failure midway leaves what was written with the reader: callers say so
  (:attr:`Target.atomic` is False). Opening a FIFO waits for its reader, as a shell's ``>`` does.
- **A socket, a block device, a directory, anything else**: refused with
  :class:`UnsupportedTarget`, an ``OSError`` whose ``strerror`` is the one line to show. A
  socket cannot be opened as a file, and an export streamed over a disk is never what was meant.
- **A symlink**: followed, and the rules above applied to what it finally names; a regular
  target is replaced atomically beside itself (the temp file in the target's directory), so the
  link stays a link and still points where it did. Why follow instead of refusing: links to an
  evidence share or into a dotfile repository (the config file goes through here too) are set
  up on purpose, and replacing the link with a file would silently split the copy the user
  keeps from the one they look at; refusing would make such links useless for no safety gained.
  Two cases are refused, for the reasons the kernel and GNU cp refuse them: a dangling link
  (creating a file wherever a link points is how symlink attacks work), and a link in a sticky
  world-writable directory such as /tmp that belongs neither to us nor to the directory's owner
  (the ``fs.protected_symlinks`` rule: someone else may have planted it).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar

T = TypeVar("T")

TargetKind = Literal["new", "regular", "stream"]

#: As many links as Linux follows before ELOOP.
_MAX_LINKS = 40
#: Bytes gathered before one write to a device or FIFO.
_STREAM_CHUNK = 64 * 1024
#: How a temp file is made: new, private, never through a link, not inherited.
_CREATE = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
           | getattr(os, "O_CLOEXEC", 0))
_TEMP_ATTEMPTS = 100


class TextSink(Protocol):
    def write(self, text: str, /) -> object: ...


class UnsupportedTarget(OSError):
    """The path names something that must not be written or replaced; ``strerror`` says why."""

    def __init__(self, code: int, reason: str, path: str | os.PathLike[str]) -> None:
        super().__init__(code, reason, os.fspath(path))


@dataclass(frozen=True, slots=True)
class Target:
    """Where the bytes of a write to some path go, and how."""

    #: The given path with every symlink followed (absolute).
    path: Path
    kind: TargetKind

    @property
    def atomic(self) -> bool:
        """True when the write is whole or absent; False for a device or FIFO written through."""
        return self.kind != "stream"


def resolve_target(path: str | os.PathLike[str]) -> Target:
    """What writing to ``path`` would do; :class:`UnsupportedTarget` when it must not be done.

    Nothing is opened or created, so callers can check an output before any work (a FIFO's
    reader is not consumed).
    """
    given = Path(path)
    real, hops = _follow(given)
    try:
        st = os.lstat(real)
    except (FileNotFoundError, NotADirectoryError):
        if hops:
            raise UnsupportedTarget(
                errno.ENOENT,
                f"is a symlink to {os.fspath(real)!r}, which does not exist; "
                "give the file itself or remove the link",
                given,
            ) from None
        return Target(real, "new")
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return Target(real, "regular")
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return Target(real, "stream")
    via = f" (through the symlink, {os.fspath(real)!r})" if hops else ""
    if stat.S_ISDIR(mode):
        raise UnsupportedTarget(errno.EISDIR, f"is a directory{via}; give a file name", given)
    if stat.S_ISSOCK(mode):
        what, code = "a socket, which cannot be written as a file", errno.ENXIO
    elif stat.S_ISBLK(mode):
        what, code = "a block device, which roamtui never writes over", errno.EPERM
    else:
        what, code = "neither a regular file, a FIFO nor a character device", errno.EINVAL
    raise UnsupportedTarget(
        code, f"is {what}{via}; give a regular file, a FIFO or a character device", given
    )


def write_atomically(
    path: str | os.PathLike[str], writer_fn: Callable[[TextSink], T], *, newline: str = ""
) -> T:
    """Write through ``writer_fn`` to ``path`` as :func:`resolve_target` decides; return its result.

    A regular or new file: temp file beside it, fsync, rename; on any error (or interrupt) the
    temp file is removed and the path is left as it was, so a half-written export can never pass
    for a whole one. A device or FIFO: streamed into, never replaced. Anything else:
    :class:`UnsupportedTarget` before ``writer_fn`` runs.
    """
    target = resolve_target(path)
    if target.kind == "stream":
        return _write_through(target.path, writer_fn, newline)
    return _write_replacing(target.path, writer_fn, newline)


def _write_replacing(target: Path, writer_fn: Callable[[TextSink], T], newline: str) -> T:
    directory = target.parent
    # The temp file's name is known before the file exists, and it is made inside the ``try``:
    # an interrupt that lands just after it was created still removes it (``tempfile.mkstemp``
    # creates the file before the caller can know its name, and a signal in between left it).
    tmp_name = ""
    try:
        fd = -1
        for _ in range(_TEMP_ATTEMPTS):
            tmp_name = os.path.join(directory, f".{target.name}.{secrets.token_hex(4)}.part")
            try:
                fd = os.open(tmp_name, _CREATE, 0o600)
                break
            except FileExistsError:
                tmp_name = ""  # someone else's: never removed
        if fd < 0:
            raise FileExistsError(errno.EEXIST, "no unused temporary file name", str(directory))
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as stream:
            result = writer_fn(stream)
            stream.flush()
            os.fsync(stream.fileno())
        _still_replaceable(target)
        os.replace(tmp_name, target)
    except BaseException:
        if tmp_name:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
        raise
    fsync_dir(directory)
    return result


def build_atomically(
    path: str | os.PathLike[str], build: Callable[[Path], T], *, directory: bool
) -> T:
    """Make a folder (``directory``) or a binary file whole under a temp name beside ``path``
    with ``build(temp_path)``, fsync it, and rename it into place; on any error or interrupt the
    temp is removed and ``path`` left as it was.

    For a folder ``build`` gets an empty private folder and writes plain files into it; the
    rename is refused when ``path`` is anything but an empty folder by then. For a file ``build``
    gets a path it opens and writes itself (an evidence bundle's zip); a regular file at ``path``
    is replaced. ``path`` is taken as given: symlinks are the caller's to check.
    """
    target = Path(os.path.abspath(path))
    parent = target.parent
    tmp = ""
    try:
        for _ in range(_TEMP_ATTEMPTS):
            tmp = os.path.join(parent, f".{target.name}.{secrets.token_hex(4)}.part")
            try:
                if directory:
                    os.mkdir(tmp, 0o700)
                else:
                    os.close(os.open(tmp, _CREATE, 0o600))
                break
            except FileExistsError:
                tmp = ""  # someone else's: never removed
        if not tmp:
            raise FileExistsError(errno.EEXIST, "no unused temporary name", str(parent))
        result = build(Path(tmp))
        for name in (sorted(os.listdir(tmp)) if directory else [""]):
            _fsync_file(os.path.join(tmp, name) if name else tmp)
        if directory:
            fsync_dir(Path(tmp))
            os.rename(tmp, target)  # over an empty folder only; ENOTEMPTY / ENOTDIR otherwise
        else:
            _still_replaceable(target)
            os.replace(tmp, target)
    except BaseException:
        if tmp:
            _remove(tmp)
        raise
    fsync_dir(parent)
    return result


def _fsync_file(name: str) -> None:
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(tmp: str) -> None:
    with contextlib.suppress(OSError):
        if os.path.isdir(tmp) and not os.path.islink(tmp):
            for name in os.listdir(tmp):
                os.unlink(os.path.join(tmp, name))
            os.rmdir(tmp)
        else:
            os.unlink(tmp)


def _still_replaceable(target: Path) -> None:
    """The rename must not swap out something that became a device, FIFO or link meanwhile."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise UnsupportedTarget(
            errno.EAGAIN, "changed into something that is not a regular file while it was "
            "being written; nothing was replaced", target
        )


def _write_through(target: Path, writer_fn: Callable[[TextSink], T], newline: str) -> T:
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags | getattr(os, "O_CLOEXEC", 0))  # a FIFO waits for its reader
    sink = _StreamSink(fd, newline)
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            raise UnsupportedTarget(
                errno.EAGAIN, "changed into something else while it was being opened; "
                "nothing was written", target
            )
        result = writer_fn(sink)
        sink.flush()
    finally:
        # On an error nothing still buffered is flushed: a stalled reader must not hold up
        # an interrupt.
        os.close(fd)
    return result


class _StreamSink:
    """UTF-8 text onto a file descriptor in whole writes, with no buffer left to flush on error.

    A TextIOWrapper would flush its buffer when closed after an error or a signal, and that
    flush blocks for as long as a FIFO's reader does not read.
    """

    __slots__ = ("_buffer", "_fd", "_newline")

    def __init__(self, fd: int, newline: str | None) -> None:
        self._fd = fd
        self._newline = os.linesep if newline is None else newline
        self._buffer = bytearray()

    def write(self, text: str, /) -> int:
        if self._newline not in ("", "\n"):
            text = text.replace("\n", self._newline)
        self._buffer += text.encode("utf-8")
        if len(self._buffer) >= _STREAM_CHUNK:
            self.flush()
        return len(text)

    def flush(self) -> None:
        view = memoryview(self._buffer)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        finally:
            view.release()
        self._buffer.clear()


def _follow(path: Path) -> tuple[Path, int]:
    """``path`` with its symlinks followed, and how many links were followed.

    Each link is checked before it is followed; a path that does not exist ends the walk.
    """
    current = Path(os.path.abspath(path))
    for hops in range(_MAX_LINKS + 1):
        try:
            st = os.lstat(current)
        except (FileNotFoundError, NotADirectoryError):
            return current, hops
        if not stat.S_ISLNK(st.st_mode):
            return current, hops
        _check_link(current, st, path)
        pointed = Path(os.path.join(os.path.realpath(current.parent), os.readlink(current)))
        current = Path(os.path.realpath(pointed.parent)) / pointed.name
    raise UnsupportedTarget(
        errno.ELOOP, f"is a symlink that goes round in a loop (more than {_MAX_LINKS} links)", path
    )


def _check_link(link: Path, st: os.stat_result, given: Path) -> None:
    """Refuse a link in a sticky world-writable directory planted by someone else."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:
        return
    try:
        parent = os.stat(link.parent)
    except OSError:
        return
    shared = parent.st_mode & stat.S_ISVTX and parent.st_mode & stat.S_IWOTH
    if shared and st.st_uid not in (geteuid(), parent.st_uid):
        raise UnsupportedTarget(
            errno.EACCES,
            f"is a symlink in the shared directory {os.fspath(link.parent)!r} owned by someone "
            f"else (uid {st.st_uid}); not followed. Give a path of your own",
            given,
        )


def fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; some file systems refuse, which is harmless here."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

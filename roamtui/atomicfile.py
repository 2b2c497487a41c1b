"""Write a file so that it is either whole or absent: temp file beside it, fsync, rename.

Used for exports (evidence must never be half-written yet look complete) and for the config
file. Files are created with mode 0600: both hold private data.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

T = TypeVar("T")


class TextSink(Protocol):
    def write(self, text: str, /) -> object: ...


def write_atomically(
    path: str | os.PathLike[str], writer_fn: Callable[[TextSink], T], *, newline: str = ""
) -> T:
    """Write through ``writer_fn`` to a temp file beside ``path``, fsync, then rename over it.

    On any error (or interrupt) the temp file is removed and ``path`` is left as it was, so
    a half-written export can never pass for a whole one. The file is created with mode 0600:
    exports hold private conversations.
    """
    target = Path(path)
    directory = target.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as stream:
            result = writer_fn(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_dir(directory)
    return result


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

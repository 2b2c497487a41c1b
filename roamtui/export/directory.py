"""An export written into a directory, one file per slice (``-o DIR/``), whole or not at all.

For a format that splits a window into files of its own (RSMF: at most 10,000 events each).
The directory is named by the output path when it is an existing directory or when the path
ends in ``/`` (then it is created, its parent must exist). Each file is written atomically
(:func:`roamtui.atomicfile.write_atomically`) and, last, ``SHA256SUMS`` lists every file with
its SHA-256 in the ``sha256sum -c`` layout. If any file fails, or the write is interrupted or
stopped, the files this export already put there are removed again: a directory holding some
slices of a window must never pass for the whole. Other files already in the directory are
left alone (a file of the same name is replaced, as ``-o FILE`` replaces it), but a directory
that holds a ``SHA256SUMS`` (another export) is refused: the new listing would replace it and
leave that export's slices unlisted among the new ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from roamtui.atomicfile import TextSink, write_atomically
from roamtui.export.slices import Part

SUMS_NAME = "SHA256SUMS"


def names_directory(given: str, path: Path) -> bool:
    """True when the output ``given`` means a directory: it ends in a separator or is one."""
    return given.endswith(("/", os.sep)) or path.is_dir()


def directory_problem(path: Path) -> str | None:
    """Why files cannot be written in ``path`` (created when missing), or None when they can."""
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            return "no permission to write in it"
        if (path / SUMS_NAME).exists():
            # Its SHA256SUMS would list only the new files: the other export's would lie there
            # unlisted among them, and the folder would still pass `sha256sum -c`.
            return f"already holds an export ({SUMS_NAME}): give a new or empty directory"
        return None
    if path.exists() or path.is_symlink():
        return "is not a directory"
    parent = path.parent
    if not parent.is_dir():
        return f"the directory {str(parent)!r} does not exist"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"no permission to create it in {str(parent)!r}"
    return None


@dataclass(frozen=True, slots=True)
class WrittenFile:
    """One file of a directory export."""

    path: Path
    messages: int
    size: int
    sha256: str


def write_parts(
    directory: Path,
    parts: Sequence[Part],
    write: Callable[[Part, TextSink], tuple[int, int, str]],
    *,
    on_commit: Callable[[], None] | None = None,
) -> tuple[list[WrittenFile], WrittenFile]:
    """Write each part into ``directory`` (created if missing) with ``write(part, sink) ->
    (messages, size, sha256)``, then ``SHA256SUMS``; the files
    and the listing (whose SHA-256 pins them all). On any failure remove what this call wrote
    and re-raise. ``on_commit`` runs before the last rename (SHA256SUMS), when only that is
    left."""
    created = not directory.is_dir()
    if created:
        directory.mkdir(mode=0o700)
    done: list[WrittenFile] = []
    placed: list[Path] = []
    try:
        for part in parts:
            path = directory / part.name

            n, size, sha = write_atomically(path, partial(write, part))
            placed.append(path)  # only what this call wrote is ever removed
            done.append(WrittenFile(path, n, size, sha))
        sums = "".join(f"{f.sha256}  {f.path.name}\n" for f in done)

        def listing(sink: TextSink) -> None:
            sink.write(sums)
            if on_commit is not None:
                on_commit()

        write_atomically(directory / SUMS_NAME, listing)
        data = sums.encode("utf-8", "surrogatepass")
        listed = WrittenFile(directory / SUMS_NAME, 0, len(data), hashlib.sha256(data).hexdigest())
    except BaseException:
        for path in placed:
            with contextlib.suppress(OSError):
                path.unlink()
        if created:
            with contextlib.suppress(OSError):
                directory.rmdir()  # only when empty: never someone else's files
        raise
    return done, listed

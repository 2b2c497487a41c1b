"""The evidence bundle: ``-o DIR`` (a folder) or ``-o DIR.zip`` (the same folder as one zip).

A bundle holds the files of :data:`BUNDLE_FILES` (``messages.jsonl``, the service's objects
verbatim, oldest first; ``transcript.html``/``.txt``/``.csv`` for people), ``manifest.json``
(:mod:`roamtui.export.manifest`: how the window was fetched, and the SHA-256 of each of those
files) and ``SHA256SUMS`` over every other file, so ``cd DIR && sha256sum -c SHA256SUMS`` passes.
A zip holds one folder named as the zip without ``.zip``.

It is made whole or not at all (:func:`roamtui.atomicfile.build_atomically`): the folder is
written as a hidden temp sibling ``.DIR.XXXX.part`` and renamed into place, the zip likewise, so
a failed or interrupted export leaves nothing that looks complete. A folder that already exists
and is not empty is refused before any call.

Adding a file is one entry in :data:`BUNDLE_FILES`; the manifest, SHA256SUMS and ``roamtui
verify``'s checksums follow. ``transcript.rsmf`` (RSMF 2.0 for review platforms) is written
when the window fits in one RSMF file (at most 10,000 messages, Relativity's advice): a larger
bundle leaves it out, its manifest does not list it, and ``roamtui export --format rsmf -o
DIR/`` writes the window as day slices instead.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roamtui.atomicfile import build_atomically, resolve_target
from roamtui.export import csv, html, jsonl, rsmf, txt
from roamtui.export.formats import Writer
from roamtui.export.manifest import MANIFEST, SUMS, FileDigest, manifest_text, sums_text
from roamtui.export.provenance import ExportMeta
from roamtui.im.model import Message

ZIP_SUFFIX = ".zip"
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class BundleFile:
    """One file of a bundle and the writer of its text."""

    name: str
    write: Writer
    #: Most messages the file may hold; a window of more is bundled without it.
    limit: int | None = None

    def fits(self, count: int) -> bool:
        return self.limit is None or count <= self.limit


#: The files of a bundle besides manifest.json and SHA256SUMS, in the order they are written.
BUNDLE_FILES: tuple[BundleFile, ...] = (
    BundleFile("messages.jsonl", jsonl.write),
    BundleFile("transcript.html", html.write_html),
    BundleFile("transcript.txt", txt.write_txt),
    BundleFile("transcript.csv", csv.write_csv),
    BundleFile("transcript.rsmf", rsmf.write_rsmf, rsmf.MAX_EVENTS),
)


class BundleRefused(ValueError):
    """The bundle cannot be written where asked; ``str()`` is one line."""


class BundleStopped(Exception):
    """The write was asked to stop; nothing was left behind."""


@dataclass(frozen=True, slots=True)
class BundleWritten:
    """What a bundle write made: its files, and the SHA-256 of its SHA256SUMS (its identity)."""

    path: Path
    messages: int
    files: Mapping[str, FileDigest]
    sums_sha256: str

    @property
    def size(self) -> int:
        return sum(d.bytes for d in self.files.values())


def is_zip(path: Path) -> bool:
    return path.suffix.lower() == ZIP_SUFFIX


def check_bundle_output(given: str | os.PathLike[str] | None) -> Path:
    """The path a bundle may be written to, checked without writing; BundleRefused if not."""
    if given is None or os.fspath(given) in ("", "-"):
        raise BundleRefused("a bundle is a folder or a .zip: give -o DIR or -o DIR.zip")
    shown = repr(os.fspath(given))
    path = Path(os.path.abspath(os.path.expanduser(os.fspath(given))))
    if os.path.islink(path):
        raise BundleRefused(f"{shown} is a symlink; give a new folder or .zip name")
    if is_zip(path):
        try:
            target = resolve_target(path)
        except OSError as exc:
            raise BundleRefused(f"{shown} {exc.strerror or exc}") from None
        if target.kind == "stream":
            raise BundleRefused(f"{shown} is a FIFO or a device; a bundle's zip is a file")
    elif path.exists():
        if not path.is_dir():
            raise BundleRefused(f"{shown} exists and is not a folder; give a new folder name")
        if any(path.iterdir()):
            raise BundleRefused(f"{shown} exists and is not empty; give a new folder name")
    parent = path.parent
    if not parent.is_dir():
        raise BundleRefused(f"{shown}: the directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BundleRefused(f"{shown}: no permission to write in {str(parent)!r}")
    return path


class _HashingFile:
    """A text sink onto a binary file that keeps the size and SHA-256 of what it wrote."""

    def __init__(self, raw: Any, stop: threading.Event | None) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0
        self.stop = stop
        self._writes = 0

    def write(self, text: str, /) -> int:
        data = text.encode("utf-8", "surrogatepass")
        self.sha.update(data)
        self.size += len(data)
        self.raw.write(data)
        self._writes += 1
        if self.stop is not None and self._writes % 4096 == 0 and self.stop.is_set():
            raise BundleStopped
        return len(text)

    def digest(self) -> FileDigest:
        return FileDigest(self.sha.hexdigest(), self.size)


def _write_file(folder: Path, name: str, fill: Callable[[_HashingFile], object],
                stop: threading.Event | None) -> FileDigest:
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw:
        sink = _HashingFile(raw, stop)
        fill(sink)
    return sink.digest()


def _write_folder(
    folder: Path,
    messages: Sequence[Message],
    meta: ExportMeta,
    manifest_for: Callable[[Mapping[str, FileDigest]], dict[str, Any]],
    stop: threading.Event | None,
) -> tuple[dict[str, FileDigest], str]:
    files: dict[str, FileDigest] = {}
    for item in BUNDLE_FILES:
        if stop is not None and stop.is_set():
            raise BundleStopped
        if not item.fits(len(messages)):
            continue

        def fill(sink: _HashingFile, item: BundleFile = item) -> None:
            item.write(messages, meta, sink)

        files[item.name] = _write_file(folder, item.name, fill, stop)
    manifest = manifest_text(manifest_for(dict(files)))
    files[MANIFEST] = _write_file(folder, MANIFEST, lambda s: s.write(manifest), stop)
    sums = sums_text(files)
    _write_file(folder, SUMS, lambda s: s.write(sums), stop)
    return files, hashlib.sha256(sums.encode()).hexdigest()


def write_bundle(
    path: Path,
    messages: Sequence[Message],
    meta: ExportMeta,
    manifest_for: Callable[[Mapping[str, FileDigest]], dict[str, Any]],
    *,
    stop: threading.Event | None = None,
    on_commit: Callable[[], None] | None = None,
) -> BundleWritten:
    """Write the bundle at ``path`` (a folder, or a zip when it ends in ``.zip``), whole or not
    at all. ``manifest_for(files)`` makes the manifest once the other files' digests are known;
    ``on_commit`` runs when only the rename is left."""
    if is_zip(path):
        return build_atomically(
            path, lambda tmp: _zip(tmp, path, messages, meta, manifest_for, stop, on_commit),
            directory=False)

    def folder(tmp: Path) -> BundleWritten:
        files, sums = _write_folder(tmp, messages, meta, manifest_for, stop)
        if on_commit is not None:
            on_commit()
        return BundleWritten(path, len(messages), files, sums)

    return build_atomically(path, folder, directory=True)


def _zip(
    tmp: Path,
    path: Path,
    messages: Sequence[Message],
    meta: ExportMeta,
    manifest_for: Callable[[Mapping[str, FileDigest]], dict[str, Any]],
    stop: threading.Event | None,
    on_commit: Callable[[], None] | None,
) -> BundleWritten:
    inner = path.name[: -len(ZIP_SUFFIX)] or "bundle"
    # The files are staged in a private folder beside the zip, removed whatever happens.
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.",
                                     suffix=".staging") as staging_name:
        staging = Path(staging_name)
        files, sums = _write_folder(staging, messages, meta, manifest_for, stop)
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in [*files, SUMS]:
                info = zipfile.ZipInfo(f"{inner}/{name}", date_time=_zip_time(meta.fetched_at))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                with open(staging / name, "rb") as src, zf.open(info, "w") as dst:
                    while chunk := src.read(_CHUNK):
                        dst.write(chunk)
    if on_commit is not None:
        on_commit()
    return BundleWritten(path, len(messages), files, sums)


def _zip_time(ts: int) -> tuple[int, int, int, int, int, int]:
    t = time.gmtime(max(ts, 315532800))  # zip dates start in 1980
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)

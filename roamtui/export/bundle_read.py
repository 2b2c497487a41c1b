"""Reading an evidence bundle back, from its folder or its zip, without unpacking anything.

:func:`open_bundle` finds the bundle (a folder holding ``manifest.json``, or a zip holding it at
its root or in one folder) and offers its files by name as byte streams; :func:`read_messages`
reads ``messages.jsonl`` line by line. Used by ``roamtui verify`` (offline checks and refetch).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from roamtui.export.manifest import MANIFEST

JSONL = "messages.jsonl"
#: A manifest larger than this is not read (100,000 pages of records are ~40 MB).
MAX_MANIFEST_BYTES = 256 * 1024 * 1024


class BundleUnreadable(ValueError):
    """Not a bundle, or not one that can be read; ``str()`` is one line."""


@dataclass(slots=True)
class BundleSource:
    """The files of one bundle by name (``zip`` set when read from a zip)."""

    path: Path
    names: frozenset[str]
    zip: zipfile.ZipFile | None = None
    prefix: str = ""
    _open: list[IO[bytes]] = field(default_factory=list)

    def open(self, name: str) -> IO[bytes]:
        if name not in self.names:
            raise FileNotFoundError(name)
        if self.zip is not None:
            return self.zip.open(self.prefix + name)
        return open(self.path / name, "rb")

    def text(self, name: str) -> IO[str]:
        return io.TextIOWrapper(self.open(name), encoding="utf-8", newline="")

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def __enter__(self) -> BundleSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_bundle(given: str | os.PathLike[str]) -> BundleSource:
    """The bundle at ``given`` (a folder or a zip); BundleUnreadable when it is neither."""
    path = Path(os.path.expanduser(os.fspath(given)))
    shown = repr(os.fspath(given))
    if path.is_dir():
        names = frozenset(p.name for p in path.iterdir() if p.is_file() and not p.is_symlink())
        if MANIFEST not in names:
            raise BundleUnreadable(f"{shown} holds no {MANIFEST}: not a roamtui bundle")
        return BundleSource(path, names)
    if not path.exists():
        raise BundleUnreadable(f"{shown} does not exist")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleUnreadable(f"{shown} is neither a bundle folder nor a zip ({exc})") from None
    members = [n for n in zf.namelist() if not n.endswith("/")]
    heads = [n[: -len(MANIFEST)] for n in members if n == MANIFEST or n.endswith("/" + MANIFEST)]
    prefixes = [h for h in heads if h.count("/") <= 1]
    if len(prefixes) != 1:
        zf.close()
        what = "no" if not prefixes else "more than one"
        raise BundleUnreadable(f"{shown} holds {what} {MANIFEST}: not a roamtui bundle zip")
    prefix = prefixes[0]
    names = frozenset(n[len(prefix):] for n in members
                      if n.startswith(prefix) and "/" not in n[len(prefix):])
    return BundleSource(path, names, zf, prefix)


def read_manifest(source: BundleSource) -> dict[str, Any]:
    """The manifest as a dict; BundleUnreadable when it is not one JSON object."""
    with source.open(MANIFEST) as raw:
        data = raw.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise BundleUnreadable(f"{MANIFEST} is larger than {MAX_MANIFEST_BYTES:,} bytes")
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleUnreadable(f"{MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise BundleUnreadable(f"{MANIFEST} is not a JSON object")
    return doc


def read_messages(source: BundleSource) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """``(line number, object)`` per line of messages.jsonl, or ``(n, why)`` for a bad line."""
    with contextlib.closing(source.text(JSONL)) as text:
        for n, line in enumerate(text, 1):
            try:
                obj = json.loads(line)
            except ValueError as exc:
                yield n, f"not JSON ({exc})"
                continue
            yield n, obj if isinstance(obj, dict) else "not a JSON object"

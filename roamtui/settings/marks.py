"""Marks and notes on messages, kept per (SDKAppID, account, peer) in the user's data dir.

An agent marks the messages that matter (``m`` in the transcript) and says why (``:note``). A
:class:`MarkBook` holds one conversation side's marks, keyed by MsgKey; the :class:`MarkStore`
keeps every book in one JSON file. Where (:func:`mark_store`, the rule of ``settings.recent``):
``--no-history`` keeps marks in memory for the run (:meth:`MarkStore.memory`: nothing read,
nothing written); else ``$ROAMTUI_MARKS`` (a file path, or ``off`` for memory only); else the
config's top-level ``marks`` (``false`` or a path); else ``<user data dir>/roamtui/marks.json``
(``~/.local/share/roamtui/marks.json`` on Linux).

What is stored: the MsgKey, the message's MsgTimeStamp (to find a mark that is not loaded yet,
and to tell whether a window should hold it), whether it is marked, and the note the agent
typed. Never the message's content. The file is rewritten atomically with mode 0600
(``roamtui.atomicfile``), read again before each write so that another roamtui's changes to
other conversations are kept, and bounded (:data:`MAX_FILE_BYTES`, :data:`MAX_MARKS`,
:data:`MAX_NOTE`). A file that cannot be read (broken JSON, a newer format, too big) is left
exactly as it is: the store says so once (:attr:`MarkStore.problem`) and keeps marks in memory
only, rather than replace what it could not read.
"""

from __future__ import annotations

import json
import os
import threading
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import platformdirs

from roamtui.atomicfile import write_atomically
from roamtui.settings.config import APP_NAME, Config
from roamtui.settings.recent import OFF

ENV_MARKS = "ROAMTUI_MARKS"
FILE_NAME = "marks.json"
FORMAT_VERSION = 1
#: Characters of one note; a longer one is refused, not cut (the agent would not notice a cut).
MAX_NOTE = 2000
#: Marked or noted messages of one conversation side.
MAX_MARKS = 5000
#: The whole file, read or written: beyond it a read is refused and a change is not stored.
MAX_FILE_BYTES = 8 * 1024 * 1024


class MarkError(ValueError):
    """A change that cannot be made (too many marks, a note too long); ``str()`` is one line."""


def default_path() -> Path:
    """``<user data dir>/roamtui/marks.json`` (XDG_DATA_HOME on Linux)."""
    return platformdirs.user_data_path(APP_NAME) / FILE_NAME


def marks_path(
    *, no_history: bool = False, config: Config | None = None,
    env: Mapping[str, str] = os.environ,
) -> Path | None:
    """Where marks are kept, or None to keep them for the run only (see the module docstring)."""
    if no_history:
        return None
    given = env.get(ENV_MARKS, "").strip()
    if given:
        return None if given.lower() in OFF else Path(given).expanduser()
    setting = config.marks if config is not None else None
    if setting is False:
        return None
    if isinstance(setting, str):
        return Path(setting).expanduser()
    return default_path()


def mark_store(
    *, no_history: bool = False, config: Config | None = None,
    env: Mapping[str, str] = os.environ,
) -> MarkStore:
    """The marks file to use, or a store in memory (nothing read, nothing written)."""
    path = marks_path(no_history=no_history, config=config, env=env)
    return MarkStore.memory() if path is None else MarkStore(path)


@dataclass(frozen=True, slots=True)
class Pair:
    """Whose side of which conversation, in which app: the marks of one transcript."""

    sdkappid: int
    account: str
    peer: str

    def as_obj(self) -> dict[str, Any]:
        return {"sdkappid": self.sdkappid, "account": self.account, "peer": self.peer}


@dataclass(frozen=True, slots=True)
class Mark:
    """One message's mark and note; ``marked`` False with a note keeps only the note."""

    key: str
    time: int  # the message's MsgTimeStamp
    marked: bool = True
    note: str = ""

    def as_obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {"key": self.key, "time": self.time, "marked": self.marked}
        if self.note:
            obj["note"] = self.note
        return obj


def _mark_from(obj: object) -> Mark:
    if not isinstance(obj, dict):
        raise ValueError("an entry is not an object")
    key, when = obj.get("key"), obj.get("time")
    marked, note = obj.get("marked", True), obj.get("note", "")
    if not isinstance(key, str) or not key:
        raise ValueError("an entry has no MsgKey")
    if not isinstance(when, int) or isinstance(when, bool):
        raise ValueError(f"entry {key!r} has no time")
    if not isinstance(marked, bool) or not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ValueError(f"entry {key!r} is malformed")
    return Mark(key, when, marked, note)


def _pair_from(obj: object) -> tuple[Pair, list[Mark]]:
    if not isinstance(obj, dict):
        raise ValueError("a conversation is not an object")
    app, account, peer = obj.get("sdkappid"), obj.get("account"), obj.get("peer")
    marks = obj.get("marks")
    if not (isinstance(app, int) and isinstance(account, str) and isinstance(peer, str)
            and isinstance(marks, list)):
        raise ValueError("a conversation lacks sdkappid, account, peer or marks")
    return Pair(app, account, peer), [_mark_from(m) for m in marks]


class MarkBook:
    """The marks of one :class:`Pair`, in memory, saved through its store on every change.

    Every change returns normally once it is in memory; :meth:`MarkStore.save` raising OSError
    means it is kept for this session only (the caller says so).
    """

    def __init__(self, store: MarkStore, pair: Pair, marks: Iterable[Mark] = ()) -> None:
        self.store = store
        self.pair = pair
        self._marks: dict[str, Mark] = {}
        self._order: list[tuple[int, str]] = []  # (time, key) of marked messages, sorted
        for mark in marks:
            self._put(mark)

    # -- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        """How many messages are marked."""
        return len(self._order)

    def get(self, key: str) -> Mark | None:
        return self._marks.get(key)

    def is_marked(self, key: str) -> bool:
        mark = self._marks.get(key)
        return mark is not None and mark.marked

    def note(self, key: str) -> str:
        mark = self._marks.get(key)
        return "" if mark is None else mark.note

    def entries(self) -> list[Mark]:
        """Every mark and note, oldest message first."""
        return sorted(self._marks.values(), key=lambda m: (m.time, m.key))

    def marked(self) -> list[Mark]:
        """The marked messages, oldest first."""
        return [self._marks[key] for _, key in self._order]

    def notes(self) -> dict[str, str]:
        """MsgKey → note, for every message with a note (marked or not)."""
        return {m.key: m.note for m in self._marks.values() if m.note}

    def next_after(self, time: int, key: str | None, forward: bool) -> Mark | None:
        """The first marked message after (``forward``) or before the message ``(time, key)``,
        in time order; ties within a second go by MsgKey, a stable if arbitrary order."""
        order = self._order
        here = (time, key or "")
        if forward:
            k = bisect_right(order, here)
            return self._marks[order[k][1]] if k < len(order) else None
        k = bisect_left(order, here)
        return self._marks[order[k - 1][1]] if k > 0 else None

    # -- changing -----------------------------------------------------------------------------

    def toggle(self, key: str, time: int) -> bool:
        """Mark the message, or unmark it (its note is kept); True when it is marked now."""
        mark = self._marks.get(key)
        if mark is None:
            self._check_room()
            mark = Mark(key, time)
        else:
            mark = replace(mark, marked=not mark.marked)
        self._put(mark)
        self.store.save(self)
        return mark.marked

    def set_note(self, key: str, time: int, note: str) -> None:
        """Attach ``note`` (stripped; empty removes it). A note marks its message too: it says
        why the message matters."""
        note = note.strip()
        if len(note) > MAX_NOTE:
            raise MarkError(f"a note holds at most {MAX_NOTE:,} characters "
                            f"(this one has {len(note):,})")
        mark = self._marks.get(key)
        if mark is None:
            if not note:
                return
            self._check_room()
            mark = Mark(key, time, True, note)
        else:
            mark = replace(mark, note=note, marked=mark.marked or bool(note))
        self._put(mark)
        self.store.save(self)

    def clear(self) -> int:
        """Remove every mark and note of this pair; returns how many messages had one."""
        count = len(self._marks)
        self._marks.clear()
        self._order.clear()
        self.store.save(self)
        return count

    def _check_room(self) -> None:
        if len(self._marks) >= MAX_MARKS:
            raise MarkError(f"at most {MAX_MARKS:,} marked messages per conversation; "
                            "clear some with :marks clear")

    def _put(self, mark: Mark) -> None:
        old = self._marks.get(mark.key)
        if old is not None and old.marked:
            self._order.remove((old.time, old.key))
        if not mark.marked and not mark.note:
            self._marks.pop(mark.key, None)
            return
        self._marks[mark.key] = mark
        if mark.marked:
            insort(self._order, (mark.time, mark.key))


class MarkStore:
    """Every book, in one file (or in memory only); see the module docstring."""

    def __init__(self, path: Path | None = None, *, persist: bool = True) -> None:
        self.path = path if path is not None else default_path()
        self.persist = persist
        #: Why the file is not used (one line), once it could not be read; None while it is.
        self.problem: str | None = None
        self._books: dict[Pair, MarkBook] = {}
        self._lock = threading.Lock()

    @classmethod
    def memory(cls) -> MarkStore:
        """A store that never touches the disk (``--no-history``, tests)."""
        return cls(Path(os.devnull), persist=False)

    def __repr__(self) -> str:
        return f"MarkStore(path={str(self.path)!r}, persist={self.persist})"

    def book(self, pair: Pair) -> MarkBook:
        """The marks of ``pair`` as stored (read now the first time), kept for this session."""
        found = self._books.get(pair)
        if found is None:
            marks: list[Mark] = []
            if self.persist and self.problem is None:
                try:
                    marks = self._read().get(pair, [])
                except ValueError as exc:
                    self.problem = str(exc)
            found = self._books[pair] = MarkBook(self, pair, marks)
        return found

    def save(self, book: MarkBook) -> None:
        """Store ``book``, keeping every other pair as the file has it now; OSError when it
        cannot be (the file unreadable, too big, or the disk refusing)."""
        if not self.persist:
            return
        with self._lock:
            if self.problem is not None:
                raise OSError(f"not saved: {self.problem}")
            try:
                stored = self._read()
            except ValueError as exc:
                self.problem = str(exc)
                raise OSError(f"not saved: {exc}") from None
            stored[book.pair] = book.entries()
            pairs = [{**pair.as_obj(), "marks": [m.as_obj() for m in marks]}
                     for pair, marks in stored.items() if marks]
            text = json.dumps({"version": FORMAT_VERSION, "pairs": pairs},
                              ensure_ascii=False, indent=1) + "\n"
            if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
                raise OSError(f"not saved: the marks file would grow past "
                              f"{MAX_FILE_BYTES // (1024 * 1024)} MiB; clear old marks "
                              "with :marks clear")
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomically(self.path, lambda handle: handle.write(text), newline="\n")

    def _read(self) -> dict[Pair, list[Mark]]:
        """What the file holds; empty when there is none; ValueError (one line) when it is
        not a marks file this version can read whole."""
        where = str(self.path)
        try:
            with self.path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ValueError(f"cannot read the marks file {where}: "
                             f"{exc.strerror or exc}") from None
        if len(data) > MAX_FILE_BYTES:
            raise ValueError(f"the marks file {where} is larger than "
                             f"{MAX_FILE_BYTES // (1024 * 1024)} MiB")
        try:
            doc = json.loads(data.decode("utf-8"))
            if not isinstance(doc, dict) or doc.get("version") != FORMAT_VERSION:
                raise ValueError(f"not version {FORMAT_VERSION} of the marks format")
            pairs = doc.get("pairs")
            if not isinstance(pairs, list):
                raise ValueError("no list of conversations")
            stored: dict[Pair, list[Mark]] = {}
            for obj in pairs:
                pair, marks = _pair_from(obj)
                stored.setdefault(pair, []).extend(marks)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError, JSONDecodeError too
            reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise ValueError(f"the marks file {where} cannot be read ({reason}); it was left "
                             "as it is and marks are kept for this session only") from None
        return stored

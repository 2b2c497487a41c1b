"""Reading typed fields out of untrusted dicts, leniently: a value of the wrong type becomes a
default (or what it reads as) plus a line saying so, never an exception.

The service's records, and anything a hostile stand-in sends, go through a :class:`Reader`;
``Message.problems`` is what it noted (at most :data:`MAX_PROBLEMS` lines, then a count).
"""

from __future__ import annotations

import math
from typing import Any

#: Lines noted per record at most; the rest are counted.
MAX_PROBLEMS = 12

_TYPE_NAMES = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
               list: "an array", dict: "an object", type(None): "null"}


def type_name(v: object) -> str:
    return _TYPE_NAMES.get(type(v), type(v).__name__)


class Reader:
    """Reads typed fields out of untrusted dicts, noting every mismatch."""

    __slots__ = ("dropped", "problems")

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.dropped = 0

    def note(self, path: str, what: str) -> None:
        self.add(f"{path}: {what}")

    def add(self, line: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(line)
        else:
            self.dropped += 1

    def result(self) -> tuple[str, ...]:
        if self.dropped:
            return (*self.problems, f"… and {self.dropped} more problems")
        return tuple(self.problems)

    def int_(self, d: dict[str, Any], key: str, path: str, required: bool = False) -> int:
        v = d.get(key)
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        if v is None:
            if required:
                self.note(path + key, "missing")
            return 0
        if isinstance(v, float) and math.isfinite(v):
            if not v.is_integer():
                self.note(path + key, f"expected an integer, got {v!r}")
            return int(v)
        if isinstance(v, bool | str):
            try:
                n = int(v)
            except ValueError:
                pass
            else:
                self.note(path + key, f"expected an integer, got {type_name(v)} (read as {n})")
                return n
        self.note(path + key, f"expected an integer, got {type_name(v)}")
        return 0

    def float_(self, d: dict[str, Any], key: str, path: str) -> float:
        v = d.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool):
            try:
                return float(v)
            except OverflowError:
                pass
        elif v is None:
            return 0.0
        elif isinstance(v, str):
            try:
                x = float(v)
            except ValueError:
                pass
            else:
                self.note(path + key, "expected a number, got a string")
                return x
        self.note(path + key, f"expected a number, got {type_name(v)}")
        return 0.0

    def str_(self, d: dict[str, Any], key: str, path: str, required: bool = False) -> str:
        v = d.get(key)
        if isinstance(v, str):
            return v
        if v is None:
            if required:
                self.note(path + key, "missing")
            return ""
        self.note(path + key, f"expected a string, got {type_name(v)}")
        if isinstance(v, int | float) and not isinstance(v, bool):
            try:
                return str(v)
            except ValueError:  # ints beyond the interpreter's digit limit
                return ""
        return ""

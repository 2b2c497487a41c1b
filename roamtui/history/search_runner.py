r"""Running a regex the user typed so that it can never hang the app.

Textual-free. A :class:`Runner` runs a pattern that ``search_regex`` reads as bounded on ``re``
(fast: linear in the text), and one it reads as polynomial (``\d+ refund``, ``^\?+$``) on
``re`` over texts short enough for that to be cheap; anything else (longer texts, other shapes,
syntax the reader does not know) on the ``regex`` engine with a timeout per call and a time
budget per batch. This fails closed: a call that times out raises :class:`SlowRegex` and the
search refuses the query; nothing is skipped when a pattern cannot be read.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from functools import lru_cache
from itertools import compress, repeat
from typing import TYPE_CHECKING, Protocol

from roamtui.history.search_regex import Node, bounded, foldable, parse, polynomial

if TYPE_CHECKING:
    import regex

#: Seconds one call of the ``regex`` engine may take before the pattern is refused as too slow.
CALL_TIMEOUT = 0.1
#: Seconds of matching a batch may take before it stops, to go on after an event-loop turn.
BATCH_BUDGET = 0.02
#: Texts matched in one C-level pass, each call allowed BATCH_BUDGET / SLICE seconds.
SLICE = 64
#: Steps a search of a polynomial pattern may take at most to run on re, without a timeout.
SHORT_STEPS = 100_000


@lru_cache(maxsize=1)
def _cased() -> regex.Pattern[str]:
    """Letters with a case in the regex engine's Unicode tables, which may be newer than
    Python's. The engine is imported by the first pattern that needs it (a search with a
    regex ``re`` cannot run safely): a third of the transcript's import time otherwise."""
    import regex

    return regex.compile(r"[\p{Cased}\p{Changes_When_Casemapped}\p{Changes_When_Casefolded}]")


class SlowRegex(Exception):
    """The pattern took too long on some text; ``reason`` is short, for the find bar."""

    reason = "the regex takes too long on some messages; simplify it"

    def __init__(self) -> None:
        super().__init__(self.reason)


class Match(Protocol):
    def start(self) -> int: ...
    def end(self) -> int: ...
    def span(self) -> tuple[int, int]: ...


def _regex_flags(flags: int) -> int:
    import regex

    out = regex.V0
    for ours, theirs in ((re.IGNORECASE, regex.IGNORECASE), (re.MULTILINE, regex.MULTILINE),
                         (re.DOTALL, regex.DOTALL), (re.ASCII, regex.ASCII),
                         (re.VERBOSE, regex.VERBOSE)):
        if flags & ours:
            out |= theirs
    return out


class Runner:
    """Runs one compiled pattern so that no call can hang (see the module docstring).

    Get one with :func:`runner_for`; after a timeout it is ``slow`` for good: every search
    raises :class:`SlowRegex` and :meth:`spans` finds nothing, without trying again.
    """

    __slots__ = ("_engine", "_short", "bounded", "pattern", "slow", "tree")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.tree: Node | None = parse(pattern.pattern, pattern.flags)
        self.bounded = self.tree is not None and bounded(self.tree)
        self.slow = False
        # Compiled by both: re (for the transcript's highlight) and regex (to run it here).
        self._engine: regex.Pattern[str] | None = None
        self._short = -1  # texts this long at most run on re all the same
        if not self.bounded:
            import regex

            try:
                self._engine = regex.compile(pattern.pattern, _regex_flags(pattern.flags))
            except regex.error as exc:  # as re's, so that callers need not import the engine
                reason = getattr(exc, "msg", str(exc))
                raise re.error(reason, pattern.pattern, getattr(exc, "pos", None)) from None
            shape = None if self.tree is None else polynomial(self.tree)
            if shape is not None:  # each of n + 1 starts: cost * (n + 1) ** k steps at most
                k, cost = shape
                self._short = int((SHORT_STEPS / max(cost, 1)) ** (1 / (k + 1))) - 1

    def foldable(self, char: str) -> bool:
        """Whether this runner, ignoring case, takes ``char`` only for letters of the same
        casefold (in Python's tables, which fold the texts searched): always for ``re`` but
        for the dotted and dotless i; for the regex engine only for ASCII letters (but i) and
        for what has no case at all, as its tables know letters and pairs Python's may not."""
        if self._engine is None:
            return foldable(char)
        return foldable(char) and (char.isascii() or _cased().match(char) is None)

    def search(self, text: str, pos: int = 0) -> Match | None:
        if self._engine is None or len(text) <= self._short:
            return self.pattern.search(text, pos)
        if self.slow:
            raise SlowRegex
        try:
            return self._engine.search(text, pos, timeout=CALL_TIMEOUT)
        except TimeoutError:
            self.slow = True
            raise SlowRegex from None

    def finditer(self, text: str, pos: int = 0) -> Iterator[Match]:
        """Every match from ``pos`` (SlowRegex when the pattern turns out too slow on ``text``)."""
        if self._engine is None or len(text) <= self._short:
            yield from self.pattern.finditer(text, pos)
            return
        if self.slow:
            raise SlowRegex
        deadline = time.perf_counter() + CALL_TIMEOUT
        found = self._engine.finditer(text, pos, timeout=CALL_TIMEOUT)
        try:
            for match in found:
                yield match
                if time.perf_counter() > deadline:
                    raise TimeoutError
        except TimeoutError:
            self.slow = True
            raise SlowRegex from None

    def spans(self, text: str, limit: int) -> list[tuple[int, int]]:
        """Non-empty match spans for highlighting; none when the pattern is too slow."""
        out: list[tuple[int, int]] = []
        try:
            for match in self.finditer(text):
                if match.end() > match.start():
                    out.append(match.span())
                    if len(out) >= limit:
                        break
        except SlowRegex:
            return []
        return out

    def select(self, texts: Sequence[str], positions: Sequence[int]) -> tuple[list[int], int]:
        """Those of the ascending ``positions`` whose text has a match, and how many of the
        positions were looked at: fewer than all when the batch used up its time budget."""
        if self._engine is None:
            # Match objects are dropped at once: keeping 16,384 of them would wake the cyclic
            # GC, whose full passes over every loaded message cost more than the search itself.
            picked = map(texts.__getitem__, positions)
            return list(compress(positions, map(self.pattern.search, picked))), len(positions)
        if self.slow:
            raise SlowRegex
        search = self._engine.search
        found: list[int] = []
        began = time.perf_counter()
        done, total = 0, len(positions)
        short = self._short
        while done < total:
            part = positions[done:done + SLICE]
            try:
                # A slice in C-level passes: short texts on re, the others on the regex engine
                # with each call allowed its share of the budget, so the slice never takes
                # longer than the budget. (Arguments: string, pos, endpos, concurrent,
                # partial, timeout.)
                quick = list(map(short.__ge__, map(len, map(texts.__getitem__, part))))
                mine = list(compress(part, quick))
                hits = list(compress(mine, map(self.pattern.search, map(texts.__getitem__, mine))))
                rest = [i for i, q in zip(part, quick, strict=True) if not q]
                n = len(rest)
                hits += compress(rest, map(search, map(texts.__getitem__, rest), repeat(None, n),
                                           repeat(None, n), repeat(None, n), repeat(False, n),
                                           repeat(BATCH_BUDGET / SLICE, n)))
            except TimeoutError:
                # One of them needs longer: one by one, each with the whole timeout. Only the
                # call that crosses the budget may exceed it, by one timeout at most.
                for i in part:
                    if done and time.perf_counter() - began > BATCH_BUDGET:
                        return found, done
                    if self._search_once(texts[i]):
                        found.append(i)
                    done += 1
                continue
            found.extend(sorted(hits))
            done += len(part)
            if time.perf_counter() - began > BATCH_BUDGET:
                break
        return found, done

    def _search_once(self, text: str) -> bool:
        assert self._engine is not None
        if len(text) <= self._short:
            return self.pattern.search(text) is not None
        try:
            return self._engine.search(text, timeout=CALL_TIMEOUT) is not None
        except TimeoutError:
            self.slow = True
            raise SlowRegex from None


@lru_cache(maxsize=64)
def _runner(text: str, flags: int) -> Runner:
    return Runner(re.compile(text, flags))


def runner_for(pattern: re.Pattern[str]) -> Runner:
    """The runner of ``pattern`` (kept for the last patterns asked for, slow ones included)."""
    return _runner(pattern.pattern, pattern.flags)

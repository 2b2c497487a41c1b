"""Finding messages: an index of search text aligned with the loaded messages, and results.

Textual-free. A message's searched text is ``Message.search_text()``: its text, placeholders and
hidden fields (long file names, location/custom descriptions, merged-forward titles and nested
messages). Queries and what matches them are in ``search_query`` (re-exported here); a regex
that turns out too slow stops the results with an ``error`` (``search_runner``).

Speed (≤ 50 ms per keystroke over 100,000 messages): the index keeps every text case-folded in a
few joined byte strings (``search_haystack``). A matcher's probes are looked for there with
``bytes.find``, a C-level step per *matching* message; only the messages found are then tested
against the query itself (a case-sensitive literal, a regex). Typing on at the end of a literal
query rescans only the previous matches. The index follows the timeline by splices, and results
(``search_results``) follow the index, scanning only messages that arrived since, nearest the
reader first: the matches around the cursor and the nearest one are known after the first step.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, count
from operator import is_not
from typing import Literal

from roamtui.history.search_haystack import BLOCK, Haystack
from roamtui.history.search_query import (
    CASE_MODES,
    MAX_SPANS,
    CaseMode,
    Matcher,
    SearchQuery,
    SearchQueryError,
    match_spans,
)
from roamtui.history.search_results import DEFAULT_CHUNK, SearchResults, locate
from roamtui.im.model import Message, TextElem

__all__ = [
    "CASE_MODES",
    "DEFAULT_CHUNK",
    "MAX_SPANS",
    "CaseMode",
    "IndexChange",
    "Kind",
    "Matcher",
    "SearchIndex",
    "SearchQuery",
    "SearchQueryError",
    "SearchResults",
    "counter_text",
    "find_kind",
    "find_message",
    "locate",
    "match_spans",
    "splice_plan",
]

#: "one_sided": held by one side only (read from both sides; the timeline knows, not the message)
Kind = Literal["recalled", "non_text", "one_sided"]

#: Messages looked at between two turns of the event loop when looking for a kind.
KIND_SLICE = 2_000

_RECALLED, _NON_TEXT = 1, 2
_BITS = {"recalled": _RECALLED, "non_text": _NON_TEXT}


def _flags(msg: Message) -> int:
    flags = _RECALLED if msg.recalled else 0
    if any(type(e) is not TextElem for e in msg.elements):
        flags |= _NON_TEXT
    return flags


def splice_plan(old: Sequence[Message], new: Sequence[Message]) -> tuple[int, int, int]:
    """(start, removed, inserted) turning ``old`` into ``new``, by identity at both ends."""
    n = min(len(old), len(new))
    pre = next(compress(count(), map(is_not, old, new)), n)
    post = next(compress(count(), map(is_not, reversed(old), reversed(new))), n)
    post = min(post, n - pre)
    return pre, len(old) - pre - post, len(new) - pre - post


@dataclass(frozen=True, slots=True)
class IndexChange:
    """``removed`` messages at ``start`` were replaced by ``inserted`` ones (index ``version``)."""

    version: int
    start: int
    removed: int
    inserted: int


class SearchIndex:
    """Search texts of a message list, in its order, kept in step by splices.

    Positions are those of the list it follows (for the search session:
    ``Timeline.messages()``, spliced in as :func:`splice_plan` says). The index keeps its own
    copy of the list, so the caller's list may change in place between splices.
    """

    __slots__ = ("_hay", "_last", "_log", "_log_size", "_msgs", "_texts", "_version")

    def __init__(
        self, messages: Iterable[Message] = (), *, log_size: int = 256, block: int = BLOCK
    ) -> None:
        self._msgs: list[Message] = []
        self._texts: list[str] = []
        self._hay = Haystack(block=block)  # the texts case-folded, for finding probes
        self._version = 0
        self._log: list[IndexChange] = []
        self._log_size = max(1, log_size)
        self._last: SearchResults | None = None  # the results a narrower query may start from
        self.splice(0, 0, list(messages))

    def __len__(self) -> int:
        return len(self._msgs)

    @property
    def version(self) -> int:
        """Grows by one with every change."""
        return self._version

    @property
    def messages(self) -> Sequence[Message]:
        return self._msgs

    @property
    def nbytes(self) -> int:
        """Bytes of the folded copy of the texts the index keeps (the texts are the messages')."""
        return self._hay.nbytes

    def text(self, i: int) -> str:
        return self._texts[i]

    def splice(self, start: int, removed: int, inserted: Sequence[Message]) -> IndexChange:
        """``removed`` messages at ``start`` are now ``inserted`` (as a timeline splice says)."""
        if not 0 <= start <= len(self._msgs) or removed < 0 or start + removed > len(self._msgs):
            raise IndexError(f"splice {start}+{removed} outside 0..{len(self._msgs)}")
        end = start + removed
        texts = [msg.search_text() for msg in inserted]
        self._hay.splice(start, removed, [t.casefold() for t in texts])
        self._msgs[start:end] = inserted
        self._texts[start:end] = texts
        self._version += 1
        change = IndexChange(self._version, start, removed, len(texts))
        self._log.append(change)
        if len(self._log) > self._log_size:
            del self._log[: len(self._log) - self._log_size]
        return change

    def changes_since(self, version: int) -> list[IndexChange] | None:
        """Changes after ``version`` in order; None when the log no longer reaches back."""
        if version == self._version:
            return []
        if not self._log or self._log[0].version > version + 1:
            return None
        return self._log[bisect_right(self._log, version, key=lambda c: c.version) :]

    def search(self, matcher: Matcher | None, *, narrow: bool = True,
               keep: Callable[[Message], bool] | None = None) -> SearchResults:
        """Results of ``matcher`` (None: every message) over this index, only the messages
        ``keep`` passes (a filter, ``history.filters``); nothing is scanned until stepped.

        When ``narrow`` and ``matcher`` narrows the query of the previous results handed out
        (``refu`` after ``ref``, the same filter), the new results start from those: only
        their matches, and what they had not scanned yet, are looked at.
        """
        results = SearchResults(self, matcher, keep)
        if narrow and self._last is not None:
            results.narrow_from(self._last)
        self._last = results
        return results

    def scan(self, matcher: Matcher | None, start: int = 0, stop: int | None = None
             ) -> tuple[list[int], int]:
        """Matching positions in ``start..stop`` (all of them for no matcher), and the position
        the scan got to: ``stop``, or less when a regex used up its time budget (SlowRegex
        when it is too slow)."""
        end = len(self._msgs) if stop is None else min(stop, len(self._msgs))
        start = max(start, 0)
        if matcher is None:
            return list(range(start, end)), max(start, end)
        if matcher.empty or start >= end:
            return [], max(start, end)
        if not matcher.probes:
            found, done = matcher.select(self._texts, range(start, end))
            return found, start + done
        candidates = self._hay.find_any(matcher.probes, start, end)
        if matcher.exact:
            return candidates, end
        found, done = matcher.select(self._texts, candidates)
        return found, end if done == len(candidates) else candidates[done]

    def recheck(self, matcher: Matcher | None, positions: Sequence[int]
                ) -> tuple[list[int], int]:
        """Those of the ascending ``positions`` whose message matches ``matcher``, and how many
        of the positions were looked at (see :meth:`scan`)."""
        if matcher is None:
            return list(positions), len(positions)
        if matcher.empty or not positions:
            return [], len(positions)
        if not matcher.probes:
            return matcher.select(self._texts, positions)
        kept = self._hay.keep(matcher.probes, positions)
        if matcher.exact:
            return kept, len(positions)
        found, done = matcher.select(self._texts, kept)
        return found, len(positions) if done == len(kept) else bisect_left(positions, kept[done])


def find_message(
    messages: Sequence[Message], after: int, kind: Kind, forward: bool = True
) -> int | None:
    """The next message of ``kind`` after position ``after`` (before it when backward); ``after =
    -1`` forward (or ``len(messages)`` backward) starts from the window's end."""
    bit = _BITS[kind]
    return next((i for i in _walk(after, len(messages), forward) if _flags(messages[i]) & bit),
                None)


def _walk(after: int, size: int, forward: bool) -> range:
    """Positions after ``after`` (before it, nearest first, when not ``forward``) in ``0..size``."""
    if forward:
        return range(max(after + 1, 0), size)
    return range(min(after - 1, size - 1), -1, -1)


def counter_text(current: int | None, total: int, final: bool, *, counting: bool = False) -> str:
    """``3/17`` or ``17`` when final; ``3/17+`` or ``17+`` while the rest of the window may
    bring more; ``3/≥17…`` or ``≥17…`` while the loaded messages are still being counted
    (``current`` 0: the match's number is not known yet either, ``?/≥17…``)."""
    if counting:
        if total == 0:
            return "searching…"
        return f"{current or '?'}/≥{total}…" if current is not None else f"≥{total}…"
    more = "" if final else "+"
    if total == 0:
        return "no matches" if final else "0+"
    return f"{current}/{total}{more}" if current else f"{total}{more}"


async def find_kind(messages: Sequence[Message], kind: Kind, forward: bool,
                    cursor: Message | None,
                    test: Callable[[Message], bool] | None = None) -> Message | None:
    """The next (previous) message of ``kind`` after (before) ``cursor`` in ``messages``, a
    slice of :data:`KIND_SLICE` at a time with a turn of the event loop in between; ``test``
    says what the kind is when the message alone cannot (one-sided)."""

    def first(part: Sequence[Message], after: int, ahead: bool) -> int | None:
        if test is None:
            return find_message(part, after, kind, ahead)
        return next((i for i in _walk(after, len(part), ahead) if test(part[i])), None)

    if cursor is None:
        at = -1 if forward else len(messages)
    else:
        k, found = locate(messages, cursor)
        at = k if found or not forward else k - 1
    lo, hi = (at + 1, len(messages)) if forward else (0, at)
    while lo < hi:
        if forward:
            part = messages[lo:lo + KIND_SLICE]
            hit = first(part, -1, True)
            lo += len(part)
        else:
            part = messages[max(lo, hi - KIND_SLICE):hi]
            hit = first(part, len(part), False)
            hi -= len(part)
        if hit is not None:
            return part[hit]
        await asyncio.sleep(0)
    return None

"""Finding messages: an index of search text aligned with the loaded messages, and results.

Textual-free. A message's searched text is ``Message.search_text()``: its text, placeholders and
hidden fields (long file names, location/custom descriptions, merged-forward titles and nested
messages). Queries and what matches them are in ``search_query`` (re-exported here).

Speed (≤ 50 ms per keystroke over 100,000 messages): the index keeps every text case-folded in a
few joined byte strings (``search_haystack``). A matcher's probes are looked for there with
``bytes.find``, a C-level step per *matching* message; only the messages found are then tested
against the query itself (a case-sensitive literal, a regex). Typing on at the end of a literal
query rescans only the previous matches. The index follows the timeline by splices, and results
follow the index, scanning only messages that arrived since.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
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
    "find_message",
    "match_spans",
    "search_messages",
]

Kind = Literal["recalled", "non_text"]

#: Messages scanned between two yields of :meth:`SearchResults.steps` (a few ms at most).
DEFAULT_CHUNK = 16_384

_RECALLED, _NON_TEXT = 1, 2
_BITS = {"recalled": _RECALLED, "non_text": _NON_TEXT}


def _flags(msg: Message) -> int:
    flags = _RECALLED if msg.recalled else 0
    if any(type(e) is not TextElem for e in msg.elements):
        flags |= _NON_TEXT
    return flags


@dataclass(frozen=True, slots=True)
class IndexChange:
    """``removed`` messages at ``start`` were replaced by ``inserted`` ones (index ``version``)."""

    version: int
    start: int
    removed: int
    inserted: int


class SearchIndex:
    """Search texts of a message list, in its order, kept in step by splices.

    Positions are those of the list last given to :meth:`sync` (for the transcript:
    ``Timeline.messages()``). The index keeps its own copy of the list, so the caller's list
    may change in place between syncs.
    """

    __slots__ = ("_flags", "_hay", "_last", "_log", "_log_size", "_msgs", "_texts", "_version")

    def __init__(
        self, messages: Iterable[Message] = (), *, log_size: int = 256, block: int = BLOCK
    ) -> None:
        self._msgs: list[Message] = []
        self._texts: list[str] = []
        self._hay = Haystack(block=block)  # the texts case-folded, for finding probes
        self._flags = bytearray()  # _RECALLED | _NON_TEXT per message, for jumps by kind
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

    def sync(self, messages: Sequence[Message]) -> IndexChange | None:
        """Follow ``messages`` (the same list, changed); one splice covering what differs."""
        old = self._msgs
        n = min(len(old), len(messages))
        pre = next(compress(count(), map(is_not, old, messages)), n)
        post = next(compress(count(), map(is_not, reversed(old), reversed(messages))), n)
        post = min(post, n - pre)
        removed = len(old) - pre - post
        inserted = len(messages) - pre - post
        if removed == 0 and inserted == 0:
            return None
        return self.splice(pre, removed, messages[pre : pre + inserted])

    def splice(self, start: int, removed: int, inserted: Sequence[Message]) -> IndexChange:
        """``removed`` messages at ``start`` are now ``inserted`` (as a timeline splice says)."""
        if not 0 <= start <= len(self._msgs) or removed < 0 or start + removed > len(self._msgs):
            raise IndexError(f"splice {start}+{removed} outside 0..{len(self._msgs)}")
        end = start + removed
        # Messages taken out and put back (a wide sync) keep their flags: no elements parsed.
        known = {id(self._msgs[k]): self._flags[k] for k in range(start, end)}
        texts: list[str] = []
        flags = bytearray()
        for msg in inserted:
            # One parse per message: the flags parse the elements, the model keeps that parse
            # in its small cache, and search_text() (when not memoised yet) reads it from there
            # straight away, before other messages push it out.
            flag = known.get(id(msg))
            flags.append(_flags(msg) if flag is None else flag)
            texts.append(msg.search_text())
        self._hay.splice(start, removed, [t.casefold() for t in texts])
        self._msgs[start:end] = inserted
        self._texts[start:end] = texts
        self._flags[start:end] = flags
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

    def search(self, matcher: Matcher, *, narrow: bool = True) -> SearchResults:
        """Results of ``matcher`` over this index; nothing is scanned until they are stepped.

        When ``narrow`` and ``matcher`` narrows the query of the previous results handed out
        (``refu`` after ``ref``), the new results start from those: only their matches, and
        what they had not scanned yet, are looked at.
        """
        results = SearchResults(self, matcher)
        last = self._last
        if narrow and last is not None and last._version >= 0 and matcher.narrows(last.matcher):
            results._start_from(last)
        self._last = results
        return results

    def scan(self, matcher: Matcher, start: int = 0, stop: int | None = None) -> list[int]:
        """Matching positions in ``start..stop`` (a direct, non-incremental scan)."""
        end = len(self._msgs) if stop is None else min(stop, len(self._msgs))
        start = max(start, 0)
        if matcher.empty or start >= end:
            return []
        if not matcher.probes:
            return matcher.verify(self._texts, range(start, end))
        found = self._hay.find_any(matcher.probes, start, end)
        return found if matcher.exact else matcher.verify(self._texts, found)

    def recheck(self, matcher: Matcher, positions: Sequence[int]) -> list[int]:
        """Those of the ascending ``positions`` whose message matches ``matcher``."""
        if matcher.empty or not positions:
            return []
        if not matcher.probes:
            return matcher.verify(self._texts, positions)
        found = self._hay.keep(matcher.probes, positions)
        return found if matcher.exact else matcher.verify(self._texts, found)

    def find_kind(self, kind: Kind, after: int, forward: bool = True) -> int | None:
        """The next message of ``kind`` after position ``after`` (before it when backward).

        ``after = -1`` forward (or ``len(index)`` backward) starts from the window's end.
        """
        bit, flags = _BITS[kind], self._flags
        return next((i for i in _walk(after, len(flags), forward) if flags[i] & bit), None)


@dataclass(slots=True, eq=False)
class SearchResults:
    """Incremental results of one matcher over one index: sorted positions, kept in step.

    Step it with :meth:`steps` (stop iterating to cancel; iterate again to resume); after the
    index changes, stepping again drops what left, shifts what moved and scans only what came.
    """

    index: SearchIndex
    matcher: Matcher
    _matches: list[int] = field(default_factory=list, repr=False)
    _pending: list[tuple[int, int]] = field(default_factory=list, repr=False)  # [lo, hi) to scan
    _recheck: list[int] = field(default_factory=list, repr=False)  # positions to test, ascending
    _version: int = field(default=-1, repr=False)

    @property
    def matches(self) -> Sequence[int]:
        """Positions (in ``index.messages``) of the matching messages found so far, ascending."""
        return self._matches

    @property
    def done(self) -> bool:
        """Every message of the index as it is now has been looked at."""
        return self._version == self.index.version and not self._pending and not self._recheck

    @property
    def unscanned(self) -> int:
        """Messages of the index as it is now that are still to be looked at."""
        self._catch_up()
        return sum(hi - lo for lo, hi in self._pending) + len(self._recheck)

    def __len__(self) -> int:
        return len(self._matches)

    def steps(self, chunk: int = DEFAULT_CHUNK) -> Generator[int, None, None]:
        """Look at up to ``chunk`` messages per step; yields the match count after each step."""
        chunk = max(1, chunk)
        while True:
            self._catch_up()
            if self._recheck:
                part = self._recheck[:chunk]
                del self._recheck[:chunk]
                self._matches.extend(self.index.recheck(self.matcher, part))
                self._matches.sort()  # two sorted runs: linear
                yield len(self._matches)
                continue
            if not self._pending:
                return
            lo, hi = self._pending[0]
            stop = min(hi, lo + chunk)
            hits = self.index.scan(self.matcher, lo, stop)
            at = bisect_left(self._matches, lo)
            self._matches[at:at] = hits
            if stop == hi:
                del self._pending[0]
            else:
                self._pending[0] = (stop, hi)
            yield len(self._matches)

    def run(self) -> Sequence[int]:
        """Scan everything now; the matches."""
        for _ in self.steps():
            pass
        return self._matches

    def keys(self) -> list[str]:
        msgs = self.index.messages
        return [msgs[i].key for i in self._matches]

    def rank(self, position: int) -> int:
        """How many matches lie before ``position`` (the counter's ``3`` is ``rank + 1``)."""
        return bisect_left(self._matches, position)

    def next_match(self, position: int, forward: bool = True, wrap: bool = True) -> int | None:
        """The match after (before) ``position``, wrapping around the ends when ``wrap``."""
        m = self._matches
        if forward:
            k = bisect_right(m, position)
            return m[k] if k < len(m) else (m[0] if wrap and m else None)
        k = bisect_left(m, position) - 1
        return m[k] if k >= 0 else (m[-1] if wrap and m else None)

    def _start_from(self, wider: SearchResults) -> None:
        """Take over the state of results whose query matches whatever ours does: their
        matches become ours to test again, and what they had left is left to us."""
        self._recheck = sorted([*wider._matches, *wider._recheck])
        self._pending = list(wider._pending)
        self._version = wider._version

    def _catch_up(self) -> None:
        index = self.index
        if self._version == index.version:
            return
        changes = None if self._version < 0 else index.changes_since(self._version)
        if changes is None:
            self._matches, self._recheck = [], []
            self._pending = [(0, len(index))] if len(index) else []
        else:
            for change in changes:
                self._apply(change)
        self._version = index.version

    def _apply(self, change: IndexChange) -> None:
        start, end = change.start, change.start + change.removed
        delta = change.inserted - change.removed
        for m in (self._matches, self._recheck):
            a, b = bisect_left(m, start), bisect_left(m, end)
            m[a:] = [x + delta for x in m[b:]] if delta else m[b:]
        pending: list[tuple[int, int]] = []
        for lo, hi in self._pending:
            if lo < start:
                pending.append((lo, min(hi, start)))
            if hi > end:
                pending.append((max(lo, end) + delta, hi + delta))
        if change.inserted:
            pending.append((start, start + change.inserted))
        self._pending = _merged(pending)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(r for r in ranges if r[1] > r[0]):
        if out and lo <= out[-1][1]:
            prev_lo, prev_hi = out.pop()
            lo, hi = prev_lo, max(prev_hi, hi)
        out.append((lo, hi))
    return out


def find_message(
    messages: Sequence[Message], after: int, kind: Kind, forward: bool = True
) -> int | None:
    """Like :meth:`SearchIndex.find_kind` over a plain message sequence (parses as it goes)."""
    bit = _BITS[kind]
    return next((i for i in _walk(after, len(messages), forward) if _flags(messages[i]) & bit),
                None)


def _walk(after: int, size: int, forward: bool) -> range:
    """Positions after ``after`` (before it, nearest first, when not ``forward``) in ``0..size``."""
    if forward:
        return range(max(after + 1, 0), size)
    return range(min(after - 1, size - 1), -1, -1)


def search_messages(messages: Sequence[Message], query: SearchQuery) -> list[int]:
    """Positions of the messages matching ``query``, in one go (SearchQueryError if invalid)."""
    return list(SearchIndex(messages).search(query.compile(), narrow=False).run())

"""Finding messages: queries, an index of search text aligned with the loaded messages, results.

Textual-free. A message's searched text is ``Message.search_text()``: its text, placeholders and
hidden fields (long file names, location/custom descriptions, merged-forward titles and nested
messages). Speed (≤ 50 ms per keystroke over 100,000 messages) comes from plain lists of texts
and their casefolds aligned with the message list: a literal query is one C-level
``map(str.__contains__, …)`` pass. The index follows the timeline by splices, and results follow
the index, scanning only messages that arrived since.

A message matches when the query has a non-empty match in its search text (regexes matching
empty text, like ``a*``, are refused). Smart case is case-sensitive iff the query has an
uppercase letter (regex escapes like ``\\W`` do not count). Insensitive literals compare
``casefold()`` forms; regexes use IGNORECASE and MULTILINE (``^``/``$`` anchor at each line).
"""

from __future__ import annotations

import importlib
import re
from bisect import bisect_left, bisect_right
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress, count, islice, repeat
from operator import is_not
from typing import Any, Literal

from roamtui.im.model import Message, TextElem

CaseMode = Literal["smart", "sensitive", "insensitive"]
CASE_MODES: tuple[CaseMode, ...] = ("smart", "sensitive", "insensitive")
Kind = Literal["recalled", "non_text"]

#: Messages scanned between two yields of :meth:`SearchResults.steps` (about 2 ms of work).
DEFAULT_CHUNK = 16_384
#: Spans returned for one text at most; a 5,000-character line of "a" needs no more.
MAX_SPANS = 10_000

# Escapes and group names are not text the user wants matched, so they do not decide the case.
_NOT_TEXT = re.compile(r"\\.|\(\?P[<=][^>)]*[>)]", re.DOTALL)
_RECALLED, _NON_TEXT = 1, 2
_BITS = {"recalled": _RECALLED, "non_text": _NON_TEXT}


class SearchQueryError(ValueError):
    """A query that cannot be compiled; ``str()`` is a short reason for the find bar."""

    def __init__(self, reason: str, position: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.position = reason, position  # position: where in the regex, if known


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What the user typed and the two toggles."""

    text: str
    case: CaseMode = "smart"
    regex: bool = False

    @property
    def case_sensitive(self) -> bool:
        if self.case == "smart":
            shown = _NOT_TEXT.sub("", self.text) if self.regex else self.text
            return any(ch.isupper() for ch in shown)
        return self.case == "sensitive"

    def compile(self) -> Matcher:
        """The matcher; SearchQueryError (short reason) for an invalid regex or case mode."""
        if self.case not in CASE_MODES:
            raise SearchQueryError(f"unknown case mode {self.case!r}")
        sensitive = self.case_sensitive
        flags = re.MULTILINE | (0 if sensitive else re.IGNORECASE)
        if not self.regex:
            needle = self.text if sensitive else self.text.casefold()
            return Matcher(self, re.compile(re.escape(self.text), flags), needle, not sensitive)
        try:
            pattern = re.compile(self.text, flags)
        except re.error as exc:
            where = f" at {exc.pos}" if exc.pos is not None else ""
            raise SearchQueryError(f"invalid regex: {exc.msg}{where}", exc.pos) from None
        except (OverflowError, RecursionError, ValueError) as exc:
            raise SearchQueryError(f"invalid regex: {type(exc).__name__}") from None
        if pattern.fullmatch("") is not None:
            # ``a*`` or ``x|`` would count every message while highlighting nothing in them.
            raise SearchQueryError("the regex also matches empty text; it would match everything")
        tree = _parse_tree(pattern)
        if tree is not None and _nested_repeat(tree, False):
            # Python's re cannot be interrupted from another thread: refuse what backtracks
            # exponentially on untrusted text (``(a+)+$`` over "aaaa…!") instead of hanging.
            raise SearchQueryError(
                "nested repetition like (a+)+ can take forever on long messages; simplify it"
            )
        return Matcher(self, pattern, "", False, tree is not None and tree.getwidth()[0] > 0)


@dataclass(frozen=True, slots=True, eq=False)
class Matcher:
    """A compiled query; use :meth:`SearchQuery.compile`."""

    query: SearchQuery
    pattern: re.Pattern[str]
    needle: str  # literal queries: the text, case-folded when insensitive
    folded: bool  # literal and case-insensitive: compare casefold() forms
    _never_empty: bool = field(default=False, repr=False)

    @property
    def empty(self) -> bool:
        """An empty query matches nothing."""
        return not self.query.text

    def matches(self, text: str) -> bool:
        if self.empty:
            return False
        if not self.query.regex:
            return self.needle in (text.casefold() if self.folded else text)
        return self._regex_hit(text, self.pattern.search(text))

    def spans(self, text: str, limit: int = MAX_SPANS) -> list[tuple[int, int]]:
        """Non-overlapping ``(start, end)`` of every non-empty match in ``text``, in order."""
        if self.empty or limit <= 0:
            return []
        if self.query.regex:
            return _regex_spans(text, self.pattern, limit)
        if not self.folded:
            return _find_all(text, self.needle, limit)
        low = text.casefold()
        if len(low) == len(text):  # every character folded to one: offsets agree
            return _find_all(low, self.needle, limit)
        return _folded_spans(text, self.needle, limit)

    def scan(self, texts: Sequence[str], folded: Sequence[str], start: int, stop: int) -> list[int]:
        """Indices ``start <= i < stop`` whose text matches (``folded[i]`` is its casefold)."""
        if self.empty or start >= stop:
            return []
        if not self.query.regex:
            source = folded if self.folded else texts
            hits = map(str.__contains__, source[start:stop], repeat(self.needle))
            return list(compress(count(start), hits))
        # Match objects are dropped at once: keeping 16,384 of them would wake the cyclic GC,
        # whose full passes over every loaded message cost more than the search itself.
        found = list(compress(count(start), map(self.pattern.search, texts[start:stop])))
        if self._never_empty:
            return found
        return [i for i in found if self._regex_hit(texts[i], self.pattern.search(texts[i]))]

    def _regex_hit(self, text: str, first: re.Match[str] | None) -> bool:
        if first is None:
            return False
        if first.end() > first.start():
            return True
        # ``x*`` or ``\b`` found nothing visible first; a later non-empty match still counts.
        return any(m.end() > m.start() for m in self.pattern.finditer(text, first.end()))


def _parse_tree(pattern: re.Pattern[str]) -> Any:
    """CPython's own parse of ``pattern`` (``re._parser``), or None where it is unavailable."""
    try:
        parser: Any = importlib.import_module("re._parser")
        return parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # another interpreter, or a pattern only the compiler accepts
        return None


#: Repeats with more iterations than this count as unbounded for the backtracking check.
_MANY = 16


def _nested_repeat(items: Any, under: bool) -> bool:
    """Whether a repetition of variable length sits inside a repeated one (or an ambiguous
    alternation does): the shapes whose backtracking is exponential."""
    for op, av in items:
        name = str(op)
        children: list[Any] = []
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            low, high, body = av
            if under and high > 1 and low != high:
                return True
            if _nested_repeat(body, under or high > _MANY):
                return True
        elif name == "BRANCH":
            if under and _ambiguous(av[1]):
                return True
            children = av[1]
        elif name == "SUBPATTERN":
            children = [av[3]]
        elif name in ("ASSERT", "ASSERT_NOT"):
            children = [av[1]]
        elif name == "GROUPREF_EXISTS":
            children = [b for b in av[1:] if b is not None]
        # POSSESSIVE_REPEAT and ATOMIC_GROUP never backtrack into themselves: safe.
        if any(_nested_repeat(child, under) for child in children):
            return True
    return False


def _ambiguous(branches: Any) -> bool:
    """Alternatives that may match the same text: not all starting with distinct literals."""
    firsts = [chr(b[0][1]).casefold() if len(b) and str(b[0][0]) == "LITERAL" else None
              for b in branches]
    return None in firsts or len(set(firsts)) < len(firsts)


def match_spans(
    text: str, pattern: Matcher | re.Pattern[str], limit: int = MAX_SPANS
) -> list[tuple[int, int]]:
    """Where to highlight ``text``: non-overlapping non-empty ``(start, end)`` spans, in order."""
    if isinstance(pattern, Matcher):
        return pattern.spans(text, limit)
    return _regex_spans(text, pattern, limit)


def _regex_spans(text: str, pattern: re.Pattern[str], limit: int) -> list[tuple[int, int]]:
    return list(islice((m.span() for m in pattern.finditer(text) if m.end() > m.start()), limit))


def _find_all(text: str, needle: str, limit: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    size = len(needle)
    i = text.find(needle)
    while i >= 0 and len(out) < limit:
        out.append((i, i + size))
        i = text.find(needle, i + size)
    return out


def _folded_spans(text: str, needle: str, limit: int) -> list[tuple[int, int]]:
    """Spans in ``text`` of ``needle`` found in its casefold, where some characters expand."""
    origin: list[int] = []  # folded offset -> original offset
    parts: list[str] = []
    for i, ch in enumerate(text):
        f = ch.casefold()
        parts.append(f)
        origin.extend(repeat(i, len(f)))
    out: list[tuple[int, int]] = []
    for a, b in _find_all("".join(parts), needle, limit):
        span = (origin[a], origin[b - 1] + 1)
        if out and span[0] < out[-1][1]:  # two matches inside one expanded character
            span = (out[-1][0], max(out[-1][1], span[1]))
            out[-1] = span
        else:
            out.append(span)
    return out


def _fold(text: str) -> str:
    low = text.casefold()
    return text if low == text else low  # share the string when folding changes nothing


def _flags(msg: Message) -> int:
    flags = _RECALLED if msg.recalled else 0
    if any(not isinstance(e, TextElem) for e in msg.elements):
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

    __slots__ = ("_flags", "_folded", "_log", "_log_size", "_msgs", "_texts", "_version")

    def __init__(self, messages: Iterable[Message] = (), *, log_size: int = 256) -> None:
        self._msgs: list[Message] = []
        self._texts: list[str] = []
        self._folded: list[str] = []  # casefold() of each text (the same object if unchanged)
        self._flags = bytearray()  # _RECALLED | _NON_TEXT per message, for jumps by kind
        self._version = 0
        self._log: list[IndexChange] = []
        self._log_size = max(1, log_size)
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
        # Messages taken out and put back (a wide sync) keep their folded text.
        reuse = {id(self._msgs[k]): (self._folded[k], self._flags[k]) for k in range(start, end)}
        texts: list[str] = []
        folded: list[str] = []
        flags = bytearray()
        for msg in inserted:
            text = msg.search_text()
            known = reuse.get(id(msg))
            texts.append(text)
            folded.append(known[0] if known else _fold(text))
            flags.append(known[1] if known else _flags(msg))
        self._msgs[start:end] = inserted
        self._texts[start:end] = texts
        self._folded[start:end] = folded
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

    def search(self, matcher: Matcher) -> SearchResults:
        """Results of ``matcher`` over this index; nothing is scanned until they are stepped."""
        return SearchResults(self, matcher)

    def scan(self, matcher: Matcher, start: int = 0, stop: int | None = None) -> list[int]:
        """Matching positions in ``start..stop`` (a direct, non-incremental scan)."""
        end = len(self._msgs) if stop is None else min(stop, len(self._msgs))
        return matcher.scan(self._texts, self._folded, max(start, 0), end)

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
    _version: int = field(default=-1, repr=False)

    @property
    def matches(self) -> Sequence[int]:
        """Positions (in ``index.messages``) of the matching messages found so far, ascending."""
        return self._matches

    @property
    def done(self) -> bool:
        """Every message of the index as it is now has been looked at."""
        return self._version == self.index.version and not self._pending

    @property
    def unscanned(self) -> int:
        """Messages of the index as it is now that are still to be looked at."""
        self._catch_up()
        return sum(hi - lo for lo, hi in self._pending)

    def __len__(self) -> int:
        return len(self._matches)

    def steps(self, chunk: int = DEFAULT_CHUNK) -> Generator[int, None, None]:
        """Scan up to ``chunk`` messages per step; yields the match count after each step."""
        chunk = max(1, chunk)
        while True:
            self._catch_up()
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

    def _catch_up(self) -> None:
        index = self.index
        if self._version == index.version:
            return
        changes = None if self._version < 0 else index.changes_since(self._version)
        if changes is None:
            self._matches = []
            self._pending = [(0, len(index))] if len(index) else []
        else:
            for change in changes:
                self._apply(change)
        self._version = index.version

    def _apply(self, change: IndexChange) -> None:
        start, end = change.start, change.start + change.removed
        delta = change.inserted - change.removed
        m = self._matches
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
    return list(SearchIndex(messages).search(query.compile()).run())

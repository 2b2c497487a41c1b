"""What the user searches for: a query, its compiled matcher, and where a text matches it.

A message matches when the query has a non-empty match in its search text (regexes matching
empty text, like ``a*``, are refused, and so are shapes that backtrack exponentially). Smart
case is case-sensitive iff the query has an uppercase letter (regex escapes like ``\\W`` do not
count). Insensitive literals compare ``casefold()`` forms; regexes use IGNORECASE and MULTILINE
(``^``/``$`` anchor at each line).

A matcher also carries *probes*: case-folded byte strings, one of which the folded text of every
matching message contains, so that an index can find candidates with ``bytes.find`` over all
messages at once and test only those (see ``search_haystack``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress, islice, repeat
from typing import Any, Literal

from roamtui.history.search_haystack import encode

CaseMode = Literal["smart", "sensitive", "insensitive"]
CASE_MODES: tuple[CaseMode, ...] = ("smart", "sensitive", "insensitive")

#: Spans returned for one text at most; a 5,000-character line of "a" needs no more.
MAX_SPANS = 10_000

# Escapes and group names are not text the user wants matched, so they do not decide the case.
_NOT_TEXT = re.compile(r"\\.|\(\?P[<=][^>)]*[>)]", re.DOTALL)
# Under IGNORECASE, re matches "i" with "ı" and "I" with "İ", whose casefolds differ ("ı",
# "i̇"): these letters cannot be looked for in folded text. Every other letter's re-equivalents
# share its casefold (tests/history/test_search_speed.py checks this against the interpreter).
_UNFOLDABLE = frozenset("Iiİı")
#: Probes weaker than this find too many messages to be worth it (see _strength).
_MIN_PROBE = 2
#: More alternatives than this cost more passes over the texts than the regex itself.
_MAX_PROBES = 6


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
            probes: tuple[bytes, ...] = (encode(self.text.casefold()),) if self.text else ()
            return Matcher(self, re.compile(re.escape(self.text), flags), needle, not sensitive,
                           probes=probes, exact=not sensitive)
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
        probes = () if tree is None else regex_probes(tree, bool(pattern.flags & re.IGNORECASE))
        return Matcher(self, pattern, "", False, probes=probes,
                       _never_empty=tree is not None and tree.getwidth()[0] > 0)


@dataclass(frozen=True, slots=True, eq=False)
class Matcher:
    """A compiled query; use :meth:`SearchQuery.compile`."""

    query: SearchQuery
    pattern: re.Pattern[str]
    needle: str  # literal queries: the text, case-folded when insensitive
    folded: bool  # literal and case-insensitive: compare casefold() forms
    #: Folded UTF-8 needles, one of which a matching text's casefold contains; () if unknown.
    probes: tuple[bytes, ...] = ()
    #: Containing a probe is matching (insensitive literals): no need to :meth:`verify`.
    exact: bool = False
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

    def verify(self, texts: Sequence[str], positions: Sequence[int]) -> list[int]:
        """Those of the ascending ``positions`` whose text (``texts[i]``) matches."""
        if self.empty:
            return []
        picked = map(texts.__getitem__, positions)
        if not self.query.regex:
            if self.folded:
                return [i for i in positions if self.needle in texts[i].casefold()]
            return list(compress(positions, map(str.__contains__, picked, repeat(self.needle))))
        # Match objects are dropped at once: keeping 16,384 of them would wake the cyclic GC,
        # whose full passes over every loaded message cost more than the search itself.
        found = list(compress(positions, map(self.pattern.search, picked)))
        if self._never_empty:
            return found
        return [i for i in found if self._regex_hit(texts[i], self.pattern.search(texts[i]))]

    def narrows(self, other: Matcher) -> bool:
        """Whether every text this matches also matches ``other`` (typing on a literal query:
        ``refu`` after ``ref``), so that only ``other``'s matches need looking at."""
        if self.query.regex or other.query.regex or self.empty or other.empty:
            return False
        if other.folded:
            # casefold() maps character by character: a text holding our needle holds its fold.
            return other.needle in (self.needle if self.folded else self.needle.casefold())
        return not self.folded and other.needle in self.needle

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


def regex_probes(tree: Any, ignorecase: bool) -> tuple[bytes, ...]:
    """Probes for a parsed regex: the strongest set of literal texts one of which every match
    holds (``refund|退款`` needs one of both), or () when there is none worth looking for."""
    needles = _required(tree, ignorecase)
    if needles is None or len(needles) > _MAX_PROBES or _strength(needles) < _MIN_PROBE:
        return ()
    return tuple(encode(n) for n in needles)


def _strength(needles: tuple[str, ...]) -> int:
    return min(map(_selectivity, needles))


def _selectivity(needle: str) -> int:
    """Roughly how rare ``needle`` is: its UTF-8 length, but a lone punctuation mark or
    non-ASCII character counts as rare enough, a lone ASCII letter, digit or space never does
    (most messages hold an "e", and a case-sensitive ``E`` is looked for as "e")."""
    if len(needle) == 1 and not (needle.isascii() and (needle.isalnum() or needle.isspace())):
        return max(len(encode(needle)), _MIN_PROBE)
    return len(encode(needle))


def _required(items: Any, icase: bool) -> tuple[str, ...] | None:
    """Folded texts one of which every match of the sequence ``items`` contains, or None."""
    best: tuple[str, ...] | None = None
    run: list[str] = []
    for op, av in [*items, (None, None)]:  # the sentinel ends the last run of literals
        name = str(op)
        if name == "LITERAL" and not (icase and chr(av) in _UNFOLDABLE):
            run.append(chr(av).casefold())
            continue
        found: list[tuple[str, ...] | None] = [("".join(run),)] if run else []
        run = []
        if name == "SUBPATTERN":
            _group, on, off, body = av
            inner = (icase or bool(on & re.IGNORECASE)) and not off & re.IGNORECASE
            found.append(_required(body, inner))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            found.append(_required(av[2], icase))
        elif name == "ATOMIC_GROUP":
            found.append(_required(av, icase))
        elif name == "BRANCH":
            found.append(_either(_required(b, icase) for b in av[1]))
        for needles in found:
            if needles and (best is None or _strength(needles) > _strength(best)):
                best = needles
    return best


def _either(alternatives: Any) -> tuple[str, ...] | None:
    out: dict[str, None] = {}
    for needles in alternatives:
        if needles is None:
            return None  # an alternative that needs no literal: nothing is required
        out.update(dict.fromkeys(needles))
    return tuple(out)


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

"""What the user searches for: a query, its compiled matcher, and where a text matches it.

A message matches when the query has a non-empty match in its search text (regexes matching
empty text, like ``a*``, are refused, and so are shapes that backtrack exponentially). Smart
case is case-sensitive iff the query has an uppercase letter (regex escapes like ``\\W`` do not
count). Insensitive literals compare ``casefold()`` forms; regexes use IGNORECASE and MULTILINE
(``^``/``$`` anchor at each line).

A matcher also carries *probes*: case-folded byte strings, one of which the folded text of every
matching message contains, so that an index can find candidates with ``bytes.find`` over all
messages at once and test only those (see ``search_haystack``). Regexes are read and run by
``search_regex``: no regex can hang the app, one that is too slow is refused
(:class:`~roamtui.history.search_regex.SlowRegex`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from typing import Literal

from roamtui.history.search_haystack import encode
from roamtui.history.search_regex import (
    Alt,
    Group,
    Lit,
    Node,
    Repeat,
    Seq,
    foldable,
    min_width,
    nested_repeat,
)
from roamtui.history.search_runner import Match, Runner, SlowRegex, runner_for

CaseMode = Literal["smart", "sensitive", "insensitive"]
CASE_MODES: tuple[CaseMode, ...] = ("smart", "sensitive", "insensitive")

#: Spans returned for one text at most; a 5,000-character line of "a" needs no more.
MAX_SPANS = 10_000

# Escapes and group names are not text the user wants matched, so they do not decide the case.
_NOT_TEXT = re.compile(r"\\.|\(\?P[<=][^>)]*[>)]", re.DOTALL)
#: Probes weaker than this find too many messages to be worth it (see search_regex.strength).
#: A lone letter, digit or space (strength 1) is: the haystack answers it from its masks in a
#: few ms at 100,000 messages, and the regex then runs on those holding it only (E\d{10}: 2 of
#: 3 messages hold an "e", 26 -> 20 ms).
_MIN_PROBE = 1
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
            runner = runner_for(pattern)  # the regex engine compiles it too
        except re.error as exc:  # the regex engine's errors come as re's (search_runner)
            pos = getattr(exc, "pos", None)
            where = f" at {pos}" if pos is not None else ""
            raise SearchQueryError(f"invalid regex: {getattr(exc, 'msg', exc)}{where}",
                                   pos) from None
        except (OverflowError, RecursionError, ValueError) as exc:
            raise SearchQueryError(f"invalid regex: {type(exc).__name__}") from None
        if pattern.fullmatch("") is not None:
            # ``a*`` or ``x|`` would count every message while highlighting nothing in them.
            raise SearchQueryError("the regex also matches empty text; it would match everything")
        tree = runner.tree
        if tree is not None and nested_repeat(tree):
            # Refused at once rather than when it first times out on a long message.
            raise SearchQueryError(
                "nested repetition like (a+)+ can take forever on long messages; simplify it"
            )
        if runner.slow:
            raise SearchQueryError(SlowRegex.reason)  # it timed out before: refused again
        return Matcher(self, pattern, "", False,
                       probes=() if tree is None else regex_probes(tree, runner.foldable),
                       _never_empty=tree is not None and min_width(tree) > 0, _runner=runner)


@dataclass(frozen=True, slots=True, eq=False)
class Matcher:
    """A compiled query; use :meth:`SearchQuery.compile`."""

    query: SearchQuery
    pattern: re.Pattern[str]
    needle: str  # literal queries: the text, case-folded when insensitive
    folded: bool  # literal and case-insensitive: compare casefold() forms
    #: Folded UTF-8 needles, one of which a matching text's casefold contains; () if unknown.
    probes: tuple[bytes, ...] = ()
    #: Containing a probe is matching (insensitive literals): no need to :meth:`select`.
    exact: bool = False
    _never_empty: bool = field(default=False, repr=False)
    _runner: Runner | None = field(default=None, repr=False)  # regexes only

    @property
    def empty(self) -> bool:
        """An empty query matches nothing."""
        return not self.query.text

    @property
    def highlight(self) -> re.Pattern[str] | None:
        """The pattern for a highlight that ``re`` runs itself (the transcript's), or None when
        ``re`` might hang on it: a regex the reader could not read, so nothing checked it."""
        runner = self._runner
        return self.pattern if runner is None or runner.tree is not None else None

    def matches(self, text: str) -> bool:
        """Whether ``text`` matches (SlowRegex when the regex turns out too slow on it)."""
        if self.empty:
            return False
        if self._runner is None:
            return self.needle in (text.casefold() if self.folded else text)
        return self._regex_hit(self._runner, text, self._runner.search(text))

    def select(self, texts: Sequence[str], positions: Sequence[int]) -> tuple[list[int], int]:
        """Those of the ascending ``positions`` whose text (``texts[i]``) matches, and how many
        positions were looked at: all of them, but for a regex run with a time budget, which
        may stop early (the caller goes on from there). SlowRegex when the regex is too slow.
        """
        if self.empty:
            return [], len(positions)
        runner = self._runner
        if runner is None:
            if self.folded:
                return [i for i in positions if self.needle in texts[i].casefold()], \
                    len(positions)
            picked = map(texts.__getitem__, positions)
            return list(compress(positions, map(str.__contains__, picked,
                                                 repeat(self.needle)))), len(positions)
        found, done = runner.select(texts, positions)
        if not self._never_empty:
            found = [i for i in found if self._regex_hit(runner, texts[i], runner.search(texts[i]))]
        return found, done

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
        if self._runner is not None:
            return self._runner.spans(text, limit)
        if not self.folded:
            return _find_all(text, self.needle, limit)
        low = text.casefold()
        if len(low) == len(text):  # every character folded to one: offsets agree
            return _find_all(low, self.needle, limit)
        return _folded_spans(text, self.needle, limit)

    @staticmethod
    def _regex_hit(runner: Runner, text: str, first: Match | None) -> bool:
        if first is None:
            return False
        if first.end() > first.start():
            return True
        # ``x*`` or ``\b`` found nothing visible first; a later non-empty match still counts.
        return any(m.end() > m.start() for m in runner.finditer(text, first.end()))


def regex_probes(tree: Node, folds: Callable[[str], bool] = foldable) -> tuple[bytes, ...]:
    """Probes for a read regex: the strongest set of literal texts one of which every match
    holds (``refund|退款`` needs one of both), or () when there is none worth looking for;
    ``folds`` as for :func:`~roamtui.history.search_regex.probes`."""
    needles = required_texts(tree, folds)
    if needles is None or len(needles) > _MAX_PROBES or strength(needles) < _MIN_PROBE:
        return ()
    return tuple(encode(n) for n in needles)


def match_spans(
    text: str, pattern: Matcher | re.Pattern[str], limit: int = MAX_SPANS
) -> list[tuple[int, int]]:
    """Where to highlight ``text``: non-overlapping non-empty ``(start, end)`` spans, in order.

    A compiled pattern (the transcript's highlight) is run as the search runs it: never for
    long (none when it is too slow), on the regex engine unless it is bounded.
    """
    if isinstance(pattern, Matcher):
        return pattern.spans(text, limit)
    if limit <= 0:
        return []
    try:
        runner = runner_for(pattern)
    except re.error:  # not one of ours: re accepts what the regex engine does not
        return []
    return runner.spans(text, limit)


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


def required_texts(node: Node, folds: Callable[[str], bool] = foldable) -> tuple[str, ...] | None:
    """Folded texts one of which every match of ``node`` contains (the strongest such set
    by :func:`strength`), or None; ``folds`` says which letters may be looked for in folded
    text where case is ignored (it depends on the engine that runs the pattern)."""
    if isinstance(node, Lit):
        return None if node.icase and not folds(node.char) else (node.char.casefold(),)
    if isinstance(node, Seq):
        return _required(node.items, folds)
    if isinstance(node, Alt):
        return _either(required_texts(b, folds) for b in node.branches)
    if isinstance(node, Group):
        return None if node.kind == "look" else required_texts(node.body, folds)
    if isinstance(node, Repeat):
        return required_texts(node.body, folds) if node.low >= 1 else None
    return None


def _required(items: Sequence[Node], folds: Callable[[str], bool]) -> tuple[str, ...] | None:
    best: tuple[str, ...] | None = None
    run: list[str] = []
    for item in [*items, None]:  # the sentinel ends the last run of letters
        if isinstance(item, Lit) and not (item.icase and not folds(item.char)):
            run.append(item.char.casefold())
            continue
        found: list[tuple[str, ...] | None] = [("".join(run),)] if run else []
        run = []
        if item is not None and not isinstance(item, Lit):
            found.append(required_texts(item, folds))
        for needles in found:
            if needles and (best is None or strength(needles) > strength(best)):
                best = needles
    return best


def _either(alternatives: Iterator[tuple[str, ...] | None]) -> tuple[str, ...] | None:
    out: dict[str, None] = {}
    for needles in alternatives:
        if needles is None:
            return None  # an alternative that needs no letters: nothing is required
        out.update(dict.fromkeys(needles))
    return tuple(out)


def strength(needles: tuple[str, ...]) -> int:
    """Roughly how rare the rarest of ``needles`` is: its UTF-8 length, but a lone punctuation
    mark or non-ASCII character counts as 2, a lone ASCII letter, digit or space as 1 (most
    messages hold an "e", and a case-sensitive ``E`` is looked for as "e"; see _MIN_PROBE)."""
    return min(map(_selectivity, needles))


def _selectivity(needle: str) -> int:
    size = len(needle.encode("utf-8", "surrogatepass"))
    if len(needle) == 1 and not (needle.isascii() and (needle.isalnum() or needle.isspace())):
        return max(size, 2)
    return size

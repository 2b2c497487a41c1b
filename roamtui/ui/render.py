"""Timeline rows to styled, wrapped lines of plain text: the transcript's drawing rules.

Everything here works on plain strings and role names; nothing is ever parsed as markup. The
transcript widget turns each role into a component-class style (``transcript--<role>``), so a
line can be checked in a test without an app or a theme.

Search hits are marked inside message bodies only, found in ``Message.text()`` (so ``^``
anchors at the start of a message or of one of its lines) and mapped onto the drawn runs after
wrapping, so marking never moves a line break.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from itertools import pairwise

from rich.cells import cell_len, split_graphemes

from roamtui.im.elements import Element
from roamtui.im.model import Message, RelayElem, TextElem
from roamtui.text import screen_line, screen_spans
from roamtui.ui.runs import PLACEHOLDER, Line, Run, Span, fit, wrap

TIME = "time"
SELF = "self"
PEER = "peer"
TEXT = "text"
RECALLED = "recalled"
BADGE = "badge"
READ = "read"
DAY = "day"
GAP = "gap"
LOADING = "loading"
ERROR = "error"
EDGE = "edge"
CONTROL = "control"
FOLD = "fold"
NESTED = "nested"
HELD_SELF = "held-self"  # read from both sides: only the account's history holds it
HELD_PEER = "held-peer"  # only the peer's
MATCH = "match"  # added to the role of a search hit: "text match", "placeholder recalled match"

ROLES = (TIME, SELF, PEER, TEXT, PLACEHOLDER, RECALLED, BADGE, READ, DAY, GAP, LOADING, ERROR,
         EDGE, CONTROL, FOLD, NESTED, HELD_SELF, HELD_PEER)

FOLD_AT = 20
"""A message longer than this many lines shows its first FOLD_AT lines and a fold line."""
MAX_TEXT = 50_000
"""Characters of one element drawn even when expanded; the inspector shows the rest."""
MIN_TEXT_WIDTH = 10
NESTED_INDENT = 2
BADGE_TEXT = "⟲ recalled"
READ_MARK = "✓"
HELD_MARK = "◧ only "


Source = tuple[int, int]  # where a run's text comes from in Message.text(): [start, end)

def sanitize(text: str, role: str = TEXT) -> list[Run]:
    """Split untrusted text into runs in which every unsafe character is made visible."""
    return _safe(text, role, CONTROL, 0, None)


def _safe(text: str, role: str, marker: str, at: int, sources: list[Source | None] | None
          ) -> list[Run]:
    """:func:`sanitize` with the stand-ins in ``marker``; with ``sources``, every run's place
    in the source text (``text`` starting at offset ``at``) is appended there."""
    runs: list[Run] = []

    def add(shown: str, run_role: str, start: int, end: int) -> None:
        runs.append(Run(shown, run_role))
        if sources is not None:
            sources.append((at + start, at + end))

    pos = 0
    for start, end, shown in screen_spans(text):
        if pos < start:
            add(text[pos:start], role, pos, start)
        add(shown, role if shown == "\n" else marker, start, end)
        pos = end
    if pos < len(text):
        add(text[pos:], role, pos, len(text))
    return runs


def safe_line(text: str, role: str) -> str:
    """Untrusted text flattened to one inert line (for names and error texts); ``role`` is
    the role its runs would have, which does not change the text."""
    return screen_line(text)


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What every row's drawing depends on besides the row: zone, parties and column sizes."""

    tz: tzinfo
    account: str  # the queried account: drawn in the "self" colour, the other side in "peer"
    sender_width: int
    #: Read from both sides: the only holder of a message (None: both hold it, or one side
    #: is read). Fixed once a message is shown, so drawn lines can be cached.
    only_holder: Callable[[str], str | None] | None = None
    #: (account, nickname) of the parties shown by nickname in the sender column; the other
    #: senders (and every sender when the user asks for accounts) show their account.
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def for_parties(cls, tz: tzinfo, account: str, peer: str,
                    only_holder: Callable[[str], str | None] | None = None,
                    names: Mapping[str, str] | None = None, *, accounts: bool = False
                    ) -> RenderContext:
        """The parties' context; with ``names`` (account -> nickname, untrusted) the sender
        column shows nicknames, unless ``accounts`` asks for the accounts."""
        labels = () if accounts or not names else tuple(
            (who, names[who]) for who in dict.fromkeys((account, peer)) if names.get(who))
        ctx = cls(tz, account, 0, only_holder, labels)
        widest = max(cell_len(ctx.sender_label(account)), cell_len(ctx.sender_label(peer)))
        return cls(tz, account, min(16, max(6, widest)), only_holder, labels)

    def sender_label(self, account: str) -> str:
        """What the sender column shows for ``account``: its nickname or itself, inert."""
        for who, nickname in self.labels:
            if who == account:
                return safe_line(nickname, TEXT)
        return safe_line(account, TEXT)

    def held_badge(self, msg: Message) -> Run | None:
        """``◧ only NAME`` before the body of a message only one side holds."""
        holder = None if self.only_holder is None else self.only_holder(msg.key)
        if holder is None:
            return None
        role = HELD_SELF if holder == self.account else HELD_PEER
        return Run(f"{HELD_MARK}{safe_line(holder, TEXT)} ", role)

    @property
    def prefix_width(self) -> int:
        """Cells before the text column: ``HH:MM:SS`` and the sender column, each plus a space."""
        return 9 + self.sender_width + 1

    def text_width(self, width: int) -> int:
        return max(MIN_TEXT_WIDTH, width - self.prefix_width)


def body_runs(msg: Message, *, expanded: bool = False) -> list[Run]:
    """The message's content after the sender column, in element order, badges included."""
    return _body(msg, expanded, None)


@dataclass(slots=True)
class _Trace:
    """Each run's source in ``Message.text()`` (None for badges, separators, marks)."""

    text: str
    sources: list[Source | None] = field(default_factory=list)
    elements: list[tuple[Element, int, int]] = field(default_factory=list)
    ok: bool = True


def _body(msg: Message, expanded: bool, trace: _Trace | None, head: Run | None = None
          ) -> list[Run]:
    recalled = msg.recalled
    runs: list[Run] = []
    sources = None if trace is None else trace.sources

    def own(text: str, role: str) -> None:
        runs.append(Run(text, role))
        if sources is not None:
            sources.append(None)

    if head is not None:
        own(head.text, head.role)
    if recalled:
        own(BADGE_TEXT, BADGE)
    elements = msg.elements
    if recalled and not elements:
        own(" (content not returned by the service)", RECALLED)
    at = 0
    for elem in elements:
        if runs and not runs[-1].text.endswith((" ", "\n")):
            own(" ", TEXT)
        piece = elem.placeholder()  # a text element's text
        if trace is not None:  # at ``at``, or past the space Message.text() puts between
            if not trace.text.startswith(piece, at):  # an element and a placeholder
                at += 1
                trace.ok = trace.ok and trace.text.startswith(piece, at)
            trace.elements.append((elem, at, at + len(piece)))
        if isinstance(elem, TextElem):
            runs.extend(_safe(piece[:MAX_TEXT], TEXT, CONTROL, at, sources))
            if len(piece) > MAX_TEXT:
                own(f" … {len(piece) - MAX_TEXT} more characters (Enter: inspect)", FOLD)
        else:
            runs.extend(_safe(piece.replace("\n", " "), PLACEHOLDER, PLACEHOLDER, at, sources))
            if isinstance(elem, RelayElem) and elem.messages:
                own(" ▾" if expanded else " ▸", FOLD)
        at += len(piece)
    if msg.is_peer_read:
        own(" " + READ_MARK, READ)
    if msg.problems:
        own(f" ⚠ {len(msg.problems)} unreadable field(s)", ERROR)
    if recalled:
        runs = [Run(r.text, f"{r.role} {RECALLED}") if r.role in (TEXT, PLACEHOLDER) else r
                for r in runs]
    return runs


def _hits(runs: list[Run], shown: str, trace: _Trace, pattern: re.Pattern[str]) -> list[Span]:
    """Where ``pattern`` hits the message's text, as spans of ``shown`` (the runs' text); a
    stand-in (a visible control character) is marked whole when its source is hit, and a
    placeholder when the pattern hits what it does not show (a long file name, say)."""
    # Only with a search highlight: the search core is not loaded before the first frame.
    from roamtui.history.search_query import match_spans

    spans = match_spans(trace.text, pattern) if trace.ok else []
    spans.extend((start, end) for elem, start, end in trace.elements
                 if not isinstance(elem, TextElem) and trace.ok
                 and any(match_spans(extra, pattern, 1) for extra in elem.extras()))
    spans = _merged(spans)
    ends = [end for _, end in spans]
    out: list[Span] = []
    pos = 0
    for run, source in zip(runs, trace.sources, strict=True):
        size = len(run.text)
        if source is not None:
            start, end = source
            i = bisect_right(ends, start)
            while i < len(spans) and spans[i][0] < end:
                if end - start != size:  # a stand-in: all of it or nothing
                    out.append((pos, pos + size))
                    break
                a, b = spans[i]
                out.append((pos + max(a, start) - start, pos + min(b, end) - start))
                i += 1
        pos += size
    if out and not shown.isascii():
        # A cut inside a grapheme (an emoji and its variation selector) would change its width.
        bounds = [start for start, _, _ in split_graphemes(shown)[0]] + [len(shown)]
        out = [(bounds[bisect_right(bounds, a) - 1], bounds[bisect_left(bounds, b)])
               for a, b in out]
    return _merged(out)


def _merged(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


def _mark(lines: list[list[Run]], shown: str, hits: list[Span]) -> tuple[list[list[Run]], bool]:
    """The wrapped lines of ``shown`` with the hits marked, and whether a hit lies past them.

    Wrapping drops only spaces and line breaks between lines, so each line is found in
    ``shown`` at the end of the line before or a few of those characters later.
    """
    ends = [end for _, end in hits]
    out: list[list[Run]] = []
    pos = 0
    for line in lines:
        text = "".join(run.text for run in line)
        while not shown.startswith(text, pos) and shown[pos:pos + 1] in (" ", "\n"):
            pos += 1
        first = bisect_right(ends, pos)
        near = hits[first:bisect_left(hits, (pos + len(text), 0), first)]
        out.append(_split(line, pos, near) if near else line)
        pos += len(text)
    return out, hits[-1][0] >= pos


def _split(line: list[Run], at: int, hits: list[Span]) -> list[Run]:
    """A line drawn from offset ``at`` of the text, cut at the hits, whose roles gain MATCH."""
    out: list[Run] = []
    for run in line:
        end = at + len(run.text)
        cuts = sorted({at, end, *(c for span in hits for c in span if at < c < end)})
        for a, b in pairwise(cuts):
            hit = any(s <= a and b <= e for s, e in hits)
            out.append(Run(run.text[a - at:b - at], f"{run.role} {MATCH}" if hit else run.role))
        at = end
    return out


def _body_lines(msg: Message, width: int, pattern: re.Pattern[str] | None, *,
                expanded: bool = False, head: Run | None = None, fold: bool = True
                ) -> tuple[list[list[Run]], int, str]:
    """The body (after ``head``) wrapped to ``width``, hits of ``pattern`` marked, cut to
    FOLD_AT lines when ``fold``: the lines, how many were cut, the fold line's role (marked
    when a hit was folded away, so a search never seems to land on nothing)."""
    trace = None if pattern is None else _Trace(msg.text())
    runs = _body(msg, expanded, trace, head)
    lines = wrap(runs, width)
    cut = len(lines) - FOLD_AT if fold and len(lines) > FOLD_AT else 0
    lines = lines[:FOLD_AT] if cut else lines
    if trace is None or pattern is None:
        return lines, cut, FOLD
    shown = "".join(run.text for run in runs)
    hits = _hits(runs, shown, trace, pattern)
    lines, hidden = _mark(lines, shown, hits) if hits else (lines, False)
    return lines, cut, f"{FOLD} {MATCH}" if hidden else FOLD


def _clock(t: int, tz: tzinfo, fmt: str = "%H:%M:%S") -> str:
    try:
        return datetime.fromtimestamp(t, tz).strftime(fmt)
    except (OverflowError, OSError, ValueError):
        return "??:??:??"


def message_lines(msg: Message, width: int, ctx: RenderContext, *, expanded: bool = False,
                  pattern: re.Pattern[str] | None = None) -> list[Line]:
    """Every line of one message row: time, sender, wrapped body, fold line, forwarded messages.

    With ``pattern``, its hits in the message's text are marked (role MATCH) on every line
    they reach; the lines break exactly where they do without it.
    """
    text_width = ctx.text_width(width)
    body, folded, fold = _body_lines(msg, text_width, pattern, expanded=expanded,
                                     fold=not expanded, head=ctx.held_badge(msg))
    sender_role = SELF if msg.sender == ctx.account else PEER
    head = (Run(_clock(msg.time, ctx.tz), TIME), Run(" ", TEXT),
            Run(fit(ctx.sender_label(msg.sender), ctx.sender_width), sender_role),
            Run(" ", TEXT))
    indent = Run(" " * ctx.prefix_width, TEXT)
    lines: list[Line] = [head + tuple(body[0])]
    lines.extend((indent, *part) for part in body[1:])
    if folded:
        lines.append((indent, Run(f"… {folded} more lines (x to expand)", fold)))
    if expanded:
        for elem in msg.elements:
            if isinstance(elem, RelayElem):
                lines.extend(_nested_lines(elem, text_width - NESTED_INDENT, ctx,
                                           ctx.prefix_width, pattern))
    return lines


def _nested_lines(relay: RelayElem, width: int, ctx: RenderContext, margin: int,
                  pattern: re.Pattern[str] | None) -> list[Line]:
    """A merged forward's messages under its parent, each with date, time and sender."""
    gutter = (Run(" " * margin, TEXT), Run("│ ", NESTED))
    lines: list[Line] = []
    for msg in relay.messages:
        head = f"{_clock(msg.time, ctx.tz, '%Y-%m-%d %H:%M')} {ctx.sender_label(msg.sender)}: "
        body, cut, fold = _body_lines(msg, max(MIN_TEXT_WIDTH, width), pattern,
                                      head=Run(head, NESTED))
        if cut:
            body.append([Run(f"… {cut} more lines (Enter: inspect)", fold)])
        lines.extend((*gutter, *part) for part in body)
    if not lines:
        lines.append((*gutter, Run("(the forward carries no messages)", NESTED)))
    return lines


def plain(line: Line) -> str:
    """The text of a line without styles (tests, copy)."""
    return "".join(run.text for run in line)

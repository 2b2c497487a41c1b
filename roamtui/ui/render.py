"""Timeline rows to styled, wrapped lines of plain text: the transcript's drawing rules.

Everything here works on plain strings and role names; nothing is ever parsed as markup. The
transcript widget turns each role into a component-class style (``transcript--<role>``), so a
line can be checked in a test without an app or a theme.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from itertools import pairwise

from rich.cells import cell_len, set_cell_size, split_graphemes

from roamtui.history.rows import EdgeRow, GapRow
from roamtui.im.model import Message, RelayElem, TextElem

TIME = "time"
SELF = "self"
PEER = "peer"
TEXT = "text"
PLACEHOLDER = "placeholder"
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

ROLES = (TIME, SELF, PEER, TEXT, PLACEHOLDER, RECALLED, BADGE, READ, DAY, GAP, LOADING, ERROR,
         EDGE, CONTROL, FOLD, NESTED)

FOLD_AT = 20
"""A message longer than this many lines shows its first FOLD_AT lines and a fold line."""
MAX_TEXT = 50_000
"""Characters of one element drawn even when expanded; the inspector shows the rest."""
MIN_TEXT_WIDTH = 10
NESTED_INDENT = 2
BADGE_TEXT = "⟲ recalled"
READ_MARK = "✓"


@dataclass(frozen=True, slots=True)
class Run:
    """A piece of plain text drawn in one role."""

    text: str
    role: str


Line = tuple[Run, ...]

# Everything that must not reach the terminal as it is: C0/C1 controls (newline is kept as a
# line break), the Unicode format characters (zero-width, bidi overrides, BOM...), line and
# paragraph separators, lone surrogates, and stacks of three or more diacritics ("zalgo").
_FORMAT_CHARS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_DIACRITICS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_UNSAFE = re.compile(
    f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_FORMAT_CHARS}\u2028\u2029\ud800-\udfff]"
    f"|[{_DIACRITICS}]{{3,}}"
)
_KEPT_DIACRITICS = 2


def _visible(unsafe: str) -> str:
    """The inert, visible stand-in for one match of ``_UNSAFE``."""
    if len(unsafe) > 1:
        return f"⟨+{len(unsafe) - _KEPT_DIACRITICS} marks⟩"
    code = ord(unsafe)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␀ … ␟, ␛ for ESC
    if code == 0x7F:
        return "␡"
    return f"⟨U+{code:04X}⟩"


def sanitize(text: str, role: str = TEXT) -> list[Run]:
    """Split untrusted text into runs in which every unsafe character is made visible."""
    text = text.replace("\r\n", "\n")
    if _UNSAFE.search(text) is None:
        return [Run(text, role)] if text else []
    runs: list[Run] = []
    pos = 0
    for match in _UNSAFE.finditer(text):
        start, end = match.span()
        found = match.group()
        if len(found) > 1:  # keep the first diacritics, they belong to the text
            end = start + _KEPT_DIACRITICS
            if pos < end:
                runs.append(Run(text[pos:end], role))
            runs.append(Run(_visible(found), CONTROL))
        else:
            if pos < start:
                runs.append(Run(text[pos:start], role))
            runs.append(Run(_visible(found), CONTROL))
        pos = match.end()
    if pos < len(text):
        runs.append(Run(text[pos:], role))
    return runs


def safe_line(text: str, role: str) -> str:
    """Untrusted text flattened to one inert line (for names and error texts)."""
    return "".join(run.text for run in sanitize(text.replace("\n", " "), role))


def fit(text: str, width: int) -> str:
    """Crop (with an ellipsis) or pad ``text`` to exactly ``width`` cells."""
    if cell_len(text) > width:
        return set_cell_size(text, max(0, width - 1)) + "…"
    return set_cell_size(text, width)


def runs_width(runs: Iterable[Run]) -> int:
    return sum(cell_len(run.text) for run in runs)


_TOKENS = re.compile(r"\n| +|[^ \n]+")


def wrap(runs: Sequence[Run], width: int) -> list[list[Run]]:
    """Greedy word wrap of runs to ``width`` cells; newlines break, long words are split.

    A word may span runs (``abc`` then a visible ``␛`` then ``def`` is one word). Spaces where
    a line breaks are dropped.
    """
    width = max(1, width)
    if runs_width(runs) <= width and not any("\n" in run.text for run in runs):
        return [list(runs)]
    out = _Wrapper(width)
    word: list[tuple[str, str, int]] = []
    for run in runs:
        if PLACEHOLDER in run.role.split() and "\n" not in run.text:
            # A placeholder such as "[image 1080×720 2.1 MB]" stays whole when it fits a line.
            word.append((run.text, run.role, cell_len(run.text)))
            continue
        for match in _TOKENS.finditer(run.text):
            token = match.group()
            if token[0] not in " \n":
                word.append((token, run.role, cell_len(token)))
                continue
            out.word(word)
            word = []
            if token == "\n":
                out.newline()
            else:
                out.space(token, run.role)
    out.word(word)
    out.newline()
    return out.lines


class _Wrapper:
    """The lines being filled by :func:`wrap`."""

    __slots__ = ("line", "lines", "used", "width")

    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[list[Run]] = []
        self.line: list[Run] = []
        self.used = 0

    def newline(self) -> None:
        self.lines.append(self.line)
        self.line = []
        self.used = 0

    def add(self, text: str, role: str, cells: int) -> None:
        line = self.line
        if line and line[-1].role == role:
            line[-1] = Run(line[-1].text + text, role)
        else:
            line.append(Run(text, role))
        self.used += cells

    def space(self, text: str, role: str) -> None:
        if self.used + len(text) > self.width:
            if self.line:
                self.newline()
            return
        self.add(text, role, len(text))

    def word(self, pieces: list[tuple[str, str, int]]) -> None:
        if not pieces:
            return
        cells = sum(piece[2] for piece in pieces)
        # Wide (CJK) text has no spaces and may break between any two characters; other words
        # move to the next line whole.
        wide = any(piece_cells > len(text) for text, _, piece_cells in pieces)
        if self.used + cells > self.width and self.line and not wide:
            self.newline()
        for text, role, piece_cells in pieces:
            self.chop(text, role, piece_cells)

    def chop(self, text: str, role: str, cells: int) -> None:
        """Add text, breaking it across lines wherever the width runs out."""
        while text:
            room = self.width - self.used
            if cells <= room:
                self.add(text, role, cells)
                return
            head, head_cells = _cut(text, room)
            if not head and not self.line:  # a glyph wider than the whole line
                head, head_cells = _cut(text, self.width + 1)
            if head:
                self.add(head, role, head_cells)
                text = text[len(head):]
                cells -= head_cells
            self.newline()


def _cut(text: str, room: int) -> tuple[str, int]:
    """The longest start of ``text`` that fits in ``room`` cells, and its width."""
    if text.isascii():  # sanitised ASCII is printable: one cell per character
        return text[:room], min(room, len(text))
    # Measure only a window a little longer than the room (zero-width marks take no cell),
    # so chopping a long text costs its length, not its length squared.
    size = 2 * room + 16
    while True:
        window = text[:size]
        spans, _ = split_graphemes(window)
        used = 0
        end = 0
        for _, stop, cells in spans:
            if used + cells > room:
                return text[:end], used
            used += cells
            end = stop
        if size >= len(text):
            return text[:end], used
        size *= 2


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What every row's drawing depends on besides the row: zone, parties and column sizes."""

    tz: tzinfo
    account: str  # the queried account: drawn in the "self" colour, the other side in "peer"
    sender_width: int

    @classmethod
    def for_parties(cls, tz: tzinfo, account: str, peer: str) -> RenderContext:
        widest = max(cell_len(safe_line(account, TEXT)), cell_len(safe_line(peer, TEXT)))
        return cls(tz, account, min(16, max(6, widest)))

    @property
    def prefix_width(self) -> int:
        """Cells before the text column: ``HH:MM:SS`` and the sender column, each plus a space."""
        return 9 + self.sender_width + 1

    def text_width(self, width: int) -> int:
        return max(MIN_TEXT_WIDTH, width - self.prefix_width)


def body_runs(msg: Message, *, expanded: bool = False) -> list[Run]:
    """The message's content after the sender column, in element order, badges included."""
    recalled = msg.recalled
    runs: list[Run] = []
    if recalled:
        runs.append(Run(BADGE_TEXT, BADGE))
    elements = msg.elements
    if recalled and not elements:
        runs.append(Run(" (content not returned by the service)", RECALLED))
    for elem in elements:
        if runs and not runs[-1].text.endswith((" ", "\n")):
            runs.append(Run(" ", TEXT))
        if isinstance(elem, TextElem):
            text = elem.text
            if len(text) > MAX_TEXT:
                runs.extend(sanitize(text[:MAX_TEXT], TEXT))
                hidden = len(text) - MAX_TEXT
                runs.append(Run(f" … {hidden} more characters (Enter: inspect)", FOLD))
            else:
                runs.extend(sanitize(text, TEXT))
        else:
            runs.extend(sanitize(safe_line(elem.placeholder(), PLACEHOLDER), PLACEHOLDER))
            if isinstance(elem, RelayElem) and elem.messages:
                runs.append(Run(" ▾" if expanded else " ▸", FOLD))
    if msg.is_peer_read:
        runs.append(Run(" " + READ_MARK, READ))
    if msg.problems:
        runs.append(Run(f" ⚠ {len(msg.problems)} unreadable field(s)", ERROR))
    if recalled:
        runs = [Run(r.text, f"{r.role} {RECALLED}") if r.role in (TEXT, PLACEHOLDER) else r
                for r in runs]
    return runs


def simple_width(msg: Message) -> int:
    """Cells of the message body if it is one paragraph (fits one line when wide enough), else -1.

    Lets the line index size most rows without wrapping them: such a row is one line high
    whenever this is at most the text width.
    """
    runs = body_runs(msg)
    if any("\n" in run.text for run in runs):
        return -1
    return runs_width(runs)


def _clock(t: int, tz: tzinfo, fmt: str = "%H:%M:%S") -> str:
    try:
        return datetime.fromtimestamp(t, tz).strftime(fmt)
    except (OverflowError, OSError, ValueError):
        return "??:??:??"


def message_lines(
    msg: Message, width: int, ctx: RenderContext, *, expanded: bool = False
) -> list[Line]:
    """Every line of one message row: time, sender, wrapped body, fold line, forwarded messages."""
    text_width = ctx.text_width(width)
    body = wrap(body_runs(msg, expanded=expanded), text_width)
    folded = 0
    if not expanded and len(body) > FOLD_AT:
        folded = len(body) - FOLD_AT
        body = body[:FOLD_AT]
    sender_role = SELF if msg.sender == ctx.account else PEER
    head = (
        Run(_clock(msg.time, ctx.tz), TIME),
        Run(" ", TEXT),
        Run(fit(safe_line(msg.sender, sender_role), ctx.sender_width), sender_role),
        Run(" ", TEXT),
    )
    indent = Run(" " * ctx.prefix_width, TEXT)
    lines: list[Line] = [head + tuple(body[0])]
    lines.extend((indent, *part) for part in body[1:])
    if folded:
        lines.append((indent, Run(f"… {folded} more lines (x to expand)", FOLD)))
    if expanded:
        for elem in msg.elements:
            if isinstance(elem, RelayElem):
                lines.extend(_nested_lines(elem, text_width - NESTED_INDENT, ctx, ctx.prefix_width))
    return lines


def _nested_lines(relay: RelayElem, width: int, ctx: RenderContext, margin: int) -> list[Line]:
    """A merged forward's messages under its parent, each with date, time and sender."""
    gutter = (Run(" " * margin, TEXT), Run("│ ", NESTED))
    lines: list[Line] = []
    for msg in relay.messages:
        head = f"{_clock(msg.time, ctx.tz, '%Y-%m-%d %H:%M')} {safe_line(msg.sender, TEXT)}: "
        runs = [Run(head, NESTED), *body_runs(msg)]
        body = wrap(runs, max(MIN_TEXT_WIDTH, width))
        if len(body) > FOLD_AT:
            hidden = len(body) - FOLD_AT
            body = [*body[:FOLD_AT], [Run(f"… {hidden} more lines (Enter: inspect)", FOLD)]]
        lines.extend((*gutter, *part) for part in body)
    if not lines:
        lines.append((*gutter, Run("(the forward carries no messages)", NESTED)))
    return lines


def banner(text: str, role: str, width: int, fill: str = " ") -> Line:
    """One centred line of ``text`` padded with ``fill`` to the width."""
    text = f" {text} " if fill != " " else text
    room = width - cell_len(text)
    if room <= 0:
        return (Run(fit(text, max(1, width)), role),)
    left = room // 2
    return (Run(fill * left + text + fill * (room - left), role),)


def day_lines(day: date, width: int) -> list[Line]:
    return [banner(f"{day:%A, %Y-%m-%d}", DAY, width, "─")]


def span_text(start: int, end: int, tz: tzinfo) -> str:
    """A time range, with dates only when the two ends fall on different days."""
    a = datetime.fromtimestamp(start, tz)
    b = datetime.fromtimestamp(end, tz)
    if a.date() == b.date():
        return f"{a:%H:%M}–{b:%H:%M}"
    return f"{a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M}"


def error_text(error: object) -> str:
    """A failure as one inert line (the core's errors are already one redacted line)."""
    return safe_line(str(error) or type(error).__name__, ERROR)


def gap_lines(row: GapRow, width: int, tz: tzinfo, *, older_edge: bool) -> list[Line]:
    """The banner of a stretch that is not loaded: idle, loading or failed."""
    gap = row.gap
    if gap.state == "error":
        # The advice to press r must survive a narrow screen: the error text is cut instead.
        reason = error_text(gap.error or "loading failed")
        room = max(MIN_TEXT_WIDTH, width - cell_len("⚠  — r to retry"))
        if cell_len(reason) > room:
            reason = fit(reason, room)
        return [banner(f"⚠ {reason} — r to retry", ERROR, width)]
    if gap.state == "loading":
        what = "older messages" if older_edge else span_text(gap.min_time, gap.max_time, tz)
        return [banner(f"loading {what}…", LOADING, width)]
    text = f"⋯ not loaded: {span_text(gap.min_time, gap.max_time, tz)} (scroll here to load)"
    return [banner(text, GAP, width)]


def edge_lines(row: EdgeRow, width: int) -> list[Line]:
    text = "start of window" if row.kind == "start" else "end of window"
    return [banner(text, EDGE, width, "—")]


def plain(line: Line) -> str:
    """The text of a line without styles (tests, copy)."""
    return "".join(run.text for run in line)


def mark_matches(line: Line, pattern: re.Pattern[str]) -> Line:
    """The line's runs split at search hits, the hits' roles extended with ``match``."""
    text = plain(line)
    spans = [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
    if not spans:
        return line
    out: list[Run] = []
    pos = 0
    for run in line:
        end = pos + len(run.text)
        cuts = sorted({pos, end, *(c for span in spans for c in span if pos < c < end)})
        for a, b in pairwise(cuts):
            hit = any(s <= a and b <= e for s, e in spans)
            out.append(Run(run.text[a - pos:b - pos], f"{run.role} match" if hit else run.role))
        pos = end
    return tuple(out)

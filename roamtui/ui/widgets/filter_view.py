"""The filter view (``&``): only the messages that match, each with its date and a line of context.

A Line-API list, like the transcript: a match is one line (full date, time, sender, the body on
one line with the hits marked), preceded by a dimmed line with the message before it unless
that one is a match too. Only the lines on screen are drawn, so 50,000 matches cost a list of
pairs and a prefix sum. Rows are snapshots: the view never reads the search index while it
changes under a background fetch; the controller hands over fresh rows when results grow.

Messages: ``Selected`` when the selection moves, ``Chosen`` on Enter or a second click (go back
to the transcript at that message).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Hashable, Mapping, Sequence
from datetime import tzinfo
from itertools import accumulate, pairwise
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message as TextualMessage
from textual.scroll_view import ScrollView
from textual.strip import Strip

from roamtui.history.timeparse import format_time
from roamtui.im.model import Message
from roamtui.ui import render
from roamtui.ui.runs import Run, crop_right, fit, fit_row, runs_width

if TYPE_CHECKING:
    # Types only: the search core is imported when a search is first used.
    from roamtui.history.search import Matcher
    from roamtui.history.search_session import SearchSession

#: Cells of body text kept before the first hit when the hit would be off the right edge.
LEAD = 12
ROLES = ("time", "self", "peer", "placeholder", "recalled", "badge", "read", "control", "fold",
         "error", "context", "match", "cursor", "empty", "held-self", "held-peer")
#: Roles of what closes a message's body (the read mark, a problem): kept on a row that is cut.
TAIL_ROLES = frozenset({render.READ, render.ERROR})

Row = tuple[Message | None, Message]  # (context shown above, the matching message)


def one_line(runs: Sequence[Run]) -> list[Run]:
    """Runs with line breaks shown as ``⏎`` so a message fits one line."""
    out: list[Run] = []
    for run in runs:
        if "\n" in run.text:
            out.append(Run(run.text.replace("\n", " ⏎ "), run.role))
        elif run.text:
            out.append(run)
    return out


def mark(runs: Sequence[Run], spans: Sequence[tuple[int, int]]) -> list[Run]:
    """Runs split at ``spans`` (character offsets of their joined text), hits given ``match``."""
    if not spans:
        return list(runs)
    out: list[Run] = []
    pos = 0
    for run in runs:
        end = pos + len(run.text)
        cuts = sorted({pos, end, *(c for s in spans for c in s if pos < c < end)})
        for a, b in pairwise(cuts):
            hit = any(s <= a and b <= e for s, e in spans)
            out.append(Run(run.text[a - pos:b - pos], f"{run.role} match" if hit else run.role))
        pos = end
    return out


def crop_left(runs: Sequence[Run], start: int) -> list[Run]:
    """Drop the first ``start`` characters (an ellipsis marks the cut)."""
    out: list[Run] = [Run("…", render.FOLD)]
    pos = 0
    for run in runs:
        end = pos + len(run.text)
        if end > start:
            out.append(Run(run.text[max(0, start - pos):], run.role))
        pos = end
    return out


def split_tail(runs: Sequence[Run]) -> tuple[list[Run], list[Run]]:
    """The body's runs, and those of its read mark and problems (:data:`TAIL_ROLES`)."""
    body = [run for run in runs if run.role not in TAIL_ROLES]
    return body, [run for run in runs if run.role in TAIL_ROLES]


def match_body(msg: Message, matcher: Matcher | None, room: int,
               runs: list[Run] | None = None) -> list[Run]:
    """The message on one line (or ``runs``, the body drawn) with its hits marked, scrolled
    so the first hit is in ``room``.

    A hit that is not in the drawn body (inside a merged forward's messages, a file's long
    name) is shown as an excerpt of the searched text after the body.
    """
    runs = one_line(render.body_runs(msg)) if runs is None else runs
    if matcher is None:
        return runs
    text = render.plain(tuple(runs))
    spans = matcher.spans(text)
    if not spans:
        searched = msg.search_text()
        found = matcher.spans(searched, 1)
        if not found:
            return runs
        a, b = found[0]
        # The searched line holding the hit, from a little before it.
        start = searched.rfind("\n", 0, a) + 1
        lo = max(start, a - LEAD)
        hi = searched.find("\n", b)
        excerpt = render.sanitize(searched[lo:hi if hi >= 0 else len(searched)])
        lead = [Run(" ⋯ found in: ", render.FOLD)] + ([Run("…", render.FOLD)] if lo > start else [])
        shown = crop_right(runs, max(render.MIN_TEXT_WIDTH, room // 2))
        return shown + lead + mark(excerpt, matcher.spans(render.plain(tuple(excerpt))))
    first = spans[0][0]
    if first > max(0, room - LEAD * 2):
        cut = first - LEAD
        runs = crop_left(runs, cut)
        spans = [(max(1, s - cut + 1), e - cut + 1) for s, e in spans if e > cut]
    return mark(runs, spans)


class FilterView(ScrollView, can_focus=True):
    """The matching messages with context; see the module docstring."""

    HELP_GROUP = "Filter view"
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"filter-view--{role}" for role in ROLES}
    DEFAULT_CSS = """
    FilterView {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: scroll;
        background: $surface;
        color: $foreground;
        & > .filter-view--time { color: $text-muted; }
        & > .filter-view--self { color: $text-primary; text-style: bold; }
        & > .filter-view--peer { color: $text-accent; text-style: bold; }
        & > .filter-view--placeholder { color: $text-secondary; text-style: italic; }
        & > .filter-view--recalled { color: $text-muted; text-style: strike; }
        & > .filter-view--badge { color: $text-warning; background: $warning-muted; }
        & > .filter-view--held-self { color: $text-primary; background: $primary-muted; }
        & > .filter-view--held-peer { color: $text-accent; background: $accent-muted; }
        & > .filter-view--read { color: $text-success; }
        & > .filter-view--control { color: $text-error; text-style: bold; }
        & > .filter-view--fold { color: $text-muted; text-style: italic; }
        & > .filter-view--error { color: $text-error; }
        & > .filter-view--context { color: $text-muted; }
        & > .filter-view--match { background: $warning 60%; color: $foreground; text-style: bold; }
        & > .filter-view--cursor { background: $accent 20%; }
        & > .filter-view--empty { color: $text-muted; text-style: italic; }
        &:focus > .filter-view--cursor { background: $accent 35%; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Show in the transcript"),
        Binding("j,down", "move(1)", "Next match", show=False),
        Binding("k,up", "move(-1)", "Previous match", show=False),
        Binding("pagedown,space", "page(1)", "Page down", show=False),
        Binding("pageup,b", "page(-1)", "Page up", show=False),
        Binding("g,home", "move(-1_000_000_000)", "First match", show=False),
        Binding("G,end", "move(1_000_000_000)", "Last match", show=False),
    ]

    class Selected(TextualMessage):
        """The selected match changed."""

        def __init__(self, message: Message) -> None:
            super().__init__()
            self.message = message

    class Viewed(TextualMessage):
        """What the position line shows: the selected match's time while the view is shown,
        None once it is hidden (the transcript's cursor again)."""

        def __init__(self, at: int | None) -> None:
            super().__init__()
            self.at = at

    class Chosen(TextualMessage):
        """Enter (or a click on the selected match): show this message in the transcript."""

        def __init__(self, message: Message) -> None:
            super().__init__()
            self.message = message

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[Row] = []
        self._starts: list[int] = [0]
        self._selected = 0
        self._matcher: Matcher | None = None
        self._ctx: render.RenderContext | None = None
        #: account -> nickname, and whether accounts are shown instead (the transcript's own).
        self.names: tuple[Mapping[str, str], bool] = ({}, False)
        self._empty = "no matching messages"
        self._strips: LRUCache[Hashable, Strip] = LRUCache(1024)
        self._styles: dict[str, Style] = {}
        self._generation = 0
        self._shown = False  # on screen (Show/Hide): the position line follows the selection

    # -- data ---------------------------------------------------------------------------------

    @property
    def selected_message(self) -> Message | None:
        return self._rows[self._selected][1] if self._rows else None

    @property
    def shown_messages(self) -> list[Message]:
        """The matching messages listed, oldest first (not their context lines)."""
        return [msg for _, msg in self._rows]

    @property
    def match_count(self) -> int:
        return len(self._rows)

    def show_matches(self, messages: Sequence[Message], matches: Sequence[int],
                     matcher: Matcher | None, ctx: render.RenderContext,
                     keep: Message | None = None, empty: str = "no matching messages",
                     *, center: bool = False) -> None:
        """Show ``messages[p]`` for each ``p`` in ``matches`` (ascending), selecting ``keep``."""
        rows: list[Row] = []
        prev = -2
        for p in matches:
            context = messages[p - 1] if p > 0 and p - 1 != prev else None
            rows.append((context, messages[p]))
            prev = p
        self._rows = rows
        self._starts = list(accumulate((1 if c is None else 2 for c, _ in rows), initial=0))
        self._matcher = matcher
        self._ctx = ctx
        self._empty = empty
        self._strips.clear()
        self._generation += 1
        self.virtual_size = Size(self.scrollable_content_region.width, max(1, self._starts[-1]))
        self._selected = self._index_near(keep) if keep is not None else 0
        self._viewed()
        self.refresh()
        if self.is_mounted:
            self.call_after_refresh(self._reveal, center)

    def show_search(self, session: SearchSession, keep: Message | None, *,
                    center: bool = False) -> None:
        """Show the matches of ``session`` as they are now, selecting ``keep``."""
        timeline, results = session.timeline, session.results
        # Read from both sides, a row says which side alone holds it, as the transcript does.
        holder = getattr(timeline, "only_holder", None)
        ctx = render.RenderContext.for_parties(timeline.tz, timeline.query.account,
                                               timeline.query.peer, holder,
                                               names=self.names[0], accounts=self.names[1])
        empty = ("no matching messages yet: fetching the rest of the window…"
                 if session.fetch_state == "running" else
                 "no matching messages yet: searching…" if session.counting
                 else "no matching messages")
        self.show_matches(session.index.messages, () if results is None else results.matches,
                          session.matcher, ctx, keep, empty,
                          center=center)

    def select(self, message: Message, *, center: bool = True) -> None:
        self._set_selected(self._index_near(message), center=center)

    def _index_near(self, message: Message) -> int:
        """The row of ``message``, else of the last match before it in time (else the first)."""
        rows = self._rows
        if not rows:
            return 0
        k = bisect_right(rows, message.time, key=lambda r: r[1].time)
        for j in range(k - 1, -1, -1):
            if rows[j][1].time != message.time:
                break
            if rows[j][1] is message or rows[j][1].key == message.key:
                return j
        return max(0, k - 1)

    # -- moving -------------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        self._set_selected(self._selected + step)

    def action_page(self, direction: int) -> None:
        lines = max(1, self.scrollable_content_region.height - 1)
        target = self._starts[self._selected] + direction * lines
        k = bisect_right(self._starts, max(0, target)) - 1
        self._set_selected(k)

    def action_choose(self) -> None:
        message = self.selected_message
        if message is not None:
            self.post_message(self.Chosen(message))

    def _set_selected(self, k: int, *, center: bool = False) -> None:
        if not self._rows:
            return
        k = min(max(k, 0), len(self._rows) - 1)
        changed = k != self._selected
        self._selected = k
        self._reveal(center)
        self.refresh()
        if changed:
            self.post_message(self.Selected(self._rows[k][1]))
            self._viewed()

    def _viewed(self) -> None:
        message = self.selected_message
        if self._shown and message is not None:
            self.post_message(self.Viewed(message.time))

    def on_show(self) -> None:
        self._shown = True
        self._viewed()

    def on_hide(self) -> None:
        self._shown = False
        self.post_message(self.Viewed(None))

    def _reveal(self, center: bool = False) -> None:
        if not self._rows:
            return
        k = self._selected
        top, bottom = self._starts[k], self._starts[k + 1] - 1
        view = max(1, self.scrollable_content_region.height)
        y = round(self.scroll_y)
        if center:
            target = bottom - view // 2
        elif top < y:
            target = top
        elif bottom >= y + view:
            target = bottom - view + 1
        else:
            return
        self.scroll_to(y=max(0, target), animate=False, force=True, immediate=True)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self._rows:
            return
        line = round(self.scroll_y) + offset.y
        if line >= self._starts[-1]:
            return
        k = bisect_right(self._starts, line) - 1
        if k == self._selected:
            self.action_choose()
        else:
            self._set_selected(k)

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, max(1, self._starts[-1]))

    # -- drawing ------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._generation += 1
        self._strips.clear()
        self._styles.clear()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = round(self.scroll_y) + y
        if not self._rows:
            if line == 0 and self._ctx is not None:
                return self._strip([Run(f"  {self._empty}", "empty")], width, False)
            return Strip.blank(width, self.rich_style)
        if line >= self._starts[-1]:
            return Strip.blank(width, self.rich_style)
        k = bisect_right(self._starts, line) - 1
        context, message = self._rows[k]
        is_context = context is not None and line == self._starts[k]
        cursor = k == self._selected and not is_context
        key = (k, id(message), is_context, cursor, width, self._generation)
        strip = self._strips.get(key)
        if strip is None:
            shown = context if is_context and context is not None else message
            strip = self._strip(self._line(shown, is_context, width), width, cursor)
            self._strips[key] = strip
        return strip

    def _line(self, message: Message, is_context: bool, width: int) -> list[Run]:
        ctx = self._ctx
        if ctx is None:
            return []
        tz: tzinfo = ctx.tz
        sender_role = render.SELF if message.sender == ctx.account else render.PEER
        head = [
            Run("  " if is_context else "▸ ", "fold"),
            Run(format_time(message.time, tz, "%Y-%m-%d %H:%M:%S"), "time"),
            Run(" ", ""),
            Run(fit(ctx.sender_label(message.sender), ctx.sender_width),
                sender_role),
            Run(" ", ""),
        ]
        badge = ctx.held_badge(message)
        if badge is not None and width - runs_width(head) - cell_len(badge.text) < \
                render.MIN_TEXT_WIDTH:  # narrow: the mark alone, its colour says which side
            badge = Run(render.HELD_MARK[:2], badge.role)
        head += [] if badge is None else [badge]
        room = max(1, width - runs_width(head))  # what is cut shows it, never the strip's edge
        body, tail = split_tail(one_line(render.body_runs(message)))
        if is_context:
            return [Run(r.text, "context") for r in head + fit_row(body, tail, room)]
        tail_cells = runs_width(tail)
        shown = match_body(message, self._matcher, max(1, room - tail_cells), body)
        return head + fit_row(shown, tail, room)

    def _style(self, role: str, cursor: bool) -> Style:
        cache_key = f"{role}|{cursor}"
        style = self._styles.get(cache_key)
        if style is None:
            # Whole (not partial) component styles: partial ones drop the alpha of "$accent 20%".
            parts = role.split()
            style = self.rich_style
            names = tuple(f"filter-view--{p}" for p in parts if p in ROLES and p != "match")
            if names:
                style += self.get_component_rich_style(*names)
            if cursor:
                style += Style(bgcolor=self.get_component_rich_style("filter-view--cursor").bgcolor)
            if "match" in parts:
                style += self.get_component_rich_style("filter-view--match")
            self._styles[cache_key] = style
        return style

    def _strip(self, runs: Sequence[Run], width: int, cursor: bool) -> Strip:
        segments = [Segment(r.text, self._style(r.role, cursor)) for r in runs if r.text]
        strip = Strip(segments).crop(0, width) if segments else Strip.blank(0)
        return strip.adjust_cell_length(width, self._style("", cursor))

"""The screens' info lines: the status bar on top, the position line, and a calmer Footer.

Both are built from plain strings with `Content.assemble` (never markup), because account names
come from the user and could contain square brackets. Below a width threshold both switch to a
compact wording so the parts that matter most (who; the cursor's time) never get cut off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from roamtui.history.timeparse import format_time, zone_name
from roamtui.im.profile import party_label
from roamtui.text import screen_line

Part = str | tuple[str, str]
#: Narrower than this (60-column terminals), the status bar writes its counts as symbols
#: (``54 · partial · 2 ⟲``) and the position line the window by dates only.
NARROW_BELOW = 80


def format_stamp(t: int, tz: tzinfo, *, seconds: bool = True) -> str:
    """`2020-03-20 10:40:12` in `tz` (or without seconds)."""
    return format_time(t, tz, "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_window(min_time: int, max_time: int, tz: tzinfo, *, short: bool = False) -> str:
    """`2020-03-13 10:40 → 2020-03-20 10:40`; the end loses its date when it is the same day.

    `short` drops the year when both ends are in the same year (`03-13 10:40 → 03-20 10:40`).
    """
    start = format_stamp(min_time, tz, seconds=False)
    end = format_stamp(max_time, tz, seconds=False)
    if start[:10] == end[:10]:
        end = end[11:]
    elif short and start[:4] == end[:4]:
        start, end = start[5:], end[5:]
    return f"{start} → {end}"


def filter_forms(label: str) -> list[str]:
    """The status bar's filter field, from the longest to the shortest: ``filter: recalled ·
    from agent_alice (n/N; & lists)``, the word as a ``⧩``, without the hint in brackets, the
    last terms as a count (``⧩ recalled +1``), the word alone, then how many terms (``⧩ 2``)."""
    terms, hint = label, ""
    if label.endswith(")") and " (" in label:  # a hint on how to use the filter, not a term
        terms, _, rest = label.rpartition(" (")
        hint = f" ({rest}"
    words = terms.split(" · ")
    forms = [f"filter: {terms}{hint}", f"⧩ {terms}{hint}", f"⧩ {terms}"]
    forms += [f"⧩ {' · '.join(words[:k])} +{len(words) - k}" for k in range(len(words) - 1, 0, -1)]
    forms += ["filter", f"⧩ {len(words)}" if len(words) > 1 else "⧩"]
    return list(dict.fromkeys(forms))


@dataclass(frozen=True, slots=True)
class Stats:
    """What the transcript last reported about its timeline."""

    loaded: int = 0
    recalled: int = 0
    complete: bool = False
    calls: int = 0
    in_flight: int = 0
    gaps: int = 0
    #: The budget of calls/s in force and this process's part of it (``Usage.text``, and
    #: ``Usage.short`` for a narrower bar); "": this process alone, not backed off.
    budget: str = ""
    budget_short: str = ""
    backed_off: bool = False
    one_sided: int | None = None  # read from both sides: messages only one side holds


class StatusBar(Horizontal):
    """Profile, `account ⇄ peer` (whose side is read), then loaded / complete / recalled / calls."""

    DEFAULT_CSS = """
    StatusBar { height: 1; }
    StatusBar > #status-who {
        width: 1fr; height: 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    StatusBar > #status-stats { width: auto; height: 1; }
    """

    #: Narrower than this, the bar drops the profile, the side label and the call count.
    COMPACT_BELOW = 110
    #: From this width on, the budget field says how much of it this process gets.
    WIDE_FROM = 150

    stats: reactive[Stats] = reactive(Stats, init=False)
    #: The filter in force (``recalled · from agent_alice``), empty for none.
    filter_label: reactive[str] = reactive("", init=False)
    marked: reactive[tuple[int, int]] = reactive((0, 0), init=False)
    """Marked messages of this side, and how many of them the service no longer returned."""

    def __init__(
        self,
        *,
        profile: str | None,
        account: str,
        peer: str,
        id: str | None = None,
        both: bool = False,
    ) -> None:
        super().__init__(id=id)
        self.both = both  # both sides are read, merged
        self.profile = profile
        self.account = account
        self.peer = peer
        self.names: dict[str, str] = {}  # account -> nickname (untrusted), when known

    @property
    def compact(self) -> bool:
        return 0 < self.size.width < self.COMPACT_BELOW

    @property
    def narrow(self) -> bool:
        """Narrower than NARROW_BELOW: the counts in symbols, so who stays readable."""
        return 0 < self.size.width < NARROW_BELOW

    def set_names(self, names: Mapping[str, str]) -> None:
        """The parties' nicknames: the bar says `nickname (account)`, made inert (the users'
        own text); narrow, the accounts alone, so who is read is never cut off."""
        self.names = dict(names)
        self._refresh_parts()

    def _party(self, account: str, names: bool = True) -> str:
        nickname = "" if self.compact or not names else self.names.get(account, "")
        return screen_line(party_label(nickname, account))

    def compose(self) -> ComposeResult:
        yield Static(self._who(), id="status-who", markup=False)
        yield Static(self._stats_content(self.stats), id="status-stats", markup=False)

    def set_sides(self, account: str, peer: str) -> None:
        """After `p`: `account` is now the side whose history is read."""
        self.account, self.peer = account, peer
        self._refresh_parts()

    def set_both(self, both: bool) -> None:
        """After `P`: both sides are read (or one again)."""
        self.both = both
        self._refresh_parts()

    def watch_stats(self) -> None:
        self._refresh_parts()

    def watch_filter_label(self) -> None:
        self._refresh_parts()

    def watch_marked(self) -> None:
        self._refresh_parts()

    def on_resize(self, event: events.Resize) -> None:
        self._refresh_parts()

    def _refresh_parts(self) -> None:
        who, stats = self._fit()
        self.query_one("#status-who", Static).update(who)
        field = self.query_one("#status-stats", Static)
        field.update(stats)
        # The filter in full where the bar has no room for it (a mouse pointer shows it).
        tooltip = f"filter: {self.filter_label}" if self.filter_label else None
        if field.tooltip != tooltip:
            field.tooltip = tooltip

    def _fit(self) -> tuple[Content, Content]:
        """The richest bar that fits whole. What goes first when it does not: the call count,
        one side's `side:` label (that side is the account shown first), the nicknames (the
        accounts stay), the word `filter:` (a `⧩`), the counts' words (a narrow bar's
        symbols), the filter's hint, then its terms (:func:`filter_forms`). Who is read, and
        `side: both`, go last; the count and complete/partial are never cut (who is, with an
        ellipsis, when nothing else is left). (The endpoint's host is on the position line.)"""
        width = self.size.width
        forms = filter_forms(self.filter_label) if self.filter_label else [""]
        both = self.both
        # (calls, nicknames, side label, symbols, filter form), each dropping one thing more
        steps = [(True, True, True, False, 0), (False, True, True, False, 0)]
        steps += [] if both else [(False, True, False, False, 0)]
        steps += [(False, False, both, False, 0), (False, False, both, False, 1)]
        steps += [(False, False, both, True, f) for f in range(1, max(2, len(forms)))]
        for calls, names, side, symbols, form in steps:
            who = self._who(names=names, side=side)
            stats = self._stats_content(self.stats, calls=calls, symbols=symbols,
                                        filter_field=forms[min(form, len(forms) - 1)])
            if not width or who.cell_length + stats.cell_length <= width:
                break
        return who, stats

    def _who(self, *, side: bool = True, names: bool = True) -> Content:
        parts: list[Part] = [" "]
        if not self.compact and self.profile:
            parts += [(self.profile, "bold"), " │ "]
        # Same colours as the transcript's sender column: account = $text-primary, peer = accent.
        parts += [(self._party(self.account, names), "bold $text-primary"), " ⇄ ",
                  (self._party(self.peer, names), "bold $text-accent")]
        if side and not self.compact:
            parts += [(" │ side: ", "$text-muted"),
                      ("both" if self.both else self.account, "$text-muted")]
        return Content.assemble(*parts)

    def _stats_content(self, stats: Stats, *, calls: bool = True, symbols: bool = False,
                       filter_field: str = "") -> Content:
        compact = self.compact
        if stats.complete:
            state: tuple[str, str] = ("complete", "bold $text-success")
        elif stats.gaps and not compact:
            noun = "gap" if stats.gaps == 1 else "gaps"
            state = (f"partial ({stats.gaps} {noun})", "bold $text-warning")
        else:
            state = ("partial", "bold $text-warning")
        recalled_style = "bold $text-error" if stats.recalled else "$text-muted"
        flight_style = "bold $text-accent" if stats.in_flight else "$text-muted"
        marked, missing = self.marked
        parts: list[Part] = []
        if filter_field:  # with the counts, which are never cut: what the lists show now
            parts += [" │ ", (filter_field, "bold $text-warning")]
        if marked:
            parts += [" │ ", (f"{marked:,} marked", "bold $text-warning")]
            if missing:
                parts.append((f" ({missing:,} not returned)", "bold $text-error"))
        if self.narrow or symbols:  # every field kept, in fewer cells: `54 · partial · 2 ⟲`
            parts += [" │ ", f"{stats.loaded:,} · ", state, " · ",
                      (f"{stats.recalled:,} ⟲", recalled_style)]
            if self.both and stats.one_sided is not None:
                parts += [" · ", (f"{stats.one_sided:,} ◧", "$text-warning")]
            if stats.in_flight:
                parts += [" · ", (f"{stats.in_flight} ⇅", flight_style)]
            if stats.budget and stats.backed_off:
                parts += [" · ", (stats.budget_short, "bold $text-warning")]
            return Content.assemble(*parts, " ")
        parts += [
            " │ ",
            f"{stats.loaded:,} loaded · ",
            state,
            " │ ",
            (f"{stats.recalled:,} recalled", recalled_style),
        ]
        if self.both and stats.one_sided is not None:
            # Read from both sides: how many messages only one side holds (> / < go to them).
            style = "bold $text-warning" if stats.one_sided else "$text-muted"
            parts += [" │ ", (f"{stats.one_sided:,} one-sided", style)]
        parts += [
            " │ ",
            (f"{stats.in_flight} in flight", flight_style),
        ]
        parts.append(" " if compact or not calls else (f" · {stats.calls:,} calls ", "$text-muted"))
        if stats.budget and (stats.backed_off or not compact):
            style = "bold $text-warning" if stats.backed_off else "$text-muted"
            wide = self.size.width >= self.WIDE_FROM
            parts += ["│ ", (f"budget {stats.budget if wide else stats.budget_short} ", style)]
        return Content.assemble(*parts)


#: Cells the position line keeps for its left part: `` ▸ Mon 2024-05-06 17:38:43`` (26) and a
#: space, so the host never squeezes the cursor's time.
_AT_CELLS = 27


class PositionLine(Horizontal):
    """Where the cursor is (full date and time) on the left; the window and zone on the right."""

    DEFAULT_CSS = """
    PositionLine { height: 1; }
    PositionLine > #position-at {
        width: 1fr; height: 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    PositionLine > #position-window { width: auto; height: 1; }
    """

    #: Narrower than this, the window is written without its label and years.
    COMPACT_BELOW = 100

    position: reactive[int | None] = reactive(None, init=False)
    #: Shown instead of "no message under the cursor" when the whole window is empty.
    empty_hint: reactive[str | None] = reactive(None, init=False)

    def __init__(self, *, window: tuple[int, int], tz: tzinfo, where: str | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.window = window
        self.tz = tz
        #: The endpoint's host (``adminapisgp.im.qcloud.com``), after the window and zone: where
        #: the history is read from, so a wrong region or profile shows at the widths people use.
        self.where = where

    @property
    def compact(self) -> bool:
        return 0 < self.size.width < self.COMPACT_BELOW

    def compose(self) -> ComposeResult:
        yield Static(self._at(self.position), id="position-at", markup=False)
        yield Static(self._window(), id="position-window", markup=False)

    def watch_position(self, position: int | None) -> None:
        self.query_one("#position-at", Static).update(self._at(position))

    def watch_empty_hint(self) -> None:
        self.query_one("#position-at", Static).update(self._at(self.position))

    def on_resize(self, event: events.Resize) -> None:
        self.query_one("#position-window", Static).update(self._window())

    def _at(self, position: int | None) -> Content:
        if position is None and self.empty_hint:
            return Content.assemble((f" ▸ {self.empty_hint}", "$text-warning"))
        if position is None:
            return Content.assemble((" ▸ no message under the cursor", "$text-muted"))
        return Content.assemble(
            " ▸ ",
            (format_time(position, self.tz, "%a %Y-%m-%d %H:%M:%S"), "bold"),
        )

    def _window(self) -> Content:
        min_time, max_time = self.window
        compact = self.compact
        if 0 < self.size.width < NARROW_BELOW:
            start, end = (format_time(t, self.tz, "%m-%d") for t in (min_time, max_time))
            dates = f"{start} → {end}"
            return Content.assemble("  ", dates, " ", (zone_name(self.tz), "bold"), " ")
        window = Content.assemble(
            ("  " if compact else "  window ", "$text-muted"),  # never run into the time
            format_window(min_time, max_time, self.tz, short=compact),
            " ",
            (zone_name(self.tz), "bold"),
            " ",
        )
        if not self.where:
            return window
        # The host only where the cursor's time keeps its room (_AT_CELLS).
        where = Content.assemble(("@ ", "$text-muted"), (self.where, "$text-muted"), " ")
        if self.size.width and window.cell_length + where.cell_length + _AT_CELLS > \
                self.size.width:
            return window
        return Content.assemble(window, where)


#: Actions of the key that opens the help: always shown, first, whatever the width.
HELP_ACTIONS = frozenset({"help", "app.help"})
#: What the footer keeps first when not every key fits (the rest in their own order): the way
#: out, the prompt, find, go to a time, export, the other side, then the filter view; in the
#: filter view its Enter (show in the transcript) before all.
FOOTER_PRIORITY = ("choose", "quit_app", "back", "command_line", "find", "goto_prompt", "export",
                   "swap_sides", "toggle_filter", "retry", "inspect")
#: Narrower than this, the footer's keys lose their padding (Textual's compact footer).
COMPACT_FOOTER_BELOW = 100


def _rank(widget: Widget) -> int:
    action = str(getattr(widget, "action", "")).rpartition(".")[2]
    return FOOTER_PRIORITY.index(action) if action in FOOTER_PRIORITY else len(FOOTER_PRIORITY)


class KeyFooter(Footer):
    """A Footer that rebuilds only when the keys it shows change, and never cuts a key in two.

    Textual's Footer recomposes on every `refresh_bindings()`, and the transcript refreshes
    bindings after each page it loads; rebuilding a dozen key widgets each time slowed the
    first frames down noticeably. Help comes first; when not every key fits whole, the most
    wanted ones (:data:`FOOTER_PRIORITY`) are kept, in their places, and the rest left out.
    """

    DEFAULT_CSS = """
    KeyFooter FooterKey.-help { dock: left; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[tuple[str, str, str, bool], ...] | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        if screen.app.app_focus:
            shown = tuple(
                (key, active.binding.action, active.binding.description, active.enabled)
                for key, active in screen.active_bindings.items()
                if active.binding.show
            )
            if shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        compact = self.compact
        for widget in super().compose():
            # Classes set before mounting need no restyle (update=False): the mount styles them.
            if getattr(widget, "action", None) in HELP_ACTIONS:  # a FooterKey
                widget.add_class("-help", update=False)
            # A key starts compact (its own default) and is made wide by the binding to ours:
            # two restyles of every key at start-up, a tenth of the demo's first frame. Each
            # bound key starts as the footer is, so neither happens (the palette's key is not
            # bound to the footer: it keeps its own default).
            key_compact = getattr(type(widget), "compact", None)
            if isinstance(key_compact, Reactive) and not widget.has_class("-command-palette"):
                widget.set_reactive(key_compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget

    async def recompose(self) -> None:
        await super().recompose()
        self._fit()

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        """Show the keys that fit whole beside the docked ones, the most wanted first
        (:data:`FOOTER_PRIORITY`), each in its place; compact (less padding) when narrow."""
        width = self.size.width
        if not width:
            return
        compact = width < COMPACT_FOOTER_BELOW
        if self.compact != compact:
            self.compact = compact
        docked = [w for w in self.children if w.styles.dock != "none"]
        room = width - sum(self._width_of(w) for w in docked)
        keys = [w for w in self.children if w not in docked]
        ranked = sorted(range(len(keys)), key=lambda i: (_rank(keys[i]), i))
        shown: set[int] = set()
        for i in ranked:
            need = self._width_of(keys[i])
            if need <= room:
                shown.add(i)
                room -= need
        for i, widget in enumerate(keys):
            if widget.display != (i in shown):
                widget.display = i in shown

    def _width_of(self, widget: Widget) -> int:
        styles = widget.styles
        content = widget.get_content_width(self.size, self.app.size)
        return content + styles.gutter.width + styles.margin.width

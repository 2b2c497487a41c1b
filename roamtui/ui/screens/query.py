"""The query screen: profile, the two accounts, the window and the zone, plus recent queries.

Every field is checked on submit and its message is shown right under it; the resolved window
is previewed live so a typo in `-2h` shows before the agent presses Enter.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import (
    Button,
    Input,
    Label,
    OptionList,
    RadioButton,
    RadioSet,
    Select,
    Static,
)
from textual.widgets.option_list import Option

from roamtui.history.timeparse import TimeParseError, parse_time, resolve_zone
from roamtui.im.contacts import Conversation
from roamtui.settings.defaults import DEFAULT_SINCE, DEFAULT_UNTIL
from roamtui.settings.recent import RecentQuery
from roamtui.ui.widgets.status_bar import KeyFooter, format_stamp

# (label, since, until); "custom" leaves the inputs as typed.
PRESETS: tuple[tuple[str, str, str], ...] = (
    ("1 h", "-1h", "now"),
    ("today", "today", "now"),
    ("24 h", "-24h", "now"),
    ("7 d", "-7d", "now"),
)
CUSTOM = "custom"
NO_PROFILE = "__none__"
TIME_PLACEHOLDER = "-2h · yesterday · 2020-03-20 10:00 · @1584669600"


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """A checked query: what to read, with the window resolved to Unix seconds."""

    profile: str | None
    account: str
    peer: str
    min_time: int
    max_time: int
    tz: tzinfo
    recent: RecentQuery


def check_account(value: str, what: str) -> str | None:
    """The problem with an account name, or None. IM UserIDs have no spaces or control chars."""
    if not value:
        return f"Type the {what} account (a UserID)."
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return f"The {what} account has spaces or control characters; UserIDs have none."
    if len(value.encode("utf-8")) > 128:
        return f"The {what} account is longer than any UserID (128 bytes)."
    return None


def describe_span(seconds: int) -> str:
    """`7 d`, `1 h 30 min`, `45 s`: how long the window is."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n]
    if not parts:
        parts = [f"{secs} s"]
    return " ".join(parts[:2])


class QueryScreen(Screen[None]):
    """Fill in who and when; Enter opens the transcript. Recent queries refill the form."""

    HELP_GROUP = "Query"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+o", "submit", "Open transcript"),
        Binding("ctrl+l", "list_peers", "Conversations"),
        # Shown here because `q` types a q in the fields; priority like the app's own ctrl+q.
        Binding("ctrl+q", "app.quit", "Quit", priority=True),
        Binding("q", "app.quit", "Quit", show=False),
    ]
    # Below 70 columns the form takes the whole width and its lines wrap (roamtui.tcss). Not
    # a ClassVar: Textual declares it so that mypy reads it as an instance variable.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (70, "")]  # noqa: RUF012

    class Submitted(Message):
        """The form passed every check."""

        def __init__(self, request: QueryRequest) -> None:
            super().__init__()
            self.request = request

    class PeersWanted(Message):
        """List the account's conversations to pick the peer from (the app connects first)."""

        def __init__(self, profile: str | None, account: str, tz: tzinfo) -> None:
            super().__init__()
            self.profile, self.account, self.tz = profile, account, tz

    def __init__(
        self,
        *,
        profiles: Sequence[str],
        profile: str | None,
        profile_locked: bool,
        default_tz: str,
        clock: Callable[[], float],
        recent: Sequence[RecentQuery] = (),
        initial: RecentQuery | None = None,
        keeps_recent: bool = True,
    ) -> None:
        super().__init__()
        self.profiles = list(profiles)
        self.profile = profile
        self.profile_locked = profile_locked
        self.default_tz = default_tz
        self.clock = clock
        self.recent = list(recent)
        self.initial = initial
        self.keeps_recent = keeps_recent  # False: ROAMTUI_RECENT=off, recent = false, --no-history

    def compose(self) -> ComposeResult:
        initial = self.initial
        with Vertical(id="query-form"):
            yield Static(
                Content.assemble(
                    ("Open a conversation", "bold"),
                    ("  read-only: roamtui never sends, edits or recalls", "$text-muted"),
                ),
                id="query-title",
            )
            with Horizontal(classes="field-row"):
                yield Label("Profile", classes="field-label")
                yield self._profile_select()
            with Horizontal(classes="field-row"):
                yield Label("Account", classes="field-label")
                yield Input(
                    initial.account if initial else "",
                    placeholder="whose history is read (From_Account), e.g. cust_1001",
                    id="account",
                    compact=True,
                )
                peers = Button("Conversations… (ctrl+l)", id="list-peers", compact=True)
                peers.can_focus = False  # Tab goes from Account to Peer; ctrl+l or a click
                yield peers
            yield Static("", id="account-error", classes="field-error", markup=False)
            with Horizontal(classes="field-row"):
                yield Label("Peer", classes="field-label")
                yield Input(
                    initial.peer if initial else "",
                    placeholder="the other party (To_Account), e.g. agent_alice",
                    id="peer",
                    compact=True,
                )
            yield Static("", id="peer-error", classes="field-error", markup=False)
            with Horizontal(classes="field-row", id="preset-row"):
                yield Label("Window", classes="field-label")
                with RadioSet(id="preset", compact=True):
                    for label, _, _ in PRESETS:
                        yield RadioButton(label, value=label == "7 d", compact=True)
                    yield RadioButton(CUSTOM, compact=True)
            with Horizontal(classes="field-row"):
                yield Label("Since", classes="field-label")
                yield Input(
                    initial.since if initial else DEFAULT_SINCE,
                    placeholder=TIME_PLACEHOLDER,
                    id="since",
                    compact=True,
                )
                yield Label("Until", classes="field-label field-label-inner")
                yield Input(
                    initial.until if initial else DEFAULT_UNTIL,
                    placeholder="now",
                    id="until",
                    compact=True,
                )
            yield Static("", id="since-error", classes="field-error", markup=False)
            yield Static("", id="until-error", classes="field-error", markup=False)
            with Horizontal(classes="field-row"):
                yield Label("Time zone", classes="field-label")
                yield Input(
                    initial.tz if initial and initial.tz else self.default_tz,
                    placeholder="Asia/Shanghai, UTC, Europe/Berlin …",
                    suggester=SuggestFromList(sorted(zoneinfo.available_timezones())),
                    id="tz",
                    compact=True,
                )
            yield Static("", id="tz-error", classes="field-error", markup=False)
            yield Static("", id="window-preview", markup=False)
            with Horizontal(id="query-buttons"):
                yield Button("Open transcript", variant="primary", id="open", compact=True)
                # The way out in plain sight: `q` types a q into the fields, so it cannot be it.
                yield Button("Quit (ctrl+q)", id="quit", compact=True)
        yield Static(Content.assemble(("Recent queries", "bold")), id="recent-title")
        yield OptionList(id="recent")
        yield KeyFooter()

    def _profile_select(self) -> Select[str]:
        if self.profile_locked or not self.profiles:
            label = self.profile or "from the command line / environment"
            return Select(
                [(label, NO_PROFILE)],
                value=NO_PROFILE,
                allow_blank=False,
                disabled=True,
                id="profile",
                compact=True,
            )
        names = list(self.profiles)
        chosen = self.profile if self.profile in names else names[0]
        return Select(
            [(name, name) for name in names],
            value=chosen,
            allow_blank=False,
            id="profile",
            compact=True,
        )

    def on_mount(self) -> None:
        self.set_recent(self.recent)
        if self.initial is not None:
            self._sync_preset()
        self._update_preview()
        first_empty = next(
            (i for i in ("account", "peer") if not self.query_one(f"#{i}", Input).value), None
        )
        self.query_one(f"#{first_empty or 'open'}").focus()

    def on_screen_resume(self) -> None:
        # Back from a transcript: "now" has moved on, so the relative window has too.
        self._update_preview()

    # -- recent queries -------------------------------------------------------------------------

    def set_recent(self, queries: Sequence[RecentQuery]) -> None:
        self.recent = list(queries)
        try:
            options = self.query_one("#recent", OptionList)
        except NoMatches:
            return  # not composed yet: on_mount fills the list

        options.clear_options()
        if not self.recent:
            options.add_option(Option("no recent queries yet" if self.keeps_recent else
                                      "recent queries are not kept (ROAMTUI_RECENT=off, recent = "
                                      "false in the config, or --no-history)", disabled=True))
        else:
            options.add_options(Option(Content(q.label())) for q in self.recent)
            options.highlighted = 0

    @on(OptionList.OptionSelected, "#recent")
    def _recent_chosen(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.recent):
            self.fill(self.recent[event.option_index])
            self.query_one("#open", Button).focus()

    def fill(self, query: RecentQuery) -> None:
        """Put a recent query back into the form."""
        self.query_one("#account", Input).value = query.account
        self.query_one("#peer", Input).value = query.peer
        self.query_one("#since", Input).value = query.since
        self.query_one("#until", Input).value = query.until
        self.query_one("#tz", Input).value = query.tz or self.default_tz
        select: Select[str] = self.query_one("#profile", Select)
        if query.profile and not select.disabled and query.profile in self.profiles:
            select.value = query.profile
        for name in ("account", "peer", "since", "until", "tz"):
            self._show_error(name, None)
        self._sync_preset()
        self._update_preview()

    # -- window presets ---------------------------------------------------------------------------

    @on(RadioSet.Changed, "#preset")
    def _preset_chosen(self, event: RadioSet.Changed) -> None:
        if event.index >= len(PRESETS):
            self.query_one("#since", Input).focus()
            return
        _, since, until = PRESETS[event.index]
        with self.prevent(Input.Changed):
            self.query_one("#since", Input).value = since
            self.query_one("#until", Input).value = until
        self._show_error("since", None)
        self._show_error("until", None)
        self._update_preview()

    def _sync_preset(self) -> None:
        """Press the preset button that matches the typed window, or `custom`."""
        since = self.query_one("#since", Input).value.strip()
        until = self.query_one("#until", Input).value.strip()
        index = next(
            (i for i, (_, s, u) in enumerate(PRESETS) if (s, u) == (since, until)), len(PRESETS)
        )
        buttons = list(self.query_one("#preset", RadioSet).query(RadioButton))
        if not buttons[index].value:
            with self.prevent(RadioSet.Changed):
                buttons[index].value = True

    @on(Input.Changed, "#since, #until, #tz")
    def _window_typed(self, event: Input.Changed) -> None:
        if event.input.id:
            self._show_error(event.input.id, None)
        if event.input.id in ("since", "until"):
            self._sync_preset()
        self._update_preview()

    @on(Input.Changed, "#account, #peer")
    def _account_typed(self, event: Input.Changed) -> None:
        if event.input.id:
            self._show_error(event.input.id, None)

    # -- checking and submitting -------------------------------------------------------------------

    def _show_error(self, field: str, message: str | None) -> None:
        error = self.query_one(f"#{field}-error", Static)
        error.update(message or "")
        error.set_class(bool(message), "-visible")
        self.query_one(f"#{field}", Input).set_class(bool(message), "-invalid")

    def _window(self) -> tuple[tzinfo, int, int] | dict[str, str]:
        """The zone and window, or the problems keyed by field."""
        problems: dict[str, str] = {}
        tz_text = self.query_one("#tz", Input).value.strip()
        try:
            tz = resolve_zone(tz_text or None)
        except (TimeParseError, ValueError) as exc:
            return {"tz": str(exc)}
        now = datetime.fromtimestamp(self.clock(), tz)
        times: dict[str, int] = {}
        for name, default in (("since", DEFAULT_SINCE), ("until", DEFAULT_UNTIL)):
            text = self.query_one(f"#{name}", Input).value.strip() or default
            try:
                times[name] = parse_time(text, tz, now)
            except (TimeParseError, ValueError) as exc:
                problems[name] = str(exc)
        if problems:
            return problems
        if times["since"] > times["until"]:
            return {"until": "Until is before since; the window would be empty."}
        return tz, times["since"], times["until"]

    def _update_preview(self) -> None:
        preview = self.query_one("#window-preview", Static)
        result = self._window()
        if isinstance(result, dict):
            preview.update(Content.assemble(("window: ", "$text-muted"), ("—", "$text-muted")))
            return
        tz, since, until = result
        preview.update(
            Content.assemble(
                ("window: ", "$text-muted"),
                (format_stamp(since, tz), "bold"),
                " → ",
                (format_stamp(until, tz), "bold"),
                ("  (", "$text-muted"),
                (describe_span(until - since), "$text-muted"),
                (")", "$text-muted"),
            )
        )

    # -- the account's conversations ----------------------------------------------------------

    @on(Button.Pressed, "#list-peers")
    def action_list_peers(self) -> None:
        """`ctrl+l`: the typed account's conversations, to pick the peer from."""
        account = self.query_one("#account", Input).value.strip()
        problem = check_account(account, "queried")
        self._show_error("account", problem)
        try:
            tz = resolve_zone(self.query_one("#tz", Input).value.strip() or None)
        except (TimeParseError, ValueError) as exc:
            self._show_error("tz", str(exc))
            return
        if problem is not None:
            self.query_one("#account", Input).focus()
            return
        select: Select[str] = self.query_one("#profile", Select)
        profile = self.profile if select.disabled else str(select.value)
        self.post_message(self.PeersWanted(profile, account, tz))

    def pick(self, conv: Conversation, tz: tzinfo) -> None:
        """The peer picked from the list, with the window from a day before its last message."""
        self.query_one("#peer", Input).value = conv.peer
        self.query_one("#since", Input).value = conv.since_text(tz) or DEFAULT_SINCE
        self.query_one("#until", Input).value = DEFAULT_UNTIL
        for name in ("peer", "since", "until"):
            self._show_error(name, None)
        self._sync_preset()
        self._update_preview()
        self.query_one("#open", Button).focus()

    @on(Button.Pressed, "#quit")
    def _quit_pressed(self) -> None:
        self.app.exit()

    @on(Input.Submitted)
    @on(Button.Pressed, "#open")
    def action_submit(self) -> None:
        """Check every field; on success post Submitted, else show each message by its field."""
        account = self.query_one("#account", Input).value.strip()
        peer = self.query_one("#peer", Input).value.strip()
        problems: dict[str, str] = {}
        if (problem := check_account(account, "queried")) is not None:
            problems["account"] = problem
        if (problem := check_account(peer, "peer")) is not None:
            problems["peer"] = problem
        if "account" not in problems and "peer" not in problems and account == peer:
            problems["peer"] = "The peer must be another account than the queried one."
        window = self._window()
        if isinstance(window, dict):
            problems.update(window)
        for name in ("account", "peer", "since", "until", "tz"):
            self._show_error(name, problems.get(name))
        if problems or isinstance(window, dict):
            first = next(n for n in ("account", "peer", "since", "until", "tz") if n in problems)
            self.query_one(f"#{first}", Input).focus()
            return
        tz, since, until = window
        select: Select[str] = self.query_one("#profile", Select)
        profile = self.profile if select.disabled else str(select.value)
        recent = RecentQuery(
            account=account,
            peer=peer,
            since=self.query_one("#since", Input).value.strip() or DEFAULT_SINCE,
            until=self.query_one("#until", Input).value.strip() or DEFAULT_UNTIL,
            tz=self.query_one("#tz", Input).value.strip(),
            profile=profile,
        )
        self.post_message(
            self.Submitted(QueryRequest(profile, account, peer, since, until, tz, recent))
        )

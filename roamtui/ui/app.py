"""RoamApp: the query screen at the base, transcripts pushed over it, help and palette on top.

Blocking work (keyring look-ups when the profile changes) runs in a thread worker that only
posts messages; the handlers here own every piece of state. The query, help and secret screens
are imported when first shown: `roamtui demo` opens on a transcript and starts sooner without.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import urlsplit

from textual import events, on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen

from roamtui.im.errors import ServiceError
from roamtui.im.profile import Nicknames
from roamtui.im.roam import RoamQuery
from roamtui.settings.marks import MarkStore
from roamtui.settings.recent import DEFAULT_LIMIT, RecentQueries, RecentQuery
from roamtui.text import error_line
from roamtui.ui.screens.browse import BrowseScreen, BrowseTarget
from roamtui.ui.transcript import Transcript
from roamtui.ui.typeahead import TypeAhead

if TYPE_CHECKING:
    from textual.command import Provider

    from roamtui.history.timeline import Timeline
    from roamtui.im.client import ImClient
    from roamtui.im.contacts import Conversation
    from roamtui.settings.connection import Resolved
    from roamtui.ui.screens.peers import PeersTarget
    from roamtui.ui.screens.query import QueryScreen
    from roamtui.ui.screens.secret_prompt import SecretAnswer

    #: What the app opens once connected: a transcript, or an account's conversation list.
    Target = BrowseTarget | PeersTarget


#: Seconds after mount when `on_started` runs even if nothing was drawn yet (slow first page).
STARTED_AT_LATEST = 2.0


def stylesheet_path() -> Path:
    """roamtui.tcss inside the installed package, else at the root of the checkout."""
    package_dir = Path(__file__).resolve().parent.parent
    packaged = package_dir / "roamtui.tcss"
    return packaged if packaged.is_file() else package_dir.parent / "roamtui.tcss"


@dataclass(slots=True)
class ExportChoice:
    """What the export dialog remembers for the session: the last format and folder written
    to (never saved: a new run starts from the defaults)."""

    format: str | None = None
    directory: Path | None = None


@dataclass(slots=True)
class Session:
    """Where to connect and how to make clients; built by roamtui.factory."""

    resolved: Resolved
    open_client: Callable[[Resolved], ImClient]
    make_timeline: Callable[[ImClient, RoamQuery, tzinfo, bool], Timeline]  # bool: both sides
    default_tz: tzinfo
    default_tz_name: str
    profiles: Sequence[str] = ()
    #: Flags or the environment name the connection: the profile select is informative only.
    profile_locked: bool = True
    #: Blocking (keyring); only ever called in a thread worker.
    resolve_profile: Callable[[str], Resolved] | None = None
    #: The status bar names the endpoint's host (not for the demo: its loopback says nothing).
    show_endpoint: bool = True
    #: Secrets typed into the prompt, per profile, for this session only.
    typed: dict[str | None, Resolved] = field(default_factory=dict, repr=False)
    #: Marks and notes (in memory only unless the command line gives a stored one).
    marks: MarkStore = field(default_factory=MarkStore.memory)
    #: The export dialog's last format and folder, for this session only.
    export_choice: ExportChoice = field(default_factory=ExportChoice)


def _roam_commands() -> type[Provider]:
    """The palette's commands, imported when the palette first opens (not before the first
    frame): Textual takes a callable that returns the provider class."""
    from roamtui.ui.commands import RoamCommands

    return RoamCommands


class RoamApp(App[int]):
    """Browse one-to-one chat history read-only."""

    TITLE = "roamtui"
    CSS_PATH = str(stylesheet_path())
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {_roam_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False, key_display="?"),
        Binding("ctrl+t", "cycle_theme", "Next theme", show=False),
    ]

    class ProfileResolved(Message):
        def __init__(self, resolved: Resolved, target: Target) -> None:
            super().__init__()
            self.resolved = resolved
            self.target = target

    class ProfileFailed(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(
        self,
        session: Session,
        *,
        start: BrowseTarget | None = None,
        initial: RecentQuery | None = None,
        recent: RecentQueries | None = None,
        clock: Callable[[], float] = time.time,
        theme: str | None = None,
        on_started: Callable[[], None] | None = None,
    ) -> None:
        """`on_started` is called once, when the first screen is drawn (see `_started`)."""
        super().__init__()
        self.session = session
        self.start = start
        self.initial = initial
        self.recent_store = recent
        self.recent: list[RecentQuery] = recent.load() if recent is not None else []
        self.clock = clock
        self._client: ImClient | None = None
        self._client_for: Resolved | None = None
        self._names: Nicknames | None = None
        self._names_for: ImClient | None = None
        self._on_started = on_started
        self._typeahead = TypeAhead(self)  # keys of a burst: in order, where the focus goes
        self._unproven: RecentQuery | None = None  # remembered, its first answer not in yet
        if theme:
            self.theme = theme

    def get_default_screen(self) -> Screen[Any]:
        # Opening straight on a transcript, the query screen is only built when the user goes
        # back to it: an empty base screen makes the first transcript frame come sooner.
        if self.start is not None:
            return Screen(id="base")
        return self._query_screen()

    def _query_screen(self) -> QueryScreen:
        from roamtui.ui.screens.query import QueryScreen

        s = self.session
        return QueryScreen(
            profiles=s.profiles,
            profile=s.resolved.profile_name,
            profile_locked=s.profile_locked or s.resolve_profile is None,
            default_tz=s.default_tz_name,
            clock=self.clock,
            recent=self.recent,
            initial=self.initial,
            keeps_recent=self.recent_store is not None,
        )

    def on_mount(self) -> None:
        if self._on_started is not None:
            self.set_timer(STARTED_AT_LATEST, self._started)
        if self.start is None:
            self.call_after_refresh(self._started)  # the query screen is drawn
            return
        if self.initial is not None:
            self._remember(self.initial)
        # Pushed once the app's own mount is over: Textual draws no frame until the screens
        # pushed during that mount are built whole (key footer included), so pushing here
        # would hold the first transcript frame back behind work the user cannot see yet.
        self.call_later(self._open, self.session.resolved, self.start)

    async def on_event(self, event: events.Event) -> None:
        # Keys read from the terminal, before Textual sends them to the focused widget: a key
        # behind one that moves the focus waits for it (``roamtui.ui.typeahead``).
        if isinstance(event, events.Key) and not event.is_forwarded \
                and self._typeahead.arriving(event):
            return
        await super().on_event(event)

    def on_key(self, event: events.Key) -> None:
        """Type-ahead (``roamtui.ui.typeahead``): a key no widget took, sent before the keys
        ahead of it moved the focus, goes where they left it (``/refund`` typed fast is a
        search, not ``r`` retry and ``e`` export), after the keys ahead of it have acted."""
        if self._typeahead.bubbled(event):
            event.prevent_default()  # and not the bindings of where it was sent first

    @on(Transcript.CursorMoved)
    @on(Transcript.LoadFailed)
    def _first_load(self, event: Message) -> None:
        landed = not isinstance(event, Transcript.CursorMoved) or event.message is not None
        if landed and self._on_started is not None:
            self.call_after_refresh(self._started)  # the first messages (or the error) drawn
        if landed and self._unproven is not None:
            # An account the service says does not exist was mistyped: not a recent query.
            query, self._unproven = self._unproven, None
            error = getattr(event, "error", None)
            if isinstance(error, ServiceError) and error.missing_account:
                self._remember(query, forget=True)

    def _started(self) -> None:
        """The screen the app opened on is drawn: run `on_started`, once.

        The factory defers garbage collection while the app starts and resumes it here; the
        timer set on mount makes sure a slow first page cannot hold it off for long.
        """
        callback, self._on_started = self._on_started, None
        if callback is not None:
            callback()

    def back_to_query(self) -> None:
        """Leave a transcript for the query screen (built now if the app started in one)."""
        if any(_is_query_screen(screen) for screen in self.screen_stack[:-1]):
            self.pop_screen()
        else:
            self.switch_screen(self._query_screen())

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    # -- opening a transcript ----------------------------------------------------------------------

    def on_query_screen_submitted(self, event: QueryScreen.Submitted) -> None:
        request = event.request
        self._remember(request.recent)
        target = BrowseTarget(
            request.account, request.peer, request.min_time, request.max_time, request.tz
        )
        self._route(request.profile, target)

    def on_query_screen_peers_wanted(self, event: QueryScreen.PeersWanted) -> None:
        from roamtui.ui.screens.peers import PeersTarget

        self._route(event.profile, PeersTarget(event.account, event.tz))

    def _route(self, wanted: str | None, target: Target) -> None:
        """Open ``target`` with the profile ``wanted`` (resolved, and its secret asked, first)."""
        current = self.session.resolved
        if wanted is None or wanted == current.profile_name or self.session.resolve_profile is None:
            self._open(current, target)
        elif wanted in self.session.typed:
            self._open(self.session.typed[wanted], target)
        else:
            self._resolve(wanted, target)

    @work(thread=True, exclusive=True, group="resolve", exit_on_error=False)
    def _resolve(self, profile: str, target: Target) -> None:
        resolve = self.session.resolve_profile
        if resolve is None:
            return
        try:
            resolved = resolve(profile)
        except Exception as exc:  # config or keyring trouble: one line, never a traceback
            self.post_message(self.ProfileFailed(error_line(exc)))
            return
        self.post_message(self.ProfileResolved(resolved, target))

    @on(ProfileResolved)
    def _profile_resolved(self, event: ProfileResolved) -> None:
        self.session.resolved = event.resolved
        self._open(event.resolved, event.target)

    @on(ProfileFailed)
    def _profile_failed(self, event: ProfileFailed) -> None:
        self.notify(event.reason, title="Cannot use this profile", severity="error", markup=False)

    def _open(self, resolved: Resolved, target: Target) -> None:
        if resolved.missing_secret is None:
            self._push_browse(resolved, target)
            return

        def answered(answer: SecretAnswer | None) -> None:
            if answer is None:
                self.notify("No secret given; the transcript was not opened.", severity="warning")
                if not _is_query_screen(self.screen):
                    self.push_screen(self._query_screen())
                return
            with_secret = resolved.with_secret(answer.kind, answer.value)
            self.session.typed[resolved.profile_name] = with_secret
            if self.session.resolved is resolved:
                self.session.resolved = with_secret
            self._push_browse(with_secret, target)

        from roamtui.ui.screens.secret_prompt import SecretPrompt

        self.push_screen(
            SecretPrompt(profile=resolved.profile_name, reason=resolved.missing_secret), answered
        )
        self.call_after_refresh(self._started)  # the prompt is what the app opens on

    def credentials_refused(self, screen: BrowseScreen, reason: str) -> bool:
        """The service refused the secret in use: forget it for this session and ask again.

        The transcript is closed (its client carries the refused secret) and opened anew with
        the answer; Esc leaves it closed, and opening any transcript later asks again.
        """
        refused = self._client_for
        if refused is None or refused.missing_secret is not None:
            return False
        if self.screen is not screen:
            return False  # already asking, or another screen is on top: the notice says it
        self.session.typed.pop(refused.profile_name, None)
        untyped = refused.without_secret(f"The service refused the secret: {reason}")
        if self.session.resolved is refused or (
            self.session.resolved.profile_name == refused.profile_name
        ):
            self.session.resolved = untyped
        self._client_for = None  # the next transcript gets a client with the new secret
        self.pop_screen()
        # From the app's own queue: a prompt pushed from the closing screen's handler would
        # hand its answer to that screen, which is gone by then.
        self.call_later(self._open, untyped, screen.target)
        return True

    def _push_browse(self, resolved: Resolved, target: Target) -> None:
        if isinstance(target, BrowseTarget):
            self.push_screen(self._browse_screen(resolved, target))
            return
        from roamtui.ui.screens.peers import PeersScreen

        client = self._client_of(resolved)
        query = self.screen  # the list is opened from the query screen, and answers it

        def picked(conv: Conversation | None) -> None:
            if conv is not None and _is_query_screen(query):
                cast("QueryScreen", query).pick(conv, target.tz)

        self.push_screen(PeersScreen(target, client=client, names=self._names_of(client)),
                         picked)

    def _browse_screen(self, resolved: Resolved, target: BrowseTarget) -> BrowseScreen:
        client = self._client_of(resolved)

        def make_timeline(t: BrowseTarget) -> Timeline:
            query = resolved.query(t.account, t.peer, t.min_time, t.max_time)
            return self.session.make_timeline(client, query, t.tz, t.both)

        # No query screen under it: opened by `roamtui ACCOUNT PEER`, so `q` quits.
        from_command_line = not any(_is_query_screen(screen) for screen in self.screen_stack)
        return BrowseScreen(
            target, make_timeline=make_timeline, profile=resolved.profile_name, clock=self.clock,
            from_command_line=from_command_line, names=self._names_of(client),
            where=endpoint_host(resolved.connection.endpoint) if self.session.show_endpoint
            else None,
            marks=self.session.marks, sdkappid=resolved.connection.sdkappid,
        )

    def _client_of(self, resolved: Resolved) -> ImClient:
        """One client per connection; a new profile closes the previous client."""
        if self._client is not None and self._client_for is resolved:
            return self._client
        old = self._client
        if old is not None:
            self.call_later(old.aclose)
        self._client = self.session.open_client(resolved)
        self._client_for = resolved
        return self._client

    def _names_of(self, client: ImClient) -> Nicknames:
        """The run's nicknames for ``client`` (a new client, a new cache: another app maybe)."""
        if self._names is None or self._names_for is not client:
            self._names, self._names_for = Nicknames(client), client
        return self._names

    def _remember(self, query: RecentQuery, *, forget: bool = False) -> None:
        store = self.recent_store
        limit = store.limit if store is not None else DEFAULT_LIMIT
        others = [q for q in self.recent if not q.same_query(query)]
        self._unproven = None if forget else query
        self.recent = others if forget else [query, *others][:limit]
        if store is not None:
            try:
                self.recent = store.forget(query) if forget else store.remember(query)
            except OSError as exc:
                self.notify(
                    f"Could not save recent queries: {exc.strerror or exc}",
                    severity="warning",
                    markup=False,
                )
        for screen in self.screen_stack:
            if _is_query_screen(screen):
                cast("QueryScreen", screen).set_recent(self.recent)

    # -- app-wide actions ------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key of the current screen (its focused widget, the screen, the app)."""
        from roamtui.ui.commands import key_entries
        from roamtui.ui.screens.help import HelpScreen

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        title = "keys of the transcript" if isinstance(screen, BrowseScreen) else "keys"
        self.push_screen(HelpScreen(key_entries(screen), title=title))

    def action_cycle_theme(self) -> None:
        from roamtui.ui.commands import THEMES

        names = [name for name, _ in THEMES if name in self.available_themes]
        at = names.index(self.theme) + 1 if self.theme in names else 0
        self.theme = names[at % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)


def endpoint_host(endpoint: str) -> str:
    """``https://adminapisgp.im.qcloud.com/`` → ``adminapisgp.im.qcloud.com`` (with a port if
    one is given); the endpoint as given when it has no host."""
    netloc = urlsplit(endpoint).netloc
    return netloc.rpartition("@")[2] or endpoint


def _is_query_screen(screen: Screen[Any]) -> bool:
    """Whether `screen` is the query screen, without importing it when it was never built."""
    query = sys.modules.get("roamtui.ui.screens.query")
    return query is not None and isinstance(screen, query.QueryScreen)

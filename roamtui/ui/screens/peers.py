"""The account's conversations, to pick the peer from: opened from the query screen (`ctrl+l`).

A worker lists the account's one-to-one conversations (``recentcontact/get_list``, paged to
the end by :func:`roamtui.im.contacts.fetch_conversations`) and then looks their nicknames up
(``portrait_get`` through the run's :class:`~roamtui.im.profile.Nicknames`); each step posts a
message and only the handlers change the list. Enter dismisses with the chosen
:class:`~roamtui.im.contacts.Conversation` (the query screen fills the peer and the window
around its last message); Esc with None. Peers and nicknames are the service's text: every one
goes on screen through :func:`roamtui.text.screen_line` inside a ``Content``, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from roamtui.history.timeparse import format_time
from roamtui.im.contacts import Conversation, ConversationList, fetch_conversations
from roamtui.im.errors import RoamError
from roamtui.text import error_line, screen_line
from roamtui.ui.runs import fit

if TYPE_CHECKING:
    from roamtui.im.profile import Nicknames
    from roamtui.im.roam import RoamCaller

NICK_CELLS = 24


@dataclass(frozen=True, slots=True)
class PeersTarget:
    """Whose conversations to list, with the times shown in which zone."""

    account: str
    tz: tzinfo


def option_text(conv: Conversation, nickname: str, tz: tzinfo, peer_cells: int) -> Content:
    """One line of the list: peer, nickname (or —), last message, a pin mark; all inert."""
    peer = screen_line(conv.peer)
    nick = screen_line(nickname) or "—"
    when = format_time(conv.last_time, tz, "%Y-%m-%d %H:%M") if conv.last_time else "no messages"
    pad = max(0, peer_cells - cell_len(peer))
    nick_shown = fit(nick, NICK_CELLS) if cell_len(nick) > NICK_CELLS else nick
    return Content.assemble(
        (peer, "bold"), " " * (pad + 2),
        (nick_shown, "$text-accent" if nickname else "$text-muted"),
        " " * (NICK_CELLS - cell_len(nick_shown) + 2),
        (when, "$text-muted"),
        "  " if conv.pinned else "",
        ("pinned" if conv.pinned else "", "$text-warning"),
    )


class PeersScreen(ModalScreen[Conversation | None]):
    """The account's one-to-one conversations, newest first; Enter picks one."""

    HELP_GROUP = "Conversations"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Back")]

    class Listed(Message):
        def __init__(self, listed: ConversationList) -> None:
            super().__init__()
            self.listed = listed

    class Progress(Message):
        def __init__(self, pages: int, found: int) -> None:
            super().__init__()
            self.pages, self.found = pages, found

    class NamesKnown(Message):
        pass

    class Failed(Message):
        def __init__(self, reason: str, names: bool = False) -> None:
            super().__init__()
            self.reason, self.names = reason, names

    def __init__(self, target: PeersTarget, *, client: RoamCaller, names: Nicknames) -> None:
        super().__init__()
        self.target = target
        self.client = client
        self.names = names
        self.conversations: Sequence[Conversation] = ()

    def compose(self) -> ComposeResult:
        with Vertical(id="peers-dialog") as box:
            box.border_title = f"Conversations of {screen_line(self.target.account)}"
            yield Static("listing conversations…", id="peers-status", markup=False)
            yield OptionList(id="peers-list")
            yield Static("Enter: open with this peer, the window around its last message · "
                         "Esc: back", id="peers-keys", markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._list()

    @work(exclusive=True, group="peers", exit_on_error=False)
    async def _list(self) -> None:
        """List the conversations, then look the peers' nicknames up (in the worker: network)."""
        def progress(pages: int, found: int) -> None:
            self.post_message(self.Progress(pages, found))

        try:
            listed = await fetch_conversations(self.client, self.target.account, progress=progress)
        except RoamError as exc:
            self.post_message(self.Failed(error_line(exc)))
            return
        self.post_message(self.Listed(listed))
        try:
            await self.names.resolve(c.peer for c in listed.conversations)
        except RoamError as exc:
            self.post_message(self.Failed(error_line(exc), names=True))
            return
        self.post_message(self.NamesKnown())

    @on(Progress)
    def _progress(self, event: Progress) -> None:
        self._status(f"listing conversations… {event.found} so far ({event.pages} pages)")

    @on(Listed)
    def _listed(self, event: Listed) -> None:
        listed = event.listed
        self.conversations = listed.conversations
        groups = f"; {listed.groups} group conversation(s) not shown" if listed.groups else ""
        count = len(self.conversations)
        self._status(f"{count} one-to-one conversation(s), newest first{groups}"
                     if count else f"no one-to-one conversations{groups}")
        self._fill()

    @on(NamesKnown)
    def _names_known(self) -> None:
        self._fill()

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        if event.names:
            self.notify(f"Nicknames could not be read: {event.reason}", severity="warning",
                        timeout=6, markup=False)
            return
        self._status(f"Could not list the conversations: {event.reason}")
        self.query_one("#peers-status", Static).add_class("-error")

    def _status(self, text: str) -> None:
        self.query_one("#peers-status", Static).update(text)

    def _fill(self) -> None:
        options = self.query_one(OptionList)
        keep = options.highlighted
        options.clear_options()
        cells = max([cell_len(screen_line(c.peer)) for c in self.conversations] + [4])
        tz = self.target.tz
        options.add_options(
            Option(option_text(c, self.names.nickname(c.peer), tz, min(cells, 32)))
            for c in self.conversations
        )
        if self.conversations:
            options.highlighted = keep if keep is not None else 0

    @on(OptionList.OptionSelected, "#peers-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.conversations):
            self.dismiss(self.conversations[event.option_index])

    def action_dismiss_none(self) -> None:
        self.workers.cancel_node(self)
        self.dismiss(None)

"""Who is who on the transcript screen: the parties' nicknames, looked up once and shown.

:class:`SenderNames` is an invisible widget of the browse screen. On mount a worker looks the two
parties up (``portrait_get`` through the run's :class:`~roamtui.im.profile.Nicknames`, so a
second transcript of the same people costs no call) and posts :class:`SenderNames.Known`; its
handler hands the nicknames to the status bar (``nickname (account)``), the transcript's
sender column and the filter view. ``i`` (:meth:`toggle`) shows the accounts instead, or back.
A lookup that fails is not an error: the accounts stay, and the next transcript asks again.
Nicknames are the users' own text: each widget makes them inert (:mod:`roamtui.text`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from textual import on, work
from textual.message import Message
from textual.widget import Widget

from roamtui.im.errors import RoamError
from roamtui.ui.transcript import Transcript
from roamtui.ui.widgets.filter_view import FilterView
from roamtui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from roamtui.im.profile import Nicknames


class _Parties(Protocol):  # what the browse screen's target says (account, peer)
    account: str
    peer: str


class SenderNames(Widget):
    """The parties' nicknames for the screen's status bar, transcript and filter view."""

    DEFAULT_CSS = "SenderNames { display: none; }"

    class Known(Message):
        """The parties' nicknames were looked up (they may have none)."""

    def __init__(self, names: Nicknames | None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names = names
        self.accounts = False  # `i`: the sender column by account instead of nickname

    @property
    def _parties(self) -> tuple[str, str]:
        target: _Parties = self.screen.target  # type: ignore[attr-defined]
        return target.account, target.peer

    def on_mount(self) -> None:
        self._look_up()

    @work(exclusive=True, group="names", exit_on_error=False)
    async def _look_up(self) -> None:
        """The parties' nicknames (portrait_get, once for the run); none is not an error."""
        if self.names is None:
            return
        try:
            await self.names.resolve(self._parties)
        except RoamError:
            return  # shown by account; the next transcript asks again
        self.post_message(self.Known())

    @on(Known)
    def show(self) -> None:
        """Hand what is known to the widgets that show the parties."""
        known = {} if self.names is None else self.names.names(self._parties)
        screen = self.screen
        screen.query_one(StatusBar).set_names(known)
        screen.query_one(Transcript).set_names(known, accounts=self.accounts)
        screen.query_one(FilterView).names = (known, self.accounts)

    def toggle(self) -> None:
        """Accounts instead of nicknames in the sender column, or back; says which."""
        self.accounts = not self.accounts
        self.show()
        shown = "accounts" if self.accounts else "nicknames (i: accounts)"
        self.notify(f"Senders shown by {shown}.", timeout=2, markup=False)

"""Keys typed faster than the app acts on them (a paste, a terminal macro, a fast typist): each
goes where the keys before it left the focus, in the order typed.

Textual sends a key to the widget focused when the app reads it. A burst read at once from the
terminal is therefore all sent before the first of its keys has acted: ``/refund`` would reach
the transcript as ``/``, ``r`` (retry), ``e`` (export)…, and ``cust_1003`` Tab ``agent_alice``
on the query form would all land in Account. :class:`TypeAhead`, owned by the app, fixes both:

- *text after a key that focused an input*: a plain printable key that bubbles up to the app
  while an input has the focus was sent elsewhere before the focus moved; it is given to the
  input (``/refund`` searches for "refund"). Such keys are *in flight* until the input took
  them.
- *keys after one that moves the focus*: a key that is not text, pressed while an input has
  the focus (Enter, Tab, Esc), acts before the keys after it are sent anywhere. Those are held
  and sent again, one at a time, once it has acted: each then goes where the focus is. So
  ``:goto 10:40`` Enter ``d`` runs the command and then steps a day, and Tab moves on to Peer
  before ``agent_alice`` is typed. A held key that is not text for an input acts in turn
  before the next one is sent (``d``, then ``/``, then text for the find bar).

"Has acted" is told without timing: the key and whatever its handlers post climb from the
widget that had the focus to the app, and a callback queued behind them at each step of that
way runs after them. Such a round is repeated (what an Enter submits is posted on its way
and handled in the next round; the focus often moves one round later) until the focus moved
and one more round went by, or :data:`ROUNDS` rounds did. A widget that goes away while a
round waits on it would hold the keys back for good: :data:`STUCK_AFTER` seconds lets them go.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Input

#: Rounds at most that a key moving the focus is given to act (Enter in the command line
#: takes three: the key's binding, the input's Submitted, the prompt's Closed and Run).
ROUNDS = 4
#: Seconds after which held keys go on although a round never came back (its widget closed).
STUCK_AFTER = 1.0


def is_text(event: events.Key) -> bool:
    """A key that types its character (no Ctrl/Alt; Shift is part of the character)."""
    return event.is_printable and "+" not in event.key


def copy_of(event: events.Key) -> events.Key:
    """The key as the terminal sent it, to be sent again (an event is dispatched once)."""
    return events.Key(event.key, event.character)


class TypeAhead:
    """The keys of ``app`` in flight or held back; see the module docstring."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self._in_flight = 0  # text keys given to an input, not taken by it yet
        self._held: deque[events.Key] = deque()  # waiting for the keys before them to act
        self._sent: events.Key | None = None  # a held key sent again, not read by the app yet
        self._acting: events.Key | None = None  # a key moving the focus, given its rounds
        self._round = 0  # which settling is the current one (an older one ends unheard)

    @property
    def busy(self) -> bool:
        """Keys are held, or one acts that the next ones wait for."""
        return bool(self._held or self._sent is not None or self._acting is not None)

    # -- keys reaching the app --------------------------------------------------------------------

    def arriving(self, event: events.Key) -> bool:
        """A key read from the terminal (or a held one sent again) reaches the app, before
        Textual sends it to the focused widget: True when it must be held, not sent now."""
        again = event is self._sent
        if again:
            self._sent = None
        elif self.busy:
            self._held.append(copy_of(event))
            return True
        focused = self.app.focused
        if isinstance(focused, Input) and is_text(event):
            if again:  # the next one once the input took it (queued behind the key)
                self.app.call_later(focused.call_later, self._send_next)
        elif isinstance(focused, Input) or again:
            self._act(event, focused)
        return False

    def bubbled(self, event: events.Key) -> bool:
        """A key no widget took reaches the app's own handler (its bindings not run yet):
        True when it was taken here (held, or given to the input that has the focus)."""
        if event is self._acting:
            return False  # its bindings are how it acts
        focused = self.app.focused
        if self._held or (self._in_flight and not is_text(event) and isinstance(focused, Input)):
            # Behind keys still on their way: sent again after them, where they leave the focus.
            self._held.append(copy_of(event))
            return True
        if isinstance(focused, Input) and is_text(event):
            self._in_flight += 1
            focused.post_message(copy_of(event))
            focused.call_later(self._taken)
            return True
        return False

    # -- sending held keys again ------------------------------------------------------------------

    def _taken(self) -> None:
        self._in_flight = max(0, self._in_flight - 1)
        if not self._in_flight:
            self._send_next()

    def _send_next(self) -> None:
        if self._in_flight or self._sent is not None or self._acting is not None:
            return
        if self._held:
            self._sent = self._held.popleft()
            self.app.post_message(self._sent)

    def _act(self, event: events.Key, focused: Widget | None) -> None:
        """Let ``event`` act (see the module docstring) before the held keys go on."""
        self._acting = event
        self._round += 1
        mine = self._round
        self.app.set_timer(STUCK_AFTER, lambda: self._settled(mine))
        # From the app's queue: behind the key, which Textual sends on once this returns.
        self.app.call_later(self._chase, mine, focused, 1, None)

    def _chase(self, mine: int, focused: Widget | None, rounds: int,
               moved_at: int | None) -> None:
        """One round: a callback queued at each node from ``focused`` up to the app."""
        start: DOMNode = focused if focused is not None else self.app.screen
        nodes = list(start.ancestors_with_self)
        if self.app not in nodes:
            nodes.append(self.app)

        def after_round() -> None:
            moved = moved_at
            if moved is None and self.app.focused is not focused:
                moved = rounds
            if rounds >= ROUNDS or (moved is not None and rounds > moved):
                self._settled(mine)
            else:
                self._chase(mine, focused, rounds + 1, moved)

        self._relay(mine, nodes, after_round)

    def _relay(self, mine: int, nodes: list[DOMNode], then: Callable[[], None]) -> None:
        while nodes and mine == self._round:
            node, rest = nodes[0], nodes[1:]
            if node.call_later(self._relay, mine, rest, then):
                return
            nodes = rest  # closed: nothing left to wait for there
        if mine == self._round:
            then()

    def _settled(self, mine: int) -> None:
        if mine != self._round or self._acting is None:
            return
        self._round += 1
        self._acting = None
        self._send_next()

"""Filters by kind and by sender: which messages the search results (and the ``&`` view) keep.

Textual-free. A kind is one entry of :data:`KINDS`, added with :func:`register_kind` (a name, a
label for the status bar, a line of help, a test of one message): "recalled" and "non-text"
live here; "one-sided" (both sides, issue 15) and "marked" (issue 19) are one more call each,
in the module that knows what the test needs. A :class:`MessageFilter` is the kinds and the
senders in force; :func:`parse_filter` reads the ``:filter`` command's argument.

The filter narrows the search session's results (``SearchResults.keep``): with a query it
keeps the matches that also pass, without one every message that passes. The results cover
the whole window the way a search does (the session fetches the rest of the window when a
filter is set), so ``&``, ``n``/``N`` and the counter work over everything, not just what was
loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from roamtui.im.model import Message, TextElem

FilterTest = Callable[[Message], bool]


@dataclass(frozen=True, slots=True)
class FilterKind:
    """One kind a filter can keep: ``:filter NAME``."""

    name: str  # as typed: lower case, no spaces
    label: str  # in the status bar
    help: str  # one line for the help and the error listing the kinds
    test: FilterTest


#: Every kind, by name, in the order they were registered.
KINDS: dict[str, FilterKind] = {}


def register_kind(kind: FilterKind) -> None:
    """Add ``kind`` (or replace the one of that name)."""
    if not kind.name or kind.name != kind.name.strip().lower() or " " in kind.name:
        raise ValueError(f"a filter kind is one lower-case word, not {kind.name!r}")
    KINDS[kind.name] = kind


def non_text(msg: Message) -> bool:
    """Whether the message holds anything but text (an image, a file, a merged forward, …)."""
    return any(type(e) is not TextElem for e in msg.elements)


register_kind(FilterKind("recalled", "recalled", "recalled messages (MsgFlagBits)",
                         lambda m: m.recalled))
register_kind(FilterKind("non-text", "non-text",
                         "messages with an image, file, voice, video, location, face, custom "
                         "element or merged forward", non_text))


class FilterError(ValueError):
    """A ``:filter`` argument that cannot be read; ``str()`` is the one-line reason."""


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """The kinds (all must hold) and senders (any) a message must have to be kept."""

    kinds: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.kinds or self.senders)

    def test(self, msg: Message) -> bool:
        if self.senders and msg.sender not in self.senders:
            return False
        return all(KINDS[name].test(msg) for name in self.kinds if name in KINDS)

    def label(self) -> str:
        """``recalled · from agent_alice`` (empty when no filter is in force)."""
        parts = [KINDS[name].label if name in KINDS else name for name in self.kinds]
        if self.senders:
            parts.append("from " + ", ".join(self.senders))
        return " · ".join(parts)

    def toggled(self, kind: str) -> MessageFilter:
        """With ``kind`` added, or taken away when it is in force."""
        if kind in self.kinds:
            return replace(self, kinds=tuple(k for k in self.kinds if k != kind))
        return replace(self, kinds=(*self.kinds, kind))

    def from_sender(self, sender: str | None) -> MessageFilter:
        """Only ``sender``'s messages (None: anyone's)."""
        return replace(self, senders=() if sender is None else (sender,))


def kinds_text() -> str:
    return ", ".join(KINDS)


def party_named(words: Sequence[str], parties: Mapping[str, str]) -> tuple[str, int]:
    """The party ``from`` names, and how many words name it: an account as written, else a
    nickname or an account in any case (the longest run of words that is one). A one-to-one
    conversation has two senders, so a name that is neither is a FilterError saying who is."""
    for taken in range(len(words), 0, -1):
        name = " ".join(words[:taken])
        if name in parties:
            return name, taken
        folded = name.casefold()
        for account, nickname in parties.items():
            if folded in (account.casefold(), nickname.casefold()):
                return account, taken
    who = " or ".join(f"{a} ({n})" if n else a for a, n in parties.items())
    raise FilterError(f"{words[0]!r} is neither party of this conversation: from {who}")


def parse_filter(argument: str, current: MessageFilter,
                 parties: Mapping[str, str] | None = None) -> MessageFilter:
    """The filter after ``:filter ARGUMENT``: kinds and ``from NAME`` add to ``current``;
    ``not KIND`` / ``not from`` take away; ``clear`` (or ``off``) drops everything. With the
    conversation's ``parties`` (account -> nickname, "" for none), NAME may be a nickname and
    must be one of them (:func:`party_named`)."""
    words = argument.split()
    if not words:
        raise FilterError(f"filter what? {kinds_text()}, from NAME, not KIND, or clear")
    result = current
    i = 0
    while i < len(words):
        word = words[i].lower()
        negate = word == "not"
        if negate:
            i += 1
            if i >= len(words):
                raise FilterError("not what? e.g. not recalled, not from")
            word = words[i].lower()
        if word in ("clear", "off", "none", "all") and not negate:
            result = MessageFilter()
        elif word == "from":
            if negate:
                result = result.from_sender(None)
            elif i + 1 >= len(words):
                raise FilterError("from whom? e.g. filter from agent_alice")
            elif parties:
                sender, taken = party_named(words[i + 1:], parties)
                result = result.from_sender(sender)
                i += taken
            else:
                i += 1
                result = result.from_sender(words[i])  # account IDs are case-sensitive
        elif word in KINDS:
            has = word in result.kinds
            if negate == has:
                result = result.toggled(word)
        else:
            raise FilterError(
                f"unknown filter {words[i]!r}; try {kinds_text()}, from NAME, not KIND or clear")
        i += 1
    return result

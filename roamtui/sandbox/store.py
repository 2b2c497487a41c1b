"""What the sandbox service reads messages from, and `ListStore`, a store of given message dicts.

A conversation is a sequence in service order: by MsgTimeStamp, then (within one second) the
order the real service uses, by MsgSeq. The service only needs the times (for bisecting the
window), each message's MsgKey and its compact JSON, so a store can keep messages in any form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol


def dump_message(obj: Mapping[str, Any]) -> str:
    """Compact JSON of one message as the sandbox puts it on the wire (UTF-8, not escaped)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class Conversation(Protocol):
    """One conversation in service order; index 0 is the oldest message."""

    @property
    def times(self) -> Sequence[int]:
        """MsgTimeStamp of every message, non-decreasing (bisectable)."""
        ...

    def key(self, index: int) -> str:
        """MsgKey of message `index`."""
        ...

    def message(self, index: int) -> dict[str, Any]:
        """The message object of `index` with the service's field names."""
        ...

    def message_json(self, index: int) -> str:
        """`dump_message(self.message(index))`, possibly cached."""
        ...


class MessageStore(Protocol):
    """The accounts and conversations a `SandboxService` serves."""

    def has_account(self, account: str) -> bool: ...

    def conversation(self, a: str, b: str) -> Conversation | None:
        """The conversation between `a` and `b` in either order, or None if they never talked."""
        ...


class ListConversation:
    """A conversation held as the message dicts it was given (kept exactly, unknown fields too)."""

    __slots__ = ("_json", "_keys", "_messages", "_times")

    def __init__(self, messages: Iterable[Mapping[str, Any]]) -> None:
        given = list(messages)
        for msg in given:
            stamp = msg.get("MsgTimeStamp")
            if not isinstance(stamp, int) or isinstance(stamp, bool):
                raise ValueError(f"message without an integer MsgTimeStamp: {msg!r:.200}")
        # Stable: within one second the caller's order is the service's order.
        given.sort(key=lambda m: int(m["MsgTimeStamp"]))
        self._messages: list[dict[str, Any]] = [dict(m) for m in given]
        self._times = [int(m["MsgTimeStamp"]) for m in given]
        self._keys = [_key_of(m) for m in given]
        self._json: list[str | None] = [None] * len(given)

    def __len__(self) -> int:
        return len(self._messages)

    @property
    def times(self) -> Sequence[int]:
        return self._times

    def key(self, index: int) -> str:
        return self._keys[index]

    def message(self, index: int) -> dict[str, Any]:
        return self._messages[index]

    def message_json(self, index: int) -> str:
        cached = self._json[index]
        if cached is None:
            cached = self._json[index] = dump_message(self._messages[index])
        return cached


def _key_of(msg: Mapping[str, Any]) -> str:
    key = msg.get("MsgKey")
    if isinstance(key, str):
        return key
    return f"{msg.get('MsgSeq')}_{msg.get('MsgRandom')}_{msg.get('MsgTimeStamp')}"


class ListStore:
    """A store of exactly the given conversations, for tests that need full control.

    `ListStore({("user1", "user2"): [msg, ...]})`: each list in service order (a stable sort by
    MsgTimeStamp is applied, so only the order within one second must be given). Every account
    named in a key exists; `accounts` adds accounts that have no conversation.
    """

    __slots__ = ("_accounts", "_conversations", "_pairs")

    def __init__(
        self,
        conversations: Mapping[tuple[str, str], Iterable[Mapping[str, Any]]],
        accounts: Iterable[str] = (),
    ) -> None:
        self._conversations: dict[frozenset[str], ListConversation] = {}
        self._accounts: set[str] = set(accounts)
        self._pairs = list(conversations)
        for (a, b), messages in conversations.items():
            pair = frozenset((a, b))
            if pair in self._conversations:
                raise ValueError(f"conversation {a!r} ⇄ {b!r} given twice")
            self._conversations[pair] = ListConversation(messages)
            self._accounts.update((a, b))

    @property
    def conversations(self) -> list[tuple[str, str]]:
        """The (a, b) pairs as given (the conversation lists of ``sandbox.people`` read them)."""
        return list(self._pairs)

    def has_account(self, account: str) -> bool:
        return account in self._accounts

    def conversation(self, a: str, b: str) -> ListConversation | None:
        return self._conversations.get(frozenset((a, b)))

"""Who the sandbox's accounts are: their nicknames and their conversation lists.

A :class:`Directory` is what ``portrait_get`` and ``recentcontact/get_list`` read
(:mod:`roamtui.sandbox.directory`). :meth:`Directory.for_store` builds one from a message store:
every conversation of the store is in both parties' lists with the time of its last message,
the demo accounts get the nicknames of :data:`DEMO_NICKNAMES` (Chinese and English ones, one
that looks like markup, one with a terminal escape and a bidi override, one with none at all).
Tests build a Directory by hand to get any list or profile they need.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

#: The demo dataset's nicknames. Untrusted on purpose: whoever reads them must keep them inert.
DEMO_NICKNAMES: Mapping[str, str] = {
    "cust_1001": "王小明",
    "cust_1002": "Emily Carter",
    "cust_1003": "[b]boss[/b]",
    "cust_1004": "陈静 🌸",
    "cust_1005": "<i>Jo</i> Li",
    # cust_1006 has no nickname: shown by its account.
    "cust_1007": "Zoë",
    "cust_1008": "\x1b[31mred\x1b[0m \u202eevil",
    "agent_alice": "Alice (Support)",
    "agent_bob": "Bob 李",
    "agent_chen": "陈客服",
    "agent_li": "李娜",
    "agent_wang": "王芳",
    "agent_dave": "Dave",
}
#: A group every demo agent has in its list, so the one-to-one filter has something to skip.
DEMO_GROUP = "@TGS#demo_support"


@dataclass(frozen=True, slots=True)
class Session:
    """One entry of an account's conversation list (``Type`` 1 with a peer, 2 with a group)."""

    peer: str = ""
    msg_time: int = 0
    pinned: bool = False
    group: str = ""

    @property
    def kind(self) -> int:
        return 2 if self.group else 1


class _Listed(Protocol):
    """A store that can say which conversations it holds (Dataset, ListStore)."""

    @property
    def conversations(self) -> list[tuple[str, str]]: ...
    def has_account(self, account: str) -> bool: ...


@dataclass(slots=True)
class Directory:
    """Accounts, their nicknames and their conversation lists.

    ``accounts`` exist (portrait_get answers them; any other account is unknown);
    ``nicknames`` maps an account to its Tag_Profile_IM_Nick (absent: none set);
    ``sessions`` maps an account to its conversation list (any order: the API sorts);
    ``flaky`` maps an account to how many more lookups of it fail with ResultCode 40006.
    """

    accounts: set[str] = field(default_factory=set)
    nicknames: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, list[Session]] = field(default_factory=dict)
    flaky: dict[str, int] = field(default_factory=dict)

    def exists(self, account: str) -> bool:
        return account in self.accounts

    def add_session(self, account: str, session: Session) -> None:
        """List ``session`` for ``account``; both the account and its peer exist then."""
        self.accounts.add(account)
        if session.peer:
            self.accounts.add(session.peer)
        self.sessions.setdefault(account, []).append(session)

    def sessions_of(self, account: str) -> list[Session]:
        return self.sessions.get(account, [])

    @classmethod
    def for_store(cls, store: object, nicknames: Mapping[str, str] = DEMO_NICKNAMES) -> Directory:
        """Every conversation of ``store`` in both parties' lists (last message time), the
        given nicknames for the accounts that exist; a store that cannot list its
        conversations gives an empty directory (every account unknown)."""
        directory = cls()
        pairs = getattr(store, "conversations", None)
        if not isinstance(pairs, Iterable):
            return directory
        listed: _Listed = store  # type: ignore[assignment]
        agents: set[str] = set()
        for a, b in pairs:
            last = _last_time(store, a, b)
            directory.add_session(a, Session(b, last))
            directory.add_session(b, Session(a, last))
            agents.add(b)
        for agent in sorted(agents):
            if agent.startswith("agent_"):
                sessions = directory.sessions[agent]
                # The agent's first customer is pinned: a pinned entry pages on its own.
                sessions[0] = Session(sessions[0].peer, sessions[0].msg_time, pinned=True)
                newest = max(s.msg_time for s in sessions)
                sessions.append(Session(msg_time=newest, group=DEMO_GROUP))
        directory.nicknames = {a: n for a, n in nicknames.items() if listed.has_account(a)}
        return directory


def _last_time(store: object, a: str, b: str) -> int:
    """The time of the last message between a and b (0 for an empty conversation)."""
    conversation = getattr(store, "conversation", None)
    conv = conversation(a, b) if callable(conversation) else None
    times = getattr(conv, "times", None)
    return int(times[-1]) if times is not None and len(times) else 0

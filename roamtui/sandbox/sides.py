"""Per-side histories: each account of a conversation holds its own roaming history.

The service keeps one roaming history per account (tim-api.md §1.3). The two parties of one
conversation can hold different ones, for three documented reasons, each modelled here:

- **cleared**: the account cleared its history (deleteConversation with ClearRamble=1, or the
  app's "clear chat"): it holds nothing older than a second (`SidePlan.cleared_before`);
- **deleted**: it deleted chosen messages (deleteMessages) (`SidePlan.deleted`, MsgKeys);
- **unsynced**: messages it sent through REST sendmsg with ``SyncOtherMachine=2`` were never
  stored in its own history (the ZH page: "not synced to the sender's records") — only the
  other party holds them (`SidePlan.unsynced`, MsgKeys; each must be sent by that account).

`SidedStore(store, plans)` wraps any `MessageStore`: reading as A (``From_Account`` /
``Operator_Account`` = A) returns A's history only, the other messages of the conversation are
simply absent, exactly as the real service answers. Views are built on first read and cached.

`demo_plans(store, conversations, seed)` is the deterministic plan the demo dataset ships
with (see its docstring for the exact rules), `DemoPlans` the same worked out one conversation
at a time as it is read (`demo_store`); `truth(...)` says which keys each side holds.
"""

from __future__ import annotations

import random
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from roamtui.sandbox.store import Conversation, MessageStore

if TYPE_CHECKING:
    from roamtui.sandbox.dataset import Dataset

#: Share of the demo conversation (oldest first) that the customer has cleared.
DEMO_CLEARED_SHARE = 0.04
#: Of each party's own messages, the share it deleted (customer) / never held (agent).
DEMO_DELETED_SHARE = 0.02
DEMO_UNSYNCED_SHARE = 0.02
#: Conversations shorter than this keep the same history on both sides.
DEMO_MIN_MESSAGES = 50


@dataclass(frozen=True, slots=True)
class SidePlan:
    """How one account's history of one conversation differs from the whole conversation."""

    cleared_before: int | None = None  # nothing older than this second is held
    deleted: frozenset[str] = field(default_factory=frozenset)  # MsgKeys it deleted
    unsynced: frozenset[str] = field(default_factory=frozenset)  # it sent these, SyncOtherMachine=2

    def hides(self, time: int, key: str) -> bool:
        if self.cleared_before is not None and time < self.cleared_before:
            return True
        return key in self.deleted or key in self.unsynced

    @property
    def empty(self) -> bool:
        return self.cleared_before is None and not self.deleted and not self.unsynced


class SideView:
    """One account's history of a conversation: the base conversation minus what it lacks."""

    __slots__ = ("_base", "_kept", "_times")

    def __init__(self, base: Conversation, plan: SidePlan) -> None:
        self._base = base
        times = base.times
        start = 0 if plan.cleared_before is None else bisect_left(times, plan.cleared_before)
        hidden = plan.deleted | plan.unsynced
        kept = array("I")
        if hidden:
            kept.extend(i for i in range(start, len(times)) if base.key(i) not in hidden)
        else:
            kept.extend(range(start, len(times)))
        self._kept = kept
        self._times = array("q", (times[i] for i in kept))

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def times(self) -> Sequence[int]:
        return self._times

    def key(self, index: int) -> str:
        return self._base.key(self._kept[index])

    def message(self, index: int) -> dict[str, Any]:
        return self._base.message(self._kept[index])

    def message_json(self, index: int) -> str:
        return self._base.message_json(self._kept[index])


Plans = Mapping[tuple[str, str], SidePlan]  # (account, peer) -> that account's plan


class SidedStore:
    """A `MessageStore` whose conversations read differently from each side (see module doc).

    ``plans[(account, peer)]`` is the account's plan for its conversation with peer; a side
    without a plan holds the whole conversation.
    """

    __slots__ = ("_base", "_plans", "_views")

    def __init__(self, base: MessageStore, plans: Plans) -> None:
        self._base = base
        # Looked up one conversation at a time, never read whole: DemoPlans works each out on
        # its first lookup. An empty plan reads as none (the whole conversation).
        self._plans = plans
        self._views: dict[tuple[str, str], Conversation] = {}

    @property
    def base(self) -> MessageStore:
        return self._base

    def plan(self, account: str, peer: str) -> SidePlan:
        return self._plans.get((account, peer), SidePlan())

    def has_account(self, account: str) -> bool:
        return self._base.has_account(account)

    def conversation(self, a: str, b: str) -> Conversation | None:
        """The conversation as account ``a`` holds it (``a`` is the reader)."""
        conv = self._base.conversation(a, b)
        plan = self._plans.get((a, b))
        if conv is None or plan is None or plan.empty:
            return conv
        view = self._views.get((a, b))
        if view is None:
            view = self._views[(a, b)] = SideView(conv, plan)
        return view

    def __getattr__(self, name: str) -> Any:
        # The wrapped store's other reading methods (a Dataset's conversations, span, count...)
        # stay reachable: `roamtui sandbox` describes the whole conversations.
        return getattr(self._base, name)


def demo_plans(
    store: MessageStore, conversations: Iterable[tuple[str, str]], seed: int
) -> dict[tuple[str, str], SidePlan]:
    """The demo's per-side histories, the same for the same seed and dataset.

    For every (customer, agent) conversation of at least ``DEMO_MIN_MESSAGES`` messages:
    the customer cleared its history before the message at ``DEMO_CLEARED_SHARE`` of the
    conversation and deleted ``DEMO_DELETED_SHARE`` of its own messages ("he deleted what he
    wrote"); ``DEMO_UNSYNCED_SHARE`` of the agent's messages were sent by the back office with
    SyncOtherMachine=2, so only the customer holds them. Choices come from a generator seeded
    with the seed and the pair, never from the clock.
    """
    plans: dict[tuple[str, str], SidePlan] = {}
    for customer, agent in conversations:
        plans.update(_pair_plans(store, customer, agent, seed))
    return plans


def _pair_plans(
    store: MessageStore, customer: str, agent: str, seed: int
) -> dict[tuple[str, str], SidePlan]:
    """`demo_plans` of one conversation: both sides' plans, or none when it is short."""
    conv = store.conversation(customer, agent)
    if conv is None:
        return {}
    n = len(conv.times)
    if n < DEMO_MIN_MESSAGES:
        return {}
    rng = random.Random(f"roamtui-sides:{seed}:{customer}:{agent}")
    cleared = conv.times[int(n * DEMO_CLEARED_SHARE)]
    # Candidates drawn at random, then kept by who sent them: no pass over every message.
    draws = min(n, int(n * 2 * (DEMO_DELETED_SHARE + DEMO_UNSYNCED_SHARE)))
    candidates = rng.sample(range(n), draws)
    deleted: set[str] = set()
    unsynced: set[str] = set()
    for i in candidates:
        if conv.times[i] < cleared:
            continue
        sender = conv.message(i).get("From_Account")
        if sender == customer and len(deleted) < n * DEMO_DELETED_SHARE:
            deleted.add(conv.key(i))
        elif sender == agent and len(unsynced) < n * DEMO_UNSYNCED_SHARE:
            unsynced.add(conv.key(i))
    return {
        (customer, agent): SidePlan(cleared, frozenset(deleted)),
        (agent, customer): SidePlan(unsynced=frozenset(unsynced)),
    }


class DemoPlans(Mapping[tuple[str, str], SidePlan]):
    """`demo_plans`, each conversation's worked out when one of its sides is first looked up.

    The same plans (each conversation's come from its own seeded generator), without a pass
    over every conversation before the first page: a lazy `Dataset` then generates only the
    conversations read. Empty plans are left out, as `SidedStore` leaves them out. Safe to
    read from the server's threads.
    """

    def __init__(
        self, store: MessageStore, conversations: Iterable[tuple[str, str]], seed: int
    ) -> None:
        self._store, self._seed = store, seed
        self._pairs: dict[tuple[str, str], tuple[str, str]] = {}
        for customer, agent in conversations:
            self._pairs.setdefault((customer, agent), (customer, agent))
            self._pairs.setdefault((agent, customer), (customer, agent))
        self._done: dict[tuple[str, str], dict[tuple[str, str], SidePlan]] = {}
        self._lock = threading.Lock()

    def _of(self, pair: tuple[str, str]) -> dict[tuple[str, str], SidePlan]:
        with self._lock:
            plans = self._done.get(pair)
            if plans is None:
                found = _pair_plans(self._store, *pair, self._seed)
                plans = self._done[pair] = {k: v for k, v in found.items() if not v.empty}
        return plans

    def __getitem__(self, key: tuple[str, str]) -> SidePlan:
        pair = self._pairs.get(key)
        if pair is None:
            raise KeyError(key)
        return self._of(pair)[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for pair in dict.fromkeys(self._pairs.values()):
            yield from self._of(pair)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def held_keys(store: MessageStore, account: str, peer: str, lo: int, hi: int) -> list[str]:
    """MsgKeys ``account`` holds with ``peer`` in seconds lo..hi, in service order (the truth
    tests compare against)."""
    conv = store.conversation(account, peer)
    if conv is None:
        return []
    times = conv.times
    return [conv.key(i) for i in range(bisect_left(times, lo), bisect_right(times, hi))]


def demo_store(dataset: Dataset) -> SidedStore:
    """The demo dataset with its per-side histories (`demo_plans`), as demo and sandbox serve it."""
    return SidedStore(dataset, DemoPlans(dataset, dataset.conversations, dataset.seed))


def describe_sides(store: SidedStore, conversations: Iterable[tuple[str, str]]) -> list[str]:
    """One line per account whose history differs: what it holds and why it lacks the rest."""
    lines: list[str] = []
    for a, b in conversations:
        for account, peer in ((a, b), (b, a)):
            plan = store.plan(account, peer)
            if plan.empty:
                continue
            conv = store.conversation(account, peer)
            held = 0 if conv is None else len(conv.times)
            parts = [f"{account} with {peer} holds={held}"]
            if plan.cleared_before is not None:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(plan.cleared_before))
                parts.append(f"cleared_before={stamp}")
            if plan.deleted:
                parts.append(f"deleted={len(plan.deleted)}")
            if plan.unsynced:
                parts.append(f"unsynced={len(plan.unsynced)}")
            lines.append(" ".join(parts))
    return lines

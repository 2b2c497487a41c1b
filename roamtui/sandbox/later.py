"""The same history later: a store over another store with recalls, admin edits and deletions
applied, deterministically, so ``roamtui verify --refetch`` can be tried and tested.

``LaterStore(store, Later(recalls=2, edits=2, deletions=2, seed=0))`` serves every conversation
of ``store`` with, in each, ``recalls`` messages recalled since (MsgFlagBits gains the recall
bit; the first keeps its body, the next ones come back without it, as the service may answer),
``edits`` messages edited by an admin (``modify_c2c_msg``: alternately the MsgBody replaced by a
text and the CloudCustomData rewritten) and ``deletions`` messages no longer returned. Which
messages is drawn from ``seed`` and the conversation's parties only, so the same options always
change the same messages; :meth:`LaterStore.changes` lists them (kind, MsgKey, time), and
``roamtui sandbox --later N`` prints them as ``change:`` lines.

Under per-side histories (:mod:`roamtui.sandbox.sides`), :func:`later_plans` has each side of a
conversation also delete ``deletions`` more messages from its own history since (messages both
held, none the store changed): those are now held by one side only, ``holder`` changes that
``verify --refetch`` of a ``--sides both`` bundle reports, listed by :func:`holder_changes`.
"""

from __future__ import annotations

import copy
import json
import random
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from roamtui.sandbox.sides import SidePlan
from roamtui.sandbox.store import Conversation, MessageStore, dump_message

ChangeKind = Literal["recalled", "changed", "missing"]
RECALL_BIT = 8
EDIT_PREFIX = "[edited by the admin] "


@dataclass(frozen=True, slots=True)
class Later:
    """How much changed in each conversation, and the seed that picks the messages."""

    recalls: int = 2
    edits: int = 2
    deletions: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.recalls, self.edits, self.deletions) < 0:
            raise ValueError("recalls, edits and deletions must be 0 or more")

    @classmethod
    def each(cls, n: int, seed: int = 0) -> Later:
        """``n`` of every kind (``roamtui sandbox --later N``)."""
        return cls(n, n, n, seed)


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    key: str
    time: int
    what: str  # "recall", "recall without body", "MsgBody", "CloudCustomData", "deleted"


class LaterConversation:
    """A conversation with the changes of a :class:`Later` applied (a store.Conversation)."""

    __slots__ = ("_base", "_edits", "_keep", "_recalls", "_times", "changes")

    def __init__(self, base: Conversation, later: Later, salt: str) -> None:
        self._base = base
        n = len(base.times)
        rng = random.Random(f"roamtui-later:{later.seed}:{salt}")
        order = rng.sample(range(n), min(n, 4 * (later.recalls + later.edits + later.deletions)))
        recalls: dict[int, bool] = {}
        edits: dict[int, int] = {}
        deleted: set[int] = set()
        for i in order:
            if len(recalls) < later.recalls and not _recalled(base.message(i)):
                recalls[i] = not recalls  # the first recall keeps its body
            elif len(edits) < later.edits and not _recalled(base.message(i)):
                edits[i] = len(edits)
            elif len(deleted) < later.deletions:
                deleted.add(i)
        self._recalls, self._edits = recalls, edits
        keep = array("q", (i for i in range(n) if i not in deleted))
        self._keep = keep
        self._times = array("q", (base.times[i] for i in keep))
        changes = [Change("recalled", base.key(i), base.times[i],
                          "recall" if body else "recall without body")
                   for i, body in recalls.items()]
        changes += [Change("changed", base.key(i), base.times[i],
                           "MsgBody" if k % 2 == 0 else "CloudCustomData")
                    for i, k in edits.items()]
        changes += [Change("missing", base.key(i), base.times[i], "deleted") for i in deleted]
        changes.sort(key=lambda c: (c.time, c.key))
        self.changes: tuple[Change, ...] = tuple(changes)

    def __len__(self) -> int:
        return len(self._keep)

    @property
    def times(self) -> Sequence[int]:
        return self._times

    def key(self, index: int) -> str:
        return self._base.key(self._keep[index])

    def message(self, index: int) -> dict[str, Any]:
        i = self._keep[index]
        msg = self._base.message(i)
        if i in self._recalls or i in self._edits:
            msg = copy.deepcopy(msg)  # a list store hands out its own dicts
        if i in self._recalls:
            msg["MsgFlagBits"] = int(msg.get("MsgFlagBits") or 0) | RECALL_BIT
            if not self._recalls[i]:
                msg["MsgBody"] = []
        elif i in self._edits:
            if self._edits[i] % 2 == 0:
                msg["MsgBody"] = [{"MsgType": "TIMTextElem",
                                   "MsgContent": {"Text": EDIT_PREFIX + _text_of(msg)}}]
            else:
                msg["CloudCustomData"] = json.dumps({"edited_by": "admin", "revision": 2},
                                                    separators=(",", ":"))
        return msg

    def message_json(self, index: int) -> str:
        i = self._keep[index]
        if i in self._recalls or i in self._edits:
            return dump_message(self.message(index))
        return self._base.message_json(i)


def _recalled(msg: dict[str, Any]) -> bool:
    return bool(int(msg.get("MsgFlagBits") or 0) & RECALL_BIT)


def _text_of(msg: dict[str, Any]) -> str:
    for elem in msg.get("MsgBody") or []:
        content = elem.get("MsgContent") if isinstance(elem, dict) else None
        if isinstance(content, dict) and isinstance(content.get("Text"), str):
            return str(content["Text"])[:200]
    return "(a message that held no text)"


class LaterStore:
    """``store`` later on (a store.MessageStore); conversations are made once, on first use."""

    def __init__(self, store: MessageStore, later: Later) -> None:
        self.store = store
        self.later = later
        self._made: dict[frozenset[str], LaterConversation | None] = {}

    def has_account(self, account: str) -> bool:
        return self.store.has_account(account)

    def conversation(self, a: str, b: str) -> LaterConversation | None:
        pair = frozenset((a, b))
        if pair not in self._made:
            base = self.store.conversation(a, b)
            salt = "|".join(sorted(pair))
            self._made[pair] = None if base is None else LaterConversation(base, self.later, salt)
        return self._made[pair]

    def changes(self, a: str, b: str, min_time: int | None = None,
                max_time: int | None = None) -> list[Change]:
        """What changed between ``a`` and ``b`` (within the window, when given), oldest first."""
        conv = self.conversation(a, b)
        if conv is None:
            return []
        lo = min_time if min_time is not None else -(2**63)
        hi = max_time if max_time is not None else 2**63
        return [c for c in conv.changes if lo <= c.time <= hi]


def describe_changes(store: LaterStore, pairs: Sequence[tuple[str, str]]) -> list[str]:
    """The ``change:`` lines ``roamtui sandbox --later`` prints, one per changed message."""
    return [f"change: {c.kind} {a} {b} {c.key} {c.time} {c.what}"
            for a, b in pairs for c in store.changes(a, b)]


def later_plans(plans: Mapping[tuple[str, str], SidePlan], store: LaterStore
                ) -> dict[tuple[str, str], SidePlan]:
    """``plans`` with each planned side deleting ``store.later.deletions`` more messages since:
    messages both sides held and the store did not change, drawn from the seed and the pair."""
    out = dict(plans)
    n = store.later.deletions
    for a, b in sorted({tuple(sorted(pair)) for pair in plans}):
        conv = store.conversation(a, b)
        if conv is None or n == 0:
            continue
        pa, pb = plans.get((a, b), SidePlan()), plans.get((b, a), SidePlan())
        changed = {c.key for c in conv.changes}
        rng = random.Random(f"roamtui-later-sides:{store.later.seed}:{a}|{b}")
        draws = rng.sample(range(len(conv)), min(len(conv), 8 * n))
        keys = [conv.key(i) for i in draws if conv.key(i) not in changed
                and not pa.hides(conv.times[i], conv.key(i))
                and not pb.hides(conv.times[i], conv.key(i))]
        for (side, peer), plan, chosen in (((a, b), pa, keys[:n]), ((b, a), pb, keys[n:2 * n])):
            out[(side, peer)] = SidePlan(plan.cleared_before, plan.deleted | frozenset(chosen),
                                         plan.unsynced)
    return out


def holder_changes(store: LaterStore, before: Mapping[tuple[str, str], SidePlan],
                   after: Mapping[tuple[str, str], SidePlan]) -> list[tuple[str, str, str, int]]:
    """(account, peer, MsgKey, time) of each message ``account`` deleted between the two plans
    (:func:`later_plans`), oldest first."""
    out = []
    for (a, b), plan in sorted(after.items()):
        gone = plan.deleted - before.get((a, b), SidePlan()).deleted
        conv = store.conversation(a, b) if gone else None
        if conv is not None:
            out += [(a, b, conv.key(i), conv.times[i]) for i in range(len(conv))
                    if conv.key(i) in gone]
    return sorted(out, key=lambda c: (c[3], c[2]))


def describe_holders(changes: Sequence[tuple[str, str, str, int]]) -> list[str]:
    """``change: holder A B MsgKey TIME deleted by A`` lines (``roamtui sandbox --later``)."""
    return [f"change: holder {a} {b} {key} {t} deleted by {a}" for a, b, key, t in changes]

"""Who holds a message, and the merge of two sides' messages of one stretch (Textual-free).

The service keeps one roaming history per account, so the two parties of a conversation can
hold different ones (a cleared history, deleted messages, SyncOtherMachine=2 sends). Reading a
stretch from both sides and merging the two lists by MsgKey tells, for each message, whether
both hold it or only one, but only for a stretch **both** sides know whole: before the other
side's coverage of a second is known, a message is `Held.UNKNOWN`, never "one-sided".
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from roamtui.im.model import Message

Stretch = tuple[int, int]  # seconds lo..hi, inclusive


class Held(enum.Enum):
    """Whose history holds a message (read from both sides)."""

    BOTH = "both"
    ACCOUNT = "account"  # only the account the conversation is read as
    PEER = "peer"  # only the peer
    UNKNOWN = "unknown"  # seen on one side; the other side's coverage of its second not known yet

    @property
    def one_sided(self) -> bool:
        return self is Held.ACCOUNT or self is Held.PEER


def held_by_name(held: Held, account: str, peer: str) -> str:
    """The export's ``held_by`` value: ``both``, the name of the only holder, or ``unknown``."""
    if held is Held.ACCOUNT:
        return account
    if held is Held.PEER:
        return peer
    return held.value


def merge_sides(
    ours: Sequence[Message], theirs: Sequence[Message]
) -> list[tuple[Message, Held, Message | None]]:
    """The union of two sides' messages of one stretch both know whole, in the service's order.

    Each side's list is in service order (time, then the service's order within a second) and
    that order is kept. A message both hold appears once (the account's object, with the
    peer's alongside); within one second, a message only one side holds goes before the next
    message the two share, and two one-sided messages of one second go by MsgSeq (the order the
    service gives a second), the account's first on a tie. Returns (message, holder, the peer's
    object when both hold it).
    """
    our_keys = {m.key for m in ours}
    their_keys = {m.key for m in theirs}
    out: list[tuple[Message, Held, Message | None]] = []
    emitted: set[str] = set()
    theirs_by_key = {m.key: m for m in theirs}
    i = j = 0
    n, k = len(ours), len(theirs)
    while True:
        while i < n and ours[i].key in emitted:
            i += 1
        while j < k and theirs[j].key in emitted:
            j += 1
        if i >= n and j >= k:
            return out
        take_ours: bool
        if j >= k:
            take_ours = True
        elif i >= n:
            take_ours = False
        else:
            x, y = ours[i], theirs[j]
            if x.key == y.key or x.time < y.time:
                take_ours = True
            elif y.time < x.time:
                take_ours = False
            else:
                x_alone, y_alone = x.key not in their_keys, y.key not in our_keys
                # Two one-sided messages: by MsgSeq. A shared message waits for what only the
                # other side holds before it; when the sides disagree on the order of shared
                # ones, the account's wins.
                both_alone = x_alone and y_alone
                take_ours = x.seq <= y.seq if both_alone else x_alone or not y_alone
        if take_ours:
            m = ours[i]
            i += 1
            if m.key in their_keys:
                out.append((m, Held.BOTH, theirs_by_key[m.key]))
            else:
                out.append((m, Held.ACCOUNT, None))
        else:
            m = theirs[j]
            j += 1
            if m.key in our_keys:  # the account holds it later in its own order
                continue
            out.append((m, Held.PEER, None))
        emitted.add(m.key)


def intersect(a: Sequence[Stretch], b: Sequence[Stretch]) -> list[Stretch]:
    """Seconds both lists of sorted, disjoint stretches cover."""
    out: list[Stretch] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Sequence[Stretch], b: Sequence[Stretch]) -> list[Stretch]:
    """Seconds of ``a`` not in ``b`` (both sorted and disjoint)."""
    out: list[Stretch] = []
    j = 0
    for lo, hi in a:
        while j < len(b) and b[j][1] < lo:
            j += 1
        cur, t = lo, j
        while t < len(b) and b[t][0] <= hi:
            if b[t][0] > cur:
                out.append((cur, b[t][0] - 1))
            cur = max(cur, b[t][1] + 1)
            t += 1
        if cur <= hi:
            out.append((cur, hi))
    return out

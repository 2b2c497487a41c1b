"""A deterministic, compact generated dataset of customer ⇄ agent conversations.

Each conversation keeps five flat arrays (time, MsgSeq, MsgRandom, kind, flag byte): 18 bytes a
message, so a million messages fit in about 18 MB. Message objects are rebuilt on demand from
the seed and the index; nothing else is stored. Generation works on whole byte strings
(`randbytes` + `bytes.translate`) so a million messages take seconds, not minutes.
"""

from __future__ import annotations

import random
import threading
import time as _time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import xor
from typing import Any, overload

from roamtui.sandbox.elements import KIND_TABLE, Kind, Party, build_body, cloud_custom_data
from roamtui.sandbox.store import dump_message

DEFAULT_PAIRS: tuple[tuple[str, str], ...] = (
    ("cust_1001", "agent_alice"),
    ("cust_1002", "agent_bob"),
    ("cust_1003", "agent_alice"),
    ("cust_1004", "agent_chen"),
    ("cust_1005", "agent_li"),
    ("cust_1006", "agent_bob"),
    ("cust_1007", "agent_wang"),
    ("cust_1008", "agent_dave"),
)
_SHARES = (30, 20, 15, 12, 8, 6, 5, 4)  # the first conversation is the big one
_ZH_RATIO = (0.5, 0.0, 0.9, 1.0, 0.2, 0.0, 1.0, 0.1)

# Bits of the per-message flag byte.
AGENT_SENT = 1
RECALLED = 2
RECALL_EMPTIED = 4  # recalled, MsgBody is []
RECALL_NO_BODY = 8  # recalled, no MsgBody field at all
PEER_READ = 16
HAS_CUSTOM_DATA = 32

# 13/256 ≈ 5 % recalled: 6 keep their body, 5 come back emptied, 2 without the field.
_RECALL_TABLE = bytes(
    [RECALLED] * 6 + [RECALLED | RECALL_EMPTIED] * 5 + [RECALLED | RECALL_NO_BODY] * 2 + [0] * 243
)
_READ_TABLE = bytes([PEER_READ] * 180 + [0] * 76)
_CUSTOM_TABLE = bytes([HAS_CUSTOM_DATA] * 20 + [0] * 236)
_SWITCH_TABLE = bytes([1] * 110 + [0] * 146)  # chance the other party speaks next
_BREAK_BELOW = 6  # a byte below this starts a new session (≈ 2.3 %)
# Seconds between two messages of one session, indexed by a random byte.
_GAPS = tuple(
    [0] * 12 + [1, 2, 3, 4, 5] * 10 + list(range(6, 60)) * 2 + list(range(60, 300, 3)) + [600] * 6
)
assert len(_GAPS) == 256


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """The compact facts of one generated message (global `index` for `Dataset.message_obj`)."""

    index: int
    time: int
    seq: int
    random: int
    key: str
    sender: str
    receiver: str
    kind: Kind
    recalled: bool


def _or_bytes(*parts: bytes) -> bytes:
    """Bitwise OR of equal-length byte strings, done on big integers (C speed)."""
    acc = 0
    for part in parts:
        acc |= int.from_bytes(part, "little")
    return acc.to_bytes(len(parts[0]), "little")


def _layout_times(rng: random.Random, n: int, start: int, end: int) -> list[int]:
    """n non-decreasing times in [start, end]: sessions of chat separated by quiet stretches."""
    if n == 0:
        return []
    gaps = [_GAPS[b] for b in rng.randbytes(n)]
    breaks = [b < _BREAK_BELOW for b in rng.randbytes(n)]
    gaps[0], breaks[0] = 0, False
    span = end - start
    inside = sum(g for g, brk in zip(gaps, breaks, strict=True) if not brk)
    weights = [w + 1 for w in rng.randbytes(n)]
    total_break = sum(w for w, brk in zip(weights, breaks, strict=True) if brk)
    if inside <= span * 0.6 and total_break:
        # Sparse: real seconds inside sessions; the rest of the span goes to the breaks.
        spare = span - inside
        gaps = [
            spare * w // total_break if brk else g
            for g, w, brk in zip(gaps, weights, breaks, strict=True)
        ]
        offsets = list(accumulate(gaps))
    else:
        # Dense (or a single session): scale every gap to fit; many land in the same second.
        for i in (i for i, brk in enumerate(breaks) if brk):
            gaps[i] = 300 * weights[i]
        cumulative = list(accumulate(gaps))
        scale = span / max(cumulative[-1], 1)
        offsets = [int(c * scale) for c in cumulative]
    shift = end - start - offsets[-1]
    return [start + shift + o for o in offsets]


class GeneratedConversation:
    """One customer ⇄ agent conversation of a `Dataset` (implements store.Conversation)."""

    __slots__ = (
        "_client_time",
        "_flags",
        "_kinds",
        "_msg_seed",
        "_randoms",
        "_seqs",
        "_times",
        "agent",
        "customer",
        "offset",
        "zh_ratio",
    )

    def __init__(
        self,
        customer: str,
        agent: str,
        offset: int,
        n: int,
        seed: int,
        end_time: int,
        days: int,
        zh_ratio: float,
        client_time: bool,
    ) -> None:
        self.customer, self.agent, self.offset, self.zh_ratio = customer, agent, offset, zh_ratio
        self._client_time = client_time
        rng = random.Random(f"roamtui-sandbox:{seed}:{customer}:{agent}")
        self._msg_seed = rng.getrandbits(62) << 24
        end = end_time - rng.randrange(60, 1800)
        times = _layout_times(rng, n, end - days * 86400 + rng.randrange(0, 3600), end)
        switches = rng.randbytes(n).translate(_SWITCH_TABLE)
        senders = bytearray(accumulate(switches, xor, initial=rng.randrange(2)))[1:]
        kinds = bytearray(rng.randbytes(n).translate(KIND_TABLE))
        self._add_bursts(rng, times, senders, kinds)
        flags = bytearray(
            _or_bytes(
                bytes(senders),
                rng.randbytes(n).translate(_RECALL_TABLE),
                rng.randbytes(n).translate(_READ_TABLE),
                rng.randbytes(n).translate(_CUSTOM_TABLE),
            )
        )
        # Within one second the service orders by MsgSeq. Each party numbers its own messages
        # from its own base, so in a shared second the party with the lower base comes first.
        low = rng.randrange(2)
        bases = [0, 0]
        bases[low] = rng.randrange(1, 2**30)
        bases[1 - low] = rng.randrange(2**31, 2**31 + 2**30)
        _order_seconds(times, flags, kinds, low)
        counters = [0, 0]
        seqs = array("I", bytes(4 * n))
        for i, flag in enumerate(flags):
            who = flag & AGENT_SENT
            seqs[i] = bases[who] + counters[who]
            counters[who] += 1
        self._times = array("q", times)
        self._seqs = seqs
        self._randoms = array("I", rng.randbytes(4 * n))
        self._kinds = bytes(kinds)
        self._flags = bytes(flags)

    @staticmethod
    def _add_bursts(
        rng: random.Random, times: list[int], senders: bytearray, kinds: bytearray
    ) -> None:
        """Same-second bursts longer than a page: one party pasting a wall of short lines."""
        n = len(times)
        if n < 16:
            return
        size = max(2, min(260, n // 8))
        for _ in range(1 + n // 50_000):
            at = rng.randrange(0, n - size + 1)
            times[at : at + size] = [times[at]] * size
            senders[at : at + size] = bytes([senders[at]]) * size
            kinds[at : at + size] = bytes([Kind.BURST]) * size

    def __len__(self) -> int:
        return len(self._times)

    @property
    def nbytes(self) -> int:
        """Bytes held by the per-message arrays (everything else is built on demand)."""
        arrays = (self._times, self._seqs, self._randoms)
        return sum(a.itemsize * len(a) for a in arrays) + len(self._kinds) + len(self._flags)

    @property
    def times(self) -> Sequence[int]:
        return self._times

    def key(self, index: int) -> str:
        return f"{self._seqs[index]}_{self._randoms[index]}_{self._times[index]}"

    def record(self, index: int) -> MessageRecord:
        flag = self._flags[index]
        sender, receiver = self._parties(flag)
        return MessageRecord(
            index=self.offset + index,
            time=self._times[index],
            seq=self._seqs[index],
            random=self._randoms[index],
            key=self.key(index),
            sender=sender,
            receiver=receiver,
            kind=Kind(self._kinds[index]),
            recalled=bool(flag & RECALLED),
        )

    def _parties(self, flag: int) -> tuple[str, str]:
        if flag & AGENT_SENT:
            return self.agent, self.customer
        return self.customer, self.agent

    def message(self, index: int) -> dict[str, Any]:
        flag = self._flags[index]
        stamp = self._times[index]
        sender, receiver = self._parties(flag)
        rng = random.Random(self._msg_seed + index)
        party = Party(sender, receiver, self.agent, bool(flag & AGENT_SENT), self.zh_ratio, stamp)
        body = build_body(self._kinds[index], rng, party)
        msg: dict[str, Any] = {
            "From_Account": sender,
            "To_Account": receiver,
            "MsgSeq": self._seqs[index],
            "MsgRandom": self._randoms[index],
            "MsgTimeStamp": stamp,
            "MsgFlagBits": 8 if flag & RECALLED else 0,
            "IsPeerRead": 1 if flag & PEER_READ else 0,
            "MsgKey": self.key(index),
        }
        if flag & RECALL_EMPTIED:
            msg["MsgBody"] = []
        elif not flag & RECALL_NO_BODY:
            msg["MsgBody"] = body
        custom = cloud_custom_data(rng, self.agent) if flag & HAS_CUSTOM_DATA else ""
        msg["CloudCustomData"] = custom
        if self._client_time:
            msg["MsgClientTime"] = stamp - rng.randrange(0, 3)
        return msg

    def message_json(self, index: int) -> str:
        return dump_message(self.message(index))


def _order_seconds(times: list[int], flags: bytearray, kinds: bytearray, low: int) -> None:
    """Within each run of equal times, put the lower-MsgSeq party's messages first (stable)."""
    n = len(times)
    i = 0
    while i < n:
        j = i + 1
        stamp = times[i]
        while j < n and times[j] == stamp:
            j += 1
        if j - i > 1:
            order = sorted(range(i, j), key=lambda k: (flags[k] & AGENT_SENT) != low)
            flags[i:j] = bytes(flags[k] for k in order)
            kinds[i:j] = bytes(kinds[k] for k in order)
        i = j


class RecordView(Sequence[MessageRecord]):
    """A lazy slice of one conversation: records are built only when indexed."""

    __slots__ = ("_conv", "_range")

    def __init__(self, conv: GeneratedConversation, lo: int, hi: int) -> None:
        self._conv, self._range = conv, range(lo, hi)

    def __len__(self) -> int:
        return len(self._range)

    @overload
    def __getitem__(self, index: int) -> MessageRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[MessageRecord]: ...
    def __getitem__(self, index: int | slice) -> MessageRecord | Sequence[MessageRecord]:
        if isinstance(index, slice):
            return [self._conv.record(i) for i in self._range[index]]
        return self._conv.record(self._range[index])

    def __iter__(self) -> Iterator[MessageRecord]:
        return (self._conv.record(i) for i in self._range)


class Dataset:
    """Deterministic conversations: `Dataset(seed, messages)` is the same every time.

    `pairs` is a count (of the built-in customer ⇄ agent pairs, more are named on demand) or an
    explicit sequence of (customer, agent). Messages span `days` days ending near `end_time`
    (default: now). Implements `store.MessageStore` for the sandbox service.
    """

    def __init__(
        self,
        seed: int = 0,
        messages: int = 5_000,
        end_time: int | None = None,
        days: int = 10,
        pairs: int | Sequence[tuple[str, str]] = 6,
    ) -> None:
        if messages < 0 or days < 1:
            raise ValueError("messages must be >= 0 and days >= 1")
        self.seed = seed
        self.end_time = int(_time.time()) if end_time is None else int(end_time)
        names = _pair_names(pairs)
        counts = _split(messages, [_SHARES[i % len(_SHARES)] for i in range(len(names))])
        self._days = days
        self._names = names
        self._counts = counts
        self._offsets: list[int] = list(accumulate(counts, initial=0))[:-1]
        # Each conversation is generated when first read (under a lock: the server answers
        # from many threads). Each has its own generator seeded by the seed and the pair, so
        # the order conversations are read in changes nothing; `roamtui demo` reads only the
        # first before its first frame.
        self._convs: list[GeneratedConversation | None] = [None] * len(names)
        self._lock = threading.Lock()
        self._by_pair = {frozenset(pair): i for i, pair in enumerate(names)}
        self._accounts = {name for pair in names for name in pair}
        self._total = sum(counts)

    def _conv(self, i: int) -> GeneratedConversation:
        conv = self._convs[i]
        if conv is None:
            with self._lock:
                conv = self._convs[i]
                if conv is None:
                    customer, agent = self._names[i]
                    conv = self._convs[i] = GeneratedConversation(
                        customer,
                        agent,
                        self._offsets[i],
                        self._counts[i],
                        self.seed,
                        self.end_time,
                        self._days,
                        _ZH_RATIO[i % len(_ZH_RATIO)],
                        client_time=i % 2 == 1,
                    )
        return conv

    def __len__(self) -> int:
        return self._total

    @property
    def nbytes(self) -> int:
        """Bytes held per message across all conversations (about 18 a message)."""
        return sum(self._conv(i).nbytes for i in range(len(self._convs)))

    @property
    def conversations(self) -> list[tuple[str, str]]:
        """(customer, agent) of every conversation, biggest first."""
        return list(self._names)

    @property
    def accounts(self) -> frozenset[str]:
        return frozenset(self._accounts)

    def has_account(self, account: str) -> bool:
        return account in self._accounts

    def conversation(self, a: str, b: str) -> GeneratedConversation | None:
        i = self._by_pair.get(frozenset((a, b)))
        return None if i is None else self._conv(i)

    def _located(self, index: int) -> tuple[GeneratedConversation, int]:
        if not 0 <= index < self._total:
            raise IndexError(index)
        i = bisect_right(self._offsets, index) - 1
        while not self._counts[i]:  # empty conversations share their offset with the next
            i -= 1
        return self._conv(i), index - self._offsets[i]

    def record(self, index: int) -> MessageRecord:
        conv, local = self._located(index)
        return conv.record(local)

    def message_obj(self, index: int) -> dict[str, Any]:
        """The message object of global `index`, exactly as the service sends it."""
        conv, local = self._located(index)
        return conv.message(local)

    def messages_between(self, a: str, b: str, min_time: int, max_time: int) -> RecordView:
        """Records of the conversation in [min_time, max_time] (inclusive), in service order."""
        conv = self.conversation(a, b)
        if conv is None:
            raise KeyError(f"no conversation between {a!r} and {b!r}")
        return RecordView(
            conv, bisect_left(conv.times, min_time), bisect_right(conv.times, max_time)
        )

    def span(self, a: str, b: str) -> tuple[int, int] | None:
        """(first, last) MsgTimeStamp of the conversation, None if it is empty or unknown."""
        conv = self.conversation(a, b)
        if conv is None or not len(conv):
            return None
        return conv.times[0], conv.times[-1]

    def count(self, a: str, b: str) -> int:
        i = self._by_pair.get(frozenset((a, b)))
        return 0 if i is None else self._counts[i]


def _pair_names(pairs: int | Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    if not isinstance(pairs, int):
        names = [(str(a), str(b)) for a, b in pairs]
        if len({frozenset(p) for p in names}) != len(names):
            raise ValueError("a pair is listed twice")
        return names
    if pairs < 1:
        raise ValueError("pairs must be >= 1")
    extra = [(f"cust_{1001 + i}", f"agent_{i:02d}") for i in range(len(DEFAULT_PAIRS), pairs)]
    return [*DEFAULT_PAIRS[:pairs], *extra]


def _split(total: int, shares: list[int]) -> list[int]:
    """Split `total` by `shares`, largest remainders first, so the counts add up exactly."""
    whole = sum(shares)
    counts = [total * s // whole for s in shares]
    rest = total - sum(counts)
    by_remainder = sorted(range(len(shares)), key=lambda i: -(total * shares[i] % whole))
    for i in by_remainder[:rest]:
        counts[i] += 1
    return counts

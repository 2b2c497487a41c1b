"""The case-folded search texts of a message list as a few long byte strings, for fast finding.

Looking for a needle costs one C-level ``bytes.find`` per matching message instead of one
Python-level call per message, which is what makes literal and prefiltered regex searches over
100,000 messages take milliseconds. Texts are case-folded (``str.casefold``) and UTF-8 encoded
(``surrogatepass``: hostile lone surrogates stay searchable), then joined with ``0xFF``, a byte
that UTF-8 never produces: a needle can never match across two messages, and since UTF-8 is
self-synchronising, ``needle in text`` for strings equals finding the needle's bytes in the text's
bytes.

The messages live in blocks of at most :data:`BLOCK` so that a splice (pages loaded at either
end, a gap filled in the middle) copies at most two partial blocks plus what it inserts.

Each message also has a 64-bit mask of which of :data:`ALPHABET` its folded text holds, made
when its page arrives (~1 µs, 8 bytes a message, kept as 8 little-endian bytes): a
one-character needle in it (the first letter typed, a regex's one-letter probe) is answered
from the masks with C-level steps only (the byte of the masks holding its bit, sliced out and
translated to 0/1, then ``compress``): ~3 ms at 100,000 messages instead of a find a message
(36 ms: a third of them hold an ``r``).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress, count, repeat
from operator import add, sub

#: Messages per block at most (by default); smaller neighbours are merged up to this size.
BLOCK = 4096
SEP = b"\xff"
#: A find loop looks at how many messages matched every this many hits, and turns to one find
#: per message when more than one in _DENSE_SHARE did: a Python step per hit costs about as
#: much as three C-level finds bounded to one message each.
_DENSE_AFTER = 32
_DENSE_SHARE = 3
_NOT_FOUND = -1
#: The characters a message's mask records, one bit each (case-folded texts: no capitals).
ALPHABET = b"abcdefghijklmnopqrstuvwxyz0123456789 .,:;!?'\"-_@#$%&*()/\\+=<>[]~"
#: The bit of each byte value (0: not in ALPHABET).
_BITS: list[int] = [0] * 256
for _bit, _byte in enumerate(ALPHABET):
    _BITS[_byte] = 1 << _bit
#: For each bit of a mask byte, the table turning a mask byte into 1 when it holds that bit.
_HOLDS: tuple[bytes, ...] = tuple(
    bytes(1 if value >> k & 1 else 0 for value in range(256)) for k in range(8)
)
_MASK = 8  # bytes of a message's mask


def encode(text: str) -> bytes:
    """The bytes a needle or a case-folded text is searched as."""
    return text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True, slots=True)
class _Block:
    hay: bytes  # the messages' folded texts joined by SEP
    starts: array[int]  # byte offset of each message, then len(hay) + 1 (where a next would be)
    masks: bytes  # which of ALPHABET each message's text holds: _MASK bytes each (_mask)

    @property
    def size(self) -> int:
        return len(self.starts) - 1


def _mask(part: bytes) -> bytes:
    """The bits of the ALPHABET bytes in ``part`` (distinct ones: their sum is their or)."""
    return sum(map(_BITS.__getitem__, set(part))).to_bytes(_MASK, "little")


def _held(block: _Block, bit: int, a: int, b: int) -> bytes:
    """1 for each message ``a <= k < b`` of ``block`` whose mask has ``bit``, else 0."""
    j, k = divmod(bit.bit_length() - 1, 8)
    return block.masks[_MASK * a + j : _MASK * b : _MASK].translate(_HOLDS[k])


def _build(folded: Sequence[str]) -> _Block:
    parts = [encode(t) for t in folded]
    starts = array("q", accumulate(map((1).__add__, map(len, parts)), initial=0))
    return _Block(SEP.join(parts), starts, b"".join(map(_mask, parts)))


def _shifted(starts: Iterable[int], by: int) -> array[int]:
    return array("q", map(add, starts, repeat(by)))


def _head(block: _Block, k: int) -> _Block:
    """The first ``k`` messages of ``block`` (0 < k < size)."""
    return _Block(block.hay[: block.starts[k] - 1], block.starts[: k + 1], block.masks[: _MASK * k])


def _tail(block: _Block, k: int) -> _Block:
    """The messages of ``block`` from the ``k``-th on (0 < k < size)."""
    at = block.starts[k]
    return _Block(block.hay[at:], _shifted(block.starts[k:], -at), block.masks[_MASK * k :])


def _joined(a: _Block, b: _Block) -> _Block:
    return _Block(a.hay + SEP + b.hay, a.starts[:-1] + _shifted(b.starts, a.starts[-1]),
                  a.masks + b.masks)


class Haystack:
    """Folded texts of a message list in its order, kept in step by splices."""

    __slots__ = ("_block", "_blocks", "_firsts", "_size")

    def __init__(self, *, block: int = BLOCK) -> None:
        self._block = max(1, block)  # messages per block at most
        self._blocks: list[_Block] = []
        self._firsts: list[int] = []  # position of each block's first message
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        """Bytes held by the joined texts and their offsets."""
        return sum(len(b.hay) + b.starts.itemsize * len(b.starts) + len(b.masks)
                   for b in self._blocks)

    def splice(self, start: int, removed: int, folded: Sequence[str]) -> None:
        """``removed`` texts at ``start`` are now ``folded`` (checked by the caller)."""
        end = start + removed
        blocks, firsts = self._blocks, self._firsts
        lo = bisect_right(firsts, start) - 1 if start < self._size else len(blocks)
        hi = bisect_right(firsts, end) - 1 if end < self._size else len(blocks)
        pieces: list[_Block] = []
        if lo < len(blocks) and start > firsts[lo]:
            pieces.append(_head(blocks[lo], start - firsts[lo]))
        size = self._block
        pieces.extend(_build(folded[i : i + size]) for i in range(0, len(folded), size))
        if hi < len(blocks):
            k = end - firsts[hi]
            pieces.append(blocks[hi] if k == 0 else _tail(blocks[hi], k))
        # Neighbours join in, so that small pieces merge with them and blocks stay few.
        left, right = max(lo - 1, 0), min(hi + 2, len(blocks))
        run = blocks[left:lo] + pieces + blocks[hi + 1 : right]
        blocks[left:right] = _merge_small(run, size)
        self._size += len(folded) - removed
        self._firsts = list(accumulate((b.size for b in blocks[:-1]), initial=0)) if blocks else []

    def find(self, needle: bytes, start: int, stop: int) -> list[int]:
        """Positions ``start <= i < stop`` whose folded text contains ``needle`` (non-empty)."""
        out: list[int] = []
        for block, base, a, b in self._parts(start, stop):
            _find(block, needle, a, b, base, out)
        return out

    def find_any(self, needles: Sequence[bytes], start: int, stop: int) -> list[int]:
        """Positions in ``start..stop`` whose folded text contains one of ``needles``."""
        if len(needles) == 1:
            return self.find(needles[0], start, stop)
        found: set[int] = set()
        for needle in needles:
            found.update(self.find(needle, start, stop))
        return sorted(found)

    def keep(self, needles: Sequence[bytes], positions: Sequence[int]) -> list[int]:
        """The ascending ``positions`` whose folded text contains one of ``needles``."""
        out: list[int] = []
        if not positions:
            return out
        for block, base, a, b in self._parts(positions[0], positions[-1] + 1):
            i, j = bisect_left(positions, base + a), bisect_left(positions, base + b)
            mine = positions[i:j]
            local = list(map(sub, mine, repeat(base)))
            starts = block.starts
            # One C-level find per position, bounded to its message (SEP never matches).
            begins = list(map(starts.__getitem__, local))
            ends = list(map(starts.__getitem__, map((1).__add__, local)))
            hit = [False] * len(mine)
            for needle in needles:
                if len(needle) == 1 and (bit := _BITS[needle[0]]):
                    held = _held(block, bit, 0, block.size)
                    hit = list(map(bool.__or__, hit, map(bool, map(held.__getitem__, local))))
                    continue
                found = map(block.hay.find, repeat(needle), begins, ends)
                hit = list(map(bool.__or__, hit, map(_NOT_FOUND.__lt__, found)))
            out.extend(compress(mine, hit))
        return out

    def _parts(self, start: int, stop: int) -> Iterable[tuple[_Block, int, int, int]]:
        """(block, its first position, local start, local stop) covering ``start..stop``."""
        stop = min(stop, self._size)
        if start >= stop:
            return
        k = bisect_right(self._firsts, max(start, 0)) - 1
        while k < len(self._blocks):
            base, block = self._firsts[k], self._blocks[k]
            if base >= stop:
                return
            yield block, base, max(start - base, 0), min(stop - base, block.size)
            k += 1


def _merge_small(run: list[_Block], size: int) -> list[_Block]:
    out: list[_Block] = []
    for block in run:
        if block.size == 0:
            continue
        if out and out[-1].size + block.size <= size:
            out[-1] = _joined(out[-1], block)
        else:
            out.append(block)
    return out


def _find(block: _Block, needle: bytes, a: int, b: int, base: int, out: list[int]) -> None:
    """Append ``base + k`` for each local ``a <= k < b`` whose text contains ``needle``."""
    if len(needle) == 1 and (bit := _BITS[needle[0]]):
        out.extend(compress(count(base + a), _held(block, bit, a, b)))
        return
    hay, starts = block.hay, block.starts
    find = hay.find
    append = out.append
    end = starts[b]  # the separator after the last message is harmless: needles lack it
    k = a
    i = find(needle, starts[a], end)
    while i >= 0:
        # A step per hit: where it lies, then on from the next message. The density is looked
        # at every _DENSE_AFTER hits only, so that the common step stays this short.
        for _ in range(_DENSE_AFTER):
            k = bisect_right(starts, i, k, b)  # the message after the one holding the hit
            append(base + k - 1)
            i = find(needle, starts[k], end)
            if i < 0:
                return
        if _DENSE_SHARE * (len(out) - _first(out, base + a)) > k - a:
            # Most messages match ("e"): one find per message beats a Python step per hit.
            found = map(find, repeat(needle), starts[k:b], starts[k + 1 : b + 1])
            out.extend(compress(count(base + k), map(_NOT_FOUND.__lt__, found)))
            return


def _first(out: list[int], low: int) -> int:
    """Where the positions from ``low`` on begin in ``out`` (appended in order)."""
    return bisect_left(out, low)

"""A regex the user typed, read without running it: its literal texts and its shape.

Textual-free. :func:`parse` is a small reader of the syntax Python's ``re`` accepts, into a tree
of :class:`Lit`, :class:`Atom`, :class:`Seq`, :class:`Alt`, :class:`Group` and :class:`Repeat`;
whatever it does not know for sure (verbose mode, back references, conditionals, nested sets,
unknown escapes) makes it give up and return None. No private parser (``re._parser``) is used.
From the tree the search takes:

- probes (``search_query.required_texts``): folded texts one of which every match contains
  (``search_haystack`` finds them with ``bytes.find``); none without a tree, only slower;
- :func:`nested_repeat`: a repetition of variable length inside a repeated one, the shapes whose
  backtracking is exponential (``(a+)+$``), refused at once with a reason;
- :func:`bounded`: no unbounded repetition and few ways for one attempt to go, so ``re`` runs
  it in time linear in the text; :func:`polynomial`: the shapes ``re`` runs in polynomial
  time, which ``search_runner`` lets it run on short texts.

Nothing here is needed for safety: ``search_runner`` runs every pattern that is not bounded
with a timeout, so a pattern this cannot read is slower to search, never able to hang the app.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

#: A bounded pattern: at most this many steps per attempt (ways x length).
MAX_COST = 4096
#: Repeats with more iterations than this count as unbounded for the backtracking check.
MANY = 16
# Under IGNORECASE, re matches "i" with "ı" and "I" with "İ", whose casefolds differ ("ı",
# "i̇"): these letters cannot be looked for in folded text. Every other letter's equivalents
# share its casefold (tests/history/test_search_speed.py checks it; search_runner says which
# letters the regex engine, with its newer Unicode tables, may fold).
UNFOLDABLE = frozenset("Iiİı")
_CHAR_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}
_OCTAL = "01234567"
_FLAGS = "aiLmsux"


# -- the tree ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lit:
    char: str
    icase: bool  # IGNORECASE in force here


@dataclass(frozen=True, slots=True)
class Atom:
    """One character of a set (a class, ``.``, ``\\d``) or, ``width`` 0, an anchor."""

    width: int


@dataclass(frozen=True, slots=True)
class Seq:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Alt:
    branches: tuple[Seq, ...]


@dataclass(frozen=True, slots=True)
class Group:
    body: Node
    kind: Literal["group", "look", "atomic"]


@dataclass(frozen=True, slots=True)
class Repeat:
    low: int
    high: int | None  # None: unbounded
    body: Node
    possessive: bool = False


Node = Lit | Atom | Seq | Alt | Group | Repeat


class _GiveUp(Exception):
    pass


def parse(text: str, flags: int) -> Node | None:
    """The tree of ``text`` (which ``re`` compiled with ``flags``), or None when unsure."""
    if flags & re.VERBOSE:
        return None
    reader = _Reader(text)
    try:
        node = reader.alternation(bool(flags & re.IGNORECASE))
    except (_GiveUp, IndexError, ValueError, KeyError):
        return None
    return node if reader.pos == len(text) else None


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self, ahead: int = 0) -> str:
        return self.text[self.pos + ahead:self.pos + ahead + 1]

    def alternation(self, icase: bool) -> Node:
        branches = [self.sequence(icase)]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence(icase))
        return branches[0] if len(branches) == 1 else Alt(tuple(branches))

    def sequence(self, icase: bool) -> Seq:
        items: list[Node] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom(icase)
            if atom is not None:  # None: a comment or the global flags
                items.append(self.quantified(atom))
        return Seq(tuple(items))

    def atom(self, icase: bool) -> Node | None:
        ch = self.peek()
        if ch == "(":
            return self.group(icase)
        if ch == "[":
            return self.char_set()
        if ch == "\\":
            return self.escape(icase)
        if ch in "*+?" or (ch == "{" and self.bounds(dry=True) is not None):
            raise _GiveUp  # nothing to repeat (after a comment, re repeats what came before)
        self.pos += 1
        if ch == ".":
            return Atom(1)
        if ch in "^$":
            return Atom(0)
        return Lit(ch, icase)

    def quantified(self, atom: Node) -> Node:
        ch = self.peek()
        if ch in ("*", "+", "?"):
            self.pos += 1
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
        elif ch == "{":
            found = self.bounds()
            if found is None:
                return atom  # "{" as a letter: read by the next atom
            low, high = found
        else:
            return atom
        possessive = False
        if self.peek() == "?":
            self.pos += 1
        elif self.peek() == "+":
            self.pos += 1
            possessive = True
        if self.peek() in ("*", "+", "?", "{"):
            raise _GiveUp  # "multiple repeat" to re, unless "{" is a letter: not worth telling
        return Repeat(low, high, atom, possessive)

    def bounds(self, *, dry: bool = False) -> tuple[int, int | None] | None:
        """``{m}``, ``{m,}``, ``{,n}``, ``{m,n}`` or ``{,}`` as re reads them, else None."""
        text, i = self.text, self.pos + 1
        if text[i:i + 1] == "}":
            return None
        j = i
        while text[j:j + 1].isdigit() and text[j].isascii():
            j += 1
        low = text[i:j]
        high: str | None = low
        if text[j:j + 1] == ",":
            k = j + 1
            while text[k:k + 1].isdigit() and text[k].isascii():
                k += 1
            high, j = text[j + 1:k], k
        if text[j:j + 1] != "}":
            return None
        if not dry:
            self.pos = j + 1
        return int(low) if low else 0, int(high) if high else None

    def group(self, icase: bool) -> Node | None:
        text = self.text
        kind: Literal["group", "look", "atomic"] = "group"
        at = self.pos + 1
        inner = icase
        if text[at:at + 1] == "?":
            ext = text[at + 1:at + 3]
            if ext[:1] == ":":
                at += 2
            elif ext == "P<":
                end = text.index(">", at)
                at = end + 1
            elif ext in ("<=", "<!"):
                kind, at = "look", at + 3
            elif ext[:1] in ("=", "!"):
                kind, at = "look", at + 2
            elif ext[:1] == ">":
                kind, at = "atomic", at + 2
            elif ext[:1] == "#":
                self.pos = text.index(")", at) + 1
                return None
            elif ext[:1] and (ext[0] in _FLAGS or ext[0] == "-"):
                k = at + 1
                while text[k] in _FLAGS:
                    k += 1
                on = text[at + 1:k]
                off = ""
                if text[k] == "-":
                    m = k + 1
                    while text[m] in _FLAGS:
                        m += 1
                    off, k = text[k + 1:m], m
                if "x" in on or "x" in off:
                    raise _GiveUp
                if text[k] == ")":  # global flags: already in the compiled pattern's flags
                    self.pos = k + 1
                    return None
                if text[k] != ":":
                    raise _GiveUp
                inner = (icase or "i" in on) and "i" not in off
                at = k + 1
            else:
                raise _GiveUp  # (?P=name), (?(1)...), and whatever else
        self.pos = at
        body = self.alternation(inner)
        if self.peek() != ")":
            raise _GiveUp
        self.pos += 1
        return Group(body, kind)

    def char_set(self) -> Atom:
        text = self.text
        i = self.pos + 1
        if text[i:i + 1] == "^":
            i += 1
        if text[i:i + 1] == "]":
            i += 1  # a "]" first is a letter of the set
        while text[i] != "]":
            if text[i] == "[":
                raise _GiveUp  # a POSIX class or a nested set to the regex engine, a letter to re
            i += 2 if text[i] == "\\" else 1
        self.pos = i + 1
        return Atom(1)

    def escape(self, icase: bool) -> Node:
        text, at = self.text, self.pos + 1
        ch = text[at]
        self.pos = at + 1
        if ch in "dDwWsS":
            return Atom(1)
        if ch in "bBAZ":
            return Atom(0)
        if ch in _CHAR_ESCAPES:
            return Lit(_CHAR_ESCAPES[ch], icase)
        if ch in _HEX_DIGITS:
            digits = text[at + 1:at + 1 + _HEX_DIGITS[ch]]
            if len(digits) != _HEX_DIGITS[ch] or not all(c in "0123456789abcdefABCDEF"
                                                         for c in digits):
                raise _GiveUp
            self.pos = at + 1 + len(digits)
            return Lit(chr(int(digits, 16)), icase)
        if ch == "N":
            end = text.index("}", at)
            if text[at + 1:at + 2] != "{":
                raise _GiveUp
            self.pos = end + 1
            return Lit(unicodedata.lookup(text[at + 2:end]), icase)
        if ch == "0":
            k = at + 1
            while k < at + 3 and text[k:k + 1] in tuple(_OCTAL):
                k += 1
            self.pos = k
            return Lit(chr(int(text[at:k], 8)), icase)
        if ch in _OCTAL and text[at + 1:at + 2] in tuple(_OCTAL) \
                and text[at + 2:at + 3] in tuple(_OCTAL):
            self.pos = at + 3
            return Lit(chr(int(text[at:at + 3], 8)), icase)
        if ch.isascii() and ch.isalnum():
            raise _GiveUp  # a back reference, or an escape not worth knowing
        return Lit(ch, icase)


# -- what the tree says -------------------------------------------------------------------------


def min_width(node: Node) -> int:
    """The fewest characters a match of ``node`` spans."""
    if isinstance(node, Lit):
        return 1
    if isinstance(node, Atom):
        return node.width
    if isinstance(node, Seq):
        return sum(map(min_width, node.items))
    if isinstance(node, Alt):
        return min(map(min_width, node.branches))
    if isinstance(node, Group):
        return 0 if node.kind == "look" else min_width(node.body)
    return node.low * min_width(node.body)


def nested_repeat(node: Node, under: bool = False) -> bool:
    """Whether a repetition of variable length sits inside a repeated one (or an ambiguous
    alternation does): the shapes whose backtracking is exponential."""
    if isinstance(node, Repeat):
        if node.possessive:
            return False  # never backtracks into itself
        if under and (node.high is None or node.high > 1) and node.low != node.high:
            return True
        return nested_repeat(node.body, under or node.high is None or node.high > MANY)
    if isinstance(node, Seq):
        return any(nested_repeat(item, under) for item in node.items)
    if isinstance(node, Alt):
        if under and _ambiguous(node.branches):
            return True
        return any(nested_repeat(b, under) for b in node.branches)
    if isinstance(node, Group):
        return node.kind != "atomic" and nested_repeat(node.body, under)
    return False


def _ambiguous(branches: Sequence[Seq]) -> bool:
    """Alternatives that may match the same text: not told apart by their first letters."""
    heads: dict[str, list[Seq]] = {}
    for branch in branches:
        head = branch.items[0] if branch.items else None
        if not isinstance(head, Lit):
            return True
        heads.setdefault(head.char.casefold(), []).append(Seq(branch.items[1:]))
    return any(len(tails) > 1 and _ambiguous(tails) for tails in heads.values())


def bounded(node: Node) -> bool:
    """Whether one attempt of ``node`` takes few steps however the text goes: no unbounded
    repetition, and at most :data:`MAX_COST` steps over all the ways it can go."""
    ways, length = _ways(node), _length(node)
    return ways is not None and length is not None and ways * length <= MAX_COST


def polynomial(node: Node) -> tuple[int, int] | None:
    r"""``(k, cost)`` when every unbounded repetition of ``node`` repeats one character
    (``\d+``, ``.*``) and none sits inside another repetition: one attempt then takes at most
    about ``cost * n ** k`` steps on a text of ``n`` characters (so a search ``n`` times
    that); None for any other shape."""
    k, ways, length = _degree(node), _ways(node, loose=True), _length(node, loose=True)
    if k is None or ways is None or length is None:
        return None
    return k, ways * length


def _single(node: Node) -> bool:
    r"""One character, maybe in a group: ``a``, ``\d``, ``[^x]``, ``(?:a)``."""
    while (isinstance(node, Group) and node.kind != "look") or isinstance(node, Seq):
        if isinstance(node, Seq):
            if len(node.items) != 1:
                return False
            node = node.items[0]
        else:
            node = node.body
    return isinstance(node, Lit) or (isinstance(node, Atom) and node.width == 1)


def _degree(node: Node) -> int | None:
    if isinstance(node, Lit | Atom):
        return 0
    if isinstance(node, Seq | Alt):
        parts = [_degree(n) for n in (node.items if isinstance(node, Seq) else node.branches)]
        if None in parts:
            return None
        numbers = [p for p in parts if p is not None]
        return sum(numbers) if isinstance(node, Seq) else max(numbers, default=0)
    if isinstance(node, Group):
        return _degree(node.body)  # a lookaround is counted as if it were in sequence
    if node.high is None:
        return 1 if _single(node.body) else None
    return 0 if _degree(node.body) == 0 else None


def _ways(node: Node, loose: bool = False) -> int | None:
    """Ways one attempt can go, capped; None with an unbounded repetition (with ``loose``,
    one of a single character counts one way: its counts are :func:`polynomial`'s ``k``)."""
    cap = MAX_COST + 1
    if isinstance(node, Lit | Atom):
        return 1
    if isinstance(node, Seq | Alt):
        parts = [_ways(n, loose) for n in (node.items if isinstance(node, Seq) else node.branches)]
        if None in parts:
            return None
        total = 1 if isinstance(node, Seq) else 0
        for part in parts:
            if part is not None:
                total = min(cap, total * part if isinstance(node, Seq) else total + part)
        return total
    if isinstance(node, Group):
        return _ways(node.body, loose)
    if loose and node.high is None and _single(node.body):
        return 1
    inner = _ways(node.body, loose)
    if node.high is None or inner is None:
        return None
    if node.high - node.low > cap:
        return cap
    return min(cap, sum(min(cap, inner ** min(k, 16)) for k in range(node.low, node.high + 1)))


def _length(node: Node, loose: bool = False) -> int | None:
    if isinstance(node, Lit | Atom):
        return 1
    if isinstance(node, Seq):
        parts = [_length(n, loose) for n in node.items]
        return None if None in parts else sum(p for p in parts if p is not None)
    if isinstance(node, Alt):
        parts = [_length(n, loose) for n in node.branches]
        return None if None in parts else max(p for p in parts if p is not None)
    if isinstance(node, Group):
        return _length(node.body, loose)
    if loose and node.high is None and _single(node.body):
        return 1
    inner = _length(node.body, loose)
    return None if node.high is None or inner is None else node.high * inner


def foldable(char: str) -> bool:
    """Whether ``re`` (IGNORECASE) takes ``char`` only for letters of the same casefold."""
    return char not in UNFOLDABLE

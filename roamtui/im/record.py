"""A record as a :class:`~roamtui.im.model.Message` keeps it: only what its own fields do not
hold, compactly, and the record rebuilt from the two byte for byte.

Memory per loaded message matters (issue 18: ≤ 600 B with the timeline and the view). A
service record repeats, in every message, the names and values of the fields the Message holds
as attributes anyway (the accounts, MsgSeq, MsgRandom, MsgTimeStamp, MsgKey, ...), and most
bodies are one text element in the same wrapper: kept whole, they were three quarters of a
message's memory. A :class:`Shape` names the record's keys in order and which of them a field
of the Message holds; the rest is kept as compact JSON (deflated when long), or, for the lone
text element, as its text alone. Shapes are few (the service's records share a handful) and
shared. A record that fits no shape (too many shapes seen, values that JSON would not carry as
they are) is kept whole, as before.

Exact by construction: a field stands in for a record value only when it is the same value of
the same type (so that JSON writes it the same way), and the rest is JSON that this module
wrote, which reads back into values that are written the same way again.

Cost (issue 18, a window fetch at 200/s spends ~2 ms of client CPU a call, ~26 records a
page): packing is ~0.17 ms a page, after a plan per key order (:class:`_Plan`) replaced the
pass over every key (7.2 -> 6.5 µs a record over the bench's 20,000); zlib is a third of it,
and levels 1-9 cost the same on records this short. The stdlib's JSON stays: orjson would
save ~0.03 ms a page here (encoding the rest: 6.0 -> 2.7 µs, a third of records) and ~0.05 ms
decoding the reply (reply.py: 0.16 -> 0.11 ms a page; msgspec 0.12), under 5 % of the call's
CPU, against a compiled dependency and a second JSON writer to keep byte-exact with this one.
Most of the call's CPU is httpx/httpcore's (about 60 %).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: The record keys a Message holds as fields, in the order :func:`pack` is given their values.
HEAD = ("From_Account", "To_Account", "MsgSeq", "MsgRandom", "MsgTimeStamp", "MsgFlagBits",
        "IsPeerRead", "MsgKey", "CloudCustomData")
_AT = {key: i for i, key in enumerate(HEAD)}

JSON, DEFLATED, TEXT = 1, 2, 3  # how the rest is kept
#: The rest is deflated from this many bytes on (merged forwards, images): shorter ones gain
#: little and every parse of the elements would pay for inflating them.
DEFLATE_FROM = 384
#: Shapes remembered at most: a hostile service could send a new key order in every record.
MAX_SHAPES = 512
#: Integers a field stands in for: JSON writes any of these the same way as the field.
_INT_BITS = 64

#: Compact, non-ASCII kept: the form in which a record is stored and exported.
ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True, eq=False)
class Shape:
    """The keys of a record in order, where each value comes from, and how the rest is kept.
    Shared (one object per distinct shape), so compared and hashed by identity."""

    keys: tuple[str, ...]
    held: tuple[int, ...]  # per key: the position in HEAD of the field holding it, or -1
    kind: int  # JSON, DEFLATED or TEXT


_SHAPES: dict[tuple[tuple[str, ...], tuple[int, ...], int], Shape] = {}


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def _stands_in(field: object, value: object) -> bool:
    if type(value) is not type(field) or value != field:
        return False
    return type(value) is not int or value.bit_length() <= _INT_BITS


def _lone_text(rest: dict[str, Any]) -> str | None:
    """The text of a rest that is only ``MsgBody: [one TIMTextElem]`` in the usual form."""
    return _text_of(rest.get("MsgBody")) if len(rest) == 1 else None


def _text_of(body: object) -> str | None:
    """The text of a ``MsgBody`` that is one TIMTextElem in the usual form, else None."""
    if type(body) is not list or len(body) != 1:
        return None
    elem = body[0]
    if type(elem) is not dict or list(elem) != ["MsgType", "MsgContent"]:
        return None
    content = elem["MsgContent"]
    if elem["MsgType"] != "TIMTextElem" or type(content) is not dict or list(content) != ["Text"]:
        return None
    text = content["Text"]
    return text if type(text) is str else None


class _Plan:
    """What one key order of a record needs from :func:`pack`: where its HEAD keys are, which
    keys the rest holds, and the shapes it gets when every HEAD key's field stands in for it.
    Records of one service share a handful of key orders, so the work per record is a lookup
    and one comparison per HEAD field instead of a pass over every key."""

    __slots__ = ("at", "held", "keys", "lone", "rest", "shapes")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys
        self.at = tuple((key, _AT[key]) for key in keys if key in _AT)
        self.rest = tuple(key for key in keys if key not in _AT)
        self.lone = self.rest == ("MsgBody",)  # the usual record: maybe a lone text element
        self.held = tuple(_AT.get(key, -1) for key in keys)
        self.shapes: dict[int, Shape | None] = {}

    def shape(self, kind: int) -> Shape | None:
        if kind not in self.shapes:
            self.shapes[kind] = _shape(self.keys, self.held, kind)
        return self.shapes[kind]


_PLANS: dict[tuple[str, ...], _Plan] = {}


def _plan(obj: dict[str, Any]) -> _Plan | None:
    keys = tuple(obj)
    plan = _PLANS.get(keys)
    if plan is None and len(_PLANS) < MAX_SHAPES and all(type(key) is str for key in keys):
        plan = _PLANS[keys] = _Plan(keys)
    return plan


def pack(obj: dict[str, Any], head: Sequence[object]) -> tuple[Shape, bytes] | None:
    """The shape and the rest of record ``obj`` whose HEAD fields are ``head`` (``IsPeerRead``
    as the int 0 or 1); None when it is to be kept whole."""
    plan = _plan(obj)
    if plan is None:
        return _pack_any(obj, head)
    for key, at in plan.at:
        value, field = obj[key], head[at]
        if type(value) is not type(field) or value != field or (
                type(value) is int and value.bit_length() > _INT_BITS):
            return _pack_any(obj, head)
    # Every HEAD key is held by its field (the usual case): the rest is the plan's.
    if plan.lone:
        text = _text_of(obj["MsgBody"])
        if text is not None:
            return _kept(plan.shape(TEXT), encode(text))
    rest = {key: obj[key] for key in plan.rest}
    encoded = _encoded(rest)
    return None if encoded is None else _kept(plan.shape(encoded[0]), encoded[1])


def _kept(shape: Shape | None, data: bytes) -> tuple[Shape, bytes] | None:
    return None if shape is None else (shape, data)


def _encoded(rest: dict[str, Any]) -> tuple[int, bytes] | None:
    """The rest as JSON (deflated when long and it pays); None when it is not plain JSON."""
    try:
        data = encode(ENCODER.encode(rest))
    except (TypeError, ValueError, RecursionError):
        return None  # not plain JSON: the caller keeps its lossy copy whole
    if len(data) >= DEFLATE_FROM:
        packed = zlib.compress(data, 6)
        if len(packed) < len(data):
            return DEFLATED, packed
    return JSON, data


def _pack_any(obj: dict[str, Any], head: Sequence[object]) -> tuple[Shape, bytes] | None:
    """:func:`pack` key by key: for a record some of whose HEAD keys differ from their
    fields, or whose key order found no room among the plans."""
    held: list[int] = []
    rest: dict[str, Any] = {}
    for key, value in obj.items():
        if type(key) is not str:
            return None  # JSON would write it as a string: the rest would not read back
        at = _AT.get(key, -1)
        if at >= 0 and _stands_in(head[at], value):
            held.append(at)
        else:
            held.append(-1)
            rest[key] = value
    keys, kept = tuple(obj), tuple(held)
    text = _lone_text(rest)
    if text is not None:
        return _kept(_shape(keys, kept, TEXT), encode(text))
    encoded = _encoded(rest)
    return None if encoded is None else _kept(_shape(keys, kept, encoded[0]), encoded[1])


def _shape(keys: tuple[str, ...], held: tuple[int, ...], kind: int) -> Shape | None:
    token = (keys, held, kind)
    shape = _SHAPES.get(token)
    if shape is None:
        if len(_SHAPES) >= MAX_SHAPES:
            return None
        shape = _SHAPES.setdefault(token, Shape(keys, held, kind))
    return shape


def rest_of(shape: Shape, data: bytes) -> dict[str, Any]:
    """The values the fields do not hold, read back (fresh objects)."""
    if shape.kind == TEXT:
        return {"MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": decode(data)}}]}
    raw = zlib.decompress(data) if shape.kind == DEFLATED else data
    rest: dict[str, Any] = json.loads(raw)
    return rest


def body_of(shape: Shape | None, data: bytes) -> object:
    """The record's ``MsgBody`` (None when it has none); ``shape`` None: ``data`` is whole."""
    if shape is None:
        return json.loads(data).get("MsgBody")
    return rest_of(shape, data).get("MsgBody")


def unpack(shape: Shape, data: bytes, head: Sequence[object]) -> bytes:
    """The record exactly as :func:`pack` was given it, as compact UTF-8 JSON."""
    rest = rest_of(shape, data)
    obj = {key: head[at] if at >= 0 else rest[key]
           for key, at in zip(shape.keys, shape.held, strict=True)}
    return encode(ENCODER.encode(obj))


__all__ = ["DEFLATED", "ENCODER", "HEAD", "JSON", "MAX_SHAPES", "TEXT", "Shape", "body_of",
           "decode", "encode", "pack", "rest_of", "unpack"]

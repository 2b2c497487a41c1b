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
    if len(rest) != 1:
        return None
    body = rest.get("MsgBody")
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


def pack(obj: dict[str, Any], head: Sequence[object]) -> tuple[Shape, bytes] | None:
    """The shape and the rest of record ``obj`` whose HEAD fields are ``head`` (``IsPeerRead``
    as the int 0 or 1); None when it is to be kept whole."""
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
    text = _lone_text(rest)
    if text is not None:
        kind, data = TEXT, encode(text)
    else:
        try:
            data = encode(ENCODER.encode(rest))
        except (TypeError, ValueError, RecursionError):
            return None  # not plain JSON: the caller keeps its lossy copy whole
        kind = JSON
        if len(data) >= DEFLATE_FROM:
            packed = zlib.compress(data, 6)
            if len(packed) < len(data):
                kind, data = DEFLATED, packed
    shape = _shape(tuple(obj), tuple(held), kind)
    return None if shape is None else (shape, data)


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

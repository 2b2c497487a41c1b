"""Messages and their typed elements, parsed leniently from ``admin_getroammsg`` records.

Parsing never crashes on a dict: what cannot be read becomes a default plus a line in
``Message.problems``. Memory matters (issue 18: ≤ 600 B per loaded message with the timeline
and the view), so a Message keeps of its record only what its fields do not hold
(``im.record``: the body, compactly; the record is rebuilt exactly on demand), interns account
names, holds MsgSeq and MsgRandom only when its MsgKey does not spell them, and re-parses its
elements through a bounded cache instead of holding element objects.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from roamtui.im.elements import (
    SHORT,
    CustomElem,
    Element,
    FaceElem,
    FileElem,
    ImageElem,
    ImageInfo,
    LocationElem,
    RelayElem,
    SoundElem,
    TextElem,
    UnknownElem,
    VideoElem,
    human_duration,
    human_size,
    shorten,
)
from roamtui.im.errors import ProtocolError
from roamtui.im.lenient import MAX_PROBLEMS
from roamtui.im.lenient import Reader as _Reader
from roamtui.im.lenient import type_name as _tname
from roamtui.im.record import ENCODER, TEXT, Shape, body_of, decode, encode, pack, unpack

__all__ = [
    "MAX_PROBLEMS",
    "MAX_RELAY_DEPTH",
    "RECALLED_BIT",
    "SHORT",
    "CustomElem",
    "Element",
    "FaceElem",
    "FileElem",
    "ImageElem",
    "ImageInfo",
    "LocationElem",
    "Message",
    "RelayElem",
    "SoundElem",
    "TextElem",
    "UnknownElem",
    "VideoElem",
    "human_duration",
    "human_size",
    "message_obj",
    "parse_message",
]

RECALLED_BIT = 8
#: Merged forwards nest; beyond this depth inner messages are kept in the raw record only.
MAX_RELAY_DEPTH = 8
_ENCODER = ENCODER


def _intern(s: str) -> str:
    return sys.intern(s) if len(s) <= 64 and type(s) is str else s


def _plain(v: object, depth: int = 0) -> object:
    """A JSON-safe copy of something json.dumps refused (huge ints, cycles, foreign types)."""
    if depth > 100:
        return "…"
    if isinstance(v, dict):
        return {str(k): _plain(x, depth + 1) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x, depth + 1) for x in v]
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 14_000:
        return f"<integer of {v.bit_length()} bits>"
    if v is None or isinstance(v, str | int | float):
        return v
    return repr(v)[:200]


def _dumps(v: object, r: _Reader | None = None, path: str = "record") -> str:
    try:
        return _ENCODER.encode(v)
    except (TypeError, ValueError, RecursionError) as exc:
        if r is not None:
            r.note(path, f"not plain JSON ({type(exc).__name__}); a lossy copy is kept")
        return _ENCODER.encode(_plain(v))


_ElemParser = Callable[[dict[str, Any], "_Reader", str, int], Element]


def _simple(cls: Callable[..., Element], keys: tuple[str, ...]) -> _ElemParser:
    """A parser for an element whose fields are plain values, listed in field order.

    Each key is ``<how>:<MsgContent key>`` with how = s string, S required string, i integer,
    f number.
    """
    def parse(c: dict[str, Any], r: _Reader, p: str, depth: int) -> Element:
        args: list[object] = []
        for spec in keys:
            how, key = spec[0], spec[2:]
            if how == "i":
                args.append(r.int_(c, key, p))
            elif how == "f":
                args.append(r.float_(c, key, p))
            else:
                args.append(r.str_(c, key, p, required=how == "S"))
        return cls(*args)

    return parse


def _image(c: dict[str, Any], r: _Reader, p: str, depth: int) -> Element:
    infos: list[ImageInfo] = []
    array = c.get("ImageInfoArray")
    if array is not None and not isinstance(array, list):
        r.note(p + "ImageInfoArray", f"expected an array, got {_tname(array)}")
    for i, item in enumerate(array if isinstance(array, list) else ()):
        ip = f"{p}ImageInfoArray[{i}]"
        if not isinstance(item, dict):
            r.note(ip, f"expected an object, got {_tname(item)}")
            continue
        ip += "."
        infos.append(ImageInfo(r.int_(item, "Type", ip), r.int_(item, "Size", ip),
                               r.int_(item, "Width", ip), r.int_(item, "Height", ip),
                               r.str_(item, "URL", ip)))
    return ImageElem(r.str_(c, "UUID", p), r.int_(c, "ImageFormat", p), tuple(infos))


def _relay(c: dict[str, Any], r: _Reader, p: str, depth: int) -> Element:
    abstract: list[str] = []
    lines = c.get("AbstractList")
    if isinstance(lines, list):
        abstract = [x for x in lines if isinstance(x, str)]
        if len(abstract) != len(lines):
            r.note(p + "AbstractList", "holds items that are not strings")
    elif lines is not None:
        r.note(p + "AbstractList", f"expected an array, got {_tname(lines)}")
    messages: list[Message] = []
    items = c.get("MsgList")
    if items is not None and not isinstance(items, list):
        r.note(p + "MsgList", f"expected an array, got {_tname(items)}")
    elif items and depth >= MAX_RELAY_DEPTH:
        r.note(p + "MsgList", f"nested more than {MAX_RELAY_DEPTH} deep; left in the raw record")
    elif items:
        for i, item in enumerate(items):
            ip = f"{p}MsgList[{i}]"
            if not isinstance(item, dict):
                r.note(ip, f"expected an object, got {_tname(item)}")
                continue
            inner = _parse(item, depth + 1)
            for problem in inner.problems:
                r.add(f"{ip}.{problem}")
            messages.append(inner)
    return RelayElem(r.str_(c, "Title", p), r.int_(c, "MsgNum", p), r.str_(c, "CompatibleText", p),
                     tuple(abstract), tuple(messages), r.str_(c, "JsonMsgKey", p))


_PARSERS: dict[str, _ElemParser] = {
    "TIMTextElem": _simple(TextElem, ("S:Text",)),
    "TIMLocationElem": _simple(LocationElem, ("s:Desc", "f:Latitude", "f:Longitude")),
    "TIMFaceElem": _simple(FaceElem, ("i:Index", "s:Data")),
    "TIMCustomElem": _simple(CustomElem, ("s:Data", "s:Desc", "s:Ext", "s:Sound")),
    "TIMSoundElem": _simple(SoundElem, ("s:Url", "s:UUID", "i:Size", "i:Second")),
    "TIMImageElem": _image,
    "TIMFileElem": _simple(FileElem, ("s:Url", "s:UUID", "i:FileSize", "s:FileName")),
    "TIMVideoFileElem": _simple(VideoElem, (
        "s:VideoUrl", "s:VideoUUID", "i:VideoSize", "i:VideoSecond", "s:VideoFormat",
        "s:ThumbUrl", "i:ThumbWidth", "i:ThumbHeight")),
    "TIMRelayElem": _relay,
}


def _parse_element(item: object, r: _Reader, path: str, depth: int) -> Element:
    if not isinstance(item, dict):
        r.note(path, f"expected an object, got {_tname(item)}")
        return UnknownElem("", _dumps(item))
    kind = item.get("MsgType")
    content = item.get("MsgContent")
    if not isinstance(kind, str):
        what = "missing" if kind is None else f"expected a string, got {_tname(kind)}"
        r.note(path + ".MsgType", what)
        return UnknownElem("", _dumps(item))
    parser = _PARSERS.get(kind)
    if parser is None:
        return UnknownElem(kind, _dumps(content))
    if not isinstance(content, dict):
        what = "missing" if content is None else f"expected an object, got {_tname(content)}"
        r.note(path + ".MsgContent", what)
        content = {}
    return parser(content, r, path + ".MsgContent.", depth)


def _parse_body(body: object, r: _Reader, depth: int) -> tuple[Element, ...]:
    if body is None:
        return ()
    if isinstance(body, dict):
        r.note("MsgBody", "an object, expected an array (read as one element)")
        body = [body]
    elif not isinstance(body, list):
        r.note("MsgBody", f"expected an array, got {_tname(body)}")
        return ()
    return tuple(_parse_element(item, r, f"MsgBody[{i}]", depth) for i, item in enumerate(body))


@lru_cache(maxsize=4096)
def _elements_of(data: bytes, shape: Shape | None) -> tuple[Element, ...]:
    # Keyed by the bytes object (its hash is cached, lookups hit on identity) and the shape
    # (hashed by identity: shapes are shared).
    return _parse_body(body_of(shape, data), _Reader(), 0)


def _join_display(elements: tuple[Element, ...]) -> str:
    out: list[str] = []
    prev_placeholder = False
    for e in elements:
        piece = e.placeholder()
        is_placeholder = not isinstance(e, TextElem)
        if (out and (is_placeholder or prev_placeholder)
                and not out[-1][-1:].isspace() and not piece[:1].isspace()):
            out.append(" ")
        out.append(piece)
        prev_placeholder = is_placeholder
    return "".join(out)


def _spelled(key: str, seq: int, random: int, time: int) -> bool:
    """Whether MsgKey is ``MsgSeq_MsgRandom_MsgTimeStamp`` (the service's form), so that the
    two numbers need not be held twice."""
    if max(seq.bit_length(), random.bit_length(), time.bit_length()) > 64:
        return False
    return key == f"{seq}_{random}_{time}"


@dataclass(frozen=True, slots=True, init=False)
class Message:
    """One message as the service returned it; ``problems`` lists what could not be read."""

    key: str
    time: int
    sender: str
    receiver: str
    flag_bits: int
    is_peer_read: bool
    cloud_custom_data: str
    problems: tuple[str, ...] = ()
    _seq: int | None = field(default=None, repr=False)  # None: spelled by the key
    _random: int | None = field(default=None, repr=False)
    _shape: Shape | None = field(default=None, repr=False)  # None: _data is the whole record
    _data: bytes = field(default=b"", repr=False)
    _search: str | None = field(default=None, init=False, repr=False, compare=False)

    def __init__(
        self, key: str, seq: int, random: int, time: int, sender: str, receiver: str,
        flag_bits: int, is_peer_read: bool, cloud_custom_data: str, raw_json: str | bytes,
        problems: tuple[str, ...] = (), *, shape: Shape | None = None,
    ) -> None:
        """``raw_json`` is the whole record; with ``shape``, what ``im.record.pack`` kept."""
        spelled = _spelled(key, seq, random, time)
        data = raw_json if isinstance(raw_json, bytes) else encode(raw_json)
        values = (key, time, sender, receiver, flag_bits, is_peer_read, cloud_custom_data,
                  problems, None if spelled else seq, None if spelled else random, shape, data,
                  None)
        for name, value in zip(_MESSAGE_SLOTS, values, strict=True):
            object.__setattr__(self, name, value)

    @classmethod
    def from_fields(cls, **fields: Any) -> Message:
        """A message parsed from a record built by :func:`message_obj` (tests, demos)."""
        return parse_message(message_obj(**fields))

    @property
    def seq(self) -> int:
        """MsgSeq."""
        held = self._seq
        return int(self.key.split("_", 1)[0]) if held is None else held

    @property
    def random(self) -> int:
        """MsgRandom."""
        held = self._random
        return int(self.key.split("_", 2)[1]) if held is None else held

    @property
    def recalled(self) -> bool:
        return bool(self.flag_bits & RECALLED_BIT)

    @property
    def raw_json(self) -> str:
        """The record exactly as received, as compact JSON text."""
        return decode(self._record())

    def _record(self) -> bytes:
        shape = self._shape
        if shape is None:
            return self._data
        head = (self.sender, self.receiver, self.seq, self.random, self.time, self.flag_bits,
                int(self.is_peer_read), self.key, self.cloud_custom_data)
        return unpack(shape, self._data, head)

    @property
    def elements(self) -> tuple[Element, ...]:
        """Parsed on demand from the record; recent results are cached across messages."""
        shape = self._shape
        if shape is not None and shape.kind == TEXT:  # the usual text message: no JSON to read
            return (TextElem(decode(self._data)),)
        return _elements_of(self._data, shape)

    def raw(self) -> dict[str, Any]:
        obj: dict[str, Any] = json.loads(self._record())
        return obj

    def text(self) -> str:
        """Display text of all elements (placeholders for non-text), as copied to a clipboard."""
        return _join_display(self.elements)

    def search_text(self) -> str:
        """Text, placeholders and hidden searchable fields, nested messages included (memoised)."""
        cached = self._search
        if cached is None:
            elements = self.elements
            extras = [x for e in elements for x in e.extras() if x]
            cached = "\n".join((_join_display(elements), *extras))
            object.__setattr__(self, "_search", cached)
        return cached


_MESSAGE_SLOTS = tuple(f.name for f in fields(Message))


def _parse(obj: dict[str, Any], depth: int) -> Message:
    r = _Reader()
    nested = depth > 0  # merged-forward items carry no MsgKey and may name a GroupId instead
    seq = r.int_(obj, "MsgSeq", "", required=True)
    random = r.int_(obj, "MsgRandom", "", required=True)
    time = r.int_(obj, "MsgTimeStamp", "", required=True)
    flag_bits = r.int_(obj, "MsgFlagBits", "")
    sender = r.str_(obj, "From_Account", "", required=True)
    receiver = r.str_(obj, "To_Account", "", required=not nested)
    if not receiver and nested and isinstance(obj.get("GroupId"), str):
        receiver = obj["GroupId"]
    key = r.str_(obj, "MsgKey", "")
    if not key and not nested:
        # Keys dedupe pages, so an absent key must not collide with every other keyless one.
        key = f"{seq}_{random}_{time}" if max(seq.bit_length(), random.bit_length(),
                                               time.bit_length()) < 14_000 else ""
        r.note("MsgKey", f"missing (using {shorten(key, 40)!r})")
    body = obj.get("MsgBody")
    if body is None and not flag_bits & RECALLED_BIT:
        r.note("MsgBody", "missing")
    _parse_body(body, r, depth)
    sender, receiver = _intern(sender), _intern(receiver)
    peer_read = r.int_(obj, "IsPeerRead", "") == 1
    cloud = _intern(r.str_(obj, "CloudCustomData", ""))
    head = (sender, receiver, seq, random, time, flag_bits, int(peer_read), key, cloud)
    packed = pack(obj, head)
    if packed is None:
        return Message(key, seq, random, time, sender, receiver, flag_bits, peer_read, cloud,
                       encode(_dumps(obj, r)), r.result())
    shape, data = packed
    return Message(key, seq, random, time, sender, receiver, flag_bits, peer_read, cloud, data,
                   r.result(), shape=shape)


def parse_message(obj: object) -> Message:
    """A Message from one ``MsgList`` item; never raises for a dict, ProtocolError otherwise."""
    if not isinstance(obj, dict):
        raise ProtocolError(f"a message must be a JSON object, got {_tname(obj)}")
    return _parse(obj, 0)


def message_obj(*, sender: str, receiver: str, time: int, text: str | None = None,
                body: list[Any] | None = None, seq: int = 1, random: int = 1,
                key: str | None = None, flag_bits: int = 0, is_peer_read: bool = False,
                cloud_custom_data: str | None = None) -> dict[str, Any]:
    """A record shaped like the service's (field order as in its samples), for tests and demos."""
    if body is None:
        body = [] if text is None else [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]
    obj: dict[str, Any] = {
        "From_Account": sender, "To_Account": receiver, "MsgSeq": seq, "MsgRandom": random,
        "MsgTimeStamp": time, "MsgFlagBits": flag_bits, "IsPeerRead": int(is_peer_read),
        "MsgKey": key if key is not None else f"{seq}_{random}_{time}", "MsgBody": body,
    }
    if cloud_custom_data is not None:
        obj["CloudCustomData"] = cloud_custom_data
    return obj

"""A Message keeps its record compactly (im.record) and gives it back byte for byte."""

from __future__ import annotations

import json
import zlib
from typing import Any

from hypothesis import given, settings

from roamtui.im import record
from roamtui.im.model import Message, TextElem, message_obj, parse_message
from tests.im.test_model import messages

_COMPACT = {"ensure_ascii": False, "separators": (",", ":")}


def _whole(m: Message, obj: dict[str, Any]) -> Message:
    """The same message with its record kept whole, as before the compact form."""
    return Message(m.key, m.seq, m.random, m.time, m.sender, m.receiver, m.flag_bits,
                   m.is_peer_read, m.cloud_custom_data, json.dumps(obj, **_COMPACT), m.problems)


def _plain_json(obj: object) -> bool:
    try:
        json.dumps(obj, **_COMPACT)
    except (TypeError, ValueError, RecursionError):
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(messages)
def test_the_record_comes_back_exactly_and_reads_as_the_whole_one(obj: dict[str, Any]) -> None:
    m = parse_message(obj)
    if _plain_json(obj):
        assert m.raw_json == json.dumps(obj, **_COMPACT)
        assert m.raw() == json.loads(json.dumps(obj))
        whole = _whole(m, obj)
        assert m.elements == whole.elements
        assert m.text() == whole.text() and m.search_text() == whole.search_text()
    for key in ("MsgSeq", "MsgRandom"):
        value = obj.get(key)
        if type(value) is int:
            assert (m.seq if key == "MsgSeq" else m.random) == value


def _text_record(i: int, text: str) -> dict[str, Any]:
    return message_obj(sender="customer_1024", receiver="agent_007", time=1_584_669_600 + i,
                       text=text, seq=549_396_494 + i, random=7201 + i, is_peer_read=i % 2 == 0,
                       cloud_custom_data="")


def _head(m: Message) -> tuple[object, ...]:
    return (m.sender, m.receiver, m.seq, m.random, m.time, m.flag_bits, int(m.is_peer_read),
            m.key, m.cloud_custom_data)


def test_a_text_message_keeps_only_its_text_and_shares_its_shape() -> None:
    a, b = (parse_message(_text_record(i, f"你好 {i}, where is my order?")) for i in (1, 2))
    packed_a = record.pack(_text_record(1, "你好 1, where is my order?"), _head(a))
    packed_b = record.pack(_text_record(2, "x"), _head(b))
    assert packed_a is not None and packed_b is not None
    (shape_a, data), (shape_b, _) = packed_a, packed_b
    assert shape_a is shape_b and shape_a.kind == record.TEXT
    assert data == "你好 1, where is my order?".encode()
    assert a.elements == (TextElem("你好 1, where is my order?"),)
    assert json.loads(a.raw_json)["MsgKey"] == "549396495_7202_1584669601"


def test_values_json_would_write_otherwise_stay_in_the_rest() -> None:
    obj = _text_record(3, "hi")
    obj.update(MsgSeq=True, MsgRandom=7.0, IsPeerRead=2, MsgTimeStamp="1584669603",
               MsgKey="custom-key", Extra={"kept": [1, 2.5, None]})
    m = parse_message(obj)
    assert m.raw_json == json.dumps(obj, **_COMPACT)
    assert (m.seq, m.random, m.is_peer_read, m.key) == (1, 7, False, "custom-key")


def test_a_long_body_is_deflated_and_a_huge_number_kept_as_is() -> None:
    relay = {"MsgType": "TIMRelayElem", "MsgContent": {
        "Title": "Chat history", "MsgNum": 40, "CompatibleText": "",
        "MsgList": [_text_record(i, f"line {i} of the forwarded chat") for i in range(40)]}}
    obj = message_obj(sender="a", receiver="b", time=5, body=[relay], seq=2**80, random=3)
    m = parse_message(obj)
    assert m.raw_json == json.dumps(obj, **_COMPACT) and m.seq == 2**80
    (elem,) = m.elements
    assert len(elem.messages) == 40 and elem.messages[39].text() == "line 39 of the forwarded chat"
    packed = record.pack(obj, _head(m))
    assert packed is not None and packed[0].kind == record.DEFLATED
    assert len(packed[1]) < len(json.dumps(relay, **_COMPACT)) // 3


def test_a_service_sending_endless_new_shapes_gets_whole_records_past_the_limit() -> None:
    made = [parse_message({**_text_record(i, "hi"), f"Field{i}": i})
            for i in range(record.MAX_SHAPES + 20)]
    for i, m in enumerate(made):
        assert json.loads(m.raw_json)[f"Field{i}"] == i
        assert m.text() == "hi"
    late = {**_text_record(1, "hi"), "FieldNever": 1}
    assert record.pack(late, _head(parse_message(late))) is None  # kept whole: memory bounded


def _reference_pack(obj: dict[str, Any], head: tuple[object, ...]) -> tuple[object, ...] | None:
    """pack as it was, key by key: the planned path must keep exactly what this keeps."""
    held: list[int] = []
    rest: dict[str, Any] = {}
    for key, value in obj.items():
        at = record.HEAD.index(key) if key in record.HEAD else -1
        field = head[at] if at >= 0 else None
        if at >= 0 and type(value) is type(field) and value == field and (
                type(value) is not int or value.bit_length() <= 64):
            held.append(at)
        else:
            held.append(-1)
            rest[key] = value
    body = rest.get("MsgBody")
    if (list(rest) == ["MsgBody"] and type(body) is list and len(body) == 1
            and record._text_of(body) is not None):
        return tuple(obj), tuple(held), record.TEXT, record.encode(record._text_of(body) or "")
    try:
        data = record.encode(record.ENCODER.encode(rest))
    except (TypeError, ValueError, RecursionError):
        return None
    kind = record.JSON
    if len(data) >= record.DEFLATE_FROM and len(zlib.compress(data, 6)) < len(data):
        kind, data = record.DEFLATED, zlib.compress(data, 6)
    return tuple(obj), tuple(held), kind, data


@settings(max_examples=300, deadline=None)
@given(messages)
def test_the_planned_pack_keeps_what_packing_key_by_key_keeps(obj: dict[str, Any]) -> None:
    # Fresh tables: another test fills them to the limit, after which new shapes are kept whole.
    saved = record._SHAPES.copy(), record._PLANS.copy()
    record._SHAPES.clear()
    record._PLANS.clear()
    try:
        for candidate in (obj, _text_record(len(obj), "plain"), obj):  # again: planned now
            head = _head(parse_message(candidate))
            got = record.pack(candidate, head)
            want = _reference_pack(candidate, head)
            assert (got is None) == (want is None)
            if got is not None:
                shape, data = got
                assert (shape.keys, shape.held, shape.kind, data) == want
    finally:
        record._SHAPES.clear()
        record._SHAPES.update(saved[0])
        record._PLANS.clear()
        record._PLANS.update(saved[1])

"""The generated demo dataset: deterministic, varied, hostile in places, compact at a million."""

from __future__ import annotations

import gc
import json
import tracemalloc
import unicodedata
from collections import Counter
from collections.abc import Iterator
from functools import cache
from itertools import pairwise
from typing import Any

import pytest

from roamtui.sandbox import Dataset, Kind

END = 1_700_000_000
SEED_FIELDS = {
    "From_Account",
    "To_Account",
    "MsgSeq",
    "MsgRandom",
    "MsgTimeStamp",
    "MsgFlagBits",
    "MsgKey",
    "MsgBody",
}
ELEMENT_FIELDS = {
    "TIMTextElem": {"Text"},
    "TIMLocationElem": {"Desc", "Latitude", "Longitude"},
    "TIMFaceElem": {"Index", "Data"},
    "TIMCustomElem": {"Data", "Desc", "Ext", "Sound"},
    "TIMSoundElem": {"UUID", "Size", "Second"},
    "TIMImageElem": {"UUID", "ImageFormat", "ImageInfoArray"},
    "TIMFileElem": {"UUID", "FileSize", "FileName"},
    "TIMVideoFileElem": {
        "VideoUrl",
        "VideoUUID",
        "VideoSize",
        "VideoSecond",
        "VideoFormat",
        "VideoDownloadFlag",
        "ThumbUrl",
        "ThumbUUID",
        "ThumbSize",
        "ThumbWidth",
        "ThumbHeight",
        "ThumbFormat",
        "ThumbDownloadFlag",
    },
    "TIMRelayElem": {"Title", "MsgNum", "CompatibleText", "AbstractList"},
}


@cache
def _sample() -> Dataset:
    return Dataset(seed=11, messages=20_000, end_time=END)


@cache
def _sample_messages() -> list[dict[str, Any]]:
    ds = _sample()
    return [ds.message_obj(i) for i in range(len(ds))]


def _elements(messages: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for msg in messages:
        for elem in msg.get("MsgBody", []):
            yield elem
            if elem["MsgType"] == "TIMRelayElem":
                yield from _elements(elem["MsgContent"].get("MsgList", []))


def _texts() -> list[str]:
    return [
        e["MsgContent"]["Text"]
        for e in _elements(_sample_messages())
        if e["MsgType"] == "TIMTextElem"
    ]


def test_same_seed_same_messages_other_seed_other_messages() -> None:
    one, two = (
        Dataset(seed=4, messages=3000, end_time=END),
        Dataset(seed=4, messages=3000, end_time=END),
    )
    other = Dataset(seed=5, messages=3000, end_time=END)
    assert [one.message_obj(i) for i in range(3000)] == [two.message_obj(i) for i in range(3000)]
    assert [one.record(i).key for i in range(3000)] != [other.record(i).key for i in range(3000)]


def test_messages_have_the_seed_field_names_and_consistent_keys() -> None:
    for msg in _sample_messages()[::7]:
        assert (
            SEED_FIELDS - {"MsgBody"}
            <= set(msg)
            <= SEED_FIELDS | {"IsPeerRead", "CloudCustomData", "MsgClientTime"}
        )
        assert msg["MsgKey"] == f"{msg['MsgSeq']}_{msg['MsgRandom']}_{msg['MsgTimeStamp']}"
        assert 0 <= msg["MsgSeq"] < 2**32 and 0 <= msg["MsgRandom"] < 2**32
        assert msg["IsPeerRead"] in (0, 1) and isinstance(msg["CloudCustomData"], str)
        assert "MsgBody" in msg or msg["MsgFlagBits"] == 8


def test_several_customer_agent_pairs_over_the_requested_days() -> None:
    ds = _sample()
    assert len(ds.conversations) >= 4 and len(ds) == 20_000
    for customer, agent in ds.conversations:
        assert customer.startswith("cust_") and agent.startswith("agent_")
        first, last = ds.span(customer, agent) or (0, 0)
        assert first >= END - 10 * 86400 and last <= END
        assert last - first > 7 * 86400  # spread over many days, not one afternoon
        parties = {(r.sender, r.receiver) for r in ds.messages_between(customer, agent, 0, END)}
        assert parties == {(customer, agent), (agent, customer)}


def test_every_element_type_with_its_fields() -> None:
    seen: dict[str, set[str]] = {}
    for elem in _elements(_sample_messages()):
        fields = set(elem["MsgContent"])
        seen.setdefault(elem["MsgType"], set()).update(fields)
        if elem["MsgType"] in ELEMENT_FIELDS:
            assert ELEMENT_FIELDS[elem["MsgType"]] <= fields, elem
    assert set(ELEMENT_FIELDS) <= set(seen)
    assert {"MsgList", "JsonMsgKey"} <= seen["TIMRelayElem"]  # inline forwards and big ones
    assert {"Url", "Download_Flag"} <= seen["TIMFileElem"]


def test_merged_forwards_nest_real_messages() -> None:
    relays = [
        e["MsgContent"] for e in _elements(_sample_messages()) if e["MsgType"] == "TIMRelayElem"
    ]
    inline = [r for r in relays if "MsgList" in r]
    assert inline and all(r["MsgNum"] == len(r["MsgList"]) for r in inline)
    nested = inline[0]["MsgList"][0]
    assert {"From_Account", "To_Account", "MsgSeq", "MsgRandom", "MsgTimeStamp", "MsgBody"} <= set(
        nested
    )
    assert any(
        e["MsgType"] == "TIMRelayElem" for r in inline for m in r["MsgList"] for e in m["MsgBody"]
    )


def test_about_five_percent_recalled_some_keeping_their_body() -> None:
    msgs = _sample_messages()
    recalled = [m for m in msgs if m["MsgFlagBits"] == 8]
    assert 0.035 < len(recalled) / len(msgs) < 0.065
    kinds = Counter(
        "kept" if m.get("MsgBody") else "emptied" if "MsgBody" in m else "absent" for m in recalled
    )
    assert set(kinds) == {"kept", "emptied", "absent"}
    assert {m["MsgFlagBits"] for m in msgs} == {0, 8}


def test_read_marks_and_cloud_custom_data_vary() -> None:
    msgs = _sample_messages()
    assert {m["IsPeerRead"] for m in msgs} == {0, 1}
    with_data = [m["CloudCustomData"] for m in msgs if m["CloudCustomData"]]
    assert 0.02 < len(with_data) / len(msgs) < 0.2


def test_chinese_and_english_text() -> None:
    texts = _texts()
    chinese = sum(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts)
    ascii_only = sum(t.isascii() for t in texts)
    assert chinese > len(texts) * 0.2 and ascii_only > len(texts) * 0.2


def test_a_little_hostile_text() -> None:
    texts = _texts()
    assert any("[@click=" in t for t in texts)
    assert any("[bold red]" in t for t in texts)
    assert any("\x1b[" in t for t in texts)
    assert any(
        any(unicodedata.category(ch) == "Cc" and ch not in "\x1b\t" for ch in t) for t in texts
    )
    assert any("\u200b" in t for t in texts)
    assert any(unicodedata.combining(ch) for t in texts for ch in t)
    assert any(len(t) >= 5000 and "\n" not in t for t in texts)
    assert sum("\x1b" in t for t in texts) < len(texts) * 0.02  # a little, not a flood


def test_same_second_bursts_longer_than_a_page_in_mseq_order() -> None:
    ds = _sample()
    conv = ds.conversation(*ds.conversations[0])
    assert conv is not None
    per_second = Counter(conv.times)
    assert max(per_second.values()) > 100
    records = [conv.record(i) for i in range(len(conv))]
    for older, newer in pairwise(records):
        assert (older.time, older.seq) < (newer.time, newer.seq)
    assert len({r.key for r in records}) == len(records)


def test_records_match_message_objects() -> None:
    ds = _sample()
    customer, agent = ds.conversations[2]
    view = ds.messages_between(customer, agent, END - 5 * 86400, END - 2 * 86400)
    assert 0 < len(view) < ds.count(customer, agent)
    for record in view[:50]:
        msg = ds.message_obj(record.index)
        assert (msg["MsgKey"], msg["From_Account"], msg["MsgTimeStamp"]) == (
            record.key,
            record.sender,
            record.time,
        )
        assert (msg["MsgFlagBits"] == 8) == record.recalled
        assert END - 5 * 86400 <= record.time <= END - 2 * 86400


def test_kinds_cover_every_generator() -> None:
    ds = _sample()
    assert {ds.record(i).kind for i in range(len(ds))} == set(Kind)


def test_explicit_pairs_and_tiny_sizes() -> None:
    ds = Dataset(seed=1, messages=5, end_time=END, pairs=[("alice", "bob"), ("carol", "dave")])
    assert ds.conversations == [("alice", "bob"), ("carol", "dave")]
    assert ds.count("alice", "bob") + ds.count("dave", "carol") == 5
    assert len(Dataset(messages=0, end_time=END)) == 0
    with pytest.raises(ValueError):
        Dataset(pairs=[("a", "b"), ("b", "a")])


def test_a_million_messages_are_held_compactly_and_deterministically() -> None:
    gc.collect()
    containers_before = len(gc.get_objects())
    big = Dataset(seed=1, messages=1_000_000, end_time=END)
    containers_after = len(gc.get_objects())
    assert len(big) == 1_000_000
    assert big.nbytes < 25 * 1_000_000
    assert containers_after - containers_before < 1000  # no per-message dicts or lists
    again = Dataset(seed=1, messages=1_000_000, end_time=END)
    for index in range(0, 1_000_000, 4999):
        assert big.record(index) == again.record(index)
    assert json.dumps(big.message_obj(999_999)) == json.dumps(again.message_obj(999_999))


def test_building_stays_small_in_memory() -> None:
    # tracemalloc slows allocation ~15×, so the peak is measured at 100k and scales linearly.
    tracemalloc.start()
    try:
        Dataset(seed=2, messages=100_000, end_time=END)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 * 1024  # i.e. < 100 MB for a million

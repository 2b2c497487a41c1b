"""Window bounds, order, continuation, the 13 KB cap and both field namings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandboxkit import fetch_all, post, text_msg

from roamtui.sandbox import DEFAULT_PAGE_CAP, ROAM_PATH, Dataset, ListStore, SandboxService
from roamtui.sandbox.store import dump_message

END = 1_700_000_000


def _body(a: str, b: str, lo: int, hi: int, max_cnt: int = 100) -> dict[str, Any]:
    return {"From_Account": a, "To_Account": b, "MaxCnt": max_cnt, "MinTime": lo, "MaxTime": hi}


def _keys(messages: list[dict[str, Any]]) -> list[str]:
    return [m["MsgKey"] for m in messages]


def _stepped_store() -> ListStore:
    """Three messages at each of the seconds 100, 200 and 300."""
    msgs = [
        text_msg("a", "b", seq, seq + 1, stamp, f"{stamp}/{seq}")
        for stamp in (100, 200, 300)
        for seq in (1, 2, 3)
    ]
    return ListStore({("a", "b"): msgs})


@pytest.mark.parametrize(
    ("lo", "hi", "expected_seconds"),
    [
        (200, 200, [200, 200, 200]),
        (100, 300, [100] * 3 + [200] * 3 + [300] * 3),
        (101, 299, [200, 200, 200]),
        (201, 299, []),
        (300, 100, []),
        (301, 10**10, []),
    ],
)
def test_min_and_max_time_are_inclusive(lo: int, hi: int, expected_seconds: list[int]) -> None:
    service = SandboxService(_stepped_store())
    messages, replies = fetch_all(service, _body("a", "b", lo, hi))
    assert [m["MsgTimeStamp"] for m in messages] == expected_seconds
    if not expected_seconds:
        assert replies[-1]["Complete"] == 1 and replies[-1]["MsgList"] == []


def test_pages_walk_newest_to_oldest_and_each_page_is_oldest_to_newest() -> None:
    service = SandboxService(_stepped_store())
    _, replies = fetch_all(service, _body("a", "b", 0, 1000, max_cnt=2))
    pages = [[m["MsgBody"][0]["MsgContent"]["Text"] for m in r["MsgList"]] for r in replies]
    assert pages == [
        ["300/2", "300/3"],
        ["200/3", "300/1"],
        ["200/1", "200/2"],
        ["100/2", "100/3"],
        ["100/1"],
    ]
    assert [r["Complete"] for r in replies] == [0, 0, 0, 0, 1]
    for reply in replies:
        oldest = reply["MsgList"][0]
        assert (reply["LastMsgTime"], reply["LastMsgKey"]) == (
            oldest["MsgTimeStamp"],
            oldest["MsgKey"],
        )


def test_same_second_burst_longer_than_a_page_continues_by_key() -> None:
    burst = [text_msg("a", "b", 1000 + i, i, 500, f"line {i}") for i in range(250)]
    service = SandboxService(ListStore({("a", "b"): burst}), page_cap_bytes=10**6)
    messages, replies = fetch_all(service, _body("a", "b", 0, 1000))
    assert [r["MsgCnt"] for r in replies] == [100, 100, 50]
    assert {r["LastMsgTime"] for r in replies} == {500}
    assert messages == burst


def test_within_a_second_the_given_service_order_is_kept() -> None:
    # A ListStore trusts the caller's order inside one second (the service's MsgSeq order).
    msgs = [text_msg("a", "b", seq, 7, 50, str(seq)) for seq in (9, 3, 5)]
    service = SandboxService(ListStore({("a", "b"): msgs}))
    messages, _ = fetch_all(service, _body("a", "b", 0, 100, max_cnt=1))
    assert [m["MsgSeq"] for m in messages] == [9, 3, 5]


def test_unknown_last_msg_key_is_ignored() -> None:
    service = SandboxService(_stepped_store())
    reply = post(service, {**_body("a", "b", 0, 200), "LastMsgKey": "1_1_999"})
    assert [m["MsgTimeStamp"] for m in reply["MsgList"]] == [100] * 3 + [200] * 3


def test_operator_peer_naming_reads_the_same_as_from_to() -> None:
    dataset = Dataset(seed=5, messages=800, end_time=END)
    service = SandboxService(dataset, rate_limit=None)
    customer, agent = dataset.conversations[1]
    lo, hi = END - 10 * 86400, END
    old, _ = fetch_all(service, _body(customer, agent, lo, hi))
    new, _ = fetch_all(
        service,
        {
            "Operator_Account": agent,
            "Peer_Account": customer,
            "MaxCnt": 100,
            "MinTime": lo,
            "MaxTime": hi,
        },
    )
    assert old == new
    assert _keys(old) == [r.key for r in dataset.messages_between(customer, agent, lo, hi)]
    assert len(old) == dataset.count(customer, agent)


def test_pages_are_capped_near_13_kb() -> None:
    dataset = Dataset(seed=2, messages=3000, end_time=END)
    service = SandboxService(dataset, rate_limit=None)
    customer, agent = dataset.conversations[0]
    body = _body(customer, agent, END - 20 * 86400, END, max_cnt=1000)
    short_pages = 0
    while True:
        raw = service.handle(
            "POST", ROAM_PATH, service.make_query(), json.dumps(body).encode()
        ).body
        reply = json.loads(raw)
        if reply["MsgCnt"] > 1:
            assert len(raw) <= DEFAULT_PAGE_CAP
        if reply["Complete"]:
            break
        short_pages += reply["MsgCnt"] < 1000
        # The cap, not MaxCnt, ended this page: the next older message would not have fit.
        body["MaxTime"], body["LastMsgKey"] = reply["LastMsgTime"], reply["LastMsgKey"]
        following = json.loads(
            service.handle("POST", ROAM_PATH, service.make_query(), json.dumps(body).encode()).body
        )
        next_older = dump_message(following["MsgList"][-1]).encode()
        assert len(raw) + len(next_older) + 1 > DEFAULT_PAGE_CAP
    assert short_pages > 10


def test_a_message_bigger_than_the_cap_still_comes_alone() -> None:
    big = text_msg("a", "b", 2, 2, 20, "長" * 6000)  # 18 KB of UTF-8
    msgs = [text_msg("a", "b", 1, 1, 10, "before"), big, text_msg("a", "b", 3, 3, 30, "after")]
    service = SandboxService(ListStore({("a", "b"): msgs}))
    messages, replies = fetch_all(service, _body("a", "b", 0, 100))
    assert [r["MsgCnt"] for r in replies] == [1, 1, 1]
    assert messages == msgs


@pytest.mark.parametrize("cap", [1, 300, 700, 5000])
def test_any_cap_delivers_everything_exactly_once(cap: int) -> None:
    dataset = Dataset(seed=9, messages=400, end_time=END, pairs=2)
    service = SandboxService(dataset, rate_limit=None, page_cap_bytes=cap)
    for customer, agent in dataset.conversations:
        messages, _ = fetch_all(service, _body(agent, customer, 0, END))
        expected = [
            dataset.message_obj(r.index) for r in dataset.messages_between(customer, agent, 0, END)
        ]
        assert messages == expected


def test_unknown_peer_or_strangers_get_an_empty_complete_reply() -> None:
    store = ListStore({("a", "b"): [text_msg("a", "b", 1, 1, 1, "hi")]}, accounts=["c"])
    service = SandboxService(store)
    for peer in ("nobody", "c", ""):
        reply = post(service, _body("a", peer, 0, 100))
        assert (reply["Complete"], reply["MsgCnt"], reply["MsgList"]) == (1, 0, [])


def test_list_store_rejects_messages_without_a_time() -> None:
    with pytest.raises(ValueError):
        ListStore({("a", "b"): [{"MsgKey": "1_1_1"}]})

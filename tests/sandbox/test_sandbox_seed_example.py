"""The seed's worked example (seed/admin_getroammsg.txt), replayed against the sandbox."""

from __future__ import annotations

import json

import pytest
from sandboxkit import SEED_MAX, SEED_MIN, fetch_all, post, seed_messages, seed_store

from roamtui.sandbox import ROAM_PATH, SandboxService

FIRST_BODY = {
    "From_Account": "user2",
    "To_Account": "user1",
    "MaxCnt": 100,
    "MinTime": SEED_MIN,
    "MaxTime": SEED_MAX,
}
CONTINUATION = {
    **FIRST_BODY,
    "MaxTime": 1584669680,
    "LastMsgKey": "549396494_2578554_1584669680",
}
SEED_MSG_1 = {
    "From_Account": "user1",
    "To_Account": "user2",
    "MsgSeq": 549396494,
    "MsgRandom": 2578554,
    "MsgTimeStamp": 1584669680,
    "MsgFlagBits": 0,
    "MsgKey": "549396494_2578554_1584669680",
    "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "msg 1"}}],
}
SEED_MSG_13 = {
    "From_Account": "user1",
    "To_Account": "user2",
    "MsgSeq": 1456,
    "MsgRandom": 23287,
    "MsgTimeStamp": 1584669601,
    "MsgFlagBits": 0,
    "MsgKey": "1456_23287_1584669601",
    "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "msg 13"}}],
}


def _texts(reply: dict[str, object]) -> list[str]:
    msgs = reply["MsgList"]
    assert isinstance(msgs, list)
    return [m["MsgBody"][0]["MsgContent"]["Text"] for m in msgs]


def _twelve_message_cap() -> int:
    """The byte size of the seed's first page: a cap at which a 13th message cannot fit."""
    probe = SandboxService(seed_store())
    reply = probe.handle(
        "POST", ROAM_PATH, probe.make_query(), json.dumps({**FIRST_BODY, "MaxCnt": 12}).encode()
    )
    return len(reply.body)


@pytest.mark.parametrize("limit", ["cap", "maxcnt"])
def test_first_page_is_the_newest_twelve_and_continuation_finishes(limit: str) -> None:
    if limit == "cap":
        service = SandboxService(seed_store(), page_cap_bytes=_twelve_message_cap())
        first_body = FIRST_BODY
    else:
        service = SandboxService(seed_store())
        first_body = {**FIRST_BODY, "MaxCnt": 12}

    first = post(service, first_body)
    assert first["ActionStatus"] == "OK" and first["ErrorCode"] == 0 and first["ErrorInfo"] == ""
    assert first["Complete"] == 0
    assert first["MsgCnt"] == 12 == len(first["MsgList"])
    assert first["LastMsgTime"] == 1584669680
    assert first["LastMsgKey"] == "549396494_2578554_1584669680"
    assert first["MsgList"][0] == SEED_MSG_1
    assert first["MsgList"][1]["MsgKey"] == "1054803289_7201_1584669689"
    assert _texts(first) == [f"msg {n}" for n in range(1, 13)]

    second = post(service, {**CONTINUATION, "MaxCnt": first_body["MaxCnt"]})
    assert second["Complete"] == 1
    assert second["MsgCnt"] == 5
    assert second["LastMsgTime"] == 1584669601
    assert second["LastMsgKey"] == "1456_23287_1584669601"
    assert second["MsgList"][0] == SEED_MSG_13
    assert second["MsgList"][1]["MsgKey"] == "9806_14_1584669602"
    # msg 17 shares msg 1's second with a lower MsgSeq: it is older, so it is on this page.
    assert _texts(second) == ["msg 13", "msg 14", "msg 15", "msg 16", "msg 17"]


def test_capped_first_page_fits_the_cap() -> None:
    cap = _twelve_message_cap()
    service = SandboxService(seed_store(), page_cap_bytes=cap)
    reply = service.handle("POST", ROAM_PATH, service.make_query(), json.dumps(FIRST_BODY).encode())
    assert len(reply.body) <= cap
    assert json.loads(reply.body)["MsgCnt"] == 12


def test_following_the_continuation_returns_every_message_once_in_order() -> None:
    service = SandboxService(seed_store(), page_cap_bytes=_twelve_message_cap())
    messages, replies = fetch_all(service, FIRST_BODY)
    assert [r["MsgCnt"] for r in replies] == [12, 5]
    assert messages == seed_messages()


def test_swapping_the_parties_reads_the_same_history() -> None:
    service = SandboxService(seed_store())
    swapped = {**FIRST_BODY, "From_Account": "user1", "To_Account": "user2"}
    assert post(service, swapped) == post(service, FIRST_BODY)

"""The sandbox's portrait_get and recentcontact/get_list: bodies, per-account codes, limits,
the four cursors, and the same URL checks, quota and faults as admin_getroammsg."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandboxkit import seed_store

from roamtui.sandbox import Dataset, Fault, SandboxService
from roamtui.sandbox.directory import CONTACTS_PATH, PORTRAIT_PATH
from roamtui.sandbox.people import DEMO_GROUP, DEMO_NICKNAMES, Directory, Session


def _post(service: SandboxService, path: str, body: dict[str, Any],
          query: dict[str, str] | None = None) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    reply = service.handle("POST", path, service.make_query() if query is None else query, raw)
    assert reply.status == 200, reply
    doc: dict[str, Any] = reply.json()
    return doc


def _list_body(account: str, cursor: dict[str, int] | None = None, flags: int = 7
               ) -> dict[str, Any]:
    body = {"From_Account": account, "TimeStamp": 0, "StartIndex": 0, "TopTimeStamp": 0,
            "TopStartIndex": 0, "AssistFlags": flags}
    body.update(cursor or {})
    return body


def _walk(service: SandboxService, account: str, flags: int = 7
          ) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    cursor: dict[str, int] = {}
    for pages in range(1, 1000):
        reply = _post(service, CONTACTS_PATH, _list_body(account, cursor, flags))
        assert reply["ErrorCode"] == 0, reply
        items += reply["SessionItem"]
        if reply["CompleteFlag"] == 1:
            return items, pages
        cursor = {k: reply[k] for k in ("TimeStamp", "StartIndex", "TopTimeStamp",
                                        "TopStartIndex")}
    raise AssertionError("the list never completed")


def test_the_demo_dataset_has_nicknames_in_chinese_english_and_markup() -> None:
    service = SandboxService(Dataset(messages=300, end_time=1_700_000_000))
    accounts = ["cust_1001", "cust_1002", "cust_1003", "cust_1006", "agent_alice"]
    reply = _post(service, PORTRAIT_PATH,
                  {"To_Account": accounts, "TagList": ["Tag_Profile_IM_Nick"]})
    nicks = {i["To_Account"]: i["ProfileItem"][0]["Value"] for i in reply["UserProfileItem"]}
    assert nicks == {"cust_1001": "王小明", "cust_1002": "Emily Carter",
                     "cust_1003": "[b]boss[/b]", "cust_1006": "", "agent_alice": "Alice (Support)"}
    assert DEMO_NICKNAMES["cust_1003"].startswith("[b]")


def test_portrait_get_answers_each_account_with_its_own_result_code() -> None:
    service = SandboxService(seed_store(), directory=Directory(
        accounts={"user1", "user2"}, nicknames={"user1": "One"}, flaky={"user2": 1}))
    body = {"To_Account": ["user1", "ghost", "user2"], "TagList": ["Tag_Profile_IM_Nick"]}
    first = _post(service, PORTRAIT_PATH, body)
    codes = [(i["To_Account"], i["ResultCode"]) for i in first["UserProfileItem"]]
    assert first["ErrorCode"] == 0
    assert codes == [("user1", 0), ("ghost", 40003), ("user2", 40006)]
    assert first["Fail_Account"] == ["ghost", "user2"]
    again = _post(service, PORTRAIT_PATH, body)
    assert [i["ResultCode"] for i in again["UserProfileItem"]] == [0, 40003, 0]
    service.directory_api.unknown_fails_request = True
    whole = _post(service, PORTRAIT_PATH, body)
    assert (whole["ActionStatus"], whole["ErrorCode"]) == ("FAIL", 40003)


@pytest.mark.parametrize(("body", "code"), [
    ({"TagList": ["Tag_Profile_IM_Nick"]}, 40002),
    ({"To_Account": "user1", "TagList": ["Tag_Profile_IM_Nick"]}, 40001),
    ({"To_Account": [f"u{i}" for i in range(101)], "TagList": ["Tag_Profile_IM_Nick"]}, 40001),
    ({"To_Account": [], "TagList": ["Tag_Profile_IM_Nick"]}, 40001),
    ({"To_Account": ["user1"]}, 40001),
    ({"To_Account": ["user1"], "TagList": ["Nick"]}, 40009),
])
def test_portrait_get_refuses_what_the_documentation_does_not_allow(
    body: dict[str, Any], code: int
) -> None:
    reply = _post(SandboxService(seed_store()), PORTRAIT_PATH, body)
    assert (reply["ActionStatus"], reply["ErrorCode"]) == ("FAIL", code)


def _busy_directory(n: int) -> Directory:
    directory = Directory()
    for i in range(n):
        directory.add_session("agent", Session(f"c{i:03d}", 1_000_000 + i // 3, pinned=i % 17 == 0))
    directory.add_session("agent", Session(group="@TGS#g", msg_time=1_000_050))
    directory.add_session("agent", Session("never_talked", 0))
    return directory


@pytest.mark.parametrize("flags", [7, 5, 1, 0, 63])
def test_get_list_pages_every_conversation_once_newest_first(flags: int) -> None:
    service = SandboxService(seed_store(), directory=_busy_directory(230), contacts_page=25)
    items, pages = _walk(service, "agent", flags)
    peers = [i.get("To_Account") or i["GroupId"] for i in items]
    assert len(peers) == len(set(peers))  # nothing twice across pages
    expected = 231 + (1 if flags & 2 else 0)
    assert len(peers) == expected and pages >= expected // 25
    pinned = [i for i in items if i["TopFlag"]]
    assert len(pinned) == 14  # flagged either way; listed apart only when bit 0 asks
    ordinary = [i["MsgTime"] for i in items if not (i["TopFlag"] and flags & 1)]
    assert ordinary == sorted(ordinary, reverse=True)
    if flags & 1:
        assert items[: len(pinned)] == pinned  # pinned ones come first


def test_get_list_of_the_demo_agent_holds_its_customers_and_a_group() -> None:
    dataset = Dataset(messages=300, end_time=1_700_000_000)
    items, _ = _walk(SandboxService(dataset), "agent_alice")
    assert {i.get("To_Account") for i in items if i["Type"] == 1} == {"cust_1001", "cust_1003"}
    assert [i["GroupId"] for i in items if i["Type"] == 2] == [DEMO_GROUP]
    span = dataset.span("cust_1001", "agent_alice")
    assert span is not None
    assert next(i["MsgTime"] for i in items if i.get("To_Account") == "cust_1001") == span[1]


@pytest.mark.parametrize(("body", "code"), [
    (_list_body("ghost"), 50001),
    ({"TimeStamp": 0}, 50002),
    ({**_list_body("user1"), "StartIndex": "0"}, 50002),
    ({**_list_body("user1"), "TopStartIndex": -1}, 50002),
])
def test_get_list_refuses_unknown_accounts_and_bad_cursors(body: dict[str, Any], code: int
                                                           ) -> None:
    reply = _post(SandboxService(seed_store()), CONTACTS_PATH, body)
    assert (reply["ActionStatus"], reply["ErrorCode"]) == ("FAIL", code)


@pytest.mark.parametrize("path", [PORTRAIT_PATH, CONTACTS_PATH])
def test_both_apis_check_the_url_quota_and_faults_like_the_roaming_api(path: str) -> None:
    service = SandboxService(seed_store(), rate_limit=2)
    body = (_list_body("user1") if path == CONTACTS_PATH
            else {"To_Account": ["user1"], "TagList": ["Tag_Profile_IM_Nick"]})
    bad_sig = {**service.make_query(), "usersig": "nope"}
    assert _post(service, path, body, bad_sig)["ErrorCode"] in (70003, 70005)
    codes = [_post(service, path, body)["ErrorCode"] for _ in range(4)]
    assert 60007 in codes
    faulty = SandboxService(seed_store(), rate_limit=None, fault_rate=1.0, seed=1)
    faulty.faults.faults = (Fault.HTTP_502,)
    reply = faulty.handle("POST", path, faulty.make_query(), json.dumps(body).encode())
    assert reply.status == 502

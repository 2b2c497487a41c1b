"""Every error the sandbox gives, each from the bad request that causes it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandboxkit import SEED_MAX, SEED_MIN, seed_store

from roamtui.im.usersig import sign
from roamtui.sandbox import (
    DEMO_ADMIN,
    DEMO_SDKAPPID,
    DEMO_SECRET_KEY,
    ROAM_PATH,
    SandboxService,
)

GOOD_BODY: dict[str, Any] = {
    "From_Account": "user2",
    "To_Account": "user1",
    "MaxCnt": 100,
    "MinTime": SEED_MIN,
    "MaxTime": SEED_MAX,
}
OTHER_KEY = "0" * 64


def _service() -> SandboxService:
    return SandboxService(seed_store(), admins=(DEMO_ADMIN, "ops_admin"))


def _query(**changes: str | None) -> dict[str, str]:
    query = _service().make_query()
    for name, value in changes.items():
        if value is None:
            query.pop(name)
        else:
            query[name] = value
    return query


def _without(name: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD_BODY.items() if k != name}


URL_CASES: list[tuple[str, dict[str, str | None], int]] = [
    ("no sdkappid", {"sdkappid": None}, 60012),
    ("empty sdkappid", {"sdkappid": ""}, 60012),
    ("other app", {"sdkappid": "1400000001"}, 60006),
    ("sdkappid not a number", {"sdkappid": "14e8"}, 60006),
    ("no random", {"random": None}, 60002),
    ("negative random", {"random": "-1"}, 60002),
    ("random over 32 bits", {"random": "4294967296"}, 60002),
    ("no contenttype", {"contenttype": None}, 60002),
    ("contenttype not json", {"contenttype": "JSON"}, 60002),
    ("no identifier", {"identifier": None}, 60004),
    ("no usersig", {"usersig": None}, 70002),
    ("empty usersig", {"usersig": ""}, 70002),
    ("malformed usersig", {"usersig": "not-a-usersig"}, 70003),
    (
        "truncated usersig",
        {"usersig": sign(DEMO_SDKAPPID, DEMO_SECRET_KEY, DEMO_ADMIN)[:40]},
        70003,
    ),
    (
        "expired usersig",
        {"usersig": sign(DEMO_SDKAPPID, DEMO_SECRET_KEY, DEMO_ADMIN, 60, now=1)},
        70001,
    ),
    ("usersig of another key", {"usersig": sign(DEMO_SDKAPPID, OTHER_KEY, DEMO_ADMIN)}, 70009),
    (
        "usersig of another account",
        {"usersig": sign(DEMO_SDKAPPID, DEMO_SECRET_KEY, "ops_admin")},
        70013,
    ),
    ("usersig of another app", {"usersig": sign(1400000001, DEMO_SECRET_KEY, DEMO_ADMIN)}, 70014),
    (
        "identifier not an admin",
        {"identifier": "user1", "usersig": sign(DEMO_SDKAPPID, DEMO_SECRET_KEY, "user1")},
        90009,
    ),
]

BODY_CASES: list[tuple[str, bytes, int]] = [
    ("not JSON", b'{"From_Account": "user2",', 90001),
    ("empty body", b"", 90001),
    ("JSON but not an object", b'["user2", "user1"]', 90001),
    ("not UTF-8", b'{"From_Account": "\xff\xfe"}', 90001),
    ("MaxCnt missing", json.dumps(_without("MaxCnt")).encode(), 90001),
    ("MaxCnt a string", json.dumps({**GOOD_BODY, "MaxCnt": "100"}).encode(), 90001),
    ("MaxCnt zero", json.dumps({**GOOD_BODY, "MaxCnt": 0}).encode(), 90001),
    ("MinTime missing", json.dumps(_without("MinTime")).encode(), 90001),
    ("MaxTime a float", json.dumps({**GOOD_BODY, "MaxTime": 1584673200.5}).encode(), 90001),
    ("MaxTime a boolean", json.dumps({**GOOD_BODY, "MaxTime": True}).encode(), 90001),
    ("LastMsgKey a number", json.dumps({**GOOD_BODY, "LastMsgKey": 5}).encode(), 90001),
    ("To_Account missing", json.dumps(_without("To_Account")).encode(), 90003),
    ("To_Account not a string", json.dumps({**GOOD_BODY, "To_Account": 1}).encode(), 90003),
    ("From_Account missing", json.dumps(_without("From_Account")).encode(), 90008),
    ("From_Account unknown", json.dumps({**GOOD_BODY, "From_Account": "ghost"}).encode(), 90008),
    (
        "From_Account not a string",
        json.dumps({**GOOD_BODY, "From_Account": ["user2"]}).encode(),
        90008,
    ),
    (
        "Peer_Account null",
        json.dumps(
            {
                "Operator_Account": "user2",
                "Peer_Account": None,
                "MaxCnt": 1,
                "MinTime": 0,
                "MaxTime": 1,
            }
        ).encode(),
        90003,
    ),
    (
        "Operator_Account unknown",
        json.dumps(
            {
                "Operator_Account": "nobody",
                "Peer_Account": "user1",
                "MaxCnt": 1,
                "MinTime": 0,
                "MaxTime": 1,
            }
        ).encode(),
        90008,
    ),
]


def _assert_fail(reply_body: bytes, code: int) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(reply_body)
    assert doc["ActionStatus"] == "FAIL"
    assert doc["ErrorCode"] == code
    assert isinstance(doc["ErrorInfo"], str) and doc["ErrorInfo"]
    assert "MsgList" not in doc
    return doc


@pytest.mark.parametrize(("name", "changes", "code"), URL_CASES, ids=[c[0] for c in URL_CASES])
def test_url_problem_gets_the_service_code(
    name: str, changes: dict[str, str | None], code: int
) -> None:
    query = _query(**changes)
    reply = _service().handle("POST", ROAM_PATH, query, json.dumps(GOOD_BODY).encode())
    assert reply.status == 200
    _assert_fail(reply.body, code)
    if query.get("usersig"):
        assert query["usersig"] not in reply.body.decode()


@pytest.mark.parametrize(("name", "body", "code"), BODY_CASES, ids=[c[0] for c in BODY_CASES])
def test_body_problem_gets_the_api_code(name: str, body: bytes, code: int) -> None:
    service = _service()
    reply = service.handle("POST", ROAM_PATH, service.make_query(), body)
    assert reply.status == 200
    _assert_fail(reply.body, code)
    assert service.stats().codes == {code: 1}


def test_the_same_request_done_right_succeeds() -> None:
    service = _service()
    reply = service.handle("POST", ROAM_PATH, service.make_query(), json.dumps(GOOD_BODY).encode())
    doc = json.loads(reply.body)
    assert (reply.status, doc["ErrorCode"], doc["MsgCnt"]) == (200, 0, 17)
    assert service.stats().ok == 1


def test_another_admin_with_its_own_usersig_is_accepted() -> None:
    service = _service()
    query = service.make_query("ops_admin")
    reply = service.handle("POST", ROAM_PATH, query, json.dumps(GOOD_BODY).encode())
    assert json.loads(reply.body)["ErrorCode"] == 0


@pytest.mark.parametrize(
    "path",
    ["/v4/openim/admin_getroammsg/", "/v4/openim/sendmsg", "/", "/V4/openim/admin_getroammsg"],
)
def test_unknown_path_is_a_web_server_404(path: str) -> None:
    service = _service()
    reply = service.handle("POST", path, service.make_query(), json.dumps(GOOD_BODY).encode())
    assert reply.status == 404
    assert reply.headers["Content-Type"].startswith("text/html")
    assert service.stats().calls == 0


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
def test_other_methods_are_a_web_server_405(method: str) -> None:
    service = _service()
    reply = service.handle(method, ROAM_PATH, service.make_query(), b"")
    assert reply.status == 405
    assert reply.headers["Allow"] == "POST"


def test_repr_hides_the_secret_key() -> None:
    service = SandboxService(seed_store(), secret_key="f" * 64)
    assert "f" * 64 not in repr(service)

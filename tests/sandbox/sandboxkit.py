"""Helpers for the sandbox tests: the seed's 17 messages, a request helper, a frozen clock."""

from __future__ import annotations

import json
from typing import Any

from roamtui.sandbox import ROAM_PATH, ListStore, SandboxService

#: The seed's query window: 2020-03-20 10:00:00 .. 11:00:00 (UTC+8).
SEED_MIN, SEED_MAX = 1584669600, 1584673200


def text_msg(
    sender: str, receiver: str, seq: int, rnd: int, stamp: int, text: str
) -> dict[str, Any]:
    """A one-to-one text message with exactly the seed's fields."""
    return {
        "From_Account": sender,
        "To_Account": receiver,
        "MsgSeq": seq,
        "MsgRandom": rnd,
        "MsgTimeStamp": stamp,
        "MsgFlagBits": 0,
        "MsgKey": f"{seq}_{rnd}_{stamp}",
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}],
    }


def seed_messages() -> list[dict[str, Any]]:
    """The 17 messages of the seed's worked example, in service order (oldest first).

    "msg 1", "msg 2", "msg 13" and "msg 14" are copied from the seed; the others fill the gaps
    the seed elides. "msg 17" shares msg 1's second with a lower MsgSeq, so it comes before msg 1
    in service order and must arrive on the continuation page, not be skipped by LastMsgKey.
    """
    u1, u2 = "user1", "user2"
    older = [
        text_msg(u1, u2, 1456, 23287, 1584669601, "msg 13"),
        text_msg(u2, u1, 9806, 14, 1584669602, "msg 14"),
        text_msg(u1, u2, 9807, 3141, 1584669640, "msg 15"),
        text_msg(u2, u1, 9808, 2718, 1584669660, "msg 16"),
        text_msg(u1, u2, 549396000, 777, 1584669680, "msg 17"),
    ]
    newer = [
        text_msg(u1, u2, 549396494, 2578554, 1584669680, "msg 1"),
        text_msg(u2, u1, 1054803289, 7201, 1584669689, "msg 2"),
    ]
    for n in range(3, 13):
        sender, receiver = (u1, u2) if n % 2 else (u2, u1)
        newer.append(
            text_msg(sender, receiver, 1054803289 + n, 7000 + n, 1584669700 + 60 * n, f"msg {n}")
        )
    return older + newer


def seed_store() -> ListStore:
    return ListStore({("user1", "user2"): seed_messages()})


def post(
    service: SandboxService,
    body: dict[str, Any] | bytes,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST `body` to the service's API path; return the decoded JSON reply (HTTP 200 asserted)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply = service.handle("POST", ROAM_PATH, service.make_query() if query is None else query, raw)
    assert reply.status == 200, reply
    doc: dict[str, Any] = reply.json()
    return doc


def fetch_all(
    service: SandboxService, body: dict[str, Any], *, guard: int = 100_000
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow the documented continuation; return (messages oldest→newest, the replies)."""
    body = dict(body)
    messages: list[dict[str, Any]] = []
    replies: list[dict[str, Any]] = []
    for _ in range(guard):
        reply = post(service, body)
        assert reply["ErrorCode"] == 0, reply
        replies.append(reply)
        messages[:0] = reply["MsgList"]
        if reply["Complete"] == 1:
            return messages, replies
        body["MaxTime"], body["LastMsgKey"] = reply["LastMsgTime"], reply["LastMsgKey"]
    raise AssertionError("continuation did not finish")


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

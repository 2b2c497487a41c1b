"""A scripted stand-in for the IM REST API behind httpx.MockTransport (imported by the im tests)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx

from roamtui.im.client import Connection, ImClient

# Distinctive values, so a leak anywhere is easy to spot.
SECRET = "S3CRETKEY" + "0123456789abcdef" * 3 + "ZZZZ"
READY_SIG = "RdyS1g-" + "QQreadyMadeUserSig*" * 6 + "_end"
SDKAPPID = 1400000001
ADMIN = "administrator"
ENDPOINT = "https://im.example.test"
API = "v4/openim/admin_getroammsg"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def ok_reply(**fields: Any) -> httpx.Response:
    body = {"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0, "Complete": 1, "MsgList": []}
    body.update(fields)
    return httpx.Response(200, json=body)


def fail_reply(code: int, info: str = "") -> httpx.Response:
    return httpx.Response(200, json={"ActionStatus": "FAIL", "ErrorInfo": info, "ErrorCode": code})


class FakeService:
    """Hands out ``replies`` in order (the last one repeats) and records every request."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or [ok_reply()]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    def query(self, i: int) -> dict[str, str]:
        parsed = parse_qs(self.requests[i].url.query.decode(), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def body(self, i: int) -> Any:
        return json.loads(self.requests[i].content)

    @property
    def sigs(self) -> list[str]:
        return [self.query(i)["usersig"] for i in range(len(self.requests))]


class Sleeps(list[float]):
    """Records the client's backoff sleeps instead of waiting."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)


def secret_conn(**over: Any) -> Connection:
    fields: dict[str, Any] = {
        "endpoint": ENDPOINT,
        "sdkappid": SDKAPPID,
        "identifier": ADMIN,
        "secret_key": SECRET,
    }
    fields.update(over)
    return Connection(**fields)


def ready_conn() -> Connection:
    return Connection(ENDPOINT, SDKAPPID, ADMIN, usersig=READY_SIG)


MakeClient = Callable[..., ImClient]

"""`SandboxService`: admin_getroammsg as the real service answers it, independent of transport.

`handle(method, path, query, body) -> Reply` does the whole protocol: URL parameters, UserSig,
admin check, the 200 calls/s quota, body validation with both field namings, the inclusive time
window, newest-first paging with the MaxTime + LastMsgKey continuation and the 13 KB reply cap.
A `Reply` also says how long the transport should wait before sending it (latency, slow-reply
fault); the socket server waits on a thread, `mock_transport()` with asyncio.sleep.
"""

from __future__ import annotations

import json
import threading
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from roamtui.im.usersig import UserSigError, sign, verify
from roamtui.sandbox.directory import ApiError, DirectoryApi
from roamtui.sandbox.faults import Fault, FaultPlan, TokenBucket
from roamtui.sandbox.people import Directory
from roamtui.sandbox.store import Conversation, MessageStore

if TYPE_CHECKING:
    from roamtui.sandbox.server import SandboxMockTransport

ROAM_PATH = "/v4/openim/admin_getroammsg"
DEMO_SDKAPPID = 1400000000
DEMO_ADMIN = "administrator"
#: Not a secret: the sandbox prints it so anyone can sign demo UserSigs.
DEMO_SECRET_KEY = "2e99c6e95902d436102aba0a54b748b4e967bd6e1d6f9ec709a8ca7c12a2fbd2"
DEFAULT_PAGE_CAP = 13 * 1024

_JSON_HEADERS: Mapping[str, str] = {"Content-Type": "application/json; charset=utf-8"}
_HTML_HEADERS: Mapping[str, str] = {"Content-Type": "text/html"}


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer; `delay` seconds should pass before it is sent."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    delay: float = 0.0
    fault: Fault = Fault.NONE

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class ServiceStats:
    """Counters since the service was made (a snapshot)."""

    calls: int  # POSTs to the API path, faults included
    ok: int  # clean OK answers (no fault injected)
    codes: Mapping[int, int] = field(default_factory=dict)  # ErrorCode -> count, failures only
    faults: Mapping[str, int] = field(default_factory=dict)  # Fault.value -> count

    @property
    def rate_limited(self) -> int:
        return self.codes.get(60007, 0)


class _Fail(Exception):
    def __init__(self, code: int, info: str) -> None:
        super().__init__(code, info)
        self.code, self.info = code, info


def _page_envelope(complete: int, count: int, last_time: int, last_key: str, msgs: str) -> str:
    return (
        '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,'
        f'"Complete":{complete},"MsgCnt":{count},"LastMsgTime":{last_time},'
        f'"LastMsgKey":{json.dumps(last_key, ensure_ascii=False)},"MsgList":[{msgs}]}}'
    )


def _fail_body(code: int, info: str) -> bytes:
    doc = {"ActionStatus": "FAIL", "ErrorInfo": info, "ErrorCode": code}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _http_error(status: int, reason: str, headers: Mapping[str, str] = _HTML_HEADERS) -> Reply:
    title = f"{status} {reason}"
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    return Reply(status, headers, page.encode())


def _int_field(doc: Mapping[str, Any], name: str) -> int:
    value = doc.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Fail(90001, f"Fail to Parse json data of body: {name} is missing or not an integer")
    return value


class SandboxService:
    """The stand-in of `v4/openim/admin_getroammsg` over a `MessageStore`. Thread-safe."""

    def __init__(
        self,
        store: MessageStore,
        *,
        sdkappid: int = DEMO_SDKAPPID,
        secret_key: str = DEMO_SECRET_KEY,
        admins: Iterable[str] = (DEMO_ADMIN,),
        rate_limit: float | None = 200,
        page_cap_bytes: int = DEFAULT_PAGE_CAP,
        latency_ms: float = 0,
        fault_rate: float = 0.0,
        seed: int = 0,
        slow_reply_s: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        directory: Directory | None = None,
        contacts_page: int = 100,
    ) -> None:
        if page_cap_bytes < 1:
            raise ValueError("page_cap_bytes must be positive")
        self.store = store
        self.sdkappid = int(sdkappid)
        self.secret_key = secret_key  # kept out of repr
        self.admins = frozenset(admins)
        self.page_cap_bytes = page_cap_bytes
        self.rate_limit = rate_limit
        self._bucket = TokenBucket(rate_limit, clock=clock) if rate_limit else None
        self.faults = FaultPlan(
            latency_ms=latency_ms, fault_rate=fault_rate, seed=seed, slow_reply_s=slow_reply_s
        )
        self._wall = wall_clock
        self._lock = threading.Lock()
        self._calls = 0
        self._ok = 0
        self._codes: Counter[int] = Counter()
        self._fault_counts: Counter[str] = Counter()
        # portrait_get and recentcontact/get_list (sandbox.directory): same URL checks, quota
        # and faults as admin_getroammsg, their own bodies.
        self.directory = Directory.for_store(store) if directory is None else directory
        self.directory_api = DirectoryApi(self.directory, page_size=contacts_page)

    def __repr__(self) -> str:  # never shows the secret key
        return f"SandboxService(sdkappid={self.sdkappid}, admins={sorted(self.admins)!r})"

    # -- public -----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: Mapping[str, str], body: bytes) -> Reply:
        """Answer one HTTP request (path without the query string; query already decoded)."""
        other = self.directory_api.handlers.get(path)
        if path != ROAM_PATH and other is None:
            return _http_error(404, "Not Found")
        if method.upper() != "POST":
            return _http_error(405, "Not Allowed", {**_HTML_HEADERS, "Allow": "POST"})
        fault, delay = self.faults.draw()
        if fault is Fault.HTTP_502:
            self._record(fault=fault)
            return Reply(502, _HTML_HEADERS, _http_error(502, "Bad Gateway").body, delay, fault)
        try:
            if other is None:
                payload = self._answer(query, body)
            else:
                payload = self._other(other, query, body)
            code = 0
        except (_Fail, ApiError) as exc:
            payload, code = _fail_body(exc.code, exc.info), exc.code
        if fault is Fault.ERROR_91000:
            payload, code = _fail_body(91000, "internal service error, please try again"), 91000
        elif fault is Fault.TRUNCATED:
            payload = payload[: self.faults.truncation_point(len(payload))]
        self._record(code=code, fault=fault)
        return Reply(200, _JSON_HEADERS, payload, delay, fault)

    def mock_transport(self) -> SandboxMockTransport:
        """An httpx transport running this service with no socket (imports httpx lazily).

        The object is an `httpx.MockTransport` and also its own async handler, so both
        `AsyncClient(transport=svc.mock_transport())` and `MockTransport(svc.mock_transport())`
        work. Latency is honoured with asyncio.sleep; a reply slower than the request's read
        timeout raises httpx.ReadTimeout once that timeout has passed.
        """
        from roamtui.sandbox.server import make_mock_transport

        return make_mock_transport(self)

    def make_query(
        self, identifier: str | None = None, *, usersig: str | None = None, random: int = 99999999
    ) -> dict[str, str]:
        """Valid URL parameters for this service (signs a fresh UserSig unless one is given)."""
        who = next(iter(sorted(self.admins)), DEMO_ADMIN) if identifier is None else identifier
        sig = sign(self.sdkappid, self.secret_key, who) if usersig is None else usersig
        return {
            "sdkappid": str(self.sdkappid),
            "identifier": who,
            "usersig": sig,
            "random": str(random),
            "contenttype": "json",
        }

    def stats(self) -> ServiceStats:
        with self._lock:
            return ServiceStats(self._calls, self._ok, dict(self._codes), dict(self._fault_counts))

    # -- protocol -------------------------------------------------------------------------

    def _record(self, code: int | None = None, fault: Fault = Fault.NONE) -> None:
        with self._lock:
            self._calls += 1
            if code == 0 and fault is Fault.NONE:
                self._ok += 1
            elif code is not None:
                self._codes[code] += 1
            if fault is not Fault.NONE:
                self._fault_counts[fault.value] += 1

    def _answer(self, query: Mapping[str, str], body: bytes) -> bytes:
        self._check_url(query)
        doc = self._parse_body(body)
        peer_field = "Peer_Account" if "Peer_Account" in doc else "To_Account"
        operator_field = "Operator_Account" if "Operator_Account" in doc else "From_Account"
        peer = doc.get(peer_field)
        if not isinstance(peer, str):
            raise _Fail(90003, f"{peer_field} is missing in the request or is not a string")
        operator = doc.get(operator_field)
        if not isinstance(operator, str):
            raise _Fail(90008, f"{operator_field} is missing in the request")
        if not self.store.has_account(operator):
            raise _Fail(90008, f"{operator_field} {operator} does not exist")
        max_cnt = _int_field(doc, "MaxCnt")
        min_time = _int_field(doc, "MinTime")
        max_time = _int_field(doc, "MaxTime")
        if max_cnt < 1:
            raise _Fail(90001, "Fail to Parse json data of body: MaxCnt must be positive")
        last_key = doc.get("LastMsgKey")
        if last_key is not None and not isinstance(last_key, str):
            raise _Fail(90001, "Fail to Parse json data of body: LastMsgKey is not a string")
        conv = self.store.conversation(operator, peer)
        if conv is None or min_time > max_time:
            return _page_envelope(1, 0, 0, "", "").encode()
        return self._page(conv, min_time, max_time, last_key or "", max_cnt)

    def _other(
        self, handler: Callable[[dict[str, Any]], bytes], query: Mapping[str, str], body: bytes
    ) -> bytes:
        self._check_url(query)
        return handler(self._parse_body(body))

    def _check_url(self, query: Mapping[str, str]) -> None:
        raw_app = query.get("sdkappid", "")
        if not raw_app:
            raise _Fail(60012, "sdkappid is missing in the URL")
        if not (raw_app.isascii() and raw_app.isdigit()) or int(raw_app) != self.sdkappid:
            raise _Fail(60006, f"SDKAppID {raw_app[:20]} is invalid")
        if self._bucket is not None and not self._bucket.take():
            raise _Fail(60007, "REST API call frequency limit exceeded, please retry later")
        rand = query.get("random", "")
        if not (rand.isascii() and rand.isdigit()) or int(rand) > 0xFFFFFFFF:
            raise _Fail(60002, "HTTP parse error: random must be a 32-bit unsigned integer")
        if query.get("contenttype") != "json":
            raise _Fail(60002, "HTTP parse error: contenttype must be json")
        identifier = query.get("identifier", "")
        if not identifier:
            raise _Fail(60004, "identifier is missing in the URL")
        try:
            verify(
                query.get("usersig", ""),
                self.sdkappid,
                self.secret_key,
                identifier,
                now=int(self._wall()),
            )
        except UserSigError as exc:
            raise _Fail(exc.code, exc.reason) from None
        if identifier not in self.admins:
            raise _Fail(90009, "the request requires the app admin's permission")

    @staticmethod
    def _parse_body(body: bytes) -> dict[str, Any]:
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise _Fail(90001, "Fail to Parse json data of body, Please check it") from None
        if not isinstance(doc, dict):
            raise _Fail(90001, "Fail to Parse json data of body, Please check it")
        return doc

    def _page(
        self, conv: Conversation, min_time: int, max_time: int, last_key: str, max_cnt: int
    ) -> bytes:
        times = conv.times
        lo = bisect_left(times, min_time)
        hi = bisect_right(times, max_time)
        if last_key:
            # The cursor's message sits in the MaxTime second; resume just before it. An
            # unknown key is ignored, as if none were given.
            for j in range(bisect_left(times, max_time), hi):
                if conv.key(j) == last_key:
                    hi = j
                    break
        parts: list[str] = []
        list_bytes = 0  # MsgList content: the messages and the commas between them
        start = hi
        while start > lo and len(parts) < max_cnt:
            candidate = conv.message_json(start - 1)
            size = len(candidate.encode())
            added = list_bytes + size + (1 if parts else 0)
            envelope = len(
                _page_envelope(
                    0, len(parts) + 1, times[start - 1], conv.key(start - 1), ""
                ).encode()
            )
            # Always at least one message, or a single huge message would stall paging.
            if parts and envelope + added > self.page_cap_bytes:
                break
            parts.append(candidate)
            list_bytes = added
            start -= 1
        if not parts:
            return _page_envelope(1, 0, 0, "", "").encode()
        complete = 1 if start == lo else 0
        parts.reverse()
        body = _page_envelope(complete, len(parts), times[start], conv.key(start), ",".join(parts))
        return body.encode()

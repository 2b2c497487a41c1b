"""Fuzzing ImClient.call with hostile replies: it returns an OK dict or raises a RoamError, always.

Issue 12, point 6: 17,000 fuzzed replies found one escape (RecursionError from a deep reply);
these properties throw random bytes, random and deep JSON, numbers past int()'s digit limit,
ErrorCodes of every type, odd statuses, Retry-After headers, reason phrases and exceptions from
the transport at the client, and check the error contract each time: a RoamError subclass whose
text is one line, never any other exception.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imfakes import API, Sleeps, secret_conn

from roamtui.im.client import ImClient
from roamtui.im.errors import RoamError
from roamtui.im.limiter import RateLimiter

BODY = {"From_Account": "user2", "To_Account": "user1", "MaxCnt": 100, "MinTime": 1, "MaxTime": 2}
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**200, max_value=10**4000)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
codes = (
    st.integers()
    | st.sampled_from([0, 60007, 70001, 91000, 90009, 70009, -1, 2**63, 10**4000])
    | st.text(max_size=12)
    | st.sampled_from(["60007", "-0", "²", "٩", "--1", "9" * 5000, " 90009 ", "0x10"])
    | json_values
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "ActionStatus": st.sampled_from(["OK", "FAIL", "", "ok"]) | json_values,
        "ErrorCode": codes,
        "ErrorInfo": st.text(max_size=300) | json_values,
        "Complete": json_values,
        "MsgList": json_values,
    },
)


def _dumps(value: Any) -> bytes:
    # allow_nan: the service's stand-in may well send NaN; huge ints go out as digits.
    try:
        return json.dumps(value, allow_nan=True).encode()
    except ValueError:
        return b"{}"


@st.composite
def deep(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(1, 20_000))
    if draw(st.booleans()):
        return b"[" * depth + b"]" * depth
    return b'{"ErrorCode":0,"X":' + b'{"a":' * depth + b"0" + b"}" * depth + b"}"


@st.composite
def huge_numbers(draw: st.DrawFn) -> bytes:
    digits = b"9" * draw(st.integers(1, 6000))
    field = draw(st.sampled_from([b"ErrorCode", b"Complete", b"MsgCnt"]))
    frac = draw(st.sampled_from([b"", b".5", b"e999", b"e-999"]))
    return b'{"ActionStatus":"OK","' + field + b'":' + digits + frac + b"}"


@st.composite
def truncated(draw: st.DrawFn) -> bytes:
    whole = _dumps(draw(envelopes))
    return whole[: draw(st.integers(0, len(whole)))]


bodies = (
    st.binary(max_size=300)
    | envelopes.map(_dumps)
    | json_values.map(_dumps)
    | deep()
    | huge_numbers()
    | truncated()
    | st.text(max_size=200).map(lambda t: t.encode("utf-16"))
)
statuses = st.sampled_from([200, 200, 200, 200, 204, 301, 400, 404, 429, 500, 502, 503])
headers = st.fixed_dictionaries(
    {},
    optional={
        "Retry-After": st.sampled_from(["1", "0", "99999999999", "Wed, 21 Oct 2015 07:28:00 GMT"])
        | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
        "Content-Type": st.sampled_from(["application/json", "text/html", "application/x-gzip"]),
    },
)
reasons = st.binary(max_size=80)
failures = st.sampled_from(
    [
        ValueError("bad"),
        KeyError("k"),
        RuntimeError("boom"),
        RecursionError("deep"),
        OSError(104, "reset"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        httpx.RemoteProtocolError("illegal header"),
        httpx.DecodingError("bad gzip"),
        httpx.ReadError("reset by peer"),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.InvalidURL("no"),
    ]
)


def call_with(handler: Any) -> dict[str, Any] | RoamError:
    """One call against ``handler``: the OK reply, or the RoamError it ended with."""

    async def run() -> dict[str, Any] | RoamError:
        client = ImClient(
            secret_conn(endpoint="http://127.0.0.1:9"),
            transport=httpx.MockTransport(handler),
            limiter=RateLimiter(200),
            sleep=Sleeps(),
            max_retries=1,
            rate_limit_patience=0,  # give up on the first rate limit: no real waiting
        )
        try:
            return await client.call(API, BODY)
        except RoamError as exc:
            return exc
        finally:
            await client.aclose()

    return asyncio.run(run())


def check_contract(outcome: dict[str, Any] | RoamError) -> None:
    if isinstance(outcome, RoamError):
        text = str(outcome)
        assert text and "\n" not in text and "\r" not in text and len(text) <= 600
        assert outcome.__cause__ is None
    else:
        assert isinstance(outcome, dict)


@FUZZ
@given(body=bodies, status=statuses, header=headers, reason=reasons)
def test_any_reply_ends_in_an_ok_dict_or_a_roam_error(
    body: bytes, status: int, header: dict[str, str], reason: bytes
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, headers=header, content=body, extensions={"reason_phrase": reason}
        )

    check_contract(call_with(handler))


@FUZZ
@given(failure=failures, then=bodies)
def test_any_exception_from_the_transport_ends_in_a_roam_error(
    failure: Exception, then: bytes
) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise failure
        return httpx.Response(200, content=then)

    check_contract(call_with(handler))


@FUZZ
@given(envelope=envelopes)
def test_an_ok_reply_is_only_returned_when_it_says_ok(envelope: dict[str, Any]) -> None:
    outcome = call_with(lambda request: httpx.Response(200, content=_dumps(envelope)))
    check_contract(outcome)
    if isinstance(outcome, dict):
        assert outcome.get("ActionStatus", "OK") == "OK"
        assert outcome.get("ErrorCode", 0) in (0, "0", "-0", "00") or (
            isinstance(outcome.get("ErrorCode"), str) and int(outcome["ErrorCode"]) == 0
        )

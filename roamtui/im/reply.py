"""Reading one reply of the IM REST API: its body within a size cap, then its verdict.

:func:`read_reply` streams the body, refusing it past the cap (checked against Content-Length
first, then against the bytes read) and unpacking a compressed one in bounded steps, so no reply
can fill memory. :func:`verdict` turns the body into the OK reply dict or a :class:`Failure` that
says what went wrong and what the client should do (retry, re-sign, stop, slow down): invalid,
cut-short or too deeply nested JSON, and ErrorCodes that only look like numbers, end here as
failures, never as exceptions. The client (:mod:`roamtui.im.client`) owns the retries.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any, Literal

from roamtui.im import redact
from roamtui.im.errors import Action, spec_for

if TYPE_CHECKING:
    import httpx

#: Replies are capped near 13 KB by the service; anything past this is not the service talking.
MAX_REPLY_BYTES = 4 * 1024 * 1024
#: A real reply nests about 8 deep, plus 6 per level of merged forwards (the model reads 8).
MAX_DEPTH = 100
#: Codes that mean "too many calls": slow down and keep going instead of spending retries.
RATE_LIMIT_CODES = frozenset({60007, 60011, 60018, 60019})
#: Longest wait a Retry-After header may impose on one retry.
RETRY_AFTER_CAP = 60.0

_DECIMAL = re.compile(r"-?[0-9]{1,18}")  # ASCII digits only: int() takes other scripts too
#: Encodings decoded anyway when a server (or a proxy) compresses although identity was asked.
_ZLIB_WBITS = {
    "gzip": 16 + zlib.MAX_WBITS,
    "x-gzip": 16 + zlib.MAX_WBITS,
    "deflate": zlib.MAX_WBITS,
}

@dataclass(frozen=True, slots=True)
class Failure:
    kind: Literal["service", "transport", "protocol"]
    action: Action
    message: str = ""  # already redacted
    code: int = 0
    info: str = ""
    sig_generation: int = 0  # which UserSig the attempt used (never the UserSig itself)
    rate_limited: bool = False  # "too many calls": slow down, retry on the time budget
    retry_after: float | None = None  # seconds the server asked us to wait (429/503)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    reason: str
    body: bytes
    retry_after: str | None


async def read_reply(response: httpx.Response, cap: int) -> Reply | Failure:
    """The status, reason, body (up to ``cap`` bytes, unpacked in bounded steps) and
    Retry-After of one streamed reply; a Failure when it is too big or its encoding unknown."""
    declared = content_length(response.headers.get("Content-Length"))
    if declared is not None and declared > cap:
        return too_big(f"{declared:,} bytes", cap)
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    decoder = None
    # A finished reply handed over in memory (a mock transport) was decoded already.
    if encoding not in ("", "identity") and not response.is_stream_consumed:
        wbits = _ZLIB_WBITS.get(encoding)
        if wbits is None:
            name = redact.one_line(encoding, limit=20)
            text = f"reply refused: compressed as {name!r}, which was not asked for"
            return Failure("transport", Action.STOP, text)
        decoder = zlib.decompressobj(wbits)
    body = bytearray()
    # Raw bytes, decoded here in bounded steps: no chunk can unpack past the cap.
    async for chunk in _raw_chunks(response):
        if decoder is not None:
            try:
                chunk = decoder.decompress(chunk, cap + 1 - len(body))
            except zlib.error:
                text = f"unreadable reply (broken {encoding} compression)"
                return Failure("transport", Action.RETRY, text)
            if decoder.unconsumed_tail:
                return too_big(f"over {cap:,} bytes unpacked", cap)
        body += chunk
        if len(body) > cap:
            return too_big(f"over {cap:,} bytes", cap)
    return Reply(
        response.status_code,
        response.reason_phrase,
        bytes(body),
        response.headers.get("Retry-After"),
    )


async def _raw_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body as it came over the wire; a transport that handed over a finished reply (a mock
    transport, the in-process sandbox) has it in memory already, decoded."""
    if response.is_stream_consumed:
        yield response.content
        return
    async for chunk in response.aiter_raw():
        yield chunk


def too_big(size: str, cap: int) -> Failure:
    limit = f"{cap >> 20} MiB" if cap % (1 << 20) == 0 else f"{cap:,} bytes"
    text = (
        f"reply refused: {size}, more than the {limit} roamtui accepts (the service's "
        "replies are about 13 KB); check the endpoint and any proxy in between"
    )
    return Failure("transport", Action.STOP, text)


def content_length(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 20 else None


def retry_after(value: str | None, clock: Callable[[], float]) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), capped."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value) if len(value) < 10 else RETRY_AFTER_CAP
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - clock()
    if not math.isfinite(seconds):
        return None
    return min(RETRY_AFTER_CAP, max(0.0, seconds))


def verdict(
    reply: Reply, secrets: tuple[str | None, ...], clock: Callable[[], float]
) -> dict[str, Any] | Failure:
    """Read one HTTP reply: the OK reply dict, or what went wrong and whether to retry."""
    status, reason = reply.status, redact.one_line(reply.reason, limit=60)
    if status == 429 or status >= 500:
        text = f"HTTP {status} {reason} from the service"
        wait = retry_after(reply.retry_after, clock) if status in (429, 503) else None
        return Failure(
            "transport",
            Action.RETRY,
            redact.safe_text(text, secrets),
            rate_limited=status == 429,
            retry_after=wait,
        )
    if status != 200:
        text = f"HTTP {status} {reason}: check the endpoint URL and any proxy in between"
        return Failure("transport", Action.STOP, redact.safe_text(text, secrets))
    try:
        doc = json.loads(reply.body)
    except RecursionError:
        return Failure("protocol", Action.STOP, "reply refused: JSON nested too deeply")
    except ValueError:
        # Not JSON, cut short, or not UTF-8: a proxy page or a dropped connection, worth a retry.
        return Failure("transport", Action.RETRY, "unreadable reply (not JSON, or cut short)")
    if not isinstance(doc, dict):
        return Failure("transport", Action.RETRY, "unreadable reply (not a JSON object)")
    if _deeper_than(doc, MAX_DEPTH):
        return Failure(
            "protocol", Action.STOP, f"reply refused: JSON nested more than {MAX_DEPTH} deep"
        )
    code = doc.get("ErrorCode", 0)
    if isinstance(code, str) and _DECIMAL.fullmatch(code.strip()):
        code = int(code.strip())
    if isinstance(code, bool) or not isinstance(code, int):
        text = f"reply has an ErrorCode that is not a number ({type(code).__name__})"
        return Failure("protocol", Action.STOP, text)
    action_status = doc.get("ActionStatus", "OK" if code == 0 else "FAIL")
    if code == 0:
        if action_status == "OK":
            return doc
        shown = str(action_status)[:20] if isinstance(action_status, str | int) else "?"
        text = f"reply says ActionStatus {shown!r} without an error code"
        return Failure("protocol", Action.STOP, redact.safe_text(text, secrets))
    info = doc.get("ErrorInfo")
    info_text = redact.safe_text(info[:2000] if isinstance(info, str) else "", secrets, limit=200)
    return Failure(
        "service",
        spec_for(code).action,
        code=code,
        info=info_text,
        rate_limited=code in RATE_LIMIT_CODES,
    )


def _deeper_than(value: dict[str, Any], limit: int) -> bool:
    """Whether JSON containers nest more than ``limit`` deep (iterative: no recursion limit)."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def describe(failure: Failure) -> str:
    if failure.kind == "service":
        return f"{failure.code} {failure.info}".strip()
    return failure.message

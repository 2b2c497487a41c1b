"""ImClient: one POST to the IM REST API, done safely.

It builds the signed URL, goes through the process-wide rate limiter, retries what may succeed
on a second try (bounded exponential backoff with full jitter), re-signs its UserSig once when
the service rejects it, and turns every failure into one redacted :class:`RoamError`.

Why our own retry loop instead of tenacity or stamina: the decision depends on the reply body
(``ErrorCode``), re-signing is a different kind of retry with its own budget of one, and the
final exception must be rebuilt without the httpx exception chained to it (that one carries the
URL, and the URL carries the UserSig); wrapping a library for this would be longer than the loop.

Failures are collected inside :meth:`ImClient._attempt` and raised from :meth:`ImClient.call`,
outside any ``except`` block, so no exception context and no frame holding the URL ends up in a
traceback (Textual prints frame locals on a crash).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import httpx

from roamtui.im import redact, usersig
from roamtui.im.errors import (
    Action,
    ProtocolError,
    RoamError,
    ServiceError,
    TransportError,
    spec_for,
)
from roamtui.im.limiter import DEFAULT_RATE, RateLimiter, shared_limiter

log = logging.getLogger(__name__)
redact.install_log_filter(
    "httpx",  # logs every request URL, usersig included, at INFO level
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    __name__,
)

REGIONS: Mapping[str, str] = MappingProxyType(
    {
        "mainland": "https://console.tim.qq.com",
        "singapore": "https://adminapisgp.im.qcloud.com",
        "seoul": "https://adminapikr.im.qcloud.com",
        "tokyo": "https://adminapijpn.im.qcloud.com",
        "frankfurt": "https://adminapiger.im.qcloud.com",
        "silicon-valley": "https://adminapiusa.im.qcloud.com",
        "jakarta": "https://adminapiidn.im.qcloud.com",
        "mumbai": "https://adminapiind.im.qcloud.com",
    }
)
DEFAULT_REGION = "mainland"
ROAM_API = "v4/openim/admin_getroammsg"

#: Our own UserSigs live one hour and are renewed this many seconds before they run out.
SIG_TTL = 3600
SIG_RENEW_MARGIN = 300

_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
_READY_SIG_ADVICE = (
    "the given UserSig cannot be re-signed: get a new one (ROAMTUI_USERSIG), or give roamtui "
    "the secret key so it signs its own"
)


def endpoint_for(region: str | None, endpoint: str | None) -> str:
    """The base URL to call: ``endpoint`` when given, else the region's domain."""
    if endpoint:
        parts = urlsplit(endpoint.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"endpoint must be an http(s) URL like {REGIONS[DEFAULT_REGION]}")
        if parts.query or parts.fragment:
            raise ValueError("endpoint must not carry a query or fragment; give the bare domain")
        return endpoint.strip().rstrip("/")
    name = (region or DEFAULT_REGION).strip().lower().replace("_", "-").replace(" ", "-")
    try:
        return REGIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown region {region!r}; choose one of: {', '.join(REGIONS)}"
        ) from None


@dataclass(frozen=True, slots=True, repr=False)
class Connection:
    """Where and as whom to call; the secrets never show in its repr."""

    endpoint: str
    sdkappid: int
    identifier: str
    secret_key: str | None = None  # roamtui signs short-lived UserSigs with it
    usersig: str | None = None  # or a ready signature

    def __repr__(self) -> str:
        key = redact.MASK if self.secret_key else None
        sig = redact.MASK if self.usersig else None
        return (
            f"Connection(endpoint={redact.scrub(self.endpoint)!r}, sdkappid={self.sdkappid}, "
            f"identifier={self.identifier!r}, secret_key={key}, usersig={sig})"
        )


@dataclass(frozen=True, slots=True)
class ClientEvent:
    """Something worth telling the user about while a call is still going on."""

    kind: Literal["retry", "resign", "failed"]
    api: str
    attempt: int
    detail: str  # one redacted line


@dataclass(frozen=True, slots=True)
class _Failure:
    kind: Literal["service", "transport", "protocol"]
    action: Action
    message: str = ""  # already redacted
    code: int = 0
    info: str = ""
    sig_generation: int = 0  # which UserSig the attempt used (never the UserSig itself)


class ImClient:
    """Async client for the IM admin REST API (use as ``async with ImClient(conn) as c``)."""

    def __init__(
        self,
        conn: Connection,
        *,
        max_rps: float = DEFAULT_RATE,
        timeout: float = 10.0,
        max_retries: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        backoff_base: float = 0.25,
        backoff_cap: float = 8.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        on_event: Callable[[ClientEvent], None] | None = None,
    ) -> None:
        if not (conn.secret_key or conn.usersig):
            raise RoamError(
                "no credentials: give a secret key (ROAMTUI_SECRET_KEY or `roamtui login`) "
                "or a UserSig (ROAMTUI_USERSIG)"
            )
        if timeout <= 0 or max_retries < 0:
            raise ValueError("timeout must be positive and max_retries not negative")
        redact.register(conn.secret_key, conn.usersig)
        self._conn = conn
        self._base = conn.endpoint.rstrip("/")
        self._timeout = timeout
        self._max_retries = max_retries
        self._limiter = limiter if limiter is not None else shared_limiter(max_rps)
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._clock = clock
        self._on_event = on_event
        self._sig: str | None = None if conn.secret_key else conn.usersig
        self._sig_expires = 0.0
        self._sig_generation = 0
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            # Keep-alive pool sized for the window fetch's concurrent slices (up to 32).
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            follow_redirects=False,
            # Proxy settings from the environment, but never for the local sandbox.
            trust_env=not _is_loopback(self._base),
            # Loading the CA bundle costs ~35 ms at start-up; plain http (the sandbox) needs none.
            verify=self._base.startswith("https:"),
        )
        self.calls_started = 0
        self.calls_in_flight = 0
        self.retries = 0
        if urlsplit(self._base).scheme == "http" and not _is_loopback(self._base):
            log.info("endpoint %s is plain http: the UserSig travels unencrypted", self._base)

    def __repr__(self) -> str:
        return (
            f"ImClient(conn={self._conn!r}, calls_started={self.calls_started}, "
            f"calls_in_flight={self.calls_in_flight}, retries={self.retries})"
        )

    @property
    def connection(self) -> Connection:
        return self._conn

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    async def __aenter__(self) -> ImClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(self, api: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``api`` (e.g. ``v4/openim/admin_getroammsg``); return the OK reply."""
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        attempts = 0
        retried = 0
        resigned = False
        while True:
            attempts += 1
            await self._limiter.acquire()
            outcome = await self._attempt(api, payload)
            if not isinstance(outcome, _Failure):
                return outcome
            if outcome.action is Action.RESIGN and not resigned and self._conn.secret_key:
                resigned = True
                self.retries += 1
                # Concurrent calls rejected together need one new UserSig, not one each.
                if outcome.sig_generation == self._sig_generation:
                    self._sign()
                self._emit("resign", api, attempts, f"{outcome.code}: signing a new UserSig")
                continue
            if outcome.action is Action.RETRY and retried < self._max_retries:
                retried += 1
                self.retries += 1
                delay = self._backoff(retried)
                detail = f"{_describe(outcome)}; retry {retried}/{self._max_retries}, {delay:.2f}s"
                self._emit("retry", api, attempts, detail)
                await self._sleep(delay)
                continue
            error = self._final_error(outcome, attempts)
            self._emit("failed", api, attempts, str(error))
            raise error

    def _backoff(self, retry: int) -> float:
        """Full jitter: uniform in [0, min(cap, base·2^(retry-1))]."""
        ceiling = min(self._backoff_cap, self._backoff_base * 2 ** (retry - 1))
        return random.uniform(0.0, ceiling)

    def _sign(self) -> str:
        key = self._conn.secret_key
        assert key is not None
        now = int(self._clock())
        ttl = SIG_TTL
        sig = usersig.sign(self._conn.sdkappid, key, self._conn.identifier, ttl, now)
        if sig == self._sig:
            # Signing again within the same second yields the very UserSig just rejected.
            ttl -= 1
            sig = usersig.sign(self._conn.sdkappid, key, self._conn.identifier, ttl, now)
        redact.register(sig)
        self._sig = sig
        self._sig_expires = now + ttl
        self._sig_generation += 1
        return sig

    def _current_sig(self) -> str:
        if self._conn.secret_key and (
            self._sig is None or self._clock() >= self._sig_expires - SIG_RENEW_MARGIN
        ):
            return self._sign()
        return self._sig or ""

    def _url(self, api: str, sig: str) -> str:
        query = urlencode(
            {
                "sdkappid": self._conn.sdkappid,
                "identifier": self._conn.identifier,
                "usersig": sig,
                "random": random.getrandbits(32),
                "contenttype": "json",
            },
            safe="*-_",  # the UserSig's URL alphabet goes through verbatim, as the SDKs send it
        )
        return f"{self._base}/{api.lstrip('/')}?{query}"

    async def _attempt(self, api: str, payload: bytes) -> dict[str, Any] | _Failure:
        sig = self._current_sig()
        generation = self._sig_generation
        secrets = (sig, self._conn.secret_key)
        self.calls_started += 1
        self.calls_in_flight += 1
        try:
            response = await self._http.post(self._url(api, sig), content=payload, headers=_HEADERS)
        except httpx.TimeoutException as exc:
            text = f"no reply within {self._timeout:g}s ({type(exc).__name__})"
            return _Failure("transport", Action.RETRY, redact.safe_text(text, secrets))
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            text = f"cannot call the endpoint ({type(exc).__name__}: {exc}); check the endpoint URL"
            return _Failure("transport", Action.STOP, redact.safe_text(text, secrets))
        except httpx.HTTPError as exc:
            text = f"connection failed ({type(exc).__name__}: {exc or 'no detail'})"
            return _Failure("transport", Action.RETRY, redact.safe_text(text, secrets))
        finally:
            self.calls_in_flight -= 1
        verdict = _verdict(response.status_code, response.reason_phrase, response.content, secrets)
        if isinstance(verdict, _Failure) and verdict.kind == "service":
            return dataclasses.replace(verdict, sig_generation=generation)
        return verdict

    def _final_error(self, failure: _Failure, attempts: int) -> RoamError:
        if failure.kind == "service":
            advice = None
            if failure.action is Action.RESIGN and not self._conn.secret_key:
                advice = _READY_SIG_ADVICE
            return ServiceError(failure.code, failure.info, advice=advice, attempts=attempts)
        if failure.kind == "transport":
            return TransportError(failure.message, attempts=attempts)
        return ProtocolError(failure.message)

    def _emit(self, kind: Literal["retry", "resign", "failed"], api: str, n: int, d: str) -> None:
        event = ClientEvent(kind, api, n, redact.safe_text(d, (self._sig, self._conn.secret_key)))
        # INFO, not WARNING: with no logging configured, Python prints warnings to stderr,
        # which would scribble over the TUI and double the CLI's own one-line error.
        log.info("%s %s (attempt %d): %s", api, kind, n, event.detail)
        if self._on_event is not None:
            self._on_event(event)


def _verdict(
    status: int, reason: str, content: bytes, secrets: tuple[str | None, ...]
) -> dict[str, Any] | _Failure:
    """Read one HTTP reply: the OK reply dict, or what went wrong and whether to retry."""
    if status == 429 or status >= 500:
        text = f"HTTP {status} {reason} from the service"
        return _Failure("transport", Action.RETRY, redact.safe_text(text, secrets))
    if status != 200:
        text = f"HTTP {status} {reason}: check the endpoint URL and any proxy in between"
        return _Failure("transport", Action.STOP, redact.safe_text(text, secrets))
    try:
        reply = json.loads(content)
    except ValueError:
        # Not JSON, cut short, or not UTF-8: a proxy page or a dropped connection, worth a retry.
        return _Failure("transport", Action.RETRY, "unreadable reply (not JSON, or cut short)")
    if not isinstance(reply, dict):
        return _Failure("transport", Action.RETRY, "unreadable reply (not a JSON object)")
    code = reply.get("ErrorCode", 0)
    if isinstance(code, str) and code.strip().lstrip("-").isdigit():
        code = int(code)
    if isinstance(code, bool) or not isinstance(code, int):
        text = f"reply has an ErrorCode that is not a number ({type(code).__name__})"
        return _Failure("protocol", Action.STOP, text)
    action_status = reply.get("ActionStatus", "OK" if code == 0 else "FAIL")
    if code == 0:
        if action_status == "OK":
            return reply
        text = f"reply says ActionStatus {str(action_status)[:20]!r} without an error code"
        return _Failure("protocol", Action.STOP, redact.safe_text(text, secrets))
    info = reply.get("ErrorInfo")
    info_text = redact.safe_text(info if isinstance(info, str) else "", secrets, limit=200)
    return _Failure("service", spec_for(code).action, code=code, info=info_text)


def _describe(failure: _Failure) -> str:
    if failure.kind == "service":
        return f"{failure.code} {failure.info}".strip()
    return failure.message


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")

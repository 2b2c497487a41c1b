"""ImClient: one POST to the IM REST API, done safely and in bounded time and memory.

It builds the signed URL, goes through the process-wide rate limiter, retries what may succeed
on a second try (bounded exponential backoff with full jitter), re-signs its UserSig once when
the service rejects it, and turns every failure into one redacted :class:`RoamError`.

Bounds, because the service (or whatever answers in its place) may be slow, huge or hostile:

* one deadline per attempt (``timeout``, 10 s by default, far above the service's own 3 s)
  around sending the request AND reading the whole body, so a server that trickles a byte or a
  header line every few seconds cannot hold a call open (httpx's own timeouts bound each read,
  not the exchange). A call ends after at most ``max_retries + 1`` attempts;
* a cap on the reply size (``max_reply_bytes``, 4 MiB against the service's ~13 KB): the body is
  streamed and refused as soon as Content-Length or the bytes read go past it. Refused for good,
  not retried: the same request gets the same reply, and retrying multiplies the traffic;
* replies are decoded and checked inside the error contract (:mod:`roamtui.im.reply`): bad JSON,
  nesting past ``MAX_DEPTH``, any surprise while reading, end as one line;
* rate-limit answers (60007, 60011, 60018, 60019, HTTP 429) are not ordinary failures: the
  shared limiter cuts its effective rate (AIMD, see :mod:`roamtui.im.limiter`) and the call
  tries again without spending its ``max_retries``; it gives up only when no call of the
  process has succeeded for ``rate_limit_patience`` seconds (60 s). ``Retry-After`` on HTTP 429
  and 503 (seconds or an HTTP date) sets the delay of that retry, capped at 60 s.

Each retry is announced as a ``ClientEvent("retry", ...)``. The limiter is told when the request
is written (httpx's public ``trace`` extension: ``send_request_headers``), so a request held
back by a TLS handshake or a busy event loop counts when it leaves, not when it was granted.

Why our own retry loop, not tenacity or stamina: the decision depends on the reply body
(``ErrorCode``), re-signing is a retry with its own budget of one, rate limits have a budget in
time, and the final exception must be rebuilt without the httpx exception chained to it (it
carries the URL, and the URL the UserSig); wrapping a library would be longer than the loop.

Failures are collected in :meth:`ImClient._attempt` and raised from :meth:`ImClient.call` outside
any ``except``: no exception context or frame holding the URL ends up in a traceback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode, urlsplit

from roamtui.im import redact, usersig
from roamtui.im.errors import Action, ProtocolError, RoamError, ServiceError, TransportError
from roamtui.im.limiter import DEFAULT_RATE, Grant, RateLimiter, shared_limiter
from roamtui.im.reply import MAX_REPLY_BYTES, Failure, Reply, describe, read_reply, verdict
from roamtui.im.sharing import SharedSpec

if TYPE_CHECKING:
    import httpx
# httpx itself is imported by the first client made: with the click and rich it pulls in, it
# was most of `roamtui --help`, which imports this module for its tables but calls nothing.

log = logging.getLogger(__name__)
redact.install_log_filter(
    "httpx",  # logs every request URL, usersig included, at INFO level
    "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy",
    "httpcore.socks", __name__,
)

REGIONS: Mapping[str, str] = MappingProxyType({
    "mainland": "https://console.tim.qq.com",
    "singapore": "https://adminapisgp.im.qcloud.com",
    "seoul": "https://adminapikr.im.qcloud.com",
    "tokyo": "https://adminapijpn.im.qcloud.com",
    "frankfurt": "https://adminapiger.im.qcloud.com",
    "silicon-valley": "https://adminapiusa.im.qcloud.com",
    "jakarta": "https://adminapiidn.im.qcloud.com",
    "mumbai": "https://adminapiind.im.qcloud.com",
})
DEFAULT_REGION = "mainland"
ROAM_API = "v4/openim/admin_getroammsg"

#: Our own UserSigs live one hour and are renewed this many seconds before they run out.
SIG_TTL = 3600
SIG_RENEW_MARGIN = 300

#: Whole exchange of one attempt (send + all of the body); the service's own timeout is 3 s.
DEFAULT_TIMEOUT = 10.0
#: Give up on rate limits only after this long without one successful call in the process.
RATE_LIMIT_PATIENCE = 60.0
# Rate-limited retries wait a short jittered moment on top of the (slowed) limiter.
_RATE_LIMIT_BACKOFF_CAP = 2.0

_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "Accept": "application/json",
    # Replies are ~13 KB: compression saves nothing, and a compressed reply could unpack to far
    # more than the size cap before a decoder returns (a "zip bomb").
    "Accept-Encoding": "identity",
}
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
        known = ", ".join(REGIONS)
        raise ValueError(f"unknown region {region!r}; choose one of: {known}") from None


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

    kind: Literal["retry", "resign", "failed", "budget"]
    api: str
    attempt: int
    detail: str  # one redacted line


class ImClient:
    """Async client for the IM admin REST API (use as ``async with ImClient(conn) as c``)."""

    def __init__(
        self,
        conn: Connection,
        *,
        max_rps: float = DEFAULT_RATE,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 4,
        max_reply_bytes: int = MAX_REPLY_BYTES,
        rate_limit_patience: float = RATE_LIMIT_PATIENCE,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        share: SharedSpec | None = None,
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
        if not (timeout > 0 and max_retries >= 0 and max_reply_bytes > 0):
            raise ValueError("timeout and max_reply_bytes must be positive, max_retries >= 0")
        if not rate_limit_patience >= 0:
            raise ValueError("rate_limit_patience must not be negative")
        redact.register(conn.secret_key, conn.usersig)
        self._conn = conn
        self._base = conn.endpoint.rstrip("/")
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_reply = max_reply_bytes
        self._patience = rate_limit_patience
        self._limiter = limiter if limiter is not None else shared_limiter(max_rps, share)
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._clock = clock
        self._on_event = on_event
        self._sig: str | None = None if conn.secret_key else conn.usersig
        self._sig_expires = 0.0
        self._sig_generation = 0
        import httpx

        self._http = httpx.AsyncClient(
            transport=transport,
            # Per read/write/connect; the whole attempt has its own deadline on top (see _attempt).
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
        self.rate_limited = 0  # answers that said "too many calls" (also counted in retries)
        self.quickest = math.inf  # the quickest answered attempt, limiter waits left out (s)
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
        close_loop = getattr(self._limiter, "aclose_loop", None)  # stand-in limiters have none
        if close_loop is not None:
            await close_loop()

    async def call(self, api: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``api`` (e.g. ``v4/openim/admin_getroammsg``); return the OK reply."""
        return (await self.call_counted(api, body))[0]

    async def call_counted(self, api: str, body: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        """:meth:`call`, and how many HTTP attempts it took (an evidence manifest lists them)."""
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        limiter = self._limiter
        started = limiter.now()
        attempts = 0
        retried = 0
        throttled = 0
        resigned = False
        while True:
            attempts += 1
            grant: Grant | None = await limiter.acquire()
            if not isinstance(grant, Grant):  # a stand-in limiter (tests) may hand out nothing
                grant = None
            else:
                grant.hold()  # counted as "may arrive any moment" until httpx has written it
                for notice in limiter.take_notices() if self._on_event is not None else ():
                    self._emit("budget", api, attempts, notice)  # else the UI asks the limiter
            sent = limiter.now()
            try:
                outcome = await self._attempt(api, payload, grant)
            finally:
                if grant is not None:
                    grant.close()
            if not isinstance(outcome, Failure):
                limiter.succeeded()
                self.quickest = min(self.quickest, limiter.now() - sent)
                return outcome, attempts
            if outcome.action is Action.RESIGN and not resigned and self._conn.secret_key:
                resigned = True
                self.retries += 1
                # Concurrent calls rejected together need one new UserSig, not one each.
                if outcome.sig_generation == self._sig_generation:
                    self._sign()
                self._emit("resign", api, attempts, f"{outcome.code}: signing a new UserSig")
                continue
            if outcome.rate_limited:
                self.rate_limited += 1
                limiter.rate_limited(grant)
                quiet = limiter.now() - max(started, limiter.last_success)
                if quiet < self._patience:
                    throttled += 1
                    self.retries += 1
                    delay = outcome.retry_after
                    if delay is None:
                        delay = self._backoff(throttled, _RATE_LIMIT_BACKOFF_CAP)
                    detail = (
                        f"{describe(outcome)}; slowing to {limiter.effective_rate:.3g} calls/s, "
                        f"retry in {delay:.2f}s (rate limited {throttled}x; roamtui gives up "
                        f"after {self._patience:g}s without a successful call)"
                    )
                    self._emit("retry", api, attempts, detail)
                    await self._sleep(delay)
                    continue
            elif outcome.action is Action.RETRY and retried < self._max_retries:
                retried += 1
                self.retries += 1
                delay = outcome.retry_after
                if delay is None:
                    delay = self._backoff(retried, self._backoff_cap)
                detail = f"{describe(outcome)}; retry {retried}/{self._max_retries}, {delay:.2f}s"
                self._emit("retry", api, attempts, detail)
                await self._sleep(delay)
                continue
            error = self._final_error(outcome, attempts)
            self._emit("failed", api, attempts, str(error))
            raise error

    def _backoff(self, retry: int, cap: float) -> float:
        """Full jitter: uniform in [0, min(cap, base·2^(retry-1))]."""
        ceiling = min(cap, self._backoff_base * 2 ** min(retry - 1, 30))
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

    async def _attempt(
        self, api: str, payload: bytes, grant: Grant | None
    ) -> dict[str, Any] | Failure:
        import httpx  # loaded by __init__: a lookup

        sig = self._current_sig()
        generation = self._sig_generation
        secrets = (sig, self._conn.secret_key)
        self.calls_started += 1
        self.calls_in_flight += 1
        try:
            async with asyncio.timeout(self._timeout):
                exchanged = await self._exchange(self._url(api, sig), payload, grant)
        except (TimeoutError, httpx.TimeoutException):
            text = f"no complete reply within {self._timeout:g}s"
            return Failure("transport", Action.RETRY, text)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            text = f"cannot call the endpoint ({type(exc).__name__}: {exc}); check the endpoint URL"
            return Failure("transport", Action.STOP, redact.safe_text(text, secrets))
        except httpx.HTTPError as exc:
            text = f"connection failed ({type(exc).__name__}: {exc or 'no detail'})"
            return Failure("transport", Action.RETRY, redact.safe_text(text, secrets))
        except Exception as exc:  # a hostile reply must not escape the error contract
            text = f"unexpected failure while reading the reply ({type(exc).__name__})"
            return Failure("transport", Action.STOP, text)
        finally:
            self.calls_in_flight -= 1
        if isinstance(exchanged, Failure):
            return exchanged
        try:
            outcome = verdict(exchanged, secrets, self._clock)
        except Exception as exc:  # the last line of defence: never leak, never crash
            text = f"reply could not be checked ({type(exc).__name__})"
            return Failure("protocol", Action.STOP, text)
        if isinstance(outcome, Failure) and outcome.kind == "service":
            return dataclasses.replace(outcome, sig_generation=generation)
        return outcome

    async def _exchange(self, url: str, payload: bytes, grant: Grant | None) -> Reply | Failure:
        """Send, then read the body up to the size cap (the caller bounds the time)."""

        async def trace(event: str, info: Mapping[str, Any]) -> None:
            if grant is None:
                return
            if event.endswith(".send_request_headers.started"):
                await grant.on_time()  # a shared slot missed (busy loop, new connection): renew
            elif event.endswith(".send_request_headers.complete"):
                grant.sent()

        async with self._http.stream(
            "POST", url, content=payload, headers=_HEADERS, extensions={"trace": trace}
        ) as response:
            return await read_reply(response, self._max_reply)

    def _final_error(self, failure: Failure, attempts: int) -> RoamError:
        patience = ""
        if failure.rate_limited:
            patience = (
                f"no call succeeded for {self._patience:g}s although roamtui slowed down to "
                f"{self._limiter.effective_rate:.3g} calls/s; the app's quota is used up by "
                "other callers: lower --max-rps or try again later"
            )
        if failure.kind == "service":
            advice = patience or None
            if failure.action is Action.RESIGN and not self._conn.secret_key:
                advice = _READY_SIG_ADVICE
            return ServiceError(failure.code, failure.info, advice=advice, attempts=attempts)
        if failure.kind == "transport":
            message = f"{failure.message} — {patience}" if patience else failure.message
            return TransportError(message, attempts=attempts)
        return ProtocolError(failure.message)

    def _emit(
        self, kind: Literal["retry", "resign", "failed", "budget"], api: str, n: int, d: str
    ) -> None:
        event = ClientEvent(kind, api, n, redact.safe_text(d, (self._sig, self._conn.secret_key)))
        # INFO, not WARNING: with no logging configured, Python prints warnings to stderr,
        # which would scribble over the TUI and double the CLI's own one-line error.
        log.info("%s %s (attempt %d): %s", api, kind, n, event.detail)
        if self._on_event is not None:
            self._on_event(event)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")

"""The team budget: the same GCRA as :mod:`roamtui.im.budget`, kept in a Redis server.

Every roamtui of an app that is given ``--rate-store redis://HOST:PORT/DB`` reserves its slots
from one key, ``roamtui:budget:<SDKAppID>``, through one Lua script: Redis runs a script whole
before any other command, so read-compare-write is atomic across every machine of the team, in
one round trip. The script takes "now" from the Redis server's own clock (``TIME``), so the
machines' clocks never have to agree; it answers the wait in microseconds, which the caller
counts from the middle of its round trip (an error of at most half the round trip, well inside
the limiter's 20 ms guard on a LAN). The key expires a second after its last slot: an idle team
leaves nothing behind, and a crashed machine holds nothing.

Why not the ``limits`` library (its moving window over ``limits.aio.storage.RedisStorage``)? Its
``hit()`` answers yes or no: a refused caller has to poll ``get_window_stats`` and try again, so
sixteen waiting tasks per process become a polling herd with no order among them, and a moving
window lets a whole second's worth through at once, a burst of 60 at the top of each window
that the service sees as exactly the bunching that earns 60007 once a path's jitter moves one
call across. GCRA answers "wait this long" in one call, FIFO and evenly spaced, in a dozen
lines of Lua that mirror :func:`roamtui.im.budget.gcra_step`; ``limits`` would be a second
dependency with its own storage layer for less.

The ``redis`` package (``pip install 'roamtui[team]'``) is imported only when a rate store is
asked for; :func:`check_url` says so in one line. A client is opened per event loop (the
process-wide limiter may serve several in turn) with short timeouts, so a Redis that stops
answering costs at most :data:`TIMEOUT` before the limiter falls back to the local budget.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
import weakref
from typing import Any
from urllib.parse import unquote, urlsplit

from roamtui.im import redact
from roamtui.im.budget import MAX_AHEAD, BudgetUnavailable

#: Seconds a connect or a reply from Redis may take before the budget counts as unreachable.
TIMEOUT = 0.5
KEY_PREFIX = "roamtui:budget:"
SCHEMES = ("redis", "rediss", "unix")

# KEYS[1]: the budget. ARGV[1]: the slot's width, ARGV[2]: MAX_AHEAD, ARGV[3]: the earliest
# start from now, all in microseconds.
# Returns the wait until the slot, in microseconds (integers: Lua numbers become integer
# replies, and microseconds since 1970 are exact in a double).
GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now or tat > now + tonumber(ARGV[2]) then tat = now end
tat = math.max(tat, now + tonumber(ARGV[3]))
local nxt = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.floor((nxt - now) / 1000) + 1000)
return tat - now
"""

MISSING_PACKAGE = (
    "--rate-store needs the redis package: pip install 'roamtui[team]' (or pip install redis)"
)


def check_url(url: str) -> str:
    """The label of a rate store URL ("redis HOST:PORT/DB", no password), or ValueError with one
    line: a URL that is not redis://, rediss:// or unix://, or no ``redis`` package."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in SCHEMES:
        raise ValueError(
            "a rate store is a Redis URL like redis://HOST:6379/0 (or rediss://, unix://), "
            f"not {redact.scrub(text)!r}"
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the rate store URL has a port that is not a number") from None
    if parts.scheme == "unix":
        where = parts.path or "?"
    else:
        if not parts.hostname:
            raise ValueError("the rate store URL names no host: redis://HOST:PORT/DB")
        db = parts.path.strip("/") or "0"
        if not db.isdecimal():
            raise ValueError(f"the rate store's database must be a number, not {db!r}")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        where = f"{host}:{port or 6379}/{db}"
    if importlib.util.find_spec("redis") is None:
        raise ValueError(MISSING_PACKAGE)
    return f"redis {where}"


class RedisBudget:
    """GCRA slots from a Redis server shared by the team (see the module docstring)."""

    def __init__(self, url: str, sdkappid: int, *, timeout: float = TIMEOUT) -> None:
        self.label = check_url(url)
        self._url = url.strip()
        self._key = f"{KEY_PREFIX}{int(sdkappid)}"
        self._timeout = timeout
        password = urlsplit(self._url).password
        if password:
            redact.register(unquote(password))
        # One client per event loop: redis.asyncio connections belong to the loop that made them.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, Any]] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"RedisBudget({self.label!r}, key={self._key!r})"

    def _client(self) -> tuple[Any, Any]:
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            import redis.asyncio  # lazily: only a user of --rate-store needs the package

            client = redis.asyncio.Redis.from_url(
                self._url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                retry_on_timeout=False,
                health_check_interval=0,
            )
            found = (client, client.register_script(GCRA_LUA))
            self._clients[loop] = found
        return found

    async def reserve(self, interval: float, not_before: float = 0.0) -> float:
        client, script = self._client()
        sent = time.monotonic()
        try:
            async with asyncio.timeout(self._timeout * 2):
                wait_us = await script(
                    keys=[self._key],
                    args=[round(interval * 1e6), round(MAX_AHEAD * 1e6), round(not_before * 1e6)],
                )
        except Exception as exc:  # redis' errors, OSError, timeouts: all mean "not now"
            await self._drop(client)
            detail = redact.scrub(str(exc) or "no detail").rstrip(".")
            raise BudgetUnavailable(
                f"the team budget ({self.label}) is unreachable: {type(exc).__name__}: {detail}"
            ) from None
        # The wait was measured from the moment Redis ran the script, about half a round trip ago.
        half_trip = (time.monotonic() - sent) / 2
        return max(0.0, int(wait_us) / 1e6 - half_trip)

    async def _drop(self, client: Any) -> None:
        for loop, (known, _) in list(self._clients.items()):
            if known is client:
                del self._clients[loop]
        try:
            async with asyncio.timeout(self._timeout):
                await client.aclose()
        except Exception:  # closing a dead connection may fail in any way; nothing to keep
            pass

    async def aclose(self) -> None:
        found = self._clients.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await self._drop(found[0])

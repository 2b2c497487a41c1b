"""Rate-limit answers slow the whole process down instead of failing the call (issue 12, point 7).

60007/60011/60018/60019 and HTTP 429 cut the shared limiter's effective rate (AIMD) and are
retried on a budget of time, not of tries: a call gives up only after ``rate_limit_patience``
seconds without any successful call. ``Retry-After`` on 429/503 sets the delay of that retry.
Time here is fake: the limiter and the client sleep on one clock that only moves when they wait.
"""

from __future__ import annotations

import asyncio
import email.utils

import httpx
import pytest
from imfakes import API, FakeService, MakeClient, fail_reply, ok_reply

from roamtui.im.client import ClientEvent
from roamtui.im.errors import ServiceError, TransportError
from roamtui.im.limiter import RateLimiter
from roamtui.im.reply import RATE_LIMIT_CODES, RETRY_AFTER_CAP

BODY = {"From_Account": "user2", "To_Account": "user1", "MaxCnt": 100, "MinTime": 1, "MaxTime": 2}
WALL = 1_700_000_000.0


class Clock:
    """Monotonic fake time shared by the limiter and the client's sleeps."""

    def __init__(self) -> None:
        self.now = 5000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(clock: Clock) -> RateLimiter:
    return RateLimiter(40, clock=clock, sleep=clock.sleep)


def test_the_rate_limit_codes() -> None:
    assert {60007, 60011, 60018, 60019} == RATE_LIMIT_CODES


@pytest.mark.parametrize("code", sorted(RATE_LIMIT_CODES))
async def test_rate_limits_slow_down_and_do_not_spend_the_retries(
    code: int, make_client: MakeClient, clock: Clock, limiter: RateLimiter
) -> None:
    events: list[ClientEvent] = []
    service = FakeService(*[fail_reply(code, "REST API call frequency limit")] * 12, ok_reply())
    client = make_client(
        service, limiter=limiter, sleep=clock.sleep, max_retries=2, on_event=events.append
    )
    reply = await client.call(API, BODY)
    assert reply["ActionStatus"] == "OK"
    assert len(service.requests) == 13  # far past max_retries=2: rate limits are not failures
    assert client.rate_limited == 12 and client.retries == 12
    # Every answer came to a request granted after the previous cut: halved each time, to 1/s,
    # and the success at the end raised it by INCREASE.
    assert limiter.cuts == 12 and limiter.effective_rate == 3.0 and limiter.rate == 40
    assert [e.kind for e in events] == ["retry"] * 12
    assert events[0].detail.startswith(f"{code} REST API call frequency limit; slowing to 20 ")
    assert "gives up after 60s without a successful call" in events[0].detail


@pytest.mark.parametrize("code", sorted(RATE_LIMIT_CODES))
async def test_a_call_gives_up_after_the_patience_without_any_success(
    code: int, make_client: MakeClient, clock: Clock, limiter: RateLimiter
) -> None:
    service = FakeService(fail_reply(code))
    client = make_client(service, limiter=limiter, sleep=clock.sleep, rate_limit_patience=60)
    start = clock.now
    with pytest.raises(ServiceError) as info:
        await client.call(API, BODY)
    waited = clock.now - start
    assert 60 <= waited <= 60 + 2 + 1.1  # the patience, plus at most one backoff and one slot
    assert info.value.code == code and info.value.attempts == len(service.requests)
    text = str(info.value)
    assert "no call succeeded for 60s although roamtui slowed down to 1 calls/s" in text
    assert text.endswith(f"[gave up after {len(service.requests)} attempts]")


async def test_successes_elsewhere_keep_a_rate_limited_call_going(
    make_client: MakeClient, clock: Clock, limiter: RateLimiter
) -> None:
    # 90 s of 60007 for this call, but other calls of the process succeed meanwhile.
    def answer(request: httpx.Request) -> httpx.Response:
        if clock.now - 5000 < 90:
            limiter.succeeded()
            return fail_reply(60007)
        return ok_reply()

    service = FakeService(answer)
    client = make_client(service, limiter=limiter, sleep=clock.sleep, rate_limit_patience=60)
    assert (await client.call(API, BODY))["ActionStatus"] == "OK"
    assert clock.now - 5000 >= 90


async def test_answers_of_one_generation_cut_the_rate_once(
    make_client: MakeClient, clock: Clock
) -> None:
    limiter = RateLimiter(40)  # real time: eight calls held at the server together
    gate = asyncio.Event()
    arrived = asyncio.Semaphore(0)
    first_round: set[str] = set()

    async def all_limited_at_once(request: httpx.Request) -> httpx.Response:
        rnd = request.url.params["random"]
        if len(first_round) < 8:
            first_round.add(rnd)
            arrived.release()
            await gate.wait()
            return fail_reply(60007)
        return ok_reply()

    service = FakeService(all_limited_at_once)  # type: ignore[arg-type]
    client = make_client(service, limiter=limiter, sleep=clock.sleep)
    calls = [asyncio.create_task(client.call(API, BODY)) for _ in range(8)]
    async with asyncio.timeout(20):
        for _ in range(8):
            await arrived.acquire()
        gate.set()
        await asyncio.gather(*calls)
    assert limiter.cuts == 1  # eight answers, one cut: halved, not divided by 2**8
    assert 20 <= limiter.effective_rate < 21  # and the successes since then raised it a bit
    assert client.rate_limited == 8 and len(service.requests) == 16


# --- HTTP 429 and Retry-After -----------------------------------------------------------------


async def test_429_with_retry_after_seconds_waits_that_long(
    make_client: MakeClient, clock: Clock, limiter: RateLimiter
) -> None:
    service = FakeService(httpx.Response(429, headers={"Retry-After": "7"}), ok_reply())
    client = make_client(service, limiter=limiter, sleep=clock.sleep, max_retries=0)
    assert (await client.call(API, BODY))["ActionStatus"] == "OK"  # not counted as a retry
    assert 7.0 in clock.sleeps
    assert limiter.effective_rate < 40 and client.rate_limited == 1


async def test_503_with_retry_after_as_a_date_waits_until_then(
    make_client: MakeClient, clock: Clock, limiter: RateLimiter
) -> None:
    when = email.utils.formatdate(WALL + 30, usegmt=True)
    service = FakeService(httpx.Response(503, headers={"Retry-After": when}), ok_reply())
    client = make_client(service, limiter=limiter, sleep=clock.sleep, clock=lambda: WALL)
    assert (await client.call(API, BODY))["ActionStatus"] == "OK"
    assert 30.0 in clock.sleeps
    assert limiter.effective_rate == 40  # a 503 is no rate limit
    assert client.retries == 1 and client.rate_limited == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("3600", RETRY_AFTER_CAP, id="capped"),
        pytest.param(email.utils.formatdate(WALL - 100, usegmt=True), 0.0, id="date-in-the-past"),
        pytest.param("0", 0.0, id="zero"),
    ],
)
async def test_retry_after_is_bounded(
    value: str,
    expected: float,
    make_client: MakeClient,
    clock: Clock,
    limiter: RateLimiter,
) -> None:
    service = FakeService(httpx.Response(503, headers={"Retry-After": value}), ok_reply())
    client = make_client(service, limiter=limiter, sleep=clock.sleep, clock=lambda: WALL)
    await client.call(API, BODY)
    assert clock.sleeps[0] == expected
    assert RETRY_AFTER_CAP == 60


@pytest.mark.parametrize("value", ["soon", "", "-5", "1e9", "Mon, 99 Foo 2024 99:99:99 GMT"])
async def test_a_retry_after_that_makes_no_sense_falls_back_to_backoff(
    value: str, make_client: MakeClient, clock: Clock, limiter: RateLimiter
) -> None:
    service = FakeService(httpx.Response(503, headers={"Retry-After": value}), ok_reply())
    client = make_client(service, limiter=limiter, sleep=clock.sleep, backoff_base=0.25)
    await client.call(API, BODY)
    assert 0 <= clock.sleeps[0] <= 0.25


async def test_503_retries_still_spend_the_ordinary_budget(
    make_client: MakeClient, clock: Clock, limiter: RateLimiter
) -> None:
    service = FakeService(httpx.Response(503, headers={"Retry-After": "1"}))
    client = make_client(service, limiter=limiter, sleep=clock.sleep, max_retries=2)
    with pytest.raises(TransportError) as info:
        await client.call(API, BODY)
    assert str(info.value) == (
        "HTTP 503 Service Unavailable from the service [gave up after 3 attempts]"
    )


async def test_429_forever_gives_up_after_the_patience(
    make_client: MakeClient, clock: Clock, limiter: RateLimiter
) -> None:
    service = FakeService(httpx.Response(429))
    client = make_client(service, limiter=limiter, sleep=clock.sleep, rate_limit_patience=20)
    with pytest.raises(TransportError) as info:
        await client.call(API, BODY)
    assert str(info.value).startswith(
        "HTTP 429 Too Many Requests from the service — no call succeeded for 20s although "
        "roamtui slowed down to "
    )
    assert clock.now - 5000 >= 20

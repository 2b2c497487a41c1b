"""The 200 calls/s quota, latency with jitter, injected faults, the socket-free transport."""

from __future__ import annotations

import json
from collections import Counter

import httpx
import pytest
from sandboxkit import SEED_MAX, SEED_MIN, FrozenClock, seed_store

from roamtui.sandbox import ROAM_PATH, Fault, SandboxService

BODY = json.dumps(
    {
        "From_Account": "user2",
        "To_Account": "user1",
        "MaxCnt": 100,
        "MinTime": SEED_MIN,
        "MaxTime": SEED_MAX,
    }
).encode()


def _codes(service: SandboxService, calls: int) -> Counter[int]:
    query = service.make_query()
    return Counter(
        json.loads(service.handle("POST", ROAM_PATH, query, BODY).body)["ErrorCode"]
        for _ in range(calls)
    )


def test_a_burst_beyond_200_calls_in_a_second_gets_60007() -> None:
    clock = FrozenClock()
    service = SandboxService(seed_store(), clock=clock)
    assert _codes(service, 260) == {0: 200, 60007: 60}
    assert service.stats().rate_limited == 60


def test_the_quota_refills_at_200_per_second() -> None:
    clock = FrozenClock()
    service = SandboxService(seed_store(), clock=clock)
    _codes(service, 200)
    clock.advance(0.25)
    assert _codes(service, 60) == {0: 50, 60007: 10}
    clock.advance(5.0)  # the burst never grows past one second's worth
    assert _codes(service, 210) == {0: 200, 60007: 10}


def test_a_paced_client_is_never_limited() -> None:
    clock = FrozenClock()
    service = SandboxService(seed_store(), clock=clock)
    for _ in range(1000):
        clock.advance(1 / 200)
        assert _codes(service, 1) == {0: 1}


def test_rate_limit_none_turns_the_quota_off() -> None:
    service = SandboxService(seed_store(), rate_limit=None, clock=FrozenClock())
    assert _codes(service, 500) == {0: 500}


def test_no_faults_and_no_latency_by_default() -> None:
    service = SandboxService(seed_store(), rate_limit=None)
    replies = [service.handle("POST", ROAM_PATH, service.make_query(), BODY) for _ in range(300)]
    assert {(r.status, r.fault, r.delay) for r in replies} == {(200, Fault.NONE, 0.0)}


def test_latency_has_jitter_around_the_mean() -> None:
    service = SandboxService(seed_store(), rate_limit=None, latency_ms=50)
    delays = [
        service.handle("POST", ROAM_PATH, service.make_query(), BODY).delay for _ in range(200)
    ]
    assert all(0.0375 <= d <= 0.0625 for d in delays)
    assert len(set(delays)) > 100
    assert 0.045 < sum(delays) / len(delays) < 0.055


def test_fault_rate_mixes_every_fault() -> None:
    service = SandboxService(seed_store(), rate_limit=None, fault_rate=1.0, slow_reply_s=30.0)
    query = service.make_query()
    clean = SandboxService(seed_store())
    good = clean.handle("POST", ROAM_PATH, clean.make_query(), BODY).body
    seen: Counter[Fault] = Counter()
    for _ in range(200):
        reply = service.handle("POST", ROAM_PATH, query, BODY)
        seen[reply.fault] += 1
        if reply.fault is Fault.HTTP_502:
            assert reply.status == 502 and reply.headers["Content-Type"] == "text/html"
        elif reply.fault is Fault.ERROR_91000:
            assert reply.status == 200 and reply.json()["ErrorCode"] == 91000
        elif reply.fault is Fault.TRUNCATED:
            assert (
                reply.status == 200 and good.startswith(reply.body) and len(reply.body) < len(good)
            )
            with pytest.raises(ValueError):
                json.loads(reply.body)
        else:
            assert reply.fault is Fault.SLOW and reply.delay >= 30.0
            assert reply.json()["MsgCnt"] == 17  # slow, but the right answer
    assert set(seen) == {Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED, Fault.SLOW}
    assert min(seen.values()) > 25
    stats = service.stats()
    assert (stats.calls, stats.ok, sum(stats.faults.values())) == (200, 0, 200)


def test_a_small_fault_rate_leaves_most_calls_alone() -> None:
    service = SandboxService(seed_store(), rate_limit=None, fault_rate=0.1, seed=4)
    faults = [
        service.handle("POST", ROAM_PATH, service.make_query(), BODY).fault for _ in range(1000)
    ]
    assert 50 < sum(f is not Fault.NONE for f in faults) < 150


async def test_mock_transport_runs_the_service_without_a_socket() -> None:
    service = SandboxService(seed_store())
    async with httpx.AsyncClient(
        transport=service.mock_transport(), base_url="http://sandbox"
    ) as client:
        ok = await client.post(ROAM_PATH, params=service.make_query(), content=BODY)
        missing = await client.get("/nowhere")
    assert ok.status_code == 200 and ok.json()["MsgCnt"] == 17
    assert missing.status_code == 404


async def test_mock_transport_is_also_a_mock_transport_handler() -> None:
    service = SandboxService(seed_store())
    transport = httpx.MockTransport(service.mock_transport())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        reply = await client.post(ROAM_PATH, params=service.make_query(), content=BODY)
    assert reply.json()["ErrorCode"] == 0


async def test_mock_transport_slow_reply_times_out_like_a_socket() -> None:
    service = SandboxService(seed_store(), fault_rate=1.0, slow_reply_s=60.0)
    service.faults.faults = (Fault.SLOW,)
    async with httpx.AsyncClient(transport=service.mock_transport(), timeout=0.05) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(
                f"http://sandbox{ROAM_PATH}", params=service.make_query(), content=BODY
            )


async def test_mock_transport_delivers_after_latency() -> None:
    service = SandboxService(seed_store(), latency_ms=20)
    async with httpx.AsyncClient(transport=service.mock_transport(), timeout=5) as client:
        reply = await client.post(
            f"http://sandbox{ROAM_PATH}", params=service.make_query(), content=BODY
        )
    assert reply.json()["MsgCnt"] == 17

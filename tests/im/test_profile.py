"""portrait_get through the im layer against the sandbox: batches, per-account codes, faults,
the run's cache, and replies that do not answer the request."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from imfakes import FakeService, MakeClient, fail_reply

from roamtui.im.client import ImClient
from roamtui.im.errors import ProtocolError, RoamError, ServiceError, TransportError
from roamtui.im.limiter import RateLimiter
from roamtui.im.profile import MAX_BATCH, Nicknames, fetch_profiles, party_label
from roamtui.sandbox import Fault, ListStore, SandboxService, demo_connection
from roamtui.sandbox.directory import PORTRAIT_PATH
from roamtui.sandbox.people import Directory


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


def _directory(n: int = 250) -> Directory:
    accounts = {f"u{i:03d}" for i in range(n)}
    nicks = {f"u{i:03d}": f"用户 {i}" if i % 2 else f"User {i}" for i in range(n) if i % 10}
    return Directory(accounts=accounts, nicknames=nicks)


def _service(directory: Directory, **options: object) -> SandboxService:
    options.setdefault("rate_limit", None)
    return SandboxService(ListStore({}), directory=directory, **options)  # type: ignore[arg-type]


def _client(service: SandboxService, **kw: object) -> ImClient:
    kw.setdefault("timeout", 0.5)
    kw.setdefault("max_retries", 8)
    return ImClient(
        demo_connection("http://sandbox.test"), transport=service.mock_transport(),
        limiter=RateLimiter(200), sleep=_no_wait, **kw,  # type: ignore[arg-type]
    )


def _portrait_calls(service: SandboxService) -> int:
    return service.stats().calls


async def test_over_a_hundred_accounts_go_in_batches_of_at_most_a_hundred() -> None:
    service = _service(_directory(250))
    asked = [f"u{i:03d}" for i in range(250)] + ["ghost", "u001"]  # unknown, and a repeat
    seen: list[int] = []
    handler = service.directory_api.handlers[PORTRAIT_PATH]

    def counting(doc: dict[str, object]) -> bytes:
        seen.append(len(doc["To_Account"]))  # type: ignore[arg-type]
        return handler(doc)

    service.directory_api.handlers = {**service.directory_api.handlers, PORTRAIT_PATH: counting}
    async with _client(service) as client:
        profiles = await fetch_profiles(client, asked)
    assert sorted(seen, reverse=True) == [100, 100, 51] and max(seen) <= MAX_BATCH
    assert profiles["u001"].nickname == "用户 1" and profiles["u002"].nickname == "User 2"
    assert profiles["u010"].found and profiles["u010"].nickname == ""  # exists, no nickname
    assert not profiles["ghost"].found and profiles["ghost"].code == 40003
    assert len(profiles) == 251


async def test_a_batch_refused_whole_for_unknown_accounts_is_split_until_they_are_alone() -> None:
    service = _service(_directory(100))
    service.directory_api.unknown_fails_request = True
    asked = [f"u{i:03d}" for i in range(98)] + ["ghost1", "ghost2"]
    async with _client(service) as client:
        profiles = await fetch_profiles(client, asked)
    assert profiles["u003"].nickname == "用户 3" and profiles["u096"].nickname == "User 96"
    assert profiles["ghost1"].code == profiles["ghost2"].code == 40003
    # Two unknown accounts among 100 cost a few halvings, not a call per account.
    assert _portrait_calls(service) <= 2 * 2 * 7 + 1


async def test_an_account_whose_item_says_try_again_is_asked_once_more() -> None:
    directory = _directory(20)
    directory.flaky = {"u005": 1, "u007": 5}  # u007 keeps failing
    service = _service(directory)
    async with _client(service) as client:
        profiles = await fetch_profiles(client, [f"u{i:03d}" for i in range(20)])
    assert profiles["u005"].nickname == "用户 5"
    assert profiles["u007"].code == 40006 and profiles["u007"].nickname == ""
    assert _portrait_calls(service) == 2  # the batch, then the two flaky accounts once


async def test_faults_and_latency_are_ridden_out_by_the_clients_retries() -> None:
    service = _service(_directory(500), fault_rate=0.5, latency_ms=5, seed=4, slow_reply_s=1.0)
    service.faults.faults = (Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED, Fault.SLOW)
    async with _client(service, timeout=0.3, max_retries=12) as client:
        profiles = await fetch_profiles(client, [f"u{i:03d}" for i in range(500)])
    assert all(profiles[f"u{i:03d}"].nickname for i in range(500) if i % 10)
    assert sum(service.stats().faults.values()) >= 2


async def test_the_cache_asks_once_per_account_even_for_concurrent_callers() -> None:
    service = _service(_directory(50), latency_ms=20)
    async with _client(service) as client:
        names = Nicknames(client)
        first, second = await asyncio.gather(
            names.resolve(["u001", "u002", "u003"]), names.resolve(["u002", "u003", "u004"])
        )
        again = await names.resolve(["u001", "u004"])
    assert first["u001"].nickname == "用户 1" and second["u004"].nickname == "User 4"
    assert again["u004"] == second["u004"]
    assert _portrait_calls(service) == 2  # u001-3, then u004 alone; nothing the third time
    assert names.party("u001") == "用户 1 (u001)" and names.party("nobody") == "nobody"
    assert names.names(["u001", "u010", "zzz"]) == {"u001": "用户 1"}


async def test_a_failed_lookup_is_not_kept(make_client: MakeClient) -> None:
    ok = httpx.Response(200, json={
        "ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "",
        "UserProfileItem": [{"To_Account": "a", "ResultCode": 0,
                             "ProfileItem": [{"Tag": "Tag_Profile_IM_Nick", "Value": "Ann"}]}],
    })
    service = FakeService(httpx.ConnectError("refused"), ok)
    names = Nicknames(make_client(service, max_retries=0))
    with pytest.raises(TransportError):
        await names.resolve(["a"])
    assert "a" not in names
    assert (await names.resolve(["a"]))["a"].nickname == "Ann"


@pytest.mark.parametrize("items", [
    [{"To_Account": "mallory", "ResultCode": 0, "ProfileItem": []}],  # not asked for
    "not a list",
    [["To_Account", "a"]],
    [{"To_Account": "a", "ResultCode": "0"}],
])
async def test_a_reply_that_does_not_answer_the_request_is_refused(
    make_client: MakeClient, items: object
) -> None:
    body = {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "UserProfileItem": items}
    client = make_client(FakeService(httpx.Response(200, json=body)))
    with pytest.raises(ProtocolError):
        await fetch_profiles(client, ["a", "b"])


async def test_odd_values_and_left_out_accounts_mean_no_nickname(make_client: MakeClient) -> None:
    body = {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "UserProfileItem": [
        {"To_Account": "a", "ProfileItem": [{"Tag": "Tag_Profile_IM_Nick", "Value": 7}]},
        {"To_Account": "b", "ProfileItem": [{"Tag": "Tag_Profile_IM_Nick", "Value": "x" * 9000}]},
    ]}
    service = FakeService(httpx.Response(200, json=body))
    profiles = await fetch_profiles(make_client(service), ["a", "b", "c", "", "é" * 80])
    assert profiles["a"].nickname == "" and profiles["a"].found
    assert len(profiles["b"].nickname) == 500  # bounded
    assert not profiles["c"].found  # left out of the reply
    assert not profiles[""].found and not profiles["é" * 80].found  # never asked: not UserIDs
    assert json.loads(service.requests[0].content)["To_Account"] == ["a", "b", "c"]


async def test_a_whole_request_failure_that_is_not_about_accounts_is_raised(
    make_client: MakeClient,
) -> None:
    client = make_client(FakeService(fail_reply(40004, "Err_Profile_Need_Admin")))
    with pytest.raises(ServiceError) as caught:
        await fetch_profiles(client, ["a"])
    assert caught.value.code == 40004 and "App admin" in str(caught.value)
    assert isinstance(caught.value, RoamError)


def test_party_label_puts_the_account_in_brackets_after_a_nickname() -> None:
    assert party_label("王小明", "cust_1001") == "王小明 (cust_1001)"
    assert party_label("", "cust_1001") == "cust_1001"
    assert party_label("  ", "x") == "x"
    assert party_label("x", "x") == "x"

"""The demo dataset's per-side histories: deterministic, each side read through the service
holds exactly its own history, and `roamtui sandbox` says how the sides differ."""

from __future__ import annotations

import io
import json
import threading

from roamtui.sandbox import ROAM_PATH, Dataset, SandboxService
from roamtui.sandbox.serve import describe, run
from roamtui.sandbox.sides import demo_plans, demo_store

END = 1_700_000_000


def read_all(service: SandboxService, account: str, peer: str) -> list[str]:
    """Every MsgKey ``account`` holds with ``peer``, paged newest first as a client would."""
    keys: list[str] = []
    body: dict[str, object] = {"From_Account": account, "To_Account": peer, "MaxCnt": 100,
                               "MinTime": 0, "MaxTime": END}
    while True:
        page = service.handle("POST", ROAM_PATH, service.make_query(),
                              json.dumps(body).encode()).json()
        assert page["ErrorCode"] == 0
        keys[:0] = [m["MsgKey"] for m in page["MsgList"]]
        if page["Complete"] or not page["MsgList"]:
            return keys
        body = {**body, "MaxTime": page["LastMsgTime"], "LastMsgKey": page["LastMsgKey"]}


def test_demo_plans_are_deterministic_and_differ_per_side() -> None:
    one, two = Dataset(seed=4, messages=3000, end_time=END), Dataset(seed=4, messages=3000,
                                                                    end_time=END)
    assert demo_plans(one, one.conversations, 4) == demo_plans(two, two.conversations, 4)
    other = Dataset(seed=5, messages=3000, end_time=END)
    assert demo_plans(other, other.conversations, 5) != demo_plans(one, one.conversations, 4)
    customer, agent = one.conversations[0]
    plans = demo_plans(one, one.conversations, 4)
    ours, theirs = plans[(customer, agent)], plans[(agent, customer)]
    assert ours.cleared_before is not None and ours.deleted and theirs.unsynced
    conv = one.conversation(customer, agent)
    assert conv is not None
    senders = {conv.key(i): conv.message(i)["From_Account"] for i in range(len(conv))}
    # The customer deleted what it wrote; the agent never held some of what it sent.
    assert {senders[k] for k in ours.deleted} == {customer}
    assert {senders[k] for k in theirs.unsynced} == {agent}


def test_reading_as_each_side_through_the_service_gives_that_side_only() -> None:
    dataset = Dataset(seed=0, messages=1500, end_time=END)
    store = demo_store(dataset)
    service = SandboxService(store, rate_limit=None)
    customer, agent = dataset.conversations[0]
    conv = dataset.conversation(customer, agent)
    assert conv is not None
    whole = [conv.key(i) for i in range(len(conv))]
    ours, theirs = read_all(service, customer, agent), read_all(service, agent, customer)
    plan_c, plan_a = store.plan(customer, agent), store.plan(agent, customer)
    assert ours == [k for i, k in enumerate(whole) if not plan_c.hides(conv.times[i], k)]
    assert theirs == [k for i, k in enumerate(whole) if not plan_a.hides(conv.times[i], k)]
    assert ours != theirs and set(ours) | set(theirs) == set(whole)
    # The same dataset without per-side histories: both read the whole conversation.
    plain = SandboxService(dataset, rate_limit=None)
    assert read_all(plain, customer, agent) == whole == read_all(plain, agent, customer)


def test_sandbox_prints_the_sides_and_same_sides_turns_them_off() -> None:
    dataset = Dataset(seed=0, messages=1000, end_time=END)
    lines = describe(dataset, "http://x", demo_store(dataset))
    sides = [line for line in lines if line.startswith("side: ")]
    customer, agent = dataset.conversations[0]
    assert any(line.startswith(f"side: {customer} with {agent} holds=") and "deleted=" in line
               and "cleared_before=" in line for line in sides)
    assert any(line.startswith(f"side: {agent} with {customer}") and "unsynced=" in line
               for line in sides)
    out, err, stop = io.StringIO(), io.StringIO(), threading.Event()
    stop.set()  # print and stop at once
    assert run(0, 1000, 0, 0, 0.0, out, err=err, stop=stop, same_sides=True) == 0
    assert "side: " not in out.getvalue() and "conversation: " in out.getvalue()

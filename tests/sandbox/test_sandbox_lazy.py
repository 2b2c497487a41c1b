"""The demo dataset is generated as it is read (`roamtui demo` reads one conversation before
its first frame): nothing before the first read, one conversation per pair read, once however
many server threads ask at the same time, and the same content whatever the order of reading."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from roamtui.sandbox import Dataset
from roamtui.sandbox import dataset as dataset_module
from roamtui.sandbox.sides import DemoPlans, SidedStore, demo_plans, demo_store

END = 1_700_000_000


@pytest.fixture
def generated(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The (customer, agent) of every conversation generated, in order."""
    made: list[tuple[str, str]] = []
    real = dataset_module.GeneratedConversation

    class Counted(real):  # type: ignore[misc, valid-type]
        __slots__ = ()

        def __init__(self, customer: str, agent: str, *args: Any, **kwargs: Any) -> None:
            made.append((customer, agent))
            super().__init__(customer, agent, *args, **kwargs)

    monkeypatch.setattr(dataset_module, "GeneratedConversation", Counted)
    return made


def test_nothing_is_generated_before_a_conversation_is_read(
    generated: list[tuple[str, str]],
) -> None:
    dataset = Dataset(seed=2, messages=5000, end_time=END)
    store = demo_store(dataset)
    first = dataset.conversations[0]
    # What the demo asks before its first page needs no conversation generated.
    assert len(dataset) == 5000 and store.has_account(first[0])
    assert dataset.count(*first) > 0
    assert generated == []
    customer, agent = first
    assert store.conversation(agent, customer) is not None  # the agent's side, then the other
    assert store.conversation(customer, agent) is not None
    assert store.plan(customer, agent).cleared_before is not None
    assert generated == [first]  # both sides and their plans from the one conversation


def test_concurrent_first_reads_generate_a_conversation_once(
    generated: list[tuple[str, str]],
) -> None:
    dataset = Dataset(seed=3, messages=4000, end_time=END)
    store = demo_store(dataset)
    customer, agent = dataset.conversations[1]
    start = threading.Barrier(8)
    seen: list[int] = []

    def read() -> None:
        start.wait()
        conv = store.conversation(customer, agent)
        assert conv is not None
        seen.append(len(conv.times))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert generated == [(customer, agent)]
    assert len(set(seen)) == 1


def sides(store: SidedStore, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], object]:
    """Each side's plan and every message it holds, read pair after pair in ``pairs``' order."""
    out: dict[tuple[str, str], object] = {}
    for customer, agent in pairs:
        for account, peer in ((customer, agent), (agent, customer)):
            conv = store.conversation(account, peer)
            assert conv is not None
            out[(account, peer)] = (store.plan(account, peer),
                                    [conv.message_json(i) for i in range(len(conv.times))])
    return out


def test_the_order_of_reading_changes_nothing() -> None:
    one, two = (Dataset(seed=7, messages=3000, end_time=END) for _ in range(2))
    pairs = one.conversations
    assert sides(demo_store(one), pairs) == sides(demo_store(two), pairs[::-1])
    assert [one.message_obj(i) for i in range(0, 3000, 7)] == [
        two.message_obj(i) for i in range(0, 3000, 7)]


def test_lazy_plans_are_the_plans_worked_out_at_once() -> None:
    dataset = Dataset(seed=4, messages=3000, end_time=END)
    whole = {k: v for k, v in demo_plans(dataset, dataset.conversations, 4).items()
             if not v.empty}
    lazy = DemoPlans(dataset, dataset.conversations, 4)
    assert dict(lazy) == whole
    assert lazy.get(("nobody", "else")) is None

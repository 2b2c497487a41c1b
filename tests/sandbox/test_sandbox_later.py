"""The same history later: recalls, admin edits and deletions applied the same way every time,
served through the real protocol, listed by `changes` and printed by `roamtui sandbox --later`."""

from __future__ import annotations

import io
import threading

from sandboxkit import fetch_all, seed_messages

from roamtui.sandbox import Dataset, ListStore, SandboxService
from roamtui.sandbox.later import EDIT_PREFIX, Later, LaterStore
from roamtui.sandbox.serve import run
from roamtui.sandbox.sides import SidePlan, demo_store

T0 = 1_700_000_000


def _all(store: object, a: str, b: str) -> dict[str, dict]:
    svc = SandboxService(store, rate_limit=None)  # type: ignore[arg-type]
    msgs, _ = fetch_all(svc, {"From_Account": a, "To_Account": b, "MaxCnt": 50,
                              "MinTime": 0, "MaxTime": 2**32})
    return {m["MsgKey"]: m for m in msgs}


def test_the_changes_are_served_and_listed_exactly() -> None:
    ds = Dataset(seed=3, messages=1200, end_time=T0, pairs=2)
    a, b = ds.conversations[0]
    later = LaterStore(ds, Later(recalls=3, edits=4, deletions=2, seed=9))
    before, after = _all(ds, a, b), _all(later, a, b)
    changes = later.changes(a, b)
    assert [c.kind for c in changes].count("recalled") == 3
    assert [c.kind for c in changes].count("changed") == 4
    assert [c.kind for c in changes].count("missing") == 2
    listed = {c.key: c for c in changes}
    assert set(before) - set(after) == {k for k, c in listed.items() if c.kind == "missing"}
    for key, old in before.items():
        new = after.get(key)
        change = listed.get(key)
        if change is None:
            assert new == old  # everything else is the same, byte for byte
        elif change.kind == "recalled":
            assert not old["MsgFlagBits"] & 8 and new is not None and new["MsgFlagBits"] & 8
            assert (new.get("MsgBody") == old.get("MsgBody")) == (change.what == "recall")
        elif change.kind == "changed":
            assert new is not None
            if change.what == "MsgBody":
                assert new["MsgBody"][0]["MsgContent"]["Text"].startswith(EDIT_PREFIX)
            else:
                assert new["CloudCustomData"] != old.get("CloudCustomData")
    # The same options change the same messages; another seed others.
    again = LaterStore(Dataset(seed=3, messages=1200, end_time=T0, pairs=2),
                       Later(recalls=3, edits=4, deletions=2, seed=9))
    assert again.changes(a, b) == changes
    assert LaterStore(ds, Later(3, 4, 2, seed=10)).changes(a, b) != changes


def test_a_list_store_is_not_changed_underneath() -> None:
    base = ListStore({("user1", "user2"): seed_messages()})
    kept = _all(base, "user1", "user2")
    later = LaterStore(base, Later(recalls=1, edits=2, deletions=1))
    assert _all(later, "user1", "user2") != kept
    assert _all(base, "user1", "user2") == kept


def test_sandbox_later_prints_its_changes() -> None:
    out, err, stop = io.StringIO(), io.StringIO(), threading.Event()
    stop.set()  # print, then stop at once
    assert run(0, 600, 4, 0, 0.0, out, err=err, stop=stop, later=1) == 0
    lines = [line for line in out.getvalue().splitlines() if line.startswith("change: ")]
    kinds = [line.split(" ")[1] for line in lines]
    conversations = Dataset(seed=4, messages=600).conversations
    assert len(lines) - kinds.count("holder") == 3 * len(conversations)
    assert kinds.count("recalled") == kinds.count("changed") == kinds.count("missing")
    # Under the per-side histories each side of a planned conversation deleted one more.
    sided = [c for c in conversations if demo_store(Dataset(seed=4, messages=600)).plan(*c)
             != SidePlan()]
    assert sided and kinds.count("holder") == 2 * len(sided)

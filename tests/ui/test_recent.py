"""Recent queries: stored in the state dir, newest first, deduped, atomic, private, never secret."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from roamtui.settings.recent import RecentQueries, RecentQuery, default_path


def _q(account: str = "cust_1001", peer: str = "agent_alice", **kw: str) -> RecentQuery:
    return RecentQuery(account, peer, **kw)


def test_default_path_is_in_the_state_dir(isolated_user_dirs: Path) -> None:
    assert default_path().is_relative_to(isolated_user_dirs / "xdg_state_home")


def test_remember_puts_newest_first_and_moves_repeats_up(tmp_path: Path) -> None:
    store = RecentQueries(tmp_path / "state" / "recent.json")
    store.remember(_q("a1", "b1"))
    store.remember(_q("a2", "b2", since="-2h"))
    listed = store.remember(_q("a1", "b1"))
    assert [(q.account, q.since) for q in listed] == [("a1", "-7d"), ("a2", "-2h")]
    assert store.load() == listed


def test_same_accounts_with_another_window_are_kept_apart(tmp_path: Path) -> None:
    store = RecentQueries(tmp_path / "recent.json")
    store.remember(_q(since="-1h"))
    store.remember(_q(since="today"))
    assert [q.since for q in store.load()] == ["today", "-1h"]


def test_list_is_capped(tmp_path: Path) -> None:
    store = RecentQueries(tmp_path / "recent.json", limit=3)
    for i in range(5):
        store.remember(_q(f"acc{i}"))
    assert [q.account for q in store.load()] == ["acc4", "acc3", "acc2"]


def test_file_is_private_and_holds_only_the_query(tmp_path: Path) -> None:
    path = tmp_path / "recent.json"
    RecentQueries(path).remember(_q(tz="Asia/Shanghai", profile="work"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert set(stored["queries"][0]) == {"account", "peer", "since", "until", "tz", "profile"}
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"queries": 3}', '{"queries": [{"account": 1}, "x", {"peer": "b"}]}'],
)
def test_broken_file_reads_as_empty_and_is_replaced_on_write(tmp_path: Path, content: str) -> None:
    path = tmp_path / "recent.json"
    path.write_text(content, encoding="utf-8")
    store = RecentQueries(path)
    assert store.load() == []
    assert store.remember(_q()) == [_q()]
    assert store.load() == [_q()]


def test_forget_removes_one(tmp_path: Path) -> None:
    store = RecentQueries(tmp_path / "recent.json")
    store.remember(_q("a1"))
    store.remember(_q("a2"))
    assert [q.account for q in store.forget(_q("a1"))] == ["a2"]


def test_unwritable_dir_raises_and_keeps_the_old_file(tmp_path: Path) -> None:
    directory = tmp_path / "ro"
    store = RecentQueries(directory / "recent.json")
    store.remember(_q("a1"))
    directory.chmod(0o500)
    try:
        if os.access(directory, os.W_OK):  # running as root: permissions do not bind
            pytest.skip("cannot make a read-only directory as this user")
        with pytest.raises(OSError):
            store.remember(_q("a2"))
    finally:
        directory.chmod(0o700)
    assert [q.account for q in store.load()] == ["a1"]


def test_label_shows_who_and_when() -> None:
    label = _q(since="-2h", until="now", tz="UTC", profile="work").label()
    assert label == "cust_1001 ⇄ agent_alice · -2h … now · UTC · profile work"

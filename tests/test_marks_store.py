"""The marks store: per (SDKAppID, account, peer), kept across runs, private, bounded, and never
replacing a file it could not read."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from roamtui.settings.config import Config, ConfigError, dumps, load_config
from roamtui.settings.marks import (
    ENV_MARKS,
    MAX_MARKS,
    MAX_NOTE,
    MarkError,
    MarkStore,
    Pair,
    mark_store,
    marks_path,
)

PAIR = Pair(1400000000, "cust_1001", "agent_alice")


def test_where_marks_go_follows_the_rule_of_recent_queries(
        isolated_user_dirs: Path, tmp_path: Path) -> None:
    default = marks_path(env={})
    assert default is not None and default.is_relative_to(isolated_user_dirs / "xdg_data_home")
    moved = tmp_path / "elsewhere" / "m.json"
    assert marks_path(env={ENV_MARKS: str(moved)}) == moved
    assert marks_path(env={ENV_MARKS: "off"}) is None
    off, there = Config(tmp_path / "c.toml", marks=False), Config(tmp_path, marks=str(moved))
    assert marks_path(config=off, env={}) is None
    assert marks_path(config=there, env={}) == moved
    assert marks_path(config=off, env={ENV_MARKS: str(moved)}) == moved
    assert marks_path(no_history=True, env={ENV_MARKS: str(moved)}) is None
    assert not mark_store(no_history=True).persist
    assert mark_store(env={ENV_MARKS: str(moved)}).path == moved


def test_marks_and_notes_survive_a_new_store_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "marks.json"
    book = MarkStore(path).book(PAIR)
    assert book.toggle("k1", 100) is True
    book.toggle("k2", 200)
    book.set_note("k3", 300, "customer says refund promised")  # a note marks too
    book.toggle("k2", 200)  # unmarked again
    again = MarkStore(path).book(PAIR)
    assert [m.key for m in again.marked()] == ["k1", "k3"]
    assert again.notes() == {"k3": "customer says refund promised"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_pairs_are_kept_apart_by_app_and_side(tmp_path: Path) -> None:
    store = MarkStore(tmp_path / "marks.json")
    store.book(PAIR).toggle("k1", 1)
    other_side = Pair(PAIR.sdkappid, PAIR.peer, PAIR.account)
    other_app = Pair(1400000001, PAIR.account, PAIR.peer)
    fresh = MarkStore(tmp_path / "marks.json")
    assert len(fresh.book(PAIR)) == 1
    assert len(fresh.book(other_side)) == 0
    assert len(fresh.book(other_app)) == 0


def test_another_instance_s_changes_to_other_pairs_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "marks.json"
    first, second = MarkStore(path), MarkStore(path)
    mine = first.book(PAIR)
    theirs = second.book(Pair(7, "x", "y"))
    mine.toggle("k1", 1)
    theirs.toggle("t1", 2)
    mine.toggle("k2", 3)  # rewrites the file: the other store's pair must still be there
    fresh = MarkStore(path)
    assert [m.key for m in fresh.book(Pair(7, "x", "y")).marked()] == ["t1"]
    assert [m.key for m in fresh.book(PAIR).marked()] == ["k1", "k2"]


def test_unmarking_keeps_the_note_and_an_empty_note_removes_it(tmp_path: Path) -> None:
    book = MarkStore(tmp_path / "marks.json").book(PAIR)
    book.set_note("k1", 5, "why")
    assert book.toggle("k1", 5) is False
    assert book.note("k1") == "why" and len(book) == 0
    book.set_note("k1", 5, "   ")
    assert book.get("k1") is None


def test_next_and_previous_mark_go_by_time(tmp_path: Path) -> None:
    book = MarkStore.memory().book(PAIR)
    for key, t in (("c", 30), ("a", 10), ("b", 20)):
        book.toggle(key, t)
    found = book.next_after(10, "a", True)
    assert found is not None and found.key == "b"
    found = book.next_after(25, None, False)
    assert found is not None and found.key == "b"
    assert book.next_after(30, "c", True) is None
    assert book.next_after(10, "a", False) is None


def test_a_broken_file_is_reported_once_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "marks.json"
    path.write_text('{"version": 1, "pairs": [ {"sdkappid": 1, ', encoding="utf-8")
    before = path.read_bytes()
    store = MarkStore(path)
    book = store.book(PAIR)
    assert store.problem is not None and str(path) in store.problem
    assert "\n" not in store.problem
    with pytest.raises(OSError, match="not saved"):
        book.toggle("k1", 1)
    assert book.is_marked("k1")  # kept for the session
    assert path.read_bytes() == before


def test_a_newer_format_or_a_malformed_entry_is_not_replaced(tmp_path: Path) -> None:
    for doc in ({"version": 2, "pairs": []},
                {"version": 1, "pairs": [{**PAIR.as_obj(), "marks": [{"key": "k"}]}]}):
        path = tmp_path / "marks.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        store = MarkStore(path)
        with pytest.raises(OSError):
            store.book(PAIR).toggle("k1", 1)
        assert json.loads(path.read_text(encoding="utf-8")) == doc


def test_sizes_are_bounded(tmp_path: Path) -> None:
    book = MarkStore.memory().book(PAIR)
    with pytest.raises(MarkError, match="at most"):
        book.set_note("k", 1, "x" * (MAX_NOTE + 1))
    for i in range(MAX_MARKS):
        book.toggle(f"k{i}", i)
    with pytest.raises(MarkError, match="clear"):
        book.toggle("one more", 0)
    assert book.clear() == MAX_MARKS and len(book) == 0


def test_memory_store_writes_nothing(isolated_user_dirs: Path) -> None:
    store = MarkStore.memory()
    store.book(PAIR).toggle("k1", 1)
    assert not any(p.is_file() for p in isolated_user_dirs.rglob("*"))


def test_hostile_text_is_stored_as_text(tmp_path: Path) -> None:
    path = tmp_path / "marks.json"
    hostile = "[bold red]x[/] \x1b[2J\u202e <script>"
    MarkStore(path).book(Pair(1, "a\x1b]0;t\x07", "b")).set_note("k", 1, hostile)
    assert MarkStore(path).book(Pair(1, "a\x1b]0;t\x07", "b")).note("k") == hostile.strip()


def test_the_config_may_move_or_switch_off_the_marks_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('marks = "~/cases/marks.json"\n', encoding="utf-8")
    assert load_config(path).marks == "~/cases/marks.json"
    path.write_text("marks = false\n", encoding="utf-8")
    config = load_config(path)
    assert config.marks is False and "marks = false" in dumps(config)
    path.write_text("marks = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'marks' must be false"):
        load_config(path)


def test_the_tui_keeps_marks_where_the_rule_says_and_none_with_no_history(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clikit import parse

    from roamtui.cli.browse import prepare_tui

    for name, value in {"ROAMTUI_ENDPOINT": "http://127.0.0.1:9", "ROAMTUI_SDKAPPID": "1400000000",
                        "ROAMTUI_IDENTIFIER": "administrator", "ROAMTUI_SECRET_KEY": "k" * 40,
                        "ROAMTUI_CONFIG": str(tmp_path / "config.toml")}.items():
        monkeypatch.setenv(name, value)

    def store(**options: object) -> MarkStore:
        app = prepare_tui(parse("browse", "a", "b", since="-2h", **options))
        return app.session.marks

    assert store().persist and store().path == marks_path()
    monkeypatch.setenv(ENV_MARKS, str(tmp_path / "case" / "m.json"))
    assert store().path == tmp_path / "case" / "m.json"
    assert not store(no_history=True).persist


@pytest.mark.parametrize(("argv", "kept"), [
    (["demo"], False),  # its times (in every MsgKey) are new at each start
    (["demo", "--no-history"], False),
    (["demo", "--fixed-time"], True),  # the same keys run after run: saved, found again
    (["demo", "--fixed-time", "--no-history"], False),
])
def test_the_demo_saves_marks_only_when_its_clock_stands_still(
    argv: list[str], kept: bool, tmp_path: Path
) -> None:
    from roamtui.cli.browse import _demo_marks_for_the_run
    from roamtui.cli.main import build_parser

    args = build_parser().parse_args(argv)
    moved = tmp_path / "marks.json"
    store = mark_store(no_history=_demo_marks_for_the_run(args), env={ENV_MARKS: str(moved)})
    assert store.persist is kept

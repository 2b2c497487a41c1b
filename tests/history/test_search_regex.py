"""Regexes the user types: read without re's private parser, and run so that none can hang.

The reader gives up on what it does not know (and the pattern is then only slower to search);
a pattern that is not bounded runs on the regex engine with a timeout, so a pathological one is
refused within a bounded time even when the static check cannot read it (it fails closed).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from roamtui.history import search_query, search_runner
from roamtui.history.search import SearchIndex, SearchQuery, SearchQueryError, match_spans
from roamtui.history.search_regex import (
    Alt,
    Atom,
    Group,
    Lit,
    Repeat,
    Seq,
    bounded,
    parse,
    polynomial,
)
from roamtui.history.search_runner import BATCH_BUDGET, CALL_TIMEOUT, SlowRegex, runner_for
from roamtui.im.model import Message, message_obj, parse_message

T0 = 1_700_000_000
HOSTILE = "a" * 5000 + "!"


@pytest.fixture(autouse=True)
def fresh_runners() -> Iterator[None]:
    """A pattern found slow stays refused for the process: each test starts afresh."""
    search_runner._runner.cache_clear()
    yield
    search_runner._runner.cache_clear()


def messages(n: int, *, hostile_at: tuple[int, ...] = ()) -> list[Message]:
    """``n`` messages (a few distinct ones repeated: the index takes positions, not identity)."""
    plain = [parse_message(message_obj(sender="a", receiver="b", time=T0 + i, text=text, seq=i,
                                       random=i))
             for i, text in enumerate(["aaa bbb", "hello there", "a refund?", "ok"])]
    bad = parse_message(message_obj(sender="a", receiver="b", time=T0, text=HOSTILE, seq=9,
                                    random=9))
    out = [plain[i % len(plain)] for i in range(n)]
    for at in hostile_at:
        out[at] = bad
    return out


# -- reading ------------------------------------------------------------------------------------


def test_reading_literals_escapes_and_repeats_as_re_does() -> None:
    assert parse("ab", 0) == Seq((Lit("a", False), Lit("b", False)))
    assert parse(r"\x41+", re.IGNORECASE) == Seq((Repeat(1, None, Lit("A", True)),))
    assert parse(r"\101\0\n\.", 0) == Seq((Lit("A", False), Lit("\0", False), Lit("\n", False),
                                           Lit(".", False)))
    assert parse("a{,}b{2}c{}", 0) == Seq((Repeat(0, None, Lit("a", False)),
                                          Repeat(2, 2, Lit("b", False)), Lit("c", False),
                                          Lit("{", False), Lit("}", False)))
    assert parse("(?#note)x|[]y]", 0) == Alt((Seq((Lit("x", False),)), Seq((Atom(1),))))
    assert parse("(?i:a)b", 0) == Seq((Group(Seq((Lit("a", True),)), "group"), Lit("b", False)))


@pytest.mark.parametrize("pattern", [
    "(?x)a b", "(a)\\1", "(?P<n>a)(?P=n)", "(?(1)a|b)", "[[:alpha:]]", r"\p{L}", "(?<n>a)",
])
def test_the_reader_gives_up_on_what_it_does_not_know(pattern: str) -> None:
    assert parse(pattern, 0) is None


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"E\d{10}", True), ("refund|退款", True), (r"T-\d{6}", True), ("colou?r", True),
    (r"\d{3} \d{4}", True), (r"^\?+$", False), (".*x", False), ("a{2,}", False),
    ("(a|b|c|d){8}", False),  # 4^8 ways to go
])
def test_bounded_patterns_are_those_without_unbounded_repetition(pattern: str,
                                                                 expected: bool) -> None:
    tree = parse(pattern, 0)
    assert tree is not None and bounded(tree) is expected
    assert runner_for(re.compile(pattern)).bounded is expected


# -- running: fails closed ----------------------------------------------------------------------


def step_times(index: SearchIndex, query: SearchQuery) -> tuple[list[float], str | None]:
    """The CPU seconds this thread spent in each step: a step that hangs spends them all, while
    other processes on a loaded machine (which stretch the wall clock) count for nothing."""
    results = index.search(query.compile())
    times = []
    steps = results.steps()
    while True:
        began = time.thread_time()
        if next(steps, None) is None:
            times.append(time.thread_time() - began)
            return times, results.error
        times.append(time.thread_time() - began)


def test_an_unreadable_pathological_regex_is_refused_within_a_bounded_time() -> None:
    # Verbose mode: the reader gives up, so nothing refuses it before it runs.
    query = SearchQuery("(?x) (a+)+ $", regex=True)
    index = SearchIndex(messages(100_000, hostile_at=(50_000, 99_999)))
    times, error = step_times(index, query)
    assert error == SlowRegex.reason
    assert max(times) < CALL_TIMEOUT + BATCH_BUDGET + 0.3, max(times)  # no step hangs
    with pytest.raises(SearchQueryError, match="too long"):
        query.compile()  # known to be slow: refused at once from now on


def test_without_the_static_check_a_nested_repetition_still_cannot_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(search_query, "nested_repeat", lambda tree: False)  # "check missing"
    index = SearchIndex(messages(100_000, hostile_at=(70_000,)))
    times, error = step_times(index, SearchQuery("(a+)+$", regex=True))
    assert error == SlowRegex.reason
    assert max(times) < CALL_TIMEOUT + BATCH_BUDGET + 0.3, max(times)


def test_a_slow_regex_draws_no_highlight_and_costs_one_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pattern = re.compile("(?x) (a+)+ $")
    began = time.perf_counter()
    assert match_spans(HOSTILE, pattern) == []
    # Without the timeout this pattern runs for years on HOSTILE: any bound proves it ended.
    assert time.perf_counter() - began < 10 * CALL_TIMEOUT + 2
    runner = runner_for(pattern)
    assert runner.slow

    class NoEngine:
        def __getattr__(self, name: str) -> object:
            raise AssertionError("a pattern known to be slow was run again")

    monkeypatch.setattr(runner, "_engine", NoEngine())
    assert match_spans(HOSTILE, pattern) == []  # known slow: not tried again
    assert match_spans("say aa", re.compile("(?x) a+ $")) == [(4, 6)]


@pytest.mark.parametrize(("pattern", "shape"), [
    (r"\d+ refund", (1, 8)), (r"^\?+$", (1, 3)), ("a.*b.*c", (2, 5)), ("(?:x)+y", (1, 2)),
    ("(ab)+", None), ("(a+)b+", (2, 2)), ("(?:a|b)*", None),
])
def test_polynomial_shapes(pattern: str, shape: tuple[int, int] | None) -> None:
    tree = parse(pattern, 0)
    assert tree is not None and polynomial(tree) == shape


def test_a_polynomial_regex_runs_on_re_over_short_texts_and_with_a_timeout_over_long_ones(
) -> None:
    runner = runner_for(re.compile(r"\d+ refund$", re.M))
    assert not runner.bounded and 100 < runner._short < 1000
    texts = ["order 12 refund", "x" * 5000 + " 12 refund", "12 refunds", "1" * 3000 + " refund"]
    found, done = runner.select(texts, range(len(texts)))
    assert (found, done) == ([0, 1, 3], 4)
    assert [bool(runner.search(t)) for t in texts] == [True, True, False, True]


def test_re_is_given_only_patterns_the_reader_checked_to_highlight() -> None:
    # The transcript runs its highlight with re itself: an unread regex is not handed over.
    assert SearchQuery("(?x) a+ $", regex=True).compile().highlight is None
    assert SearchQuery("a+$", regex=True).compile().highlight is not None
    assert SearchQuery("(a+)", regex=False).compile().highlight is not None


def test_steps_of_a_costly_regex_keep_to_the_budget_and_find_everything() -> None:
    # Not pathological, just slow-ish: many steps, each short, and the same answer as re.
    texts = ["x" * 200 + "y", "y" * 50, "no", "x y " * 30]
    ms = [parse_message(message_obj(sender="a", receiver="b", time=T0 + i,
                                    text=texts[i % len(texts)], seq=i, random=i))
          for i in range(4000)]
    index = SearchIndex(ms)
    query = SearchQuery(r"x+\s*y+$", regex=True)
    times, error = step_times(index, query)
    assert error is None
    assert max(times) < CALL_TIMEOUT + BATCH_BUDGET + 0.3
    expected = [i for i, m in enumerate(ms) if re.search(r"x+\s*y+$", m.search_text(), re.M)]
    assert list(index.search(query.compile()).run()) == expected

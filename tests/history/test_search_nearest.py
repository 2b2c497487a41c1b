"""Search nearest the reader first: the first step holds the messages around the cursor, what
is certain while counting (the nearest match, the next and previous one, a match's number) is
what the whole scan says, and the results still equal a full scan, new messages spliced in
while counting included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from roamtui.history.search import SearchIndex, SearchQuery, counter_text, splice_plan
from roamtui.history.search_results import SearchResults, nearest_match, step_target
from roamtui.im.model import Message, message_obj, parse_message

T0 = 1_700_000_000


def message(i: int, text: str) -> Message:
    return parse_message(message_obj(sender="cust", receiver="agent", time=T0 + i, seq=i,
                                     random=i, key=f"k{i}", text=text))


def conversation(n: int, hit: set[int], start: int = 0) -> list[Message]:
    return [message(i, f"my Refund #{i}" if i - start in hit else f"line {i}")
            for i in range(start, start + n)]


def full(messages: list[Message], text: str) -> SearchResults:
    results = SearchIndex(messages).search(SearchQuery(text).compile(), narrow=False)
    results.run()
    return results


def sync(index: SearchIndex, messages: list[Message]) -> None:
    start, removed, inserted = splice_plan(index.messages, messages)
    if removed or inserted:
        index.splice(start, removed, messages[start:start + inserted])


def test_the_first_step_holds_the_screen_and_the_nearest_match_is_certain_before_the_count(
) -> None:
    messages = conversation(10_000, set(range(5, 10_000, 37)))
    results = SearchIndex(messages).search(SearchQuery("refund").compile())
    cursor = messages[6_000]
    results.aim(6_000)
    next(results.steps(chunk=500))
    assert not results.done and len(results) == 13  # 500 of 10,000 looked at
    assert all(5_750 <= p < 6_250 for p in results.matches)  # around the cursor, both ways
    assert not results.unscanned_in(5_750, 6_250)  # a screen above and below: all known
    target, known = nearest_match(results, cursor)
    assert known and target == 5_999  # the latest mention at or before the cursor
    assert step_target(results, cursor, True) == (6_036, False, True)
    assert results.number(5_999) == 0  # its number waits for the count of what lies before
    assert counter_text(results.number(5_999), len(results), False, counting=True) == "?/≥13…"
    results.run()
    assert results.number(5_999) == 163
    assert list(results.matches) == list(full(messages, "refund").matches)


def test_a_step_one_way_is_searched_that_way_first() -> None:
    messages = conversation(10_000, {100, 9_000})
    results = SearchIndex(messages).search(SearchQuery("refund").compile())
    results.aim(5_000)
    steps = results.steps(chunk=1_000)
    next(steps)
    assert step_target(results, messages[5_000], False)[2] is False  # not known yet
    results.aim(4_999, False, wrap=True)  # N pressed: older first
    taken = 1
    while not step_target(results, messages[5_000], False)[2]:
        next(steps)
        taken += 1
    assert step_target(results, messages[5_000], False) == (100, False, True)
    # 5,000 back (and the screen's worth around the cursor), not the 5,000 ahead
    assert taken <= 7 and not results.done and 9_000 not in results.matches
    # n from the newest end: nothing lies after it, and the oldest match is certain
    assert step_target(results, messages[9_999], True) == (100, True, True)


def test_counter_while_counting_then_final() -> None:
    assert counter_text(3, 17, False, counting=True) == "3/≥17…"
    assert counter_text(0, 17, False, counting=True) == "?/≥17…"
    assert counter_text(None, 17, False, counting=True) == "≥17…"
    assert counter_text(None, 0, False, counting=True) == "searching…"
    assert counter_text(3, 17, False) == "3/17+"  # counted; the rest of the window may add
    assert counter_text(3, 17, True) == "3/17"
    assert counter_text(None, 0, True) == "no matches"


def check_certain(results: SearchResults, messages: list[Message], text: str) -> None:
    """Whatever the results say is certain is what a full scan of ``messages`` says."""
    truth = full(messages, text)
    assert set(results.matches) <= set(truth.matches)
    n = len(messages)
    for at in range(-1, n + 1):
        for forward in (True, False):
            target, known = results.settled_next(at, forward)
            if known:
                assert target == truth.next_match(at, forward, wrap=False), (at, forward)
    for at in results.matches:
        number = results.number(at)
        assert number is not None and number in (0, truth.rank(at) + 1)
    for cursor in [None, *messages]:
        target, known = nearest_match(results, cursor)
        if known:
            assert target == nearest_match(truth, cursor)[0]
        for forward in (True, False):
            target, wrapped, known = step_target(results, cursor, forward)
            if known:
                assert (target, wrapped) == step_target(truth, cursor, forward)[:2]


Op = tuple[str, int, int]
OPS = st.one_of(
    st.tuples(st.just("step"), st.integers(0, 1), st.integers(0, 0)),
    st.tuples(st.just("aim"), st.integers(0, 80), st.integers(0, 4)),
    st.tuples(st.just("splice"), st.integers(0, 80), st.integers(-6, 10)),
)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 60), st.sets(st.integers(0, 90)), st.integers(1, 9),
       st.lists(OPS, max_size=14), st.booleans())
def test_what_is_certain_while_counting_is_what_the_full_scan_says(
    n: int, hit: set[int], chunk: int, ops: list[Op], narrowed: bool
) -> None:
    current = conversation(n, hit)
    spare = iter(conversation(60, {1, 7, 8, 30}, start=1_000))
    index = SearchIndex(current)
    if narrowed:  # typed on: the matches of "ref", partly found, are tested again
        wider = index.search(SearchQuery("ref").compile())
        wider.aim(n // 2)
        for _ in zip(range(2), wider.steps(chunk), strict=False):
            pass
    results = index.search(SearchQuery("refund").compile())
    steps = results.steps(chunk)
    for kind, a, b in ops:
        if kind == "step":
            next(steps, None)
        elif kind == "aim":
            way = (None, True, False, True, False)[b]
            results.aim(a, way, wrap=b > 2)
        else:  # messages arrive (b > 0, some newer, some in a gap) or leave (b < 0)
            at = min(a, len(current))
            fresh = [m for _, m in zip(range(max(b, 0)), spare, strict=False)]
            fresh.sort(key=lambda m: m.time)
            if b < 0:
                current = current[:at] + current[at - b:]
            else:
                current = sorted(current + fresh, key=lambda m: m.time)
            sync(index, current)
            steps = results.steps(chunk)
        check_certain(results, current, "refund")
    results.run()
    assert list(results.matches) == list(full(current, "refund").matches)
    check_certain(results, current, "refund")
    assert all(results.number(at) == k + 1 for k, at in enumerate(results.matches))

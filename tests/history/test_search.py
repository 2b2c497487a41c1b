"""Search: what matches (text and placeholders), case and regex modes, hostile text, highlight
spans, incremental results that follow the loaded messages, and jumping by kind."""

from __future__ import annotations

import re
from datetime import UTC
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roamtui.history.search import (
    SearchIndex,
    SearchQuery,
    SearchQueryError,
    find_message,
    match_spans,
    splice_plan,
)
from roamtui.history.timeline import Timeline
from roamtui.im.client import ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.model import Message, message_obj, parse_message
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import ListStore, SandboxService, demo_connection

T0 = 1_700_000_000
_n = 0


def msg(text: str | None = None, *, body: list[dict[str, Any]] | None = None,
        recalled: bool = False, t: int | None = None) -> Message:
    global _n
    _n += 1
    return parse_message(message_obj(
        sender="cust_1", receiver="agent_2", time=T0 + _n if t is None else t, text=text,
        body=body, seq=_n, random=_n, flag_bits=8 if recalled else 0,
    ))


def elem(kind: str, **content: Any) -> dict[str, Any]:
    return {"MsgType": kind, "MsgContent": content}


def find(messages: list[Message], text: str, case: str = "smart", regex: bool = False) -> list[int]:
    query = SearchQuery(text, case, regex)  # type: ignore[arg-type]
    return list(SearchIndex(messages).search(query.compile(), narrow=False).run())


def sync(index: SearchIndex, messages: list[Message]) -> None:
    """Splice into ``index`` what differs from ``messages``, as the search session does."""
    start, removed, inserted = splice_plan(index.messages, messages)
    if removed or inserted:
        index.splice(start, removed, messages[start:start + inserted])


# -- what matches -------------------------------------------------------------------------------


def test_text_matches_and_misses() -> None:
    ms = [msg("my order E7294868771 is late"), msg("thanks"), msg("ORDER again"), msg(None)]
    assert find(ms, "order") == [0, 2]
    assert find(ms, "E7294868771") == [0]
    assert find(ms, "refund") == []


def test_placeholders_and_hidden_fields_are_searched() -> None:
    long_name = "quarterly-statement-" + "x" * 80 + "-final.pdf"
    nested = message_obj(sender="cust_1", receiver="agent_2", time=T0, text="the parcel was torn")
    ms = [
        msg(body=[elem("TIMFileElem", FileName="invoice.pdf", FileSize=122_880)]),
        msg(body=[elem("TIMLocationElem", Desc="Shenzhen office", Latitude=22.5, Longitude=113.9)]),
        msg(body=[elem("TIMCustomElem", Desc="order card", Data='{"order": 1}')]),
        msg(body=[elem("TIMRelayElem", Title="Chat history of Li", MsgNum=1, MsgList=[nested])]),
        msg(body=[elem("TIMFileElem", FileName=long_name, FileSize=10)]),
        msg(body=[elem("TIMImageElem", ImageFormat=1, ImageInfoArray=[
            {"Type": 1, "Size": 1_887_437, "Width": 2448, "Height": 3264, "URL": "u"}])]),
        msg("plain words only"),
    ]
    assert find(ms, "invoice.pdf") == [0]
    assert find(ms, "shenzhen") == [1]
    assert find(ms, "order card") == [2]
    assert find(ms, "chat history") == [3]
    assert find(ms, "parcel was torn") == [3]  # a nested message of the merged forward
    assert find(ms, "-final.pdf") == [4]  # beyond the placeholder's cut
    assert find(ms, "2448×3264") == [5]
    assert find(ms, "[file") == [0, 4]


def test_smart_case_and_explicit_modes() -> None:
    ms = [msg("Order placed"), msg("order placed"), msg("ORDER PLACED")]
    assert find(ms, "order") == [0, 1, 2]  # all lowercase: insensitive
    assert find(ms, "Order") == [0]  # an uppercase letter: sensitive
    assert find(ms, "order", case="sensitive") == [1]
    assert find(ms, "ORDER", case="insensitive") == [0, 1, 2]


def test_case_insensitive_uses_full_case_folding() -> None:
    ms = [msg("STRASSE 5"), msg("straße 5"), msg("ΟΔΟΣ"), msg("Grüße")]
    assert find(ms, "straße") == [0, 1]
    assert find(ms, "οδοσ") == [2]  # final sigma folds like any sigma
    assert find(ms, "GRÜSSE", case="insensitive") == [3]


def test_regex_mode() -> None:
    ms = [msg("order E7294868771"), msg("call 138 0013 8000"), msg("no digits"), msg("a\nb")]
    assert find(ms, r"e\d{10}", regex=True) == [0]  # \d is not an uppercase letter: insensitive
    assert find(ms, r"E\d{10}", regex=True) == [0]
    assert find(ms, r"\d{3} \d{4}", regex=True) == [1]
    assert find(ms, r"^b$", regex=True) == [3]  # anchors work per line
    assert find(ms, "digits|order", regex=True) == [0, 2]


def test_literal_mode_takes_metacharacters_literally() -> None:
    ms = [msg("a.b"), msg("axb"), msg("(1+1)*2"), msg("[@click=app.quit]")]
    assert find(ms, "a.b") == [0]
    assert find(ms, "(1+1)*2") == [2]
    assert find(ms, "[@click") == [3]


@pytest.mark.parametrize("pattern", ["(", "[a-", "a{2,1}", "(?P<x", "*x"])
def test_invalid_regex_gives_a_short_reason(pattern: str) -> None:
    with pytest.raises(SearchQueryError) as caught:
        SearchQuery(pattern, regex=True).compile()
    reason = str(caught.value)
    assert reason.startswith("invalid regex")
    assert "\n" not in reason and len(reason) < 80


@pytest.mark.parametrize("pattern", ["a*", "x|", "^", "(?:)"])
def test_regex_matching_empty_text_is_refused(pattern: str) -> None:
    with pytest.raises(SearchQueryError, match="empty text"):
        SearchQuery(pattern, regex=True).compile()


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a|aa)+b", r"(?:\w+\s?)+$", r"(x+x+)+y"])
def test_exponential_backtracking_shapes_are_refused(pattern: str) -> None:
    # Python's re cannot be stopped mid-search: such a regex over "aaaa…!" would hang the app.
    with pytest.raises(SearchQueryError, match="nested repetition"):
        SearchQuery(pattern, regex=True).compile()


@pytest.mark.parametrize(("pattern", "hit"), [
    (r"(foo|bar)+x", False), (r"(\d{3}-)+", False), (r"(a++)+!", True), (r"(?>a+)+$", False),
    (r"\d+\s+\d+", False), (r"(a|b)*!", True),
])
def test_safe_repetitions_are_accepted(pattern: str, hit: bool) -> None:
    m = SearchQuery(pattern, regex=True).compile()
    assert m.matches("a" * 3000 + "!") is hit


def test_zero_width_first_match_still_finds_later_text() -> None:
    # \b matches empty first; a message matches only where a visible match exists.
    ms = [msg("say hi"), msg("---")]
    assert find(ms, r"\bhi|(?=-)", regex=True) == [0]


def test_empty_query_matches_nothing() -> None:
    assert find([msg("anything")], "") == []
    assert match_spans("anything", SearchQuery("").compile()) == []


def test_hostile_text_is_matched_as_plain_text() -> None:
    hostile = [
        msg("[@click=app.quit]quit[/] [bold red]x[/]"),
        msg("\x1b[31mred\x1b[0m \x07 bell"),
        msg("zero\u200bwidth and e\u0301 combining"),
        msg("A" * 5000 + " needle"),
        msg("\u202eevil"),
    ]
    assert find(hostile, "[/]") == [0]
    assert find(hostile, "\x1b[31m") == [1]
    assert find(hostile, "zero\u200bwidth") == [2]
    assert find(hostile, "zerowidth") == []
    assert find(hostile, "needle") == [3]
    assert find(hostile, r"a{5000} needle$", regex=True) == [3]
    assert find(hostile, "evil") == [4]


# -- highlight spans ----------------------------------------------------------------------------


def test_spans_for_highlighting() -> None:
    m = SearchQuery("an").compile()
    assert match_spans("Banana AN", m) == [(1, 3), (3, 5), (7, 9)]
    r = SearchQuery(r"\d+", regex=True).compile()
    assert match_spans("a1 b22 c", r) == [(1, 2), (4, 6)]
    assert match_spans("a1 b22 c", re.compile(r"\d+")) == [(1, 2), (4, 6)]
    assert match_spans("ab" * 100, SearchQuery("b").compile(), limit=3) == [(1, 2), (3, 4), (5, 6)]


def test_spans_map_back_through_expanding_case_folds() -> None:
    m = SearchQuery("ss").compile()
    text = "Maß und MASS"
    assert [text[a:b] for a, b in match_spans(text, m)] == ["ß", "SS"]
    other = "ßx"
    assert [other[a:b] for a, b in match_spans(other, SearchQuery("sx").compile())] == ["ßx"]


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("aAbBsSß İıΣσς\n\u200b[]")), max_size=30),
    needle=st.text(alphabet=st.sampled_from(list("aAbsSß İıσς")), min_size=1, max_size=3),
    case=st.sampled_from(["smart", "sensitive", "insensitive"]),
)
def test_spans_agree_with_matching(text: str, needle: str, case: str) -> None:
    m = SearchQuery(needle, case).compile()  # type: ignore[arg-type]
    spans = m.spans(text)
    assert m.matches(text) == bool(spans)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert all(p[1] <= q[0] for p, q in pairwise(spans))
    if not m.folded:
        assert all(text[a:b] == needle for a, b in spans)


# -- incremental results ------------------------------------------------------------------------


def corpus(n: int, start: int = 0) -> list[Message]:
    words = ["refund", "hello", "订单 shipped", "Refund please", "ok"]
    return [msg(f"{words[(start + i) % len(words)]} #{start + i}", t=T0 + start + i)
            for i in range(n)]


def test_results_follow_loaded_messages_without_rescanning_old_ones() -> None:
    loaded = corpus(1000, start=1000)
    index = SearchIndex(loaded)
    results = index.search(SearchQuery("refund").compile())
    results.run()
    assert len(results) == 400 and results.done
    older, newer = corpus(300, start=0), corpus(200, start=2000)
    loaded = older + loaded + newer
    sync(index, loaded[:300] + loaded[300:1300])  # the older page landed first
    sync(index, loaded)  # then the newer one
    assert not results.done
    assert results.unscanned == 500  # only the new messages are left to look at
    results.run()
    assert results.done
    expected = [i for i, m in enumerate(loaded) if "refund" in m.search_text().lower()]
    assert list(results.matches) == expected


def test_search_can_be_cancelled_between_chunks_and_resumed() -> None:
    index = SearchIndex(corpus(5000))
    results = index.search(SearchQuery("hello").compile())
    steps = results.steps(chunk=1000)
    assert next(steps) == 200  # the first 1000 messages
    steps.close()  # a newer keystroke cancels this search
    assert not results.done and results.unscanned == 4000 and len(results) == 200
    assert len(results.run()) == 1000 and results.done


def test_counter_and_next_previous_with_wrap() -> None:
    index = SearchIndex(corpus(20))
    results = index.search(SearchQuery("hello").compile())
    assert list(results.run()) == [1, 6, 11, 16]
    assert results.rank(11) + 1 == 3  # "3/4"
    assert results.next_match(11) == 16
    assert results.next_match(16) == 1  # wraps to the first
    assert results.next_match(16, wrap=False) is None
    assert results.next_match(1, forward=False) == 16
    assert results.next_match(5, forward=False) == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8), st.integers(0, 12)), max_size=8),
       st.integers(1, 7))
def test_results_after_any_splices_equal_a_fresh_search(
    edits: list[tuple[int, int, int]], chunk: int
) -> None:
    pool = corpus(120)
    current = pool[:40]
    spare = iter(pool[40:])
    index = SearchIndex(current)
    results = index.search(SearchQuery("refund").compile())
    for k, (at, removed, inserted) in enumerate(edits):
        at = min(at, len(current))
        fresh = [m for _, m in zip(range(inserted), spare, strict=False)]
        current = current[:at] + fresh + current[at + removed:]
        sync(index, current)
        if k % 2:  # sometimes scan part way between changes
            for _ in zip(range(2), results.steps(chunk), strict=False):
                pass
    results.run()
    assert list(results.matches) == [
        i for i, m in enumerate(current) if "refund" in m.search_text().casefold()]


def test_log_overflow_falls_back_to_a_full_rescan() -> None:
    index = SearchIndex(corpus(10), log_size=2)
    results = index.search(SearchQuery("ok").compile())
    results.run()
    extra = corpus(30, start=10)
    for i in range(3):
        sync(index, list(index.messages) + extra[i * 10:(i + 1) * 10])
    assert list(results.run()) == [4, 9, 14, 19, 24, 29, 34, 39]


async def test_match_found_only_after_the_rest_of_the_window_is_fetched() -> None:
    words = ["just chatting", "more chatting"]
    records = [message_obj(sender="cust_7", receiver="agent_3", time=T0 + i * 60,
                           text="the parcel never came" if i == 5 else words[i % 2],
                           seq=i, random=i, key=f"k{i}") for i in range(600)]
    service = SandboxService(ListStore({("cust_7", "agent_3"): records}), rate_limit=None)
    client = ImClient(demo_connection("http://127.0.0.1:9"), transport=service.mock_transport(),
                      limiter=RateLimiter(200))
    async with client:
        tl = Timeline(client, RoamQuery("cust_7", "agent_3", T0, T0 + 600 * 60), UTC)
        await tl.open()
        index = SearchIndex(tl.messages())
        results = index.search(SearchQuery("parcel").compile())
        assert len(results.run()) == 0 and len(index) < 600
        await tl.load_all()
        sync(index, tl.messages())
        found = results.run()
        assert len(index) == 600
        assert [index.messages[i].key for i in found] == ["k5"]


# -- jump by kind -------------------------------------------------------------------------------


def test_next_and_previous_recalled_and_non_text() -> None:
    ms = [
        msg("a"),
        msg("b", recalled=True),
        msg(body=[elem("TIMFaceElem", Index=3)]),
        msg("c"),
        msg(None, recalled=True),  # recalled with its body gone: not a non-text element
        msg(body=[elem("TIMTextElem", Text="see"), elem("TIMFileElem", FileName="x.pdf")]),
    ]
    assert find_message(ms, -1, "recalled") == 1
    assert find_message(ms, 1, "recalled") == 4
    assert find_message(ms, 4, "recalled") is None
    assert find_message(ms, 4, "recalled", forward=False) == 1
    assert find_message(ms, 0, "non_text") == 2
    assert find_message(ms, 2, "non_text") == 5
    assert find_message(ms, len(ms), "non_text", forward=False) == 5
    assert find_message(ms, 2, "non_text", forward=False) is None
    for kind in ("recalled", "non_text"):
        for i in range(-1, len(ms) + 1):
            for forward in (True, False):
                span = range(i + 1, len(ms)) if forward else range(i - 1, -1, -1)
                bit = (lambda m: m.recalled) if kind == "recalled" else (
                    lambda m: any(e.kind != "TIMTextElem" for e in m.elements))
                assert find_message(ms, i, kind, forward) == next(
                    (k for k in span if 0 <= k < len(ms) and bit(ms[k])), None)

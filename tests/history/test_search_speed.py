"""What makes search fast gives the answers plain matching gives: the folded byte haystack after
any splices, the literal probes a regex is prefiltered with (case folding included), and
narrowing a literal query as it is typed."""

from __future__ import annotations

import re
import sys
from types import ModuleType
from typing import Any

import pytest
import regex as regex_engine
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from roamtui.history.search import SearchIndex, SearchQuery, SearchQueryError, splice_plan
from roamtui.history.search_haystack import Haystack, encode
from roamtui.history.search_query import regex_probes
from roamtui.history.search_regex import UNFOLDABLE, parse
from roamtui.history.search_runner import runner_for
from roamtui.im.model import Message, message_obj, parse_message

T0 = 1_700_000_000
_n = 0
# Letters whose case folding and re's IGNORECASE disagree or expand, CJK, separators, a lone
# surrogate (hostile JSON can carry one) and "ÿ" (U+00FF, not the byte 0xFF).
TRICKY = [*"aAbBeEiIİıkKKsSſßẞσςΣµΜ退款?.\n -ÿ", "\ud800", "😀"]
text_st = st.text(alphabet=st.sampled_from(TRICKY), max_size=12)


def msg(text: str) -> Message:
    global _n
    _n += 1
    return parse_message(message_obj(sender="cust_1", receiver="agent_2", time=T0 + _n,
                                     text=text, seq=_n, random=_n))


def brute(index: SearchIndex, query: SearchQuery) -> list[int]:
    matcher = query.compile()
    return [i for i in range(len(index)) if matcher.matches(index.text(i))]


# -- the haystack -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(text_st, max_size=30),
    edits=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 6),
                             st.lists(text_st, max_size=9)), max_size=8),
    needle=st.text(alphabet=st.sampled_from(TRICKY), min_size=1, max_size=3),
    block=st.integers(1, 5),
    window=st.tuples(st.integers(0, 45), st.integers(0, 45)),
)
def test_haystack_finds_what_substring_search_finds_after_any_splices(
    texts: list[str], edits: list[tuple[int, int, list[str]]], needle: str, block: int,
    window: tuple[int, int],
) -> None:
    hay = Haystack(block=block)
    hay.splice(0, 0, texts)
    current = list(texts)
    for at, removed, inserted in edits:
        at = min(at, len(current))
        removed = min(removed, len(current) - at)
        hay.splice(at, removed, inserted)
        current[at : at + removed] = inserted
    assert len(hay) == len(current)
    lo, hi = sorted(window)
    assert hay.find(encode(needle), lo, hi) == [
        i for i in range(lo, min(hi, len(current))) if needle in current[i]]
    evens = list(range(0, len(current), 2))
    other = encode(needle[::-1])
    assert hay.keep([encode(needle), other], evens) == [
        i for i in evens if needle in current[i] or needle[::-1] in current[i]]


@pytest.mark.parametrize("block", [7, 4096])
def test_haystack_when_most_messages_match(block: int) -> None:
    texts = [("hello " if i % 5 else "hi ") + str(i) for i in range(3000)]
    hay = Haystack(block=block)
    hay.splice(0, 0, texts)
    assert hay.find(b"e", 0, 3000) == [i for i in range(3000) if i % 5]
    assert hay.find(b"2", 10, 2990) == [i for i in range(10, 2990) if "2" in texts[i]]


@settings(max_examples=40, deadline=None)
@given(
    texts=st.lists(st.text(alphabet="abr", max_size=4), min_size=30, max_size=400),
    needle=st.sampled_from(["r", "a", "ab", "rr", "bra"]),
    block=st.sampled_from([3, 64, 4096]),
    lo=st.integers(0, 40),
)
def test_haystack_finds_the_same_at_any_density(
    texts: list[str], needle: str, block: int, lo: int
) -> None:
    # Enough hits that the find loop weighs turning to one find per message, in any block.
    hay = Haystack(block=block)
    hay.splice(0, 0, texts)
    assert hay.find(encode(needle), lo, len(texts)) == [
        i for i in range(lo, len(texts)) if needle in texts[i]]


ASCII = [chr(c) for c in range(32, 127)]


@settings(max_examples=30, deadline=None)
@given(
    texts=st.lists(st.text(alphabet=st.sampled_from([*ASCII, "é", "退"]), max_size=6),
                   min_size=1, max_size=60),
    edits=st.lists(st.tuples(st.integers(0, 70), st.integers(0, 9),
                             st.lists(st.text(alphabet=st.sampled_from(ASCII), max_size=5),
                                      max_size=9)), max_size=4),
    block=st.sampled_from([2, 5, 4096]),
)
def test_every_one_character_needle_finds_what_substring_search_finds(
    texts: list[str], edits: list[tuple[int, int, list[str]]], block: int
) -> None:
    # One-character needles come from each message's mask of the characters it holds (made at
    # the splice that brings it); the others from finds: both kinds, masks cut and joined by
    # splices at any block size, equal `in` on every text.
    current = [t.casefold() for t in texts]
    hay = Haystack(block=block)
    hay.splice(0, 0, current)
    for at, removed, inserted in edits:
        at, folded = min(at, len(current)), [t.casefold() for t in inserted]
        removed = min(removed, len(current) - at)
        hay.splice(at, removed, folded)
        current[at : at + removed] = folded
    odds = list(range(1, len(current), 2))
    for char in {c.casefold() for c in ASCII}:
        assert hay.find(encode(char), 0, len(current)) == [
            i for i, t in enumerate(current) if char in t], char
        assert hay.keep([encode(char)], odds) == [i for i in odds if char in current[i]], char


def test_a_needle_never_matches_across_two_messages() -> None:
    hay = Haystack()
    hay.splice(0, 0, ["ab", "cd", "", "e"])
    assert hay.find(b"bc", 0, 4) == []
    assert hay.find(b"b\ncd", 0, 4) == []
    assert hay.find(b"d", 0, 4) == [1]


# -- searching through it equals matching each text ---------------------------------------------


# Words that fold into one another in some ways and not in others, so that matches are common.
WORDS = ["in", "ın", "İN", "IN", "ss", "ß", "ẞ", "σς", "ΣΣ", "kK", "退款", "a?", "e", "\n", " "]
words_st = st.lists(st.sampled_from(WORDS), max_size=5).map("".join)


def _regex_st() -> st.SearchStrategy[str]:
    atoms = st.one_of(
        st.sampled_from(WORDS + TRICKY).map(re.escape),
        st.sampled_from([r"\w", r"\d", ".", r"\s", "[a-k]", "[^e]", r"\b", "^", "$"]),
        # Spellings of letters the reader must read as re does (or give up on).
        st.sampled_from([r"\x65", r"\u0131", r"\U0001F600", r"\N{LATIN SMALL LETTER SHARP S}",
                         r"\101", r"\0", r"\n", r"\.", "{", "a{", "{,", "}", "[]e]", r"[^\]]",
                         "(?#e)", r"\?", "-"]),
    )
    return st.recursive(atoms, lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=4).map("".join),
        st.lists(inner, min_size=2, max_size=4).map("|".join),
        st.tuples(st.sampled_from(["(", "(?:", "(?i:", "(?-i:", "(?P<g>", "(?=", "(?!", "(?>"]),
                  inner).map(lambda t: f"{t[0]}{t[1]})"),
        st.tuples(inner, st.sampled_from(["+", "?", "*", "{2}", "{1,2}", "{2,}", "{,1}", "+?",
                                          "*+", "??", "{0}"])).map(lambda t: f"(?:{t[0]}){t[1]}"),
    ), max_leaves=6)


@settings(max_examples=400, deadline=None)
@given(
    texts=st.lists(st.one_of(words_st, text_st), max_size=16),
    query=st.one_of(words_st, text_st, _regex_st()),
    case=st.sampled_from(["smart", "sensitive", "insensitive"]),
    regex=st.booleans(),
)
def test_index_finds_exactly_what_matching_each_text_finds(
    texts: list[str], query: str, case: Any, regex: bool
) -> None:
    q = SearchQuery(query, case, regex)
    try:
        q.compile()
    except SearchQueryError:
        assume(False)
    index = SearchIndex([msg(t) for t in texts], block=3)
    assert list(index.search(q.compile()).run()) == brute(index, q)


def test_case_insensitive_regex_finds_what_re_finds_where_folding_differs() -> None:
    texts = ["İNVOICE 5", "ınvoıce", "STRASSE", "straẞe", "ΟΔΟΣ", "Kelvin", "ſtop"]
    index = SearchIndex([msg(t) for t in texts])
    for pattern in ["invoice", "strasse|straße", "οδος", "kelvin", "stop", "nvo"]:
        q = SearchQuery(pattern, "insensitive", regex=True)
        expected = [i for i, t in enumerate(texts) if re.search(pattern, t, re.I | re.M)]
        assert list(index.search(q.compile()).run()) == expected == brute(index, q), pattern


EVERY = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)


@pytest.mark.parametrize("engine", [re, regex_engine], ids=["re", "regex"])
def test_ignorecase_takes_a_probed_letter_only_for_letters_of_its_casefold(
    engine: ModuleType,
) -> None:
    # The probes of an insensitive regex are looked for in case-folded text, so a letter may be
    # probed only if every letter the engine's IGNORECASE takes for it has the same casefold().
    # Both engines run regexes (search_runner), and each is asked through its public API, over
    # every letter with a case in Python's tables or in the regex engine's (newer) ones.
    cased = set(regex_engine.findall(r"[\p{Cased}\p{CWCM}\p{CWCF}]", EVERY))
    for ch in EVERY:
        maps = (ch.lower(), ch.upper(), ch.casefold(), ch.title())
        if any(m != ch for m in maps):
            cased.add(ch)
            cased.update(*maps)
    pool = "".join(sorted(cased))
    runner = runner_for(re.compile("x" if engine is re else "x+", re.IGNORECASE))
    assert runner.bounded is (engine is re)
    differ = set()
    for letter in pool:
        found = {m.group() for m in engine.finditer(engine.escape(letter), pool, engine.IGNORECASE)}
        if len({f.casefold() for f in found | {letter}}) > 1:
            differ.add(letter)
    assert not {c for c in differ if runner.foldable(c)}
    if engine is re:
        assert differ == UNFOLDABLE  # no letter is given up for nothing
    for letter in "skſßσµKİ":  # nothing outside the pool is taken for these either
        found = {m.group() for m in engine.finditer(engine.escape(letter), EVERY,
                                                     engine.IGNORECASE)}
        assert len({f.casefold() for f in found}) == 1 or not runner.foldable(letter)


@pytest.mark.parametrize(("pattern", "icase", "probes"), [
    ("refund|退款", True, ("refund", "退款")),
    (r"E\d{10}", False, ("e",)),  # in 2 of 3 messages, yet one letter costs a mask's slice
    (r"T-\d{6}", False, ("t-",)),
    ("invoice|发票", True, ("nvo", "发票")),  # "i" may be "ı" to re: not looked for
    (r"^\?+$", True, ("?",)),
    (r"\d{3} \d{4}", True, (" ",)),
    ("x(foo|bar)+y", False, ("foo", "bar")),
    ("(foo|)barbaz", False, ("barbaz",)),
    ("(?:order)?refund", True, ("refund",)),
    ("(?i:Ab)CDE", False, ("cde",)),
    ("a|b|c|d|e|f|g", True, ()),
    ("(?>abc)d", False, ("abc",)),
])
def test_regex_probes(pattern: str, icase: bool, probes: tuple[str, ...]) -> None:
    tree = parse(pattern, re.IGNORECASE if icase else 0)
    assert tree is not None
    assert regex_probes(tree) == tuple(encode(p) for p in probes)


# -- narrowing as the user types ----------------------------------------------------------------


def corpus(n: int) -> list[Message]:
    words = ["refund", "hello", "订单 shipped", "Refund please", "ok", "REFUSED"]
    return [msg(f"{words[i % len(words)]} #{i}") for i in range(n)]


def test_typing_on_looks_only_at_the_previous_matches() -> None:
    index = SearchIndex(corpus(600))
    previous: list[int] = []
    for k, text in enumerate(["r", "re", "ref", "refu", "refun", "refund", "Refund"]):
        results = index.search(SearchQuery(text).compile())
        assert results.unscanned == (len(previous) if k else len(index))
        previous = list(results.run())
        assert previous == brute(index, SearchQuery(text))
    assert len(previous) == 100


@pytest.mark.parametrize(("first", "then"), [
    (SearchQuery("refund"), SearchQuery("refun")),  # a letter deleted
    (SearchQuery("Ref"), SearchQuery("refund")),  # sensitive before, insensitive now
    (SearchQuery("ref"), SearchQuery("refu", regex=True)),
    (SearchQuery("re", regex=True), SearchQuery("ref", regex=True)),
    (SearchQuery("ok"), SearchQuery("hello")),
])
def test_other_query_changes_look_at_everything(first: SearchQuery, then: SearchQuery) -> None:
    index = SearchIndex(corpus(60))
    index.search(first.compile()).run()
    results = index.search(then.compile())
    assert results.unscanned == 60
    assert list(results.run()) == brute(index, then)


@settings(max_examples=80, deadline=None)
@given(
    typed=st.lists(st.sampled_from(["r", "re", "ref", "refu", "Refu", "e", "ok", "#1", "#12"]),
                   min_size=1, max_size=6),
    steps=st.lists(st.integers(0, 3), min_size=6, max_size=6),
    edits=st.lists(st.tuples(st.integers(0, 80), st.integers(0, 9), st.integers(0, 9)),
                   min_size=6, max_size=6),
)
def test_narrowed_results_equal_a_fresh_search_despite_cancels_and_loads(
    typed: list[str], steps: list[int], edits: list[tuple[int, int, int]]
) -> None:
    pool = corpus(160)
    current, spare = pool[:60], iter(pool[60:])
    index = SearchIndex(current, block=4)
    results = None
    for text, stepped, (at, removed, inserted) in zip(typed, steps, edits, strict=False):
        results = index.search(SearchQuery(text).compile())
        for _ in zip(range(stepped), results.steps(chunk=7), strict=False):
            pass  # cancelled part way, as a newer keystroke does
        at = min(at, len(current))
        current = current[:at] + [m for _, m in zip(range(inserted), spare, strict=False)] \
            + current[at + removed:]
        start, removed, inserted = splice_plan(index.messages, current)
        index.splice(start, removed, current[start:start + inserted])
    assert results is not None
    assert list(results.run()) == brute(index, results.matcher.query)

"""`:filter` as typed, and the registry other issues add their kinds to."""

from __future__ import annotations

import pytest

from roamtui.history.filters import (
    KINDS,
    FilterError,
    FilterKind,
    MessageFilter,
    parse_filter,
    register_kind,
)
from roamtui.im.model import message_obj, parse_message

NONE = MessageFilter()


def test_terms_add_up_and_clear_or_not_take_away() -> None:
    f = parse_filter("recalled", NONE)
    f = parse_filter("from agent_Alice", f)  # IDs are case-sensitive: kept as typed
    assert f == MessageFilter(kinds=("recalled",), senders=("agent_Alice",))
    assert f.label() == "recalled · from agent_Alice"
    assert parse_filter("not recalled", f).kinds == ()
    assert parse_filter("not from", f).senders == ()
    assert parse_filter("non-text recalled", NONE).kinds == ("non-text", "recalled")
    assert parse_filter("clear", f) == NONE and not NONE.active


@pytest.mark.parametrize(("text", "reason"), [
    ("", "filter what?"), ("from", "from whom?"), ("not", "not what?"),
    ("recaled", "unknown filter 'recaled'"),
])
def test_bad_terms_say_what_works(text: str, reason: str) -> None:
    with pytest.raises(FilterError, match=reason):
        parse_filter(text, NONE)


def test_a_kind_registered_elsewhere_is_filterable_at_once() -> None:
    marked = {"k1"}
    register_kind(FilterKind("marked-test", "marked", "marked messages", lambda m: m.key in marked))
    try:
        f = parse_filter("marked-test", NONE)
        one = parse_message(message_obj(sender="a", receiver="b", time=1, key="k1", text="a"))
        two = parse_message(message_obj(sender="a", receiver="b", time=2, key="k2", text="b"))
        assert f.test(one) and not f.test(two) and f.label() == "marked"
    finally:
        del KINDS["marked-test"]
    with pytest.raises(ValueError):
        register_kind(FilterKind("Two Words", "x", "x", lambda m: True))


def test_from_names_a_party_by_nickname_or_account_in_any_case() -> None:
    parties = {"cust_1001": "王小明", "agent_alice": "Alice (Support)"}
    assert parse_filter("from 王小明", NONE, parties).senders == ("cust_1001",)
    assert parse_filter("from Cust_1001", NONE, parties).senders == ("cust_1001",)
    assert parse_filter("from alice (support)", NONE, parties).senders == ("agent_alice",)
    # A nickname of several words, then more of the command.
    both = parse_filter("from Alice (Support) recalled", NONE, parties)
    assert both.senders == ("agent_alice",) and both.kinds == ("recalled",)
    assert parse_filter("from agent_alice", NONE, parties).senders == ("agent_alice",)


def test_from_someone_who_is_not_a_party_says_who_the_parties_are() -> None:
    parties = {"cust_1001": "王小明", "agent_alice": ""}
    with pytest.raises(FilterError) as caught:
        parse_filter("from 李雷", NONE, parties)
    assert str(caught.value) == ("'李雷' is neither party of this conversation: from cust_1001 "
                                 "(王小明) or agent_alice")
    current = parse_filter("recalled", NONE, parties)
    with pytest.raises(FilterError):
        parse_filter("from nobody recalled", current, parties)

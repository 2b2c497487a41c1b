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

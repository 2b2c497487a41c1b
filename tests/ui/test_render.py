"""The transcript's drawing rules (render, and transcript_layout's one-line rows), checked on
plain lines without an app."""

from __future__ import annotations

import re
from datetime import UTC, date, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from roamtui.history.rows import EdgeRow, Gap, GapRow
from roamtui.im.errors import ServiceError
from roamtui.im.model import Message, message_obj, parse_message
from roamtui.ui import render
from roamtui.ui.render import RenderContext, Run, plain, sanitize, wrap
from roamtui.ui.runs import runs_width
from roamtui.ui.transcript import layout as transcript_layout

T0 = 1_584_669_600  # 2020-03-20 02:00:00 UTC
CST = timezone(timedelta(hours=8))
CTX = RenderContext.for_parties(CST, "customer_1", "agent_007")


def msg(text: str | None = None, *, body: list[Any] | None = None, sender: str = "customer_1",
        time: int = T0, flag_bits: int = 0, read: bool = False, seq: int = 1) -> Message:
    return parse_message(message_obj(sender=sender, receiver="agent_007", time=time, text=text,
                                     body=body, flag_bits=flag_bits, is_peer_read=read, seq=seq))


def texts(lines: list[render.Line]) -> list[str]:
    return [plain(line) for line in lines]


def roles_of(lines: list[render.Line], needle: str) -> set[str]:
    return {run.role for line in lines for run in line if needle in run.text}


# -- sanitising -----------------------------------------------------------------------------------


def test_markup_is_plain_text() -> None:
    runs = sanitize("[@click=app.quit]press[/] [b]bold[/b]")
    assert runs == [Run("[@click=app.quit]press[/] [b]bold[/b]", render.TEXT)]


def test_escape_sequences_and_bell_are_made_visible() -> None:
    shown = "".join(r.text for r in sanitize("\x1b[31mred\x1b[0m\x07 \x1b]52;c;aGk=\x07"))
    assert shown == "␛[31mred␛[0m␇ ␛]52;c;aGk=␇"
    assert "\x1b" not in shown and "\x07" not in shown


def test_control_markers_have_their_own_role() -> None:
    runs = sanitize("a\x00b\x7fc\x9bd")
    assert [r.text for r in runs] == ["a", "␀", "b", "␡", "c", "⟨U+009B⟩", "d"]
    assert {r.role for r in runs if r.text not in "abcd"} == {render.CONTROL}


def test_zero_width_and_bidi_characters_are_visible() -> None:
    shown = "".join(r.text for r in sanitize("pay\u200bpal \u202egnp.exe \ufeff\u2066x\u2069"))
    assert shown == "pay⟨U+200B⟩pal ⟨U+202E⟩gnp.exe ⟨U+FEFF⟩⟨U+2066⟩x⟨U+2069⟩"


def test_crlf_is_one_line_break_and_a_lone_cr_is_visible() -> None:
    assert "".join(r.text for r in sanitize("a\r\nb\rc")) == "a\nb␍c"


def test_diacritic_stacks_are_cut_to_two_marks() -> None:
    zalgo = "Z" + "\u0301\u0302\u0303\u0304\u0305" + "a"
    runs = sanitize(zalgo)
    assert "".join(r.text for r in runs) == "Z\u0301\u0302⟨+3 marks⟩a"
    assert sanitize("café") == [Run("café", render.TEXT)]  # one accent is plain text


# -- wrapping -------------------------------------------------------------------------------------


def test_wrap_breaks_at_spaces_and_keeps_every_word() -> None:
    lines = wrap([Run("the quick brown fox jumps over the lazy dog", render.TEXT)], 12)
    shown = ["".join(r.text for r in line) for line in lines]
    assert all(cell_len(s) <= 12 for s in shown)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]
    assert " ".join(s.strip() for s in shown).split() == words
    assert shown[0].rstrip() == "the quick"


def test_wrap_measures_wide_characters_in_cells() -> None:
    lines = wrap([Run("你好" * 10, render.TEXT)], 9)
    shown = ["".join(r.text for r in line) for line in lines]
    assert [cell_len(s) for s in shown] == [8, 8, 8, 8, 8]
    assert "".join(shown) == "你好" * 10


def test_wide_text_breaks_between_characters_instead_of_leaving_a_short_line() -> None:
    lines = wrap([Run("SAVE35 用不了。你好，我昨天下的订单", render.TEXT)], 16)
    shown = ["".join(r.text for r in line) for line in lines]
    assert shown == ["SAVE35 用不了。", "你好，我昨天下的", "订单"]


def test_wrap_splits_words_longer_than_the_width_and_keeps_roles() -> None:
    runs = [Run("abc", render.TEXT), Run("␛", render.CONTROL), Run("defghij", render.TEXT)]
    lines = wrap(runs, 4)
    assert [["".join(r.text) for r in line] for line in lines] == [["abc", "␛"], ["defg"], ["hij"]]
    assert lines[0][1].role == render.CONTROL


@settings(max_examples=150, deadline=None)
# No lone joiners (U+200D): rich measures a string of them differently whole and by grapheme,
# and the transcript shows them as visible marks (sanitize) before wrapping anyway.
@given(st.text(alphabet=st.sampled_from(list("ab cd\n你好é 。「\u0301")), max_size=80),
       st.integers(min_value=2, max_value=30))
def test_wrap_never_exceeds_the_width_nor_loses_text(text: str, width: int) -> None:
    lines = wrap([Run(text, render.TEXT)], width)
    shown = ["".join(r.text for r in line) for line in lines]
    assert all(cell_len(s) <= width for s in shown)
    # Only spaces at a break may be dropped; every other character survives in order.
    assert "".join(shown).replace(" ", "") == text.replace("\n", "").replace(" ", "")


# -- messages -------------------------------------------------------------------------------------


def test_message_line_has_time_in_zone_sender_column_and_text() -> None:
    line = texts(render.message_lines(msg("hello"), 80, CTX))[0]
    assert line.startswith("10:00:00 customer_1 hello")
    agent = texts(render.message_lines(msg("hi", sender="agent_007"), 80, CTX))[0]
    assert agent.index("hi") == line.index("hello")  # one text column for both parties


def test_parties_have_their_own_roles() -> None:
    mine = render.message_lines(msg("x"), 80, CTX)
    theirs = render.message_lines(msg("x", sender="agent_007"), 80, CTX)
    assert mine[0][2].role == render.SELF and theirs[0][2].role == render.PEER


def test_long_sender_names_are_cut_to_the_column() -> None:
    name = "a_very_long_account_name_indeed"
    ctx = RenderContext.for_parties(UTC, name, "b")
    line = plain(render.message_lines(msg("x", sender=name), 80, ctx)[0])
    assert line[9:9 + ctx.sender_width] == name[: ctx.sender_width - 1] + "…"


def test_continuation_lines_are_indented_under_the_text_column() -> None:
    lines = texts(render.message_lines(msg("word " * 40), 60, CTX))
    column = CTX.prefix_width
    assert len(lines) > 1
    assert all(cell_len(s) <= 60 for s in lines)
    assert all(s[:column].strip() == "" and s[column] != " " for s in lines[1:])


def test_long_messages_fold_after_twenty_lines_and_expand() -> None:
    long = msg("x" * 5000)
    folded = texts(render.message_lines(long, 80, CTX))
    width = CTX.text_width(80)
    total = -(-5000 // width)
    assert len(folded) == render.FOLD_AT + 1
    assert folded[-1].strip() == f"… {total - render.FOLD_AT} more lines (x to expand)"
    expanded = texts(render.message_lines(long, 80, CTX, expanded=True))
    assert len(expanded) == total
    assert "".join(s[CTX.prefix_width:] for s in expanded) == "x" * 5000


def test_recalled_message_shows_badge_and_original_text_in_recalled_style() -> None:
    lines = render.message_lines(msg("I take it back", flag_bits=8), 80, CTX)
    assert render.BADGE_TEXT in plain(lines[0]) and "I take it back" in plain(lines[0])
    assert roles_of(lines, "I take it back") == {f"{render.TEXT} {render.RECALLED}"}
    assert roles_of(lines, render.BADGE_TEXT) == {render.BADGE}


def test_recalled_message_without_body_says_so() -> None:
    record = message_obj(sender="customer_1", receiver="agent_007", time=T0, flag_bits=8)
    del record["MsgBody"]
    line = plain(render.message_lines(parse_message(record), 80, CTX)[0])
    assert render.BADGE_TEXT in line and "content not returned" in line


def test_read_mark() -> None:
    assert plain(render.message_lines(msg("seen", read=True), 80, CTX)[0]).endswith("seen ✓")
    assert "✓" not in plain(render.message_lines(msg("unseen"), 80, CTX)[0])


ELEMENTS: list[tuple[dict[str, Any], str]] = [
    ({"MsgType": "TIMImageElem", "MsgContent": {"UUID": "u", "ImageFormat": 1, "ImageInfoArray": [
        {"Type": 1, "Size": 1_887_436, "Width": 2448, "Height": 3264, "URL": "http://x/i"}]}},
     "[image 2448×3264 1.8 MB]"),
    ({"MsgType": "TIMFileElem", "MsgContent": {"Url": "http://x/f", "UUID": "u",
                                              "FileSize": 122_880, "FileName": "invoice.pdf"}},
     "[file invoice.pdf 120 KB]"),
    ({"MsgType": "TIMSoundElem", "MsgContent": {"Url": "u", "UUID": "u", "Size": 10,
                                               "Second": 7}}, "[voice 0:07]"),
    ({"MsgType": "TIMFaceElem", "MsgContent": {"Index": 3, "Data": ""}}, "[face #3]"),
    ({"MsgType": "TIMLocationElem", "MsgContent": {"Desc": "Shenzhen office",
                                                  "Latitude": 22.54, "Longitude": 113.93}},
     '[location "Shenzhen office" 22.54,113.93]'),
    ({"MsgType": "TIMNewElem", "MsgContent": {"a": 1}}, "[TIMNewElem]"),
]


@pytest.mark.parametrize(("element", "shown"), ELEMENTS, ids=[e[1] for e in ELEMENTS])
def test_placeholders_for_non_text_elements(element: dict[str, Any], shown: str) -> None:
    lines = render.message_lines(msg(body=[element]), 100, CTX)
    assert plain(lines[0])[CTX.prefix_width:] == shown
    assert roles_of(lines, shown) == {render.PLACEHOLDER}


def test_elements_keep_their_order_and_text_stays_text() -> None:
    body = [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "look"}}, ELEMENTS[3][0],
            {"MsgType": "TIMTextElem", "MsgContent": {"Text": "here"}}]
    assert plain(render.message_lines(msg(body=body), 100, CTX)[0]).endswith("look [face #3] here")


def test_a_placeholder_is_not_broken_across_lines_when_it_fits_one() -> None:
    body = [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "see " * 8}}, ELEMENTS[0][0]]
    lines = texts(render.message_lines(msg(body=body), CTX.prefix_width + 40, CTX))
    assert lines[-1][CTX.prefix_width:] == "[image 2448×3264 1.8 MB]"


def test_a_placeholder_longer_than_the_line_breaks_at_its_spaces_not_mid_word() -> None:
    # At 50-60 columns: `[merged forward: Escalation note` / `s · 4 msgs]`, `… 1.5 M` / `B]`.
    runs = [Run("[merged forward: Escalation notes · 4 msgs]", render.PLACEHOLDER),
            Run(" ▸", render.FOLD), Run(" ✓", render.READ)]
    assert [plain(tuple(line)).rstrip() for line in wrap(runs, 23)] == [
        "[merged forward:", "Escalation notes · 4", "msgs] ▸ ✓"]
    image = [Run("验证码收不到。 ", render.TEXT),
             Run("[image 3024×4032 1.5 MB]", render.PLACEHOLDER)]
    assert [plain(tuple(line)).rstrip() for line in wrap(image, 22)] == [
        "验证码收不到。 [image", "3024×4032 1.5 MB]"]


def test_a_placeholder_with_wide_characters_moves_to_the_next_line_whole() -> None:
    # Split into runs by a visible control character in the file name, still one placeholder.
    runs = [Run("看看看看 ", render.TEXT), Run("[file 报告", render.PLACEHOLDER),
            Run("␛", render.PLACEHOLDER), Run(".pdf 1 MB]", render.PLACEHOLDER)]
    assert [plain(tuple(line)).rstrip() for line in wrap(runs, 22)] == [
        "看看看看", "[file 报告␛.pdf 1 MB]"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab你")), min_size=1, max_size=6),
                min_size=1, max_size=6), st.integers(min_value=6, max_value=30))
def test_a_placeholder_is_broken_only_between_its_words(words: list[str], width: int) -> None:
    text = "[" + " ".join(words) + "]"
    lines = wrap([Run("x ", render.TEXT), Run(text, render.PLACEHOLDER)], width)
    drawn = [plain(tuple(run for run in line if run.role == render.PLACEHOLDER)).strip()
             for line in lines]
    assert all(runs_width(line) <= width for line in lines)
    if cell_len(text) <= width:
        assert text in drawn  # whole on one line
    elif all(cell_len(word) + 2 <= width for word in words):  # every word fits a line
        assert " ".join(part for part in drawn if part) == text


def test_untrusted_placeholder_text_is_sanitised() -> None:
    element = {"MsgType": "TIMFileElem", "MsgContent": {"FileName": "a\x1b[2Jb.pdf",
                                                       "FileSize": 1, "Url": "", "UUID": ""}}
    line = plain(render.message_lines(msg(body=[element]), 100, CTX)[0])
    assert "\x1b" not in line and "a␛[2Jb.pdf" in line


def relay(n: int) -> dict[str, Any]:
    inner = [message_obj(sender="bob", receiver="carol", time=T0 - 3600 + i, text=f"inner {i}",
                         seq=i + 1) for i in range(n)]
    for item in inner:
        del item["MsgKey"]
    return {"MsgType": "TIMRelayElem", "MsgContent": {"Title": "chat log", "MsgNum": n,
                                                     "MsgList": inner}}


def test_merged_forward_expands_in_place_with_nested_messages_indented() -> None:
    message = msg(body=[relay(3)])
    collapsed = texts(render.message_lines(message, 100, CTX))
    assert collapsed == [collapsed[0]] and "[merged forward: chat log · 3 msgs] ▸" in collapsed[0]
    expanded = texts(render.message_lines(message, 100, CTX, expanded=True))
    assert "▾" in expanded[0] and len(expanded) == 4
    for i, line in enumerate(expanded[1:]):
        assert line[: CTX.prefix_width].strip() == ""
        assert line[CTX.prefix_width:].startswith("│ 2020-03-20 09:")
        assert line.endswith(f"bob: inner {i}")


def test_simple_width_predicts_one_line_rows() -> None:
    for text in ("short", "a bit longer text " * 3, "你好" * 30, "[b]x[/b]\x1b", ""):
        message = msg(text)
        natural = transcript_layout.simple_width(message)
        for width in (40, 60, 120):
            lines = render.message_lines(message, width, CTX)
            assert (len(lines) == 1) == (natural <= CTX.text_width(width))
    assert transcript_layout.simple_width(msg("two\nlines")) == -1


# -- other rows -----------------------------------------------------------------------------------


def test_day_separator_names_the_full_date_across_the_width() -> None:
    line = plain(transcript_layout.day_lines(date(2020, 3, 20), 60)[0])
    assert "Friday, 2020-03-20" in line and cell_len(line) == 60 and line.startswith("─")


def test_gap_rows_say_what_is_missing_loading_and_failed() -> None:
    gap = Gap(T0, T0 + 5400)
    idle = plain(transcript_layout.gap_lines(GapRow(gap), 100, CST, older_edge=False)[0])
    assert "⋯ not loaded: 10:00–11:30 (scroll here to load)" in idle
    loading = plain(transcript_layout.gap_lines(GapRow(Gap(T0, T0 + 60, "loading")), 100, CST,
                                     older_edge=True)[0])
    assert "loading older messages…" in loading
    error = ServiceError(91000, "internal\x1b[31m error")
    failed = transcript_layout.gap_lines(GapRow(Gap(T0, T0 + 60, "error", error)), 100, CST,
                              older_edge=False)
    assert plain(failed[0]).strip().startswith("⚠ ") and plain(failed[0]).strip().endswith(
        "— r to retry")
    assert "\x1b" not in plain(failed[0])
    assert failed[0][0].role == render.ERROR


def test_edge_rows() -> None:
    assert "start of window" in plain(transcript_layout.edge_lines(EdgeRow("start"), 50)[0])
    assert "end of window" in plain(transcript_layout.edge_lines(EdgeRow("end"), 50)[0])


# -- search hits ----------------------------------------------------------------------------------


def hits(lines: list[render.Line]) -> list[str]:
    """The marked pieces, line by line, run by run."""
    return [run.text for line in lines for run in line if render.MATCH in run.role.split()]


def hit_lines(lines: list[render.Line]) -> list[int]:
    return [i for i, line in enumerate(lines) if any(render.MATCH in r.role.split() for r in line)]


def test_hits_are_marked_in_the_body_never_in_the_time_or_sender_columns() -> None:
    ten = re.compile("10")  # the message is sent at 10:00:00
    lines = render.message_lines(msg("call me at 10 or 11"), 80, CTX, pattern=ten)
    assert hits(lines) == ["10"]
    assert plain(lines[0]).index("10 or") == plain(lines[0]).rindex("10")  # the body's "10"
    assert hits(render.message_lines(msg("nothing here"), 80, CTX, pattern=ten)) == []
    customer = re.compile("customer")  # the sender's name
    assert hits(render.message_lines(msg("hi"), 80, CTX, pattern=customer)) == []


def test_hits_are_found_in_the_message_text_so_anchors_work() -> None:
    message = msg("hello there\nhi again")
    starts = render.message_lines(message, 80, CTX, pattern=re.compile("^h", re.MULTILINE))
    assert hits(starts) == ["h", "h"] and hit_lines(starts) == [0, 1]
    assert hits(render.message_lines(message, 80, CTX, pattern=re.compile("again$"))) == [
        "again"]


def test_a_hit_split_by_wrapping_is_marked_on_both_lines() -> None:
    width = CTX.text_width(60)
    lines = render.message_lines(msg("a" * (width - 3) + "needle"), 60, CTX,
                                 pattern=re.compile("needle"))
    assert texts(lines)[1].strip() == "dle"
    assert hits(lines) == ["nee", "dle"] and hit_lines(lines) == [0, 1]
    wide = render.message_lines(msg("你好" * 40), 60, CTX, pattern=re.compile("好你"))
    assert len(wide) > 1 and hit_lines(wide) == list(range(len(wide)))


def test_hits_in_placeholders_stand_ins_and_recalled_text_keep_their_roles() -> None:
    file = render.message_lines(msg(body=[ELEMENTS[1][0]]), 100, CTX,
                                pattern=re.compile("invoice"))
    assert [(r.text, r.role) for line in file for r in line if "match" in r.role] == [
        ("invoice", "placeholder match")]
    escape = render.message_lines(msg("a\x1b[2Jb"), 80, CTX, pattern=re.compile("\x1b"))
    assert [(r.text, r.role) for line in escape for r in line if "match" in r.role] == [
        ("␛", "control match")]
    recalled = render.message_lines(msg("take it back", flag_bits=8), 80, CTX,
                                    pattern=re.compile("back"))
    assert roles_of(recalled, "back") == {"text recalled match"}
    crlf = render.message_lines(msg("one\r\ntwo"), 80, CTX, pattern=re.compile("one\r\ntwo"))
    assert hits(crlf) == ["one", "two"]


def test_a_placeholder_is_marked_whole_when_the_hit_is_in_what_it_does_not_show() -> None:
    name = "quarterly_report_for_the_board_of_directors_and_the_shareholders_final_v7.pdf"
    element = {"MsgType": "TIMFileElem", "MsgContent": {"FileName": name, "FileSize": 1,
                                                       "Url": "", "UUID": ""}}
    lines = render.message_lines(msg(body=[element]), 120, CTX, pattern=re.compile("final_v7"))
    shown = plain(lines[0])[CTX.prefix_width:]
    assert "final_v7" not in shown and hits(lines) == [shown]


def test_a_hit_in_folded_lines_marks_the_fold_line() -> None:
    lines = render.message_lines(msg("x" * 5000 + " needle"), 80, CTX,
                                 pattern=re.compile("needle"))
    assert hit_lines(lines) == [len(lines) - 1] and "x to expand" in hits(lines)[0]
    shown = render.message_lines(msg("needle " + "x" * 5000), 80, CTX,
                                 pattern=re.compile("needle"))
    assert hit_lines(shown) == [0]


def test_a_merged_forward_is_marked_folded_and_its_hits_when_expanded() -> None:
    message, inner = msg(body=[relay(3)]), re.compile("inner 1")
    folded = render.message_lines(message, 100, CTX, pattern=inner)
    assert hits(folded) == ["[merged forward: chat log · 3 msgs]"]
    lines = render.message_lines(message, 100, CTX, expanded=True, pattern=inner)
    assert hits(lines)[1:] == ["inner 1"] and hit_lines(lines) == [0, 2]


def test_a_hit_never_splits_a_character_cluster() -> None:
    lines = render.message_lines(msg("I \u2764\ufe0f it"), 80, CTX, pattern=re.compile("\u2764"))
    assert hits(lines) == ["\u2764\ufe0f"]


MARK_ALPHABET = list("ab cd\n你好é\x1b\u0301\u2764\ufe0f\r")
NEEDLES = ["a", "b c", "好", "d\n", "^a", "c$", "\u0301", "\x1b", "你好", "\u2764"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(MARK_ALPHABET), max_size=120),
       st.sampled_from(NEEDLES),
       st.integers(min_value=CTX.prefix_width + 2, max_value=CTX.prefix_width + 30),
       st.booleans())
def test_marking_never_moves_a_line_break(text: str, needle: str, width: int,
                                          recalled: bool) -> None:
    message = msg(text, flag_bits=8 if recalled else 0)
    anchored = needle.startswith("^") or needle.endswith("$")
    pattern = re.compile(needle if anchored else re.escape(needle), re.MULTILINE)
    before = render.message_lines(message, width, CTX)
    after = render.message_lines(message, width, CTX, pattern=pattern)
    assert texts(after) == texts(before)
    assert [sum(cell_len(r.text) for r in line) for line in after] == [
        sum(cell_len(r.text) for r in line) for line in before]
    found = pattern.search(message.text()) is not None
    assert bool(hits(after)) == found


def test_a_code_in_chinese_text_is_not_cut_and_punctuation_stays_with_its_word() -> None:
    lines = wrap([Run("我的优惠码SAVE34-1197用不了。「请」帮我查一下", render.TEXT)], 14)
    shown = ["".join(r.text for r in line) for line in lines]
    assert shown == ["我的优惠码", "SAVE34-1197用", "不了。「请」帮", "我查一下"]
    assert not any(s.startswith(("。", "」")) or s.endswith("「") for s in shown)
    # A code longer than the line is still cut, as any word that long.
    lines = wrap([Run("码ABCDEFGHIJKLMNOP。", render.TEXT)], 8)
    assert all(runs_width(line) <= 8 for line in lines)
    assert "".join(r.text for line in lines for r in line) == "码ABCDEFGHIJKLMNOP。"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab-1你好。「」\u0301😀")), min_size=1,
                        max_size=12), min_size=1, max_size=4),
       st.integers(min_value=2, max_value=12))
def test_wide_words_in_several_roles_keep_every_character_and_role(
    parts: list[str], width: int
) -> None:
    runs = [Run(text, render.TEXT if i % 2 else render.CONTROL) for i, text in enumerate(parts)]
    lines = wrap(runs, width)
    assert all(runs_width(line) <= width for line in lines)
    drawn = [(c, r.role) for line in lines for r in line for c in r.text]
    assert drawn == [(c, r.role) for r in runs for c in r.text]

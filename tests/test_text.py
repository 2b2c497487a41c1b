"""roamtui.text: the one family of sanitisers, and the one line of an error."""

from __future__ import annotations

import json
import sys
import unicodedata

import pytest

from roamtui.text import (
    defuse_text,
    error_line,
    file_text,
    json_escape,
    one_line,
    screen_line,
    screen_spans,
    screen_text,
)

HOSTILE = "a\x1b[2Jb\x07 \u202eevil\u202c zero\u200bwidth \x9b31m \ud800 Z\u0301\u0302\u0303\u0304"


def test_every_form_leaves_nothing_a_terminal_acts_on() -> None:
    for shown in (
        screen_text(HOSTILE),
        defuse_text(HOSTILE)[0],
        file_text(HOSTILE),
        one_line(HOSTILE),
    ):
        assert not any(ch in shown for ch in "\x1b\x07\u202e\x9b\ud800"), shown


def test_the_screen_shows_stand_ins_and_keeps_crlf_as_one_break() -> None:
    assert screen_text("a\x1b\r\nb\rc") == "a␛\nb␍c"
    assert screen_text("\u200b\u202e") == "⟨U+200B⟩⟨U+202E⟩"
    assert screen_text("Z\u0301\u0302\u0303\u0304\u0305a") == "Z\u0301\u0302⟨+3 marks⟩a"
    assert screen_line("one\ntwo\x1b") == "one two␛"
    spans = list(screen_spans("ab\x1bc"))
    assert spans == [(2, 3, "␛")]


def test_every_unicode_format_character_is_caught_on_screen() -> None:
    missed = [f"U+{cp:04X}" for cp in range(sys.maxunicode + 1)
              if unicodedata.category(chr(cp)) in ("Cf", "Cc", "Zl", "Zp")
              and chr(cp) != "\n" and screen_text(chr(cp)) == chr(cp)]
    assert missed == []


def test_the_clipboard_keeps_tabs_newlines_and_emoji_joiners() -> None:
    assert defuse_text("a\tb\r\nc 😀\u200d🔥") == ("a\tb\nc 😀\u200d🔥", 0)
    assert defuse_text("x\x1by\u202e") == ("x␛y⟨U+202E⟩", 2)


def test_json_escapes_keep_the_value() -> None:
    text = json.dumps({"t": "a\u2028b\u202e\x1b"}, ensure_ascii=False)
    assert json.loads(json_escape(text)) == json.loads(text)
    assert "\u202e" not in json_escape(text)
    line_safe = json_escape(text, line_safe_only=True)
    assert "\u2028" not in line_safe and "\u202e" in line_safe  # only what breaks a line


def test_files_show_ascii_code_points_and_replace_lone_surrogates() -> None:
    assert file_text("a\nb\tc", " ⏎ ", "␉") == "a ⏎ b␉c"
    assert file_text("\u202e\x85\ud800\x7f") == "<U+202E><U+0085>\ufffd␡"


def test_one_line_is_bounded_and_escapes_controls() -> None:
    assert one_line("a\n\n b\t\x1b") == "a b \\u001b"
    assert one_line("x" * 500, limit=10) == "x" * 9 + "…"


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (ValueError("first\nsecond"), "first"),
        (ValueError("  \n"), "ValueError"),
        (RuntimeError("bell\x07 here"), "bell\\u0007 here"),
    ],
)
def test_error_line_is_the_first_line_made_inert(exc: Exception, line: str) -> None:
    assert error_line(exc) == line


def test_error_line_cleans_before_it_flattens() -> None:
    assert error_line(ValueError("key=abc"), clean=lambda s: s.replace("abc", "***")) == "key=***"

"""Untrusted text made inert, and the one line of an error: the one module for both.

Message text, account names, MsgKeys, nicknames and the texts of errors come from outside and
end up on a terminal, in a clipboard, in an export or in a log. Every place that shows or writes
such text goes through one of the functions below. They share the character classes defined
here and differ only in what an unsafe character becomes, because each destination needs its
own stand-in:

=================  ==================================  ===========================================
function           used for                            an unsafe character becomes
=================  ==================================  ===========================================
:func:`screen_     the transcript, inspector, names    ``␛`` (Control Pictures), ``␡``,
spans` /           on screen (``ui.render``)           ``⟨U+202E⟩``, ``⟨+3 marks⟩``; CRLF stays a
:func:`screen_                                         line break
line`
:func:`defuse_     the clipboard (``ui.clipboard``)    the same stand-ins; tab, newline and
text`                                                  zero-width joiners of emoji are kept
:func:`json_       raw JSON in the clipboard and in    ``\\u202e``: the same JSON value, inert
escape`            jsonl exports
:func:`file_       csv and txt exports                 ``␛``, ``␡``, ``<U+202E>``, ``<U+200B>``
text`                                                  (ASCII), U+FFFD for a lone surrogate; line
                                                       breaks and tabs as the caller says
:func:`one_line`   errors, logs, account listings      ``\\u001b``; line breaks become spaces,
                                                       runs of spaces one, bounded length
=================  ==================================  ===========================================

:func:`error_line` is the one line of an exception shown to a person: the first line of
``str(exc)`` through :func:`one_line`, or the exception's type name when it has no text.

Textual-free, stdlib only: every layer may use it, the IM protocol layer included.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

# -- character classes (regex set bodies) ----------------------------------------------------------

#: C0 controls but tab and line feed.
C0 = "\x00-\x08\x0b-\x1f"
#: DEL and the C1 controls (U+009B is a one-byte CSI to many terminals).
C1 = "\x7f-\x9f"
#: Directional marks (ALM, LRM, RLM).
BIDI_MARKS = "\u061c\u200e\u200f"
#: Bidi embeddings, overrides and isolates: what Trojan Source reorders text with.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
#: Line and paragraph separators, which split lines for some readers and not others.
SEPARATORS = "\u2028\u2029"
#: Lone surrogates: JSON can carry them, UTF-8 cannot.
SURROGATES = "\ud800-\udfff"
#: Every Unicode format character (zero-width, bidi, BOM, soft hyphen, tags, ...).
FORMAT_CHARS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
#: Combining diacritical marks; a stack of three or more is "Zalgo" text.
DIACRITICS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
#: Diacritics kept on a character before the rest of a stack is shown as a count.
KEPT_DIACRITICS = 2

# On screen nothing unsafe reaches the terminal: every control (a lone CR and tab too; CRLF is
# one line break), every format character, separators, surrogates and diacritic stacks.
_SCREEN = re.compile(
    f"\r\n|[\x00-\x09\x0b-\x1f{C1}{FORMAT_CHARS}{SEPARATORS}{SURROGATES}]|[{DIACRITICS}]{{3,}}"
)
# What a terminal may act on when pasted, or what reorders the text on display.
_PASTE = re.compile(f"[{C0}{C1}{BIDI_MARKS}{BIDI_CONTROLS}{SEPARATORS}{SURROGATES}]")
# What a line splitter cuts JSON text at, and what UTF-8 cannot encode.
_JSON_LINE = re.compile(f"[\u0085{SEPARATORS}{SURROGATES}]")
# Exports for people: every control, separators, surrogates and, as on screen, every format
# character: bidi controls, and the zero-width ones that hide inside a look-alike link
# (``pay\u200bpal.com``).
_FILE = re.compile(f"\r\n|[\x00-\x1f{C1}{SEPARATORS}{FORMAT_CHARS}{SURROGATES}]")


# -- stand-ins -------------------------------------------------------------------------------------


def control_picture(ch: str) -> str | None:
    """``␀`` … ``␟`` for a C0 control, ``␡`` for DEL; None for any other character."""
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return None


def stand_in(ch: str) -> str:
    """The visible stand-in of one unsafe character: a control picture, else ``⟨U+XXXX⟩``."""
    return control_picture(ch) or f"⟨U+{ord(ch):04X}⟩"


# -- the screen ------------------------------------------------------------------------------------


def screen_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """The unsafe stretches of ``text`` as ``(start, end, shown)``, in order.

    ``shown`` is ``"\\n"`` for a CRLF (one line break), else the stand-in; a diacritic stack
    keeps its first marks (its span starts after them). Everything between spans is safe.
    """
    for match in _SCREEN.finditer(text):
        start, end = match.span()
        found = match.group()
        if found == "\r\n":
            yield start, end, "\n"
        elif len(found) > 1:  # a diacritic stack
            yield start + KEPT_DIACRITICS, end, f"⟨+{len(found) - KEPT_DIACRITICS} marks⟩"
        else:
            yield start, end, stand_in(found)


def screen_text(text: str) -> str:
    """``text`` with every unsafe character replaced as :func:`screen_spans` says."""
    out: list[str] = []
    pos = 0
    for start, end, shown in screen_spans(text):
        out += (text[pos:start], shown)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def screen_line(text: str) -> str:
    """Untrusted text flattened to one inert line for the screen (names, paths)."""
    return screen_text(text.replace("\n", " "))


# -- the clipboard and raw JSON --------------------------------------------------------------------


def defuse_text(text: str) -> tuple[str, int]:
    """``text`` with paste-dangerous characters made visible, and how many were replaced."""
    text = text.replace("\r\n", "\n")
    count = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return stand_in(match.group())

    return _PASTE.sub(swap, text), count


def json_escape(text: str, *, line_safe_only: bool = False) -> str:
    """JSON text with unsafe characters written as ``\\uXXXX`` escapes: the same JSON value.

    The escapes only ever land inside JSON strings (``json.dumps`` writes every structural
    character in ASCII). By default every paste-dangerous character is escaped (the clipboard);
    with ``line_safe_only`` only what breaks a JSON line or UTF-8 (NEL, U+2028/U+2029, lone
    surrogates: jsonl exports, which keep the service's text otherwise byte for byte).
    """
    pattern = _JSON_LINE if line_safe_only else _PASTE
    if pattern.search(text) is None:
        return text
    return pattern.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# -- exports for people ----------------------------------------------------------------------------


def file_text(text: str, newline: str = "\n", tab: str = "\t") -> str:
    """``text`` for a csv cell or a txt line: controls, format characters, surrogates visible.

    Line breaks (a CRLF is one, as on screen; U+2028/U+2029 too) become ``newline``, tabs
    ``tab``; every other control (a lone CR too) its control picture (ESC -> ␛), a format
    character (bidi control, zero-width space or joiner, BOM, soft hyphen, tag: the characters
    the screen shows as ``⟨U+…⟩``) ``<U+200B>``, a lone surrogate U+FFFD.
    """

    def show(m: re.Match[str]) -> str:
        ch = m.group()
        if ch in ("\n", "\r\n", "\u2028", "\u2029"):
            return newline
        if ch == "\t":
            return tab
        picture = control_picture(ch)
        if picture is not None:
            return picture
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            return "\ufffd"
        return f"<U+{code:04X}>"

    return _FILE.sub(show, text)


# -- one line --------------------------------------------------------------------------------------


def one_line(text: str, limit: int = 400) -> str:
    """Untrusted text as one bounded line: no controls, no line breaks, runs of spaces as one."""
    out: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\r\n\t" or category == "Zl" or category == "Zp":
            out.append(" ")
        elif category in ("Cc", "Cf", "Cs", "Co"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    flat = " ".join("".join(out).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_line(
    exc: BaseException, *, clean: Callable[[str], str] | None = None, limit: int = 400
) -> str:
    """The one line shown for ``exc``: the first line of its text, inert, or its type's name.

    ``clean`` runs on that line first (the command line passes ``im.redact.scrub``, which this
    bottom layer cannot import).
    """
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0]
    return one_line(clean(line) if clean is not None else line, limit)

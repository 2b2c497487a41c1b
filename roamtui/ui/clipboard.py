"""Copying message text, MsgKeys and raw JSON to the terminal clipboard (OSC 52).

Message text is untrusted and ends up pasted into shells, tickets and editors. What reaches the
clipboard is therefore defused the way the screen shows it: C0/C1 control characters (bar tab
and newline), DEL, bidi overrides and lone surrogates become visible stand-ins, so a paste can
neither run an escape sequence nor reorder what the reader sees (Trojan Source). Everything else,
zero-width joiners of emoji included, is copied as it is. Raw JSON keeps its meaning: the same
characters are written as ``\\uXXXX`` escapes, so the copy still parses to the very same object.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

    from roamtui.im.model import Message

# What a terminal may act on when pasted, or that reorders text on display.
_DANGEROUS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                        "\u2066-\u2069\u2028\u2029\ud800-\udfff]")
#: Base64 payloads above this size are cut or refused by some terminals (hterm, older tmux).
OSC52_SAFE_BYTES = 100_000


def _visible(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # Control Pictures: ␛ for ESC, ␇ for BEL
    if code == 0x7F:
        return "␡"
    return f"⟨U+{code:04X}⟩"


def defuse_text(text: str) -> tuple[str, int]:
    """``text`` with paste-dangerous characters made visible, and how many were replaced."""
    text = text.replace("\r\n", "\n")
    count = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return _visible(match.group())

    return _DANGEROUS.sub(swap, text), count


def pretty_json(obj: Any) -> str:
    """``obj`` as indented JSON (non-ASCII kept), paste-dangerous characters as ``\\u`` escapes.

    The escapes only ever land inside JSON strings (``json.dumps`` writes every structural
    character in ASCII), so the text still parses to an equal object.
    """
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    return _DANGEROUS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def raw_json_text(message: Message) -> str:
    """The message object exactly as the service returned it, pretty-printed for reading."""
    try:
        return pretty_json(message.raw())
    except (ValueError, RecursionError):  # beyond what json can round-trip: the stored text
        return defuse_text(message.raw_json)[0]


@dataclass(frozen=True, slots=True)
class Copied:
    """What was put on the clipboard, for the notice."""

    what: str
    characters: int
    defused: int
    large: bool

    def notice(self) -> str:
        parts = [f"Copied {self.what} ({self.characters:,} characters)"]
        if self.defused:
            parts.append(f"{self.defused} control character(s) made visible")
        if self.large:
            parts.append("some terminals cut clipboard copies this large")
        return "; ".join(parts)


def copy_text(app: App[Any], text: str, what: str) -> Copied:
    """Defuse ``text``, send it through OSC 52 (``App.copy_to_clipboard``) and say so."""
    safe, defused = defuse_text(text)
    app.copy_to_clipboard(safe)
    # Base64 grows the payload by 4/3; the OSC 52 envelope adds a handful of bytes.
    large = len(safe.encode("utf-8")) * 4 // 3 > OSC52_SAFE_BYTES
    copied = Copied(what, len(safe), defused, large)
    app.notify(copied.notice(), title="Clipboard", timeout=4, markup=False)
    return copied


def copy_message_text(app: App[Any], message: Message) -> Copied | None:
    """`y`: the message's display text (placeholders for non-text elements)."""
    text = message.text()
    if not text:
        why = ("the service returned no content for this recalled message" if message.recalled
               else "this message has no content")
        app.notify(f"Nothing to copy: {why}.", severity="warning", timeout=4, markup=False)
        return None
    return copy_text(app, text, "the message text")


def copy_message_key(app: App[Any], message: Message) -> Copied | None:
    """`Y`: the MsgKey, which escalations and ``admin_msgwithdraw`` need."""
    if not message.key:
        app.notify("Nothing to copy: this message has no MsgKey.",
                   severity="warning", timeout=4, markup=False)
        return None
    return copy_text(app, message.key, f"MsgKey {defuse_text(message.key)[0][:60]}")


def copy_raw_json(app: App[Any], message: Message) -> Copied:
    """`J` / `c` in the inspector: the raw JSON, as shown there."""
    return copy_text(app, raw_json_text(message), "the raw JSON")

"""Copying message text, MsgKeys and raw JSON to the terminal clipboard (OSC 52).

Message text is untrusted and ends up pasted into shells, tickets and editors. What reaches the
clipboard is therefore defused the way the screen shows it: C0/C1 control characters (bar tab
and newline), DEL, bidi overrides and lone surrogates become visible stand-ins, so a paste can
neither run an escape sequence nor reorder what the reader sees (Trojan Source). Everything else,
zero-width joiners of emoji included, is copied as it is. Raw JSON keeps its meaning: the same
characters are written as ``\\uXXXX`` escapes, so the copy still parses to the very same object.
Both come from :mod:`roamtui.text` (``defuse_text``, ``json_escape``), the one home of the
sanitisers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from roamtui.text import defuse_text, json_escape

if TYPE_CHECKING:
    from textual.app import App

    from roamtui.im.model import Message

#: Base64 payloads above this size are cut or refused by some terminals (hterm, older tmux).
OSC52_SAFE_BYTES = 100_000


def pretty_json(obj: Any) -> str:
    """``obj`` as indented JSON (non-ASCII kept), paste-dangerous characters as ``\\u`` escapes,
    so the text still parses to an equal object."""
    return json_escape(json.dumps(obj, indent=2, ensure_ascii=False))


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

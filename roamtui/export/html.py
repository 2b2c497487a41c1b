"""``html``: the conversation as one self-contained page a colleague opens in any browser.

One file, nothing fetched: the style sheet and the script are inline and named by hash in a
strict Content-Security-Policy (:mod:`roamtui.export.html_assets`); images, voice, video and
files are typed placeholders with their URL as text, never ``<img src>``. The page holds:

- a header with the provenance (the rows :func:`~roamtui.export.provenance.header_rows` gives
  the csv and txt headers too) and, when the window is not whole, a red ``PARTIAL`` banner;
- a bar with the recalled-only filter (a checkbox read by CSS, so it works with scripts off)
  and a search box (shown once the script runs);
- the messages, oldest first, under day separators (dates in the export's zone): **each one
  ``<article class="msg …" id="MsgKey">``** (a permalink ``FILE.html#MsgKey``) holding its
  time ``HH:MM:SS``, its sender (one colour per party: classes ``p0`` the account, ``p1`` the
  peer, ``p2``… others met in forwards), its elements as the TUI shows them, the word
  ``recalled`` in a badge when recalled, ``✓ read`` when the peer read it, its
  CloudCustomData; a merged forward is a ``<details>`` holding the forwarded messages; a
  message the agent marked has the class ``marked`` and a ``marked`` word, and the agent's
  note on it follows in a ``<div class="note">`` (escaped like the message);
- a footer with the counts.

Untrusted text (bodies, names, keys, URLs) goes through :func:`roamtui.text.screen_text` (the
TUI's stand-ins for controls, escapes, bidi and zero-width characters) and then
:func:`html.escape`: never markup. ``content-visibility: auto`` on each block of
:data:`BLOCK` messages, few elements per message and no ``:has`` over the whole page keep a page
of 100,000 messages quick to open (``tests/bench/bench_html.py``).

Extension points: :class:`Parties` names and colours the accounts (nicknames go there);
:meth:`HtmlWriter.message_classes` is where a message's extra classes come from (which side
holds it, say).
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from roamtui import __version__
from roamtui.atomicfile import TextSink
from roamtui.export.html_assets import CSP, PARTY_COLOURS, SCRIPT, STYLE
from roamtui.export.provenance import ExportMeta, MessageRow, header_rows, kind_name
from roamtui.im.elements import (
    CustomElem,
    FileElem,
    ImageElem,
    RelayElem,
    SoundElem,
    TextElem,
    UnknownElem,
    VideoElem,
)
from roamtui.im.model import Element, Message
from roamtui.text import screen_line, screen_text

#: How deep forwards inside forwards are drawn; deeper ones show as their placeholder only.
MAX_FORWARD_DEPTH = 8
#: Messages per block: each block is one content-visibility root, so a browser lays out and
#: styles only the blocks near the screen (per message, 100,000 roots still cost a full pass).
BLOCK = 200
RECALLED_WORD = "recalled"
READ_WORD = "✓ read"


def esc(text: str) -> str:
    """Untrusted text as inert HTML element text: controls made visible as in the TUI, then
    ``&``, ``<`` and ``>`` escaped (for attribute values use :func:`esc_line`)."""
    # Element text, never an attribute value: quotes are inert there, so they stay as typed
    # (``&#x27;`` for each apostrophe only made the page bigger and slower to parse).
    if text.isascii() and text.isprintable():  # nothing for screen_text to show (most texts)
        return html.escape(text, quote=False)
    return html.escape(screen_text(text), quote=False)


def esc_line(text: str) -> str:
    """Untrusted text as one inert line (names, keys, attribute values)."""
    return html.escape(screen_line(text), quote=True)


def element_id(key: str) -> str:
    """The ``id`` of a message's element: its MsgKey (made inert if it holds controls)."""
    if key.isascii() and key.replace("_", "").isalnum():  # the service's keys: digits and _
        return key
    return esc_line(key)


@dataclass(slots=True)
class Parties:
    """Who is who on the page: a colour class per account, in order of first appearance
    (the queried account first, the peer second), and the label shown for it."""

    account: str
    peer: str
    names: Mapping[str, str] = field(default_factory=dict)  # account -> nickname, when known
    _classes: dict[str, str] = field(default_factory=dict)
    _labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.css(self.account)
        self.css(self.peer)

    def css(self, who: str) -> str:
        found = self._classes.get(who)
        if found is None:
            found = f"p{min(len(self._classes), len(PARTY_COLOURS) - 1)}"
            self._classes[who] = found
        return found

    def label(self, who: str) -> str:
        """The escaped label of an account: its nickname and account when a name is known."""
        found = self._labels.get(who)
        if found is None:
            name = self.names.get(who)
            found = (f"{esc_line(name)} <span class=\"acct\">({esc_line(who)})</span>"
                     if name and name != who else esc_line(who))
            self._labels[who] = found
        return found


class HtmlWriter:
    """Writes one page; :func:`write_html` is the registry's entry."""

    def __init__(self, meta: ExportMeta, out: TextSink, parties: Parties | None = None) -> None:
        self.meta = meta
        self.out = out
        self.tz: tzinfo = meta.tz
        self.parties = parties or Parties(meta.account, meta.peer, meta.names)

    # -- the page ---------------------------------------------------------------------------

    def write(self, messages: Iterable[Message]) -> int:
        msgs = list(messages)
        elements = [m.elements for m in msgs]  # parsed once: a message parses them on each ask
        kinds: Counter[str] = Counter(kind_name(e.kind) for elems in elements for e in elems)
        # The header counts messages, recalls and read marks; the rows' texts are not needed.
        held = self.meta.held_by
        rows = [MessageRow("", m.time, m.sender, m.receiver, m.recalled, m.is_peer_read, "",
                           m.key, held_by="" if held is None else held.get(m.key, "unknown"))
                for m in msgs]
        fields = header_rows(self.meta, rows, kinds)
        recalled = sum(1 for m in msgs if m.recalled)
        self._head()
        self._header(fields)
        self._tools(len(msgs), recalled)
        w = self.out.write
        w('<main id="rt-messages">\n')
        if not msgs:
            w('<p class="none">(no messages in this window)</p>\n')
        day = ""
        for n, (msg, elems) in enumerate(zip(msgs, elements, strict=True)):
            if n % BLOCK == 0:
                w('\n</div>\n<div class="blk">' if n else '<div class="blk">')
            when = self._local(msg.time)
            today = when.strftime("%Y-%m-%d (%A)") if when is not None else "outside the calendar"
            if today != day:
                day = today
                w(f'\n<h2 class="day"><span>{html.escape(day)}</span></h2>\n')
            w(self.message(msg, when, elems))
        w("\n</div>\n</main>\n" if msgs else "</main>\n")
        self._footer(fields)
        w(f"<script>{SCRIPT}</script>\n</body>\n</html>\n")
        return len(msgs)

    def _head(self) -> None:
        m = self.meta
        title = f"{screen_line(m.account)} ⇄ {screen_line(m.peer)} — roamtui export"
        self.out.write(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="roamtui {html.escape(__version__)}">\n'
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        )

    def _header(self, fields: list[list[str]]) -> None:
        m = self.meta
        w = self.out.write
        w("<header>\n")
        w(f"<h1>Conversation {self.parties.label(m.account)} ⇄ "
          f"{self.parties.label(m.peer)}</h1>\n")
        if m.selection is not None:
            w(f'<p class="selection" id="rt-selection">SELECTION — this page holds '
              f"{esc_line(m.selection.describe())}</p>\n")
        if not m.complete:
            note = f" ({esc_line(m.note)})" if m.note else ""
            w(f'<p class="partial" role="alert" id="rt-partial">PARTIAL — this window was not '
              f"fetched whole; messages may be missing{note}</p>\n")
        w('<table class="prov">\n')
        for label, *values in fields:
            if label == "completeness":
                cls = "complete" if m.complete and m.selection is None else "partial-word"
                shown = f'<span class="{cls}">{esc_line(values[0])}</span>'
            else:
                joint = " .. " if label.startswith(("window", "fetched")) else " · "
                shown = joint.join(esc_line(v) for v in values)
            w(f"<tr><th>{esc_line(label)}</th><td>{shown}</td></tr>\n")
        w("</table>\n</header>\n")

    def _tools(self, count: int, recalled: int) -> None:
        self.out.write(
            '<div class="tools"><label><input type="checkbox" id="rt-recalled"> '
            f"recalled only ({recalled:,} of {count:,})</label>\n"
            '<div id="rt-find" hidden><input type="search" id="rt-search" '
            'placeholder="search messages" aria-label="search messages" autocomplete="off"> '
            '<span id="rt-count" aria-live="polite"></span></div></div>\n'
        )

    def _footer(self, fields: list[list[str]]) -> None:
        shown = {row[0]: row[1:] for row in fields}
        parts = []
        for label in ("messages", "recalled", "elements by type", "pages", "calls",
                      "completeness"):
            if label in shown:
                parts.append(f"{esc_line(label)}: {esc_line(' '.join(shown[label]))}")
        self.out.write(
            '<footer id="rt-footer"><p>' + " · ".join(parts) + "</p>\n"
            f"<p>Written by roamtui {html.escape(__version__)} from the admin API "
            "admin_getroammsg; message text is shown as received, made inert.</p></footer>\n"
        )

    # -- one message -------------------------------------------------------------------------

    def _local(self, ts: int) -> datetime | None:
        try:
            return datetime.fromtimestamp(ts, self.tz)
        except (OverflowError, ValueError, OSError):
            return None

    def message_classes(self, msg: Message) -> list[str]:
        """The classes of a message's element: ``msg``, its party, ``recalled``, ``peer-read``."""
        out = ["msg", self.parties.css(msg.sender)]
        if msg.recalled:
            out.append("recalled")
        if msg.is_peer_read:
            out.append("peer-read")
        if msg.key in self.meta.marked:
            out.append("marked")
        if self._only(msg) is not None:
            out.append("only")
        return out

    def _only(self, msg: Message) -> str | None:
        """Read from both sides: the account of the only side holding ``msg``, else None."""
        held = None if self.meta.held_by is None else self.meta.held_by.get(msg.key)
        return None if held in (None, "both", "unknown") else held

    def message(self, msg: Message, when: datetime | None,
                elements: tuple[Element, ...] | None = None) -> str:
        key = element_id(msg.key)
        clock = f"{when.hour:02}:{when.minute:02}:{when.second:02}" if when else f"@{msg.time}"
        parts = [
            # The time, sender and marks are the article's own first line (no wrapper): at
            # 100,000 messages every element less per message is felt when the page opens.
            f'<article class="{" ".join(self.message_classes(msg))}" id="{key}">'
            f'<a class="t" href="#{key}">{clock}</a>'
            f'<span class="who">{self.parties.label(msg.sender)}</span>',
        ]
        if msg.recalled:
            parts.append(f'<span class="badge">{RECALLED_WORD}</span>')
        only = self._only(msg)
        if only is not None:
            parts.append(f'<span class="badge only" title="only this side\'s history holds it">'
                         f"only {esc_line(only)}</span>")
        if msg.is_peer_read:
            parts.append(f'<span class="read">{READ_WORD}</span>')
        if msg.key in self.meta.marked:
            parts.append('<span class="mark">marked</span>')
        parts.append(f'<div class="body">{self.body(msg, 0, elements)}</div>')
        note = self.meta.notes.get(msg.key)
        if note:
            parts.append(f'<div class="note"><b>Note:</b> {esc(note)}</div>')
        if msg.cloud_custom_data:
            parts.append(f'<div class="cc">CloudCustomData: {esc(msg.cloud_custom_data)}</div>')
        if msg.problems:
            n = len(msg.problems)
            parts.append(f'<div class="problems">⚠ {n} unreadable field{"" if n == 1 else "s"}: '
                         f"{esc_line('; '.join(msg.problems))}</div>")
        # No newline between articles: each would be one more (whitespace) node to parse.
        parts.append("</article>")
        return "".join(parts)

    def body(self, msg: Message, depth: int, elements: tuple[Element, ...] | None = None) -> str:
        elems = msg.elements if elements is None else elements
        if not elems:
            what = ("(recalled; the service returned no content)" if msg.recalled
                    else "(no content)")
            return f'<span class="none">{what}</span>'
        return " ".join(self.element(e, depth) for e in elems)

    def element(self, elem: Element, depth: int) -> str:
        if isinstance(elem, TextElem):
            return esc(elem.text)
        shown = f'<span class="ph">{esc(elem.placeholder())}</span>'
        if isinstance(elem, RelayElem):
            return self._forward(elem, shown, depth)
        urls = _urls(elem)
        extra = "".join(f' <span class="url">{esc_line(u)}</span>' for u in urls if u)
        if isinstance(elem, CustomElem) and elem.data and elem.data != elem.desc:
            extra += f' <span class="cc">{esc(elem.data)}</span>'
        if isinstance(elem, UnknownElem) and elem.content_json:
            extra += f' <span class="cc">{esc(elem.content_json)}</span>'
        return shown + extra

    def _forward(self, elem: RelayElem, shown: str, depth: int) -> str:
        if depth >= MAX_FORWARD_DEPTH:
            return shown
        inner: list[str] = []
        for m in elem.messages:
            when = self._local(m.time)
            stamp = when.strftime("%Y-%m-%d %H:%M:%S") if when else f"@{m.time}"
            inner.append(
                f'<li class="{self.parties.css(m.sender)}"><span class="meta">{stamp}</span>'
                f'<span class="who">{self.parties.label(m.sender)}</span>'
                f'<span class="body">{self.body(m, depth + 1)}</span></li>'
            )
        if inner:
            content = "<ol>" + "".join(inner) + "</ol>"
        else:
            lines = [esc(a) for a in elem.abstract] or [esc(elem.compatible_text)]
            note = (f" (JsonMsgKey {esc_line(elem.json_msg_key)})" if elem.json_msg_key else "")
            content = ('<div class="none">the forwarded messages are not in the record'
                       f"{note}</div>" + "".join(f"<div>{line}</div>" for line in lines if line))
        return f'<details class="fwd"><summary>{shown}</summary>{content}</details>'


def _urls(elem: Element) -> tuple[str, ...]:
    """Where an element's content lives, shown as text only (nothing is loaded)."""
    if isinstance(elem, ImageElem):
        best = elem.best()
        return (best.url,) if best is not None else ()
    if isinstance(elem, FileElem | SoundElem):
        return (elem.url,)
    if isinstance(elem, VideoElem):
        return (elem.url, elem.thumb_url)
    return ()


def write_html(messages: Iterable[Message], meta: ExportMeta, out: TextSink) -> int:
    """The registry's writer: the whole page; returns the message count."""
    return HtmlWriter(meta, out).write(messages)

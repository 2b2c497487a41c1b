"""The message inspector (Enter on a message): every field, every element in full, the raw JSON.

`describe` turns a message into headings, label/value fields and whole-text blocks built from
plain runs (the same roles the transcript uses); `InspectorScreen` shows them in a scrollable
modal. Nothing from the message is ever parsed as markup: every untrusted string goes through
`render.sanitize`, so control characters and escape sequences show as visible stand-ins.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from roamtui.history.timeparse import format_full, zone_name
from roamtui.im.model import (
    CustomElem,
    Element,
    FaceElem,
    FileElem,
    ImageElem,
    LocationElem,
    Message,
    RelayElem,
    SoundElem,
    TextElem,
    UnknownElem,
    VideoElem,
    human_duration,
    human_size,
)
from roamtui.ui import clipboard
from roamtui.ui.render import BADGE, CONTROL, PLACEHOLDER, TEXT, Run, safe_line, sanitize

LABEL = "label"
MUTED = "muted"
STYLES = {
    TEXT: "",
    CONTROL: "bold $text-error",
    LABEL: "$text-muted",
    MUTED: "italic $text-muted",
    BADGE: "bold $text-warning",
    PLACEHOLDER: "italic $text-secondary",
}
LABEL_WIDTH = 16
#: Values longer than this (or with line breaks) get their own indented block under the label.
INLINE_MAX = 72
KNOWN_FIELDS = frozenset({
    "From_Account", "To_Account", "MsgSeq", "MsgRandom", "MsgTimeStamp", "MsgFlagBits",
    "IsPeerRead", "MsgKey", "MsgBody", "CloudCustomData",
})
IMAGE_FORMATS = {1: "JPG", 2: "GIF", 3: "PNG", 4: "BMP", 255: "other"}
IMAGE_TYPES = {1: "original", 2: "large", 3: "thumbnail"}


@dataclass(frozen=True, slots=True)
class Heading:
    text: str
    depth: int = 0


@dataclass(frozen=True, slots=True)
class Field:
    label: str
    value: tuple[Run, ...]
    depth: int = 0


@dataclass(frozen=True, slots=True)
class Block:
    """Untrusted text shown whole (message text, JSON), indented under its field."""

    runs: tuple[Run, ...]
    depth: int = 0


Item = Heading | Field | Block


def _num(n: int) -> str:
    try:
        return str(n)
    except ValueError:  # beyond the interpreter's digit limit
        return f"<integer of {n.bit_length()} bits>"


def _plain(text: str) -> tuple[Run, ...]:
    return (Run(text, TEXT),)


def _muted(text: str) -> tuple[Run, ...]:
    return (Run(text, MUTED),)


def decode_flags(bits: int) -> str:
    """MsgFlagBits spelled out: only 8 (recalled) is documented."""
    if bits == 0:
        return "0 (normal)"
    if bits < 0:
        return f"{_num(bits)} (undocumented value)"
    names = ["recalled"] if bits & 8 else []
    other = bits & ~8
    if other:
        names.append(f"undocumented bits {other:#x}")
    return f"{_num(bits)} ({', '.join(names)})"


def _peer_read(raw: dict[str, Any]) -> str:
    if "IsPeerRead" not in raw:
        return "absent (the service did not send it)"
    value = raw["IsPeerRead"]
    if value == 1:
        return "1 (the peer sent a read receipt)"
    if value == 0:
        return "0 (no read receipt)"
    return f"{json.dumps(value, ensure_ascii=False)[:60]} (not 0 or 1)"


def _text(label: str, text: str, depth: int, *, empty: str = "(empty)") -> Iterator[Item]:
    """An untrusted string: inline when short, else a count and the whole text as a block."""
    if not text:
        yield Field(label, _muted(empty), depth)
    elif "\n" in text or len(text) > INLINE_MAX:
        lines = text.count("\n") + 1
        size = f"{len(text):,} characters" + (f", {lines:,} lines" if lines > 1 else "")
        # A long URL or key needs no count; a long text does (is it all there?).
        yield Field(label, _muted(size if lines > 1 or len(text) > 400 else "↓"), depth)
        yield Block(tuple(sanitize(text)), depth)
    else:
        yield Field(label, tuple(sanitize(text)), depth)


def _json_block(label: str, text: str, depth: int) -> Iterator[Item]:
    """A string that may hold JSON (custom data): the text, then its parsed form if it parses."""
    yield from _text(label, text, depth)
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return
    if isinstance(parsed, dict | list) and parsed:
        yield Field("  as JSON", _muted("(parsed for reading)"), depth)
        yield Block(tuple(sanitize(clipboard.pretty_json(parsed))), depth)


def _size(n: int) -> tuple[Run, ...]:
    return _plain(f"{_num(n)} bytes ({human_size(n)})" if n > 0 else _num(n))


def _seconds(n: int) -> tuple[Run, ...]:
    return _plain(f"{_num(n)} ({human_duration(n)})")


def _element(elem: Element, n: int, total: int, depth: int, tz: tzinfo) -> Iterator[Item]:
    name = elem.kind or "(no MsgType)"
    yield Heading(f"Element {n} of {total} · {name}", depth)
    d = depth + 1
    if not isinstance(elem, TextElem):
        yield Field("shown as", tuple(sanitize(elem.placeholder(), PLACEHOLDER)), d)
    if isinstance(elem, TextElem):
        yield from _text("Text", elem.text, d)
    elif isinstance(elem, LocationElem):
        yield from _text("Desc", elem.desc, d)
        yield Field("Latitude", _plain(repr(elem.latitude)), d)
        yield Field("Longitude", _plain(repr(elem.longitude)), d)
    elif isinstance(elem, FaceElem):
        yield Field("Index", _plain(_num(elem.index)), d)
        yield from _text("Data", elem.data, d)
    elif isinstance(elem, CustomElem):
        yield from _json_block("Data", elem.data, d)
        yield from _text("Desc", elem.desc, d)
        yield from _text("Ext", elem.ext, d)
        yield from _text("Sound", elem.sound, d)
    elif isinstance(elem, SoundElem):
        yield Field("Second", _seconds(elem.seconds), d)
        yield Field("Size", _size(elem.size), d)
        yield from _text("UUID", elem.uuid, d)
        yield from _text("Url", elem.url, d)
    elif isinstance(elem, ImageElem):
        fmt = IMAGE_FORMATS.get(elem.image_format, "unknown")
        yield Field("ImageFormat", _plain(f"{_num(elem.image_format)} ({fmt})"), d)
        yield from _text("UUID", elem.uuid, d)
        if not elem.images:
            yield Field("ImageInfoArray", _muted("(empty)"), d)
        for i, info in enumerate(elem.images, 1):
            kind = IMAGE_TYPES.get(info.type, "unknown")
            yield Field(f"image {i}", _plain(
                f"Type {_num(info.type)} ({kind}) · {_num(info.width)}×{_num(info.height)}"
                f" · {_num(info.size)} bytes ({human_size(max(info.size, 0))})"), d)
            yield from _text("  URL", info.url, d)
    elif isinstance(elem, FileElem):
        yield from _text("FileName", elem.name, d)
        yield Field("FileSize", _size(elem.size), d)
        yield from _text("UUID", elem.uuid, d)
        yield from _text("Url", elem.url, d)
    elif isinstance(elem, VideoElem):
        yield Field("VideoSecond", _seconds(elem.seconds), d)
        yield Field("VideoSize", _size(elem.size), d)
        yield from _text("VideoFormat", elem.video_format, d)
        yield from _text("VideoUUID", elem.uuid, d)
        yield from _text("VideoUrl", elem.url, d)
        yield Field("Thumb", _plain(f"{_num(elem.thumb_width)}×{_num(elem.thumb_height)}"), d)
        yield from _text("ThumbUrl", elem.thumb_url, d)
    elif isinstance(elem, RelayElem):
        yield from _relay(elem, d, tz)
    elif isinstance(elem, UnknownElem):
        yield Field("note", _muted("a type roamtui does not know; its MsgContent as received"), d)
        try:
            content = clipboard.pretty_json(json.loads(elem.content_json))
        except (ValueError, RecursionError):
            content = elem.content_json
        yield Block(tuple(sanitize(content)), d)


def _relay(elem: RelayElem, depth: int, tz: tzinfo) -> Iterator[Item]:
    yield from _text("Title", elem.title, depth)
    yield Field("MsgNum", _plain(_num(elem.msg_num)), depth)
    yield from _text("CompatibleText", elem.compatible_text, depth)
    if elem.abstract:
        yield Field("AbstractList", _muted(f"{len(elem.abstract)} line(s)"), depth)
        yield Block(tuple(sanitize("\n".join(elem.abstract))), depth)
    if elem.json_msg_key:
        yield from _text("JsonMsgKey", elem.json_msg_key, depth)
    if not elem.messages:
        note = ("not inline (too large); the service keeps them under JsonMsgKey"
                if elem.json_msg_key else "(none)")
        yield Field("MsgList", _muted(note), depth)
    for i, inner in enumerate(elem.messages, 1):
        yield Heading(f"Forwarded message {i} of {len(elem.messages)}", depth)
        yield from _nested(inner, depth + 1, tz)


def _nested(msg: Message, depth: int, tz: tzinfo) -> Iterator[Item]:
    yield from _text("From_Account", msg.sender, depth)
    yield from _text("To_Account", msg.receiver, depth, empty="(none)")
    utc = "" if zone_name(tz) == "UTC" else f" ({format_full(msg.time, UTC)[11:19]} UTC)"
    yield Field("MsgTimeStamp", _plain(f"{format_full(msg.time, tz)}{utc}"), depth)
    yield Field("MsgSeq", _plain(_num(msg.seq)), depth)
    yield Field("MsgRandom", _plain(_num(msg.random)), depth)
    if msg.key:
        yield from _text("MsgKey", msg.key, depth)
    if msg.flag_bits:
        yield Field("MsgFlagBits", _plain(decode_flags(msg.flag_bits)), depth)
    if msg.cloud_custom_data:
        yield from _text("CloudCustomData", msg.cloud_custom_data, depth)
    yield from _elements(msg, depth, tz)


def _elements(msg: Message, depth: int, tz: tzinfo) -> Iterator[Item]:
    elements = msg.elements
    if not elements:
        why = "the service returned no content" + (" for this recalled message"
                                                    if msg.recalled else "")
        yield Field("MsgBody", _muted(f"(no elements: {why})"), depth)
    for n, elem in enumerate(elements, 1):
        yield from _element(elem, n, len(elements), depth, tz)


def describe(msg: Message, tz: tzinfo, note: str = "") -> list[Item]:
    """Every section of the inspector for ``msg``, times in UTC and in ``tz``; the agent's
    ``note`` first (untrusted like the message: a file can be edited by hand)."""
    try:
        raw: dict[str, Any] = msg.raw()
    except (ValueError, RecursionError):
        raw = {}
    items: list[Item] = []
    if note:
        items.append(Heading("Note (yours, kept with the mark)"))
        items.append(Block(tuple(sanitize(note)), 1))
    items.append(Heading("Identity"))
    items.extend(_text("MsgKey", msg.key, 1, empty="(missing)"))
    items.append(Field("MsgSeq", _plain(_num(msg.seq)), 1))
    items.append(Field("MsgRandom", _plain(_num(msg.random)), 1))
    items.extend(_text("From_Account", msg.sender, 1))
    items.extend(_text("To_Account", msg.receiver, 1))
    items.append(Heading("Time"))
    items.append(Field("UTC", _plain(format_full(msg.time, UTC)), 1))
    if zone_name(tz) != "UTC":  # the same line twice says nothing more
        items.append(Field(zone_name(tz)[:LABEL_WIDTH - 1], _plain(format_full(msg.time, tz)), 1))
    items.append(Field("MsgTimeStamp", _plain(_num(msg.time)), 1))
    items.append(Heading("State"))
    flags = decode_flags(msg.flag_bits)
    items.append(Field("MsgFlagBits", (Run(flags, BADGE if msg.recalled else TEXT),), 1))
    items.append(Field("IsPeerRead", _plain(_peer_read(raw)), 1))
    items.extend(_json_block("CloudCustomData", msg.cloud_custom_data, 1))
    count = len(msg.elements)
    items.append(Heading(f"Content · {count} element{'' if count == 1 else 's'}"))
    items.extend(_elements(msg, 1, tz))
    others = [key for key in raw if key not in KNOWN_FIELDS]
    if others:
        items.append(Heading("Other fields"))
        for key in others:
            value = json.dumps(raw[key], ensure_ascii=False)
            items.extend(_text(safe_line(key, TEXT)[:LABEL_WIDTH - 1], value, 1))
    if msg.problems:
        items.append(Heading("Problems reading the record"))
        items.append(Block(tuple(sanitize("\n".join(msg.problems))), 1))
    items.append(Heading("Raw JSON (as received)"))
    items.append(Block(tuple(sanitize(clipboard.raw_json_text(msg))), 1))
    return items


def plain_text(items: Sequence[Item]) -> str:
    """The inspector as plain lines (tests, and a reading aid when debugging)."""
    out: list[str] = []
    for item in items:
        pad = "  " * item.depth
        if isinstance(item, Heading):
            out.append(pad + item.text)
        elif isinstance(item, Field):
            out.append(pad + item.label.ljust(LABEL_WIDTH) + "".join(r.text for r in item.value))
        else:
            out.extend(pad + "  " + line for line in "".join(r.text for r in item.runs).split("\n"))
    return "\n".join(out)


def _content(runs: Sequence[Run]) -> Content:
    return Content.assemble(*((run.text, STYLES.get(run.role, "")) for run in runs if run.text))


def _field_line(f: Field) -> Content:
    return Content.assemble((f.label.ljust(LABEL_WIDTH), STYLES[LABEL]), _content(f.value))


def _widgets(items: Sequence[Item]) -> Iterator[Static]:
    """Consecutive fields at one depth share a Static: a message with a long forward stays cheap."""
    fields: list[Field] = []

    def flush() -> Iterator[Static]:
        if fields:
            body = Content("\n").join(_field_line(f) for f in fields)
            yield _indented(Static(body, classes="inspector-fields", markup=False), fields[0].depth)
            fields.clear()

    for item in items:
        if isinstance(item, Field):
            if fields and fields[0].depth != item.depth:
                yield from flush()
            fields.append(item)
            continue
        yield from flush()
        if isinstance(item, Heading):
            title = Content.assemble((item.text, "bold $primary" if not item.depth else "bold"))
            yield _indented(Static(title, classes="inspector-heading", markup=False), item.depth)
        else:
            yield _indented(Static(_content(item.runs), classes="inspector-block", markup=False),
                            item.depth + 1)
    yield from flush()


def _indented(widget: Static, depth: int) -> Static:
    widget.styles.margin = (0, 0, 0, 2 * depth)
    return widget


class InspectorScreen(ModalScreen[None]):
    """One message in full. Esc or q closes; y, Y, J/c copy."""

    HELP_GROUP = "Inspector"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("y", "copy_text", "Copy text"),
        Binding("Y", "copy_key", "Copy MsgKey"),
        Binding("J,c", "copy_json", "Copy raw JSON", key_display="J/c"),
        Binding("j", "scroll(1)", "Scroll down", show=False),
        Binding("k", "scroll(-1)", "Scroll up", show=False),
        Binding("g", "edge(0)", "Top", show=False),
        Binding("G", "edge(1)", "Bottom", show=False),
    ]

    DEFAULT_CSS = """
    InspectorScreen { align: center middle; }
    #inspector-dialog {
        width: 90%; max-width: 140; height: 90%;
        border: round $primary; border-title-color: $primary; background: $surface;
    }
    #inspector-title { height: auto; padding: 0 1; background: $boost; }
    #inspector-body { height: 1fr; padding: 0 1; }
    #inspector-body > .inspector-heading { margin-top: 1; }
    #inspector-body > .inspector-block { padding: 0 1; background: $boost; }
    #inspector-hint { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, message: Message, tz: tzinfo, *, note: str = "",
                 held: str | None = None) -> None:
        super().__init__()
        self.message = message
        self.tz = tz
        self.items = describe(message, tz, note)
        if held is not None:  # read from both sides: whose history holds it
            self.items[1:1] = [Field("Held by", tuple(sanitize(held)), 1)]

    def compose(self) -> ComposeResult:
        msg = self.message
        parts: list[tuple[str, str] | Content] = [
            (" Message ", "bold"),
            _content(sanitize(msg.sender.replace("\n", " "))),
            (" → ", STYLES[LABEL]),
            _content(sanitize(msg.receiver.replace("\n", " "))),
            (f" · {format_full(msg.time, self.tz)}", ""),
        ]
        if msg.recalled:
            parts.append((" · ⟲ recalled", STYLES[BADGE]))
        with Vertical(id="inspector-dialog") as dialog:
            dialog.border_title = "Inspector"
            yield Static(Content.assemble(*parts), id="inspector-title", markup=False)
            with VerticalScroll(id="inspector-body"):
                yield from _widgets(self.items)
            yield Static(
                Content("Esc/q close · y copy text · Y copy MsgKey · J/c copy raw JSON · "
                        "j/k scroll"),
                id="inspector-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#inspector-body", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_text(self) -> None:
        clipboard.copy_message_text(self.app, self.message)

    def action_copy_key(self) -> None:
        clipboard.copy_message_key(self.app, self.message)

    def action_copy_json(self) -> None:
        clipboard.copy_raw_json(self.app, self.message)

    def action_scroll(self, lines: int) -> None:
        body = self.query_one("#inspector-body", VerticalScroll)
        body.scroll_to(y=body.scroll_y + lines, animate=False)

    def action_edge(self, end: int) -> None:
        body = self.query_one("#inspector-body", VerticalScroll)
        if end:
            body.scroll_end(animate=False)
        else:
            body.scroll_home(animate=False)

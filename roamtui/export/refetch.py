"""What changed on the service since a bundle was captured: the bundle's messages against the
same window fetched again, message by message (``roamtui verify BUNDLE --refetch``).

Each :class:`Difference` is one line starting with its kind and holding its MsgKey:

- ``recalled`` — recalled since the capture (MsgFlagBits now has the recall bit);
- ``changed``  — MsgBody or CloudCustomData differs (an admin's ``modify_c2c_msg``, say);
- ``missing``  — in the bundle, no longer returned (deleted, or past the retention);
- ``new``      — returned now, not in the bundle;
- ``holder``   — read from both sides: still returned, but by other sides (``was held by both,
  now only cust_1001``: a side deleted or cleared it; or the other way round).

Read marks (``IsPeerRead``) change by themselves as people read, so they are not differences.
The lines come in time order, then in the order the service returned the messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Literal

from roamtui.export.provenance import iso_time
from roamtui.im.model import Message, parse_message
from roamtui.text import one_line

Kind = Literal["recalled", "changed", "missing", "new", "holder"]
KINDS: tuple[Kind, ...] = ("recalled", "changed", "missing", "new", "holder")
#: The connection facts that, when they differ from the capture's, are said before the lines.
COMPARED_FACTS = ("endpoint", "sdkappid", "admin", "field_naming")


@dataclass(frozen=True, slots=True)
class Difference:
    kind: Kind
    key: str
    time: int
    sender: str
    detail: str = ""

    def line(self, tz: tzinfo) -> str:
        detail = f" — {self.detail}" if self.detail else ""
        return one_line(f"{self.kind} {self.key} {iso_time(self.time, tz)} from "
                        f"{self.sender}{detail}", 1000)


def _body(raw: Mapping[str, Any]) -> object:
    return raw.get("MsgBody")


def compare(before: Sequence[Message], after: Sequence[Message],
            held: tuple[Mapping[str, str], Mapping[str, str]] | None = None) -> list[Difference]:
    """Every difference between the captured messages and the ones fetched again; ``held``
    (both sides read): who held each message then and who holds it now."""
    now = {m.key: m for m in after}
    then = {m.key for m in before}
    out: list[tuple[int, int, Difference]] = []
    for i, old in enumerate(before):
        new = now.get(old.key)
        if new is None:
            out.append((old.time, i, Difference("missing", old.key, old.time, old.sender,
                                                "no longer returned by the service")))
            continue
        if new.recalled and not old.recalled:
            out.append((old.time, i, Difference("recalled", old.key, old.time, old.sender)))
            continue
        what = []
        if _body(old.raw()) != _body(new.raw()):
            what.append("MsgBody differs")
        if old.cloud_custom_data != new.cloud_custom_data:
            what.append("CloudCustomData differs")
        if old.recalled and not new.recalled:
            what.append("no longer recalled")
        if what:
            out.append((old.time, i, Difference("changed", old.key, old.time, old.sender,
                                                "; ".join(what))))
        if held is not None and held[0].get(old.key) != held[1].get(old.key):
            out.append((old.time, i, Difference("holder", old.key, old.time, old.sender,
                                                f"was held by {_holder(held[0], old.key)}, "
                                                f"now {_holder(held[1], old.key)}")))
    for j, msg in enumerate(after):
        if msg.key not in then:
            out.append((msg.time, len(before) + j,
                        Difference("new", msg.key, msg.time, msg.sender, "not in the bundle")))
    out.sort(key=lambda t: (t[0], t[1]))
    return [d for _, _, d in out]


def _holder(held: Mapping[str, str], key: str) -> str:
    value = held.get(key, "unknown")
    return "both" if value == "both" else f"only {value}"


def summary(diffs: Sequence[Difference], before: int, after: int, *, sides: bool = False) -> str:
    """``refetch: 2 recalled, 1 changed, 0 missing, 0 new (1,000 messages in the bundle, 999
    now)``; ``, 0 holder`` too when both sides were read."""
    counts = {k: 0 for k in KINDS if sides or k != "holder"}
    for d in diffs:
        counts[d.kind] += 1
    parts = ", ".join(f"{n} {k}" for k, n in counts.items())
    verdict = "unchanged" if not diffs else f"{len(diffs)} difference{'s' * (len(diffs) != 1)}"
    return (f"refetch: {verdict}: {parts} ({before:,} messages in the bundle, {after:,} "
            "returned now)")


def connection_notes(captured: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """A line for each connection fact that differs from the capture's."""
    out = []
    for name in COMPARED_FACTS:
        if name in captured and captured.get(name) != now.get(name):
            out.append(one_line(f"note: {name} {now.get(name)} differs from the capture's "
                                f"{captured.get(name)}"))
    return out


def messages_of(objects: Sequence[Mapping[str, Any]]) -> list[Message]:
    return [parse_message(dict(o)) for o in objects]


def unwrapped(objects: Sequence[Mapping[str, Any]]) -> tuple[list[Message], dict[str, str]]:
    """A two-sided bundle's jsonl lines (``{"held_by", "message", …}``, verified): the
    messages, and who held each."""
    messages = messages_of([o["message"] for o in objects])
    return messages, {m.key: str(o["held_by"]) for m, o in zip(messages, objects, strict=True)}

"""``roamtui verify``'s check of a bundle's page records (the manifest's ``pages``) against its
messages.jsonl, for a bundle read from one side or from both.

Each record asks for this conversation inside the window; its bounding messages are in the
jsonl inside the range it asked for; a page with ``Complete`` 0 names its oldest message as the
cursor and is continued by another record from there; the records' new messages add up to the
messages; together they cover the whole window. A bundle read from both sides (its manifest has
``sides``) holds two fetches: each record is tagged with the side that asked (``"side"``, the
reader of its request), and every check above runs per side, against the messages the jsonl
says that side holds (``held_by`` ``both`` or that side), so a record dropped from either
side's chain, or a page of one side claiming a message only the other holds, is named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from roamtui.export.manifest import MANIFEST
from roamtui.im.roam import PARTY_FIELDS

JSONL = "messages.jsonl"
Add = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class Side:
    """One fetch of the bundle: who read, with whom, and what the jsonl says it holds."""

    reader: str
    other: str
    times: Mapping[str, int]  # MsgKey -> time of each message this side holds
    label: str  # "" for a one-sided bundle, else " (READER's side)" for the messages


def check_pages(m: Mapping[str, Any], held: Sequence[tuple[str, int, str]], add: Add) -> None:
    """``held``: (MsgKey, time, held_by) of each jsonl message (held_by "" when one side was
    read); every difference goes to ``add(where, what)``."""
    pages = m.get("pages")
    if not isinstance(pages, list):
        add(MANIFEST, "has no pages section")
        return
    counts = m.get("counts") or {}
    if counts.get("pages") != len(pages):
        add(f"{MANIFEST} counts.pages", f"says {counts.get('pages')}, pages lists {len(pages)}")
    conv = m.get("conversation") or {}
    account, peer = conv.get("account"), conv.get("peer")
    naming = (m.get("connection") or {}).get("field_naming", "from-to")
    fields = PARTY_FIELDS.get(naming, PARTY_FIELDS["from-to"])
    if not isinstance(m.get("sides"), dict):
        side = Side(str(account), str(peer), {k: t for k, t, _ in held}, "")
        _check_side(m, list(enumerate(pages)), side, fields, add)
        return
    sides = m["sides"]
    by_side: dict[str, list[tuple[int, Any]]] = {str(account): [], str(peer): []}
    for i, rec in enumerate(pages):
        tag = rec.get("side") if isinstance(rec, dict) else None
        if tag not in by_side:
            add(f"{MANIFEST} pages[{i}]", f"is tagged side {tag!r}, neither party")
            continue
        by_side[str(tag)].append((i, rec))
    for name, role in ((str(account), "account"), (str(peer), "peer")):
        other = str(peer) if role == "account" else str(account)
        mine = {k: t for k, t, h in held if h in ("both", name)}
        want = (sides.get("pages") or {}).get(role)
        if want != len(by_side[name]):
            add(f"{MANIFEST} sides.pages.{role}",
                f"says {want}, pages lists {len(by_side[name])} of {name}'s side")
        _check_side(m, by_side[name], Side(name, other, mine, f" held by {name}'s side"),
                    fields, add)


def _check_side(m: Mapping[str, Any], pages: Sequence[tuple[int, Any]], side: Side,
                fields: tuple[str, str], add: Add) -> None:
    window = m.get("window") or {}
    lo, hi = window.get("min_time", 0), window.get("max_time", -1)
    times = side.times
    cursors: set[tuple[int, int, str]] = set()
    wanted: list[tuple[int, tuple[int, int, str]]] = []
    covered: list[tuple[int, int]] = []
    new = 0
    for i, rec in pages:
        where = f"{MANIFEST} pages[{i}]"
        try:
            req, reply = rec["request"], rec["reply"]
            mn, mx = int(req["MinTime"]), int(req["MaxTime"])
            complete = reply["Complete"] == 1
            new += int(rec["new"])
        except (KeyError, TypeError, ValueError):
            add(where, "is not a page record")
            continue
        if (req.get(fields[0]), req.get(fields[1])) != (side.reader, side.other):
            add(where, "asks for another conversation" if not side.label
                else f"is tagged {side.reader}'s side but asks for another side or conversation")
        if mn < lo or mx > hi:
            add(where, f"asks for {mn}..{mx}, outside the window")
        if "LastMsgKey" in req:
            cursors.add((mn, mx, str(req["LastMsgKey"])))
        for name in ("first_key", "last_key"):
            key = rec.get(name)
            if key and key not in times:
                add(where, f"its {name} {key} is not in {JSONL}{side.label}")
            elif key and not mn <= times[key] <= mx:
                add(where, f"its {name} {key} lies outside the range it asked for")
        if complete:
            covered.append((mn, mx))
            continue
        last_time, last_key = reply.get("LastMsgTime"), reply.get("LastMsgKey")
        if last_key != rec.get("first_key") or times.get(str(last_key)) != last_time:
            add(where, "its LastMsgKey/LastMsgTime is not its oldest message")
        if isinstance(last_time, int):
            covered.append((last_time + 1, mx))
            wanted.append((i, (mn, last_time, str(last_key))))
    for i, (mn, mx, key) in wanted:
        if not any(c[1] == mx and c[2] == key and c[0] >= mn for c in cursors):
            add(f"{MANIFEST} pages[{i}]", "its chain is not continued by any other record")
    whose = f" of {side.reader}'s side" if side.label else ""
    if new != len(times):
        add(f"{MANIFEST} pages", f"new messages{whose} add up to {new}, {JSONL} holds "
                                 f"{len(times)}{side.label}")
    if m.get("complete") is True:
        gap = _first_gap(covered, lo, hi)
        if gap is not None:
            add(f"{MANIFEST} pages", f"no record{whose} covers second {gap} of the window")


def _first_gap(ranges: list[tuple[int, int]], lo: int, hi: int) -> int | None:
    at = lo
    for a, b in sorted(ranges):
        if a > at:
            return at
        at = max(at, b + 1)
        if at > hi:
            return None
    return at if at <= hi else None

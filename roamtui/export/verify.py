"""``roamtui verify BUNDLE``: is an evidence bundle what roamtui wrote, whole? Offline.

Checks, each difference one :class:`Problem` naming its file or record:

1. **Checksums**: every line of ``SHA256SUMS`` against its file; no file left out of it; the
   manifest's ``files`` (SHA-256 and size) against the files.
2. **messages.jsonl against the manifest**: one JSON object per line, unique MsgKeys, oldest
   first and inside the window; ``counts`` (messages, recalled, pages) as counted. Read from
   both sides (the manifest has ``sides``), each line is the documented wrapper ``{"held_by",
   "message"[, "peer_message"]}`` with ``held_by`` ``both`` or a party, and ``sides.counts``
   (both / only_account / only_peer) as counted.
3. **The page records** (:mod:`roamtui.export.verify_pages`): chains, new counts and coverage
   of the window, per side when both sides were read.
4. **The transcripts agree with the jsonl**: the same messages in the same order with the same
   recalled marks, and read from both sides the same holders (html ``only`` class and badge,
   csv ``held_by``, txt ``RECALLED`` and ``ONLY`` columns) (:data:`TRANSCRIPT_CHECKS`, one
   entry per transcript file; the RSMF one,
   read back with the stdlib email and zipfile, when the bundle has it: event ids = MsgKeys,
   `deleted` = recalled).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import html
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from roamtui.export.bundle_read import (
    JSONL,
    BundleSource,
    BundleUnreadable,
    read_manifest,
    read_messages,
)
from roamtui.export.csv import CSV_COLUMNS, HELD_BY, csv_cell
from roamtui.export.html import RECALLED_WORD, element_id, esc_line
from roamtui.export.manifest import BUNDLE_KIND, MANIFEST, SUMS
from roamtui.export.provenance import RECALLED_MARK
from roamtui.export.rsmf import read_manifest as read_rsmf_manifest
from roamtui.export.txt import only_mark
from roamtui.export.verify_pages import check_pages
from roamtui.im.model import parse_message
from roamtui.text import file_text

#: What reading a damaged file of a zip raises (a bad CRC, a broken deflate stream).
UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, OSError)
_SUM_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Problem:
    where: str  # a file, or a record such as "manifest.json pages[3]"
    what: str

    def line(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass(frozen=True, slots=True)
class Held:
    """One message of the jsonl as the checks need it."""

    key: str
    time: int
    recalled: bool
    held_by: str = ""  # read from both sides: "both" or the only holder; "" for one side


@dataclass(slots=True)
class Verdict:
    problems: list[Problem] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    messages: list[Held] = field(default_factory=list)
    files: int = 0
    sums_sha256: str = ""

    @property
    def intact(self) -> bool:
        return not self.problems

    def add(self, where: str, what: str) -> None:
        self.problems.append(Problem(where, what))


def _sha256(source: BundleSource, name: str) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with source.open(name) as raw:
        while chunk := raw.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def check_sums(source: BundleSource, v: Verdict,
               manifest_files: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    """SHA256SUMS line by line; returns each file's actual digest and size. A line that
    disagrees with a file the manifest vouches for is SHA256SUMS's fault, and named so."""
    actual: dict[str, tuple[str, int]] = {}
    for name in sorted(source.names):
        try:
            actual[name] = _sha256(source, name)
        except UNREADABLE as exc:
            v.add(name, f"cannot be read ({exc})")
            actual[name] = ("", -1)
    v.files = len(actual)
    if SUMS not in source.names:
        v.add(SUMS, "missing")
        return actual
    v.sums_sha256 = actual[SUMS][0]
    listed: set[str] = set()
    with contextlib.closing(source.open(SUMS)) as raw:
        text = raw.read().decode("utf-8", "replace")
    for n, line in enumerate(text.splitlines(), 1):
        m = _SUM_LINE.match(line)
        if m is None:
            v.add(f"{SUMS} line {n}", "not a sha256sum line")
            continue
        digest, name = m.groups()
        listed.add(name)
        if name not in actual:
            v.add(name, f"listed in {SUMS} but missing")
        elif actual[name][0] != digest:
            vouched = manifest_files.get(name)
            if (isinstance(vouched, dict) and vouched.get("sha256") == actual[name][0]
                    and name != MANIFEST):
                v.add(f"{SUMS} line {n}", f"lists a SHA-256 for {name} that is not its own "
                                          f"(nor the manifest's)")
            else:
                v.add(name, f"SHA-256 differs from {SUMS} (file {actual[name][0][:16]}…, "
                            f"listed {digest[:16]}…)")
    for name in sorted(set(actual) - listed - {SUMS}):
        v.add(name, f"not listed in {SUMS}")
    return actual


def check_manifest_files(m: Mapping[str, Any], actual: Mapping[str, tuple[str, int]],
                         v: Verdict) -> None:
    files = m.get("files")
    if not isinstance(files, dict):
        v.add(MANIFEST, "has no files section")
        return
    for name, want in files.items():
        got = actual.get(name)
        if got is None:
            v.add(name, f"named in {MANIFEST} but missing")
        elif not isinstance(want, dict) or want.get("sha256") != got[0]:
            v.add(name, f"SHA-256 differs from {MANIFEST}'s")
        elif want.get("bytes") != got[1]:
            v.add(name, f"size {got[1]:,} differs from {MANIFEST}'s {want.get('bytes')}")
    for name in sorted(set(actual) - set(files) - {MANIFEST, SUMS}):
        v.add(name, f"not named in {MANIFEST}")


def check_jsonl(source: BundleSource, m: Mapping[str, Any], v: Verdict) -> None:
    window = m.get("window") or {}
    lo, hi = window.get("min_time"), window.get("max_time")
    seen: set[str] = set()
    last = None
    sides = _parties(m)
    held = ""
    try:
        for n, obj in read_messages(source):
            if isinstance(obj, str):
                v.add(f"{JSONL} line {n}", obj)
                continue
            if sides is not None:
                unwrapped = _unwrap(obj, sides)
                if isinstance(unwrapped, str):
                    v.add(f"{JSONL} line {n}", unwrapped)
                    continue
                obj, held = unwrapped
            msg = parse_message(obj)
            if msg.key in seen:
                v.add(f"{JSONL} line {n}", f"MsgKey {msg.key} appears twice")
            seen.add(msg.key)
            if last is not None and msg.time < last:
                v.add(f"{JSONL} line {n}", "older than the line before (not oldest first)")
            last = msg.time
            if isinstance(lo, int) and isinstance(hi, int) and not lo <= msg.time <= hi:
                v.add(f"{JSONL} line {n}", f"MsgTimeStamp {msg.time} outside the window")
            v.messages.append(Held(msg.key, msg.time, msg.recalled, held))
    except UnicodeDecodeError as exc:
        v.add(JSONL, f"not UTF-8 ({exc.reason} at byte {exc.start})")
    counts = m.get("counts") or {}
    recalled = sum(1 for h in v.messages if h.recalled)
    for name, have in (("messages", len(v.messages)), ("recalled", recalled)):
        if counts.get(name) != have:
            v.add(f"{MANIFEST} counts.{name}", f"says {counts.get(name)}, {JSONL} holds {have}")
    if sides is not None:
        kinds = sides_counts(m, v.messages)
        said = (m.get("sides") or {}).get("counts") or {}
        for name, have in kinds.items():
            if said.get(name) != have:
                v.add(f"{MANIFEST} sides.counts.{name}",
                      f"says {said.get(name)}, {JSONL} holds {have}")


def _parties(m: Mapping[str, Any]) -> tuple[str, str] | None:
    """(account, peer) when the bundle was read from both sides, else None."""
    if not isinstance(m.get("sides"), dict):
        return None
    conv = m.get("conversation") or {}
    return str(conv.get("account")), str(conv.get("peer"))


def _unwrap(obj: dict[str, Any], parties: tuple[str, str]) -> tuple[dict[str, Any], str] | str:
    """A two-sided line's message object and holder, or why the line is not one."""
    message, held = obj.get("message"), obj.get("held_by")
    if not isinstance(message, dict) or set(obj) - {"held_by", "message", "peer_message"}:
        return "not a two-sided line {held_by, message[, peer_message]}"
    if held not in ("both", *parties):
        return f"held_by {held!r} is neither both nor a party"
    peer = obj.get("peer_message")
    if peer is not None and (held != "both" or not isinstance(peer, dict)
                             or peer.get("MsgKey") != message.get("MsgKey")):
        return "its peer_message is not the peer's object of the same message"
    return message, str(held)


def sides_counts(m: Mapping[str, Any], held: Sequence[Held]) -> dict[str, int]:
    """The manifest's ``sides.counts`` as the jsonl holds them."""
    conv = m.get("conversation") or {}
    values = [h.held_by for h in held]
    return {"both": values.count("both"),
            "only_account": values.count(str(conv.get("account"))),
            "only_peer": values.count(str(conv.get("peer")))}


class _Articles(HTMLParser):
    """The messages' elements of a page: (id, marked recalled by class and by badge, the only
    holder by class and by badge)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.classed: list[bool] = []
        self.badged: list[bool] = []
        self.only_classed: list[bool] = []
        self.only_badged: list[str] = []
        self._badge = ""

    @property
    def found(self) -> list[tuple[str, bool | None, str | None]]:
        # A class and a badge that disagree are marked neither way: never equal to the jsonl.
        return [(k, c if c == b else None, o if oc == bool(o) else None) for k, c, b, oc, o in
                zip(self.ids, self.classed, self.badged, self.only_classed, self.only_badged,
                    strict=True)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "article" and "msg" in classes:
            self.ids.append(a.get("id") or "")
            self.classed.append("recalled" in classes)
            self.badged.append(False)
            self.only_classed.append("only" in classes)
            self.only_badged.append("")
        elif tag == "span" and "badge" in classes and self.ids:
            self._badge = "only" if "only" in classes else "recalled"

    def handle_data(self, data: str) -> None:
        if self._badge == "recalled":
            self.badged[-1] = data == RECALLED_WORD
        elif self._badge == "only":
            self.only_badged[-1] = data
        self._badge = ""


def _html_only(held_by: str) -> str:
    """The only-badge's text for a holder, as a parser reads it back ("" for both)."""
    return "" if held_by in ("", "both") else "only " + html.unescape(esc_line(held_by))


def _check_html(source: BundleSource, name: str, held: Sequence[Held]) -> list[str]:
    parser = _Articles()
    with contextlib.closing(source.text(name)) as text:
        while chunk := text.read(_CHUNK):
            parser.feed(chunk)
    parser.close()
    want = [(element_id(h.key), h.recalled, _html_only(h.held_by)) for h in held]
    return _compare(want, parser.found, "message elements")


def _check_csv(source: BundleSource, name: str, held: Sequence[Held]) -> list[str]:
    sides = any(h.held_by for h in held)
    header = (*CSV_COLUMNS, HELD_BY) if sides else CSV_COLUMNS
    with contextlib.closing(source.open(name)) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        rows = csv.reader(text)
        for row in rows:
            if tuple(row) == header:
                break
        else:
            return ["has no table header" + (f" with {HELD_BY}" if sides else "")]
        k, r = CSV_COLUMNS.index("msg_key"), CSV_COLUMNS.index("recalled")
        found: list[tuple[str, bool | None, str | None]] = [
            (row[k], row[r] == RECALLED_MARK, row[-1] if sides else "")
            for row in rows if len(row) > max(k, r)]
    want = [(csv_cell(h.key), h.recalled, csv_cell(h.held_by)) for h in held]
    return _compare(want, found, "rows")


def _check_txt(source: BundleSource, name: str, held: Sequence[Held]) -> list[str]:
    """Each MsgKey's line in order, and on it the RECALLED and ONLY marks the jsonl implies.

    Every message line has the same columns (each padded to its widest), so a mark sits at
    one offset on every line that has it and that place is blank on the others: content that
    merely says ``RECALLED`` or ``ONLY x`` after the marks cannot pass for one."""
    with contextlib.closing(source.text(name)) as text:
        body = text.read()
    at = body.find("\n" + "=" * 78 + "\n")
    if at < 0:
        return ["has no rule between its header and its messages"]
    lines: list[tuple[str, int]] = []  # each message's line and where its MsgKey ends on it
    for h in held:
        key = file_text(h.key, " ", " ")
        found = body.find(key, at)
        if found < 0:
            return [f"MsgKey {key} is missing or out of order"]
        start = body.rfind("\n", 0, found) + 1
        end = body.find("\n", found)
        lines.append((body[start:end if end >= 0 else len(body)], found - start + len(key)))
        at = found + len(key)
    recalled = [RECALLED_MARK if h.recalled else "" for h in held]
    only = [only_mark(h.held_by) for h in held]
    problem = (_column(lines, recalled, held, "it is not recalled")
               or _column(lines, only, held, "both sides hold it"))
    return [problem] if problem else []


def _column(lines: Sequence[tuple[str, int]], marks: Sequence[str], held: Sequence[Held],
            unmarked: str) -> str:
    """The first line whose mark column disagrees with ``marks`` ("" on a line: blank there)."""
    width = max((len(m) for m in marks), default=0)
    if not width:
        return ""
    offset = -1
    for (line, key_end), mark, h in zip(lines, marks, held, strict=True):
        if not mark:
            continue
        place = line.find(mark, key_end)
        if place >= 0 and line[place + len(mark):place + len(mark) + 1] not in ("", " "):
            place = -1  # "ONLY cust_1" inside "ONLY cust_10" is another holder
        if place < 0 or (offset >= 0 and place != offset):
            return f"{h.key} is not marked {mark}, unlike {JSONL}"
        offset = place
    for (line, _), mark, h in zip(lines, marks, held, strict=True):
        if not mark and line[offset:offset + width].strip():
            return f"{h.key} is marked {line[offset:offset + width].strip()!r} where {JSONL} " \
                   f"says {unmarked}"
    return ""


def _compare(want: Sequence[tuple[str, bool, str]],
             found: Sequence[tuple[str, bool | None, str | None]], what: str) -> list[str]:
    """(key, recalled, holder) of each message, wanted against found; the holder is "" where
    the transcript does not mark it (one side read, or a transcript that does not say)."""
    if len(want) != len(found):
        return [f"holds {len(found)} {what}, {JSONL} {len(want)}"]
    for (key, recalled, holder), (got, marked, held) in zip(want, found, strict=True):
        if key != got:
            return [f"{got} where {JSONL} has {key}"]
        if recalled != marked:
            return [f"{key} is {'not ' if recalled else ''}marked recalled, unlike {JSONL}"]
        if holder != held:
            return [f"{key} is marked held by {held!r}, {JSONL} says {holder!r}"]
    return []


def _check_rsmf(source: BundleSource, name: str, held: Sequence[Held]) -> list[str]:
    with contextlib.closing(source.open(name)) as raw:
        try:
            events = read_rsmf_manifest(raw).get("events")
        except (ValueError, KeyError, zipfile.BadZipFile) as exc:
            return [str(exc)]
    if not isinstance(events, list):
        return ["its manifest has no events"]
    found = [(str(e.get("id", "")), e.get("deleted", False) is True) for e in events
             if isinstance(e, dict)]
    return _compare([(h.key, h.recalled, "") for h in held],
                    [(k, r, "") for k, r in found], "events")


#: How each transcript is checked against the jsonl; a new transcript is one entry.
TRANSCRIPT_CHECKS: Mapping[str, Callable[[BundleSource, str, Sequence[Held]], list[str]]] = {
    "transcript.html": _check_html,
    "transcript.txt": _check_txt,
    "transcript.csv": _check_csv,
    "transcript.rsmf": _check_rsmf,
}
#: Transcripts a bundle may lack (too many messages for one RSMF file, or an older bundle):
#: checked when present; when the manifest lists one, the checksums notice it missing.
OPTIONAL_TRANSCRIPTS = frozenset({"transcript.rsmf"})


def verify_bundle(source: BundleSource) -> Verdict:
    """Every check of the module's doc; BundleUnreadable when there is no manifest to read."""
    v = Verdict()
    try:
        v.manifest = m = read_manifest(source)
    except BundleUnreadable as exc:  # a changed byte may break its JSON: still name it
        m = {}
        v.add(MANIFEST, str(exc).removeprefix(f"{MANIFEST} "))
    if m and m.get("bundle") != BUNDLE_KIND:
        raise BundleUnreadable(f"{MANIFEST} does not describe a {BUNDLE_KIND}")
    files = m.get("files")
    actual = check_sums(source, v, files if isinstance(files, dict) else {})
    if not m:
        return v
    # A manifest is data from whoever hands the bundle over: a section of the wrong shape is a
    # problem to name, never a crash.
    try:
        check_manifest_files(m, actual, v)
    except (TypeError, ValueError, AttributeError) as exc:
        v.add(f"{MANIFEST} files", f"is malformed ({type(exc).__name__})")
    if JSONL not in source.names:
        v.add(JSONL, "missing")
        return v
    try:
        check_jsonl(source, m, v)
    except UNREADABLE as exc:
        v.add(JSONL, f"cannot be read ({exc})")
    except (TypeError, ValueError, AttributeError) as exc:
        v.add(f"{MANIFEST} window/counts", f"is malformed ({type(exc).__name__})")
    try:
        check_pages(m, [(h.key, h.time, h.held_by) for h in v.messages], v.add)
    except (TypeError, ValueError, AttributeError) as exc:
        v.add(f"{MANIFEST} pages", f"is malformed ({type(exc).__name__})")
    for name, check in TRANSCRIPT_CHECKS.items():
        if name not in source.names:
            if name not in OPTIONAL_TRANSCRIPTS:
                v.add(name, "missing")
            continue
        try:
            v.problems.extend(Problem(name, what) for what in check(source, name, v.messages))
        except (UnicodeDecodeError, csv.Error, *UNREADABLE) as exc:
            v.add(name, f"cannot be read ({exc})")
    return v

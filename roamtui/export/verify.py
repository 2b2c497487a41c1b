"""``roamtui verify BUNDLE``: is an evidence bundle what roamtui wrote, whole? Offline.

Checks, each difference one :class:`Problem` naming its file or record:

1. **Checksums**: every line of ``SHA256SUMS`` against its file; no file left out of it; the
   manifest's ``files`` (SHA-256 and size) against the files.
2. **messages.jsonl against the manifest**: one JSON object per line, unique MsgKeys, oldest
   first and inside the window; ``counts`` (messages, recalled, pages) as counted.
3. **The page records** (``pages``): each asks for this conversation inside the window; its
   bounding messages are in the jsonl inside the range it asked for; a page with ``Complete`` 0
   names its oldest message as the cursor and is continued by another record from there; the
   records' new messages add up to the jsonl; together they cover the whole window.
4. **The transcripts agree with the jsonl**: the same messages in the same order with the same
   recalled marks (:data:`TRANSCRIPT_CHECKS`, one entry per transcript file; the RSMF one,
   read back with the stdlib email and zipfile, when the bundle has it: event ids = MsgKeys,
   `deleted` = recalled).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
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
from roamtui.export.csv import CSV_COLUMNS, csv_cell
from roamtui.export.html import RECALLED_WORD, element_id
from roamtui.export.manifest import BUNDLE_KIND, MANIFEST, SUMS
from roamtui.export.provenance import RECALLED_MARK
from roamtui.export.rsmf import read_manifest as read_rsmf_manifest
from roamtui.im.model import parse_message
from roamtui.im.roam import PARTY_FIELDS
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
    try:
        for n, obj in read_messages(source):
            if isinstance(obj, str):
                v.add(f"{JSONL} line {n}", obj)
                continue
            msg = parse_message(obj)
            if msg.key in seen:
                v.add(f"{JSONL} line {n}", f"MsgKey {msg.key} appears twice")
            seen.add(msg.key)
            if last is not None and msg.time < last:
                v.add(f"{JSONL} line {n}", "older than the line before (not oldest first)")
            last = msg.time
            if isinstance(lo, int) and isinstance(hi, int) and not lo <= msg.time <= hi:
                v.add(f"{JSONL} line {n}", f"MsgTimeStamp {msg.time} outside the window")
            v.messages.append(Held(msg.key, msg.time, msg.recalled))
    except UnicodeDecodeError as exc:
        v.add(JSONL, f"not UTF-8 ({exc.reason} at byte {exc.start})")
    counts = m.get("counts") or {}
    recalled = sum(1 for h in v.messages if h.recalled)
    for name, have in (("messages", len(v.messages)), ("recalled", recalled)):
        if counts.get(name) != have:
            v.add(f"{MANIFEST} counts.{name}", f"says {counts.get(name)}, {JSONL} holds {have}")


def check_pages(m: Mapping[str, Any], v: Verdict) -> None:
    pages = m.get("pages")
    if not isinstance(pages, list):
        v.add(MANIFEST, "has no pages section")
        return
    counts = m.get("counts") or {}
    if counts.get("pages") != len(pages):
        v.add(f"{MANIFEST} counts.pages", f"says {counts.get('pages')}, pages lists {len(pages)}")
    times = {h.key: h.time for h in v.messages}
    conv = m.get("conversation") or {}
    naming = (m.get("connection") or {}).get("field_naming", "from-to")
    fields = PARTY_FIELDS.get(naming, PARTY_FIELDS["from-to"])
    window = m.get("window") or {}
    lo, hi = window.get("min_time", 0), window.get("max_time", -1)
    cursors: set[tuple[int, int, str]] = set()
    wanted: list[tuple[int, tuple[int, int, str]]] = []
    covered: list[tuple[int, int]] = []
    new = 0
    for i, rec in enumerate(pages):
        where = f"{MANIFEST} pages[{i}]"
        try:
            req, reply = rec["request"], rec["reply"]
            mn, mx = int(req["MinTime"]), int(req["MaxTime"])
            complete = reply["Complete"] == 1
            new += int(rec["new"])
        except (KeyError, TypeError, ValueError):
            v.add(where, "is not a page record")
            continue
        if (req.get(fields[0]), req.get(fields[1])) != (conv.get("account"), conv.get("peer")):
            v.add(where, "asks for another conversation")
        if mn < lo or mx > hi:
            v.add(where, f"asks for {mn}..{mx}, outside the window")
        if "LastMsgKey" in req:
            cursors.add((mn, mx, str(req["LastMsgKey"])))
        for name in ("first_key", "last_key"):
            key = rec.get(name)
            if key and key not in times:
                v.add(where, f"its {name} {key} is not in {JSONL}")
            elif key and not mn <= times[key] <= mx:
                v.add(where, f"its {name} {key} lies outside the range it asked for")
        if complete:
            covered.append((mn, mx))
            continue
        last_time, last_key = reply.get("LastMsgTime"), reply.get("LastMsgKey")
        if last_key != rec.get("first_key") or times.get(str(last_key)) != last_time:
            v.add(where, "its LastMsgKey/LastMsgTime is not its oldest message")
        if isinstance(last_time, int):
            covered.append((last_time + 1, mx))
            wanted.append((i, (mn, last_time, str(last_key))))
    for i, (mn, mx, key) in wanted:
        if not any(c[1] == mx and c[2] == key and c[0] >= mn for c in cursors):
            v.add(f"{MANIFEST} pages[{i}]", "its chain is not continued by any other record")
    if new != len(v.messages):
        v.add(f"{MANIFEST} pages", f"new messages add up to {new}, {JSONL} holds "
                                   f"{len(v.messages)}")
    if m.get("complete") is True:
        gap = _first_gap(covered, lo, hi)
        if gap is not None:
            v.add(f"{MANIFEST} pages", f"no record covers second {gap} of the window")


def _first_gap(ranges: list[tuple[int, int]], lo: int, hi: int) -> int | None:
    at = lo
    for a, b in sorted(ranges):
        if a > at:
            return at
        at = max(at, b + 1)
        if at > hi:
            return None
    return at if at <= hi else None


class _Articles(HTMLParser):
    """The messages' elements of a page: (id, marked recalled by class and by badge)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.classed: list[bool] = []
        self.badged: list[bool] = []
        self._badge = False

    @property
    def found(self) -> list[tuple[str, bool | None]]:
        # A class and a badge that disagree are marked neither way: never equal to the jsonl.
        return [(k, c if c == b else None) for k, c, b in
                zip(self.ids, self.classed, self.badged, strict=True)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "article" and "msg" in classes:
            self.ids.append(a.get("id") or "")
            self.classed.append("recalled" in classes)
            self.badged.append(False)
        elif tag == "span" and "badge" in classes and self.ids:
            self._badge = True

    def handle_data(self, data: str) -> None:
        if self._badge:
            self.badged[-1] = data == RECALLED_WORD
            self._badge = False


def _check_html(source: BundleSource, name: str, held: Sequence[Held]) -> list[str]:
    parser = _Articles()
    with contextlib.closing(source.text(name)) as text:
        while chunk := text.read(_CHUNK):
            parser.feed(chunk)
    parser.close()
    want = [(element_id(h.key), h.recalled) for h in held]
    return _compare(want, parser.found, "message elements")


def _check_csv(source: BundleSource, name: str, held: Sequence[Held]) -> list[str]:
    with contextlib.closing(source.open(name)) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        rows = csv.reader(text)
        for row in rows:
            if tuple(row) == CSV_COLUMNS:
                break
        else:
            return ["has no table header"]
        k, r = CSV_COLUMNS.index("msg_key"), CSV_COLUMNS.index("recalled")
        found = [(row[k], row[r] == RECALLED_MARK) for row in rows if len(row) > max(k, r)]
    return _compare([(csv_cell(h.key), h.recalled) for h in held], found, "rows")


def _check_txt(source: BundleSource, name: str, held: Sequence[Held]) -> list[str]:
    with contextlib.closing(source.text(name)) as text:
        body = text.read()
    at = body.find("\n" + "=" * 78 + "\n")
    if at < 0:
        return ["has no rule between its header and its messages"]
    for h in held:
        key = file_text(h.key, " ", " ")
        found = body.find(key, at)
        if found < 0:
            return [f"MsgKey {key} is missing or out of order"]
        at = found + len(key)
    return []


def _compare(want: Sequence[tuple[str, bool]], found: Sequence[tuple[str, bool | None]],
             what: str) -> list[str]:
    if len(want) != len(found):
        return [f"holds {len(found)} {what}, {JSONL} {len(want)}"]
    for (key, recalled), (got, marked) in zip(want, found, strict=True):
        if key != got:
            return [f"{got} where {JSONL} has {key}"]
        if recalled != marked:
            return [f"{key} is {'not ' if recalled else ''}marked recalled, unlike {JSONL}"]
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
    return _compare([(h.key, h.recalled) for h in held], found, "events")


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
        check_pages(m, v)
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

"""``manifest.json`` of an evidence bundle: what was fetched, from where, how, and the SHA-256 of
every other file; and ``SHA256SUMS``, in the format ``sha256sum -c`` reads.

The manifest is one JSON object (ASCII, sorted sections, two-space indent)::

    {"bundle": "roamtui evidence bundle", "bundle_version": 1,
     "tool": {"name": "roamtui", "version": "…"}, "api": "v4/openim/admin_getroammsg",
     "connection": {"endpoint": "https://host/", "endpoint_host": "host", "region": "…"|null,
                    "sdkappid": 1400000000, "admin": "administrator", "field_naming": "from-to"},
     "conversation": {"account": "…", "peer": "…", "side": "…"},   # side: whose history was
                                                    # read ("both": --sides both, see "sides")
     "names": {"cust_1001": "王小明", …},   # the parties' nicknames, where known (portrait_get)
     "window": {"min_time": …, "max_time": …, "utc": {"from": ISO, "to": ISO},
                "zone": "Asia/Shanghai", "local": {"from": ISO, "to": ISO}},
     "fetch": {"started": {"unix": …, "utc": ISO}, "finished": {…}, "calls": …, "retries": …,
               "page_size": …},
     "complete": true, "counts": {"messages": …, "recalled": …, "pages": …},
     "pages": [{"n": 1, "side": reader (--sides both only), "request": {body},
                "reply": {"Complete", "MsgCnt", "LastMsgTime", "LastMsgKey"}, "attempts": 1,
                "messages": …, "new": …, "first_key": …, "last_key": …}, …],
     "files": {"messages.jsonl": {"sha256": …, "bytes": …}, …}}

Never a secret: the connection facts are the endpoint's scheme, host, port and path (no query,
no user info), the SDKAppID and the admin; request bodies carry no UserSig (it is in the URL).
More sections come in through ``extra`` of :func:`build_manifest` (a refetch names the bundle
it was compared with in ``"previous"``; a bundle read from both sides adds ``"sides"``:
``{"read": [account, peer], "counts": {"both", "only_account", "only_peer"}, "pages":
{"account", "peer"}}``, :func:`roamtui.export.sides.manifest_sides`), and
:func:`roamtui.cli.verify` ignores sections it does not know.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from roamtui import __version__
from roamtui.export.provenance import iso_time
from roamtui.history.timeparse import zone_name
from roamtui.im.client import REGIONS
from roamtui.im.roam import API, PARTY_FIELDS, RoamQuery

if TYPE_CHECKING:
    from roamtui.im.client import Connection
    from roamtui.im.model import Message
    from roamtui.im.pagelog import PageRecord

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
BUNDLE_KIND = "roamtui evidence bundle"
BUNDLE_VERSION = 1


@dataclass(frozen=True, slots=True)
class FileDigest:
    """One file of a bundle as its manifest and SHA256SUMS name it."""

    sha256: str
    bytes: int


def connection_facts(connection: Connection | None, naming: str) -> dict[str, Any]:
    """Where the records came from, with no secret and no query string."""
    if connection is None:
        return {"field_naming": naming}
    parts = urlsplit(connection.endpoint)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    endpoint = f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else ""
    base = endpoint.rstrip("/")
    region = next((name for name, url in REGIONS.items() if url.rstrip("/") == base), None)
    return {"endpoint": endpoint, "endpoint_host": host, "region": region,
            "sdkappid": connection.sdkappid, "admin": connection.identifier,
            "field_naming": naming}


def _when(ts: float) -> dict[str, Any]:
    return {"unix": round(ts, 3), "utc": iso_time(int(ts), UTC)}


def build_manifest(
    *,
    query: RoamQuery,
    tz: tzinfo,
    facts: Mapping[str, Any],
    messages: Sequence[Message],
    complete: bool,
    records: Sequence[PageRecord],
    started: float,
    finished: float,
    calls: int,
    retries: int,
    files: Mapping[str, FileDigest],
    extra: Mapping[str, Any] | None = None,
    both: bool = False,
) -> dict[str, Any]:
    """The manifest of one bundle (see the module's doc for its shape); ``both``: read from
    both sides, so ``side`` is ``both`` and each page record is tagged with its reader."""
    reader = PARTY_FIELDS[query.naming][0]
    manifest: dict[str, Any] = {
        "bundle": BUNDLE_KIND,
        "bundle_version": BUNDLE_VERSION,
        "tool": {"name": "roamtui", "version": __version__},
        "api": API,
        "connection": dict(facts),
        "conversation": {"account": query.account, "peer": query.peer,
                         "side": "both" if both else query.account},
        "window": {
            "min_time": query.min_time, "max_time": query.max_time,
            "utc": {"from": iso_time(query.min_time, UTC), "to": iso_time(query.max_time, UTC)},
            "zone": zone_name(tz),
            "local": {"from": iso_time(query.min_time, tz), "to": iso_time(query.max_time, tz)},
        },
        "fetch": {"started": _when(started), "finished": _when(finished), "calls": calls,
                  "retries": retries, "page_size": query.page_size},
        "complete": complete,
        "counts": {"messages": len(messages),
                   "recalled": sum(1 for m in messages if m.recalled),
                   "pages": len(records)},
        "pages": [{"n": n, **({"side": r.request.get(reader)} if both else {}), **r.as_json()}
                  for n, r in enumerate(records, 1)],
        "files": {name: {"sha256": d.sha256, "bytes": d.bytes} for name, d in files.items()},
    }
    manifest.update(extra or {})
    return manifest


def manifest_text(manifest: Mapping[str, Any]) -> str:
    """The manifest as the file holds it: ASCII JSON (every other character escaped)."""
    return json.dumps(manifest, ensure_ascii=True, indent=2) + "\n"


def sums_text(files: Mapping[str, FileDigest]) -> str:
    """``SHA256SUMS``: ``<hex>  <name>`` per file (text mode, as ``sha256sum`` writes it)."""
    return "".join(f"{d.sha256}  {name}\n" for name, d in sorted(files.items()))

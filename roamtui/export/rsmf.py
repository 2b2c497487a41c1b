"""``rsmf``: Relativity Short Message Format 2.0, for eDiscovery review platforms.

An ``.rsmf`` file is an RFC 5322 message (CRLF line ends, ASCII throughout), built with the
stdlib's :mod:`email` and :mod:`zipfile` only:

- headers ``X-RSMF-Version: 2.0.0`` (the one the format requires), ``X-RSMF-Generator``,
  ``X-RSMF-BeginDate`` / ``X-RSMF-EndDate`` (the first and last event, ISO 8601),
  ``X-RSMF-EventCount``, ``X-RSMF-Application``, ``X-RSMF-Custodian``, ``X-RSMF-Participants``,
  ``X-RSMF-AttachmentCount`` (0: no files are fetched) and ``X-RSMF-EventCollectionID`` (the
  same in every slice of one export), with ``From``, ``Subject``, ``Date`` (when fetched) and
  ``Message-ID`` (from the content's SHA-256: the same content, the same ID); a participant
  whose name holds a comma is quoted in ``X-RSMF-Participants``;
- a readable ``text/plain`` body, the conversation exactly as the ``txt`` export writes it
  (review platforms index it as the document's text), quoted-printable UTF-8;
- exactly one attachment, ``rsmf.zip``, holding ``rsmf_manifest.json``
  (:mod:`roamtui.export.rsmf_manifest`: participants, the conversation, one event per message).

The same messages fetched at the same time give the same bytes: the zip entry's date is the
fetch time, and the MIME boundary is derived from the content (so no text of the conversation
can contain it).

At most :data:`MAX_EVENTS` events go in one file (Relativity's advice): more is refused before
anything is written, with the way out in one line — give a directory (``-o DIR/``), and the
export is written as one file per slice of at most that many events, cut at calendar-day
boundaries of the export's zone where possible and named by the stretch each covers
(:mod:`roamtui.export.slices`).
"""

from __future__ import annotations

import email
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import format_datetime
from typing import IO, Any

from roamtui import __version__
from roamtui.atomicfile import TextSink
from roamtui.export.provenance import ExportMeta, iso_time
from roamtui.export.rsmf_manifest import (
    PLATFORM,
    VERSION,
    collection_id,
    manifest,
    manifest_bytes,
    participant_ids,
)
from roamtui.export.slices import Part, parts
from roamtui.export.txt import write_txt
from roamtui.im.model import Message
from roamtui.text import one_line

#: Most events one file holds (Relativity advises at most 10,000 per RSMF file).
MAX_EVENTS = 10_000
ZIP_NAME = "rsmf.zip"
MANIFEST_NAME = "rsmf_manifest.json"
GENERATOR = f"roamtui {__version__}"
#: The originator RFC 5322 asks for: this tool, at a domain that can never be reached.
FROM = "roamtui export <roamtui@export.invalid>"


def _zip(manifest_json: bytes, when: int) -> bytes:
    """``rsmf.zip`` with the manifest, dated ``when`` (the fetch), so the bytes repeat."""
    stamp = datetime.fromtimestamp(max(when, 315_532_800), UTC)  # zip dates start in 1980
    info = zipfile.ZipInfo(MANIFEST_NAME, date_time=stamp.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, manifest_json)
    return buffer.getvalue()


def _header(text: str) -> str:
    """Untrusted text as one header value: no line break can start a header of its own."""
    return one_line(text, 900)


def _listed(label: str) -> str:
    """One entry of a comma-separated header list: a name holding a comma or a quote is
    quoted (RFC 5322 quoted-string), so ``Doe, Jane (jdoe)`` stays one participant."""
    if "," not in label and '"' not in label:
        return label
    return '"' + label.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _readable(messages: Sequence[Message], meta: ExportMeta) -> str:
    out = io.StringIO()
    write_txt(messages, meta, out)
    return out.getvalue()


def rsmf_message(messages: Sequence[Message], meta: ExportMeta) -> EmailMessage:
    """The RSMF message of these messages (at most :data:`MAX_EVENTS`, not checked here)."""
    archive = _zip(manifest_bytes(manifest(messages, meta)), meta.fetched_at)
    text = _readable(messages, meta)
    msg = EmailMessage(policy=SMTP)
    msg["X-RSMF-Version"] = VERSION
    msg["X-RSMF-Generator"] = GENERATOR
    if messages:
        msg["X-RSMF-BeginDate"] = iso_time(messages[0].time, meta.tz)
        msg["X-RSMF-EndDate"] = iso_time(messages[-1].time, meta.tz)
    msg["X-RSMF-EventCount"] = str(len(messages))
    msg["X-RSMF-Application"] = PLATFORM
    msg["X-RSMF-Custodian"] = _header(meta.party(meta.account))
    msg["X-RSMF-Participants"] = _header(", ".join(
        _listed(meta.party(p)) for p in participant_ids(messages, meta)))
    msg["X-RSMF-AttachmentCount"] = "0"
    msg["X-RSMF-EventCollectionID"] = collection_id(meta)
    msg["From"] = FROM
    msg["Subject"] = _header(f"{PLATFORM} conversation {meta.display(meta.account)} ⇄ "
                             f"{meta.display(meta.peer)}, {iso_time(meta.min_time, meta.tz)} .. "
                             f"{iso_time(meta.max_time, meta.tz)}")
    msg["Date"] = format_datetime(datetime.fromtimestamp(meta.fetched_at, UTC))
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_attachment(archive, maintype="application", subtype="zip", filename=ZIP_NAME)
    # A boundary from the content: no line of the body or of the base64 can be it. The same
    # digest names the message, so a review platform can tell two slices (or two exports of
    # different content) apart, and the same export twice as one.
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass") + archive).hexdigest()
    msg["Message-ID"] = f"<{digest[:40]}@export.invalid>"
    msg.set_boundary("rsmf-" + digest[:40])
    return msg


def write_rsmf(messages: Iterable[Message], meta: ExportMeta, out: TextSink) -> int:
    """One ``.rsmf`` file of these messages; returns how many events it holds.

    ValueError if there are more than :data:`MAX_EVENTS` (the export job refuses that before
    it opens a file; see :func:`roamtui.export.job.ExportJob.write`)."""
    held = list(messages)
    if len(held) > MAX_EVENTS:
        raise ValueError(f"{len(held):,} messages: more than the {MAX_EVENTS:,} events one "
                         "RSMF file holds")
    out.write(rsmf_message(held, meta).as_string(policy=SMTP))
    return len(held)


def rsmf_parts(messages: Sequence[Message], meta: ExportMeta) -> list[Part]:
    """The files of a sliced export: at most :data:`MAX_EVENTS` each, by day where possible."""
    return parts(messages, meta, MAX_EVENTS, "rsmf")


def read_manifest(raw: IO[bytes]) -> dict[str, Any]:
    """The manifest of an ``.rsmf`` read back as a review platform reads it (stdlib email and
    zipfile); ValueError (one line) when it is not an RSMF file of one rsmf.zip."""
    msg = email.message_from_binary_file(raw, policy=default)
    if not isinstance(msg, EmailMessage) or msg.get("X-RSMF-Version") is None:
        raise ValueError("is not an RSMF file (no X-RSMF-Version header)")
    zips = [part for part in msg.iter_attachments() if part.get_filename() == ZIP_NAME]
    if len(zips) != 1:
        raise ValueError(f"holds {len(zips)} {ZIP_NAME} attachments, not one")
    data = zips[0].get_content()
    if not isinstance(data, bytes):
        raise ValueError(f"its {ZIP_NAME} is not binary")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        doc = json.loads(archive.read(MANIFEST_NAME))
    if not isinstance(doc, dict):
        raise ValueError(f"its {MANIFEST_NAME} is not a JSON object")
    return doc

"""Reading an .rsmf back as a review platform would: stdlib email, zipfile, json, and the
official RSMF 2.0 schema (copied here from Relativity's public repository with its BSD licence,
``tests/export/rsmf/LICENSE``)."""

from __future__ import annotations

import email
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import default
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).parent / "rsmf" / "rsmf_schema_2_0_0.json"


@cache
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


@dataclass(frozen=True)
class Rsmf:
    message: EmailMessage
    text: str  # the readable body
    manifest: dict[str, Any]
    zip_names: list[str]


def read_rsmf(data: bytes) -> Rsmf:
    """Parse the bytes as RFC 5322 and pull out the body and the one rsmf.zip attachment."""
    assert data.isascii(), "an .rsmf is ASCII throughout (headers encoded, parts transfer-encoded)"
    msg = email.message_from_bytes(data, policy=default)
    assert isinstance(msg, EmailMessage)
    assert msg.get_content_type() == "multipart/mixed"
    attachments = list(msg.iter_attachments())
    assert len(attachments) == 1, "exactly one attachment"
    (att,) = attachments
    assert att.get_filename() == "rsmf.zip"
    assert att.get_content_disposition() == "attachment"
    assert att["Content-Transfer-Encoding"] == "base64"
    body = msg.get_body(("plain",))
    assert body is not None
    with zipfile.ZipFile(io.BytesIO(att.get_content())) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("rsmf_manifest.json"))
    return Rsmf(msg, body.get_content(), manifest, names)


_KEPT = frozenset(("type", "direction", "action", "deleted", "importance"))


def _shape(value: Any, key: str = "") -> Any:
    """What the schema can tell apart in a value: types, emptiness, enum values; the rest
    of every string replaced (so equal shapes validate alike)."""
    if isinstance(value, dict):
        return {k: _shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, str) and key not in _KEPT:
        return "x" if value else ""
    return value


def check_manifest(manifest: dict[str, Any], *, by_shape: bool = False) -> None:
    """Valid against the official schema, and every reference resolves (the schema cannot say).

    ``by_shape``: the events are validated once per distinct shape (:func:`_shape`), which the
    schema cannot tell from the events themselves; 25,000 events one by one take jsonschema
    16 s on a loaded machine. Timestamps are parsed here (jsonschema checks ``date-time`` only
    with an extra package), every one of them."""
    doc = manifest
    if by_shape:
        shapes = {json.dumps(_shape(e), sort_keys=True): e for e in manifest["events"]}
        doc = {**manifest, "events": list(shapes.values())}
    errors = sorted(validator().iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    people = {p["id"] for p in manifest["participants"]}
    conversations = {c["id"]: c for c in manifest["conversations"]}
    for conv in conversations.values():
        assert set(conv["participants"]) <= people and conv["custodian"] in conv["participants"]
    for ev in manifest["events"]:
        assert ev["participant"] in people and ev["conversation"] in conversations
        assert all(r["participant"] in people for r in ev.get("read_receipts", ()))
        assert datetime.fromisoformat(ev["timestamp"]).utcoffset() is not None

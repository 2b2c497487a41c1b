"""transcript.rsmf in the evidence bundle: written, listed and checksummed like the other
transcripts, valid RSMF equal to messages.jsonl; left out when the window is more than one RSMF
file holds; `roamtui verify` reads it back and names an RSMF that disagrees with the jsonl."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from rsmfkit import check_manifest, read_rsmf

from roamtui.export import bundle
from roamtui.export.bundle_read import open_bundle
from roamtui.export.job import ExportJob, Fetched
from roamtui.export.provenance import ExportMeta
from roamtui.export.rsmf import write_rsmf
from roamtui.export.verify import TRANSCRIPT_CHECKS, Held
from roamtui.im.model import message_obj, parse_message
from roamtui.im.roam import RoamQuery

T0 = 1_700_000_000
NAME = "transcript.rsmf"


def records(n: int) -> list[dict[str, Any]]:
    return [message_obj(sender="cust_1" if i % 3 else "agent_2",
                        receiver="agent_2" if i % 3 else "cust_1", time=T0 + 60 * i,
                        text=f"message {i}", key=f"key_{i}", seq=i, random=i,
                        flag_bits=8 if i % 7 == 3 else 0) for i in range(n)]


def bundle_of(tmp_path: Path, objs: list[dict[str, Any]]) -> Path:
    messages = [parse_message(o) for o in objs]
    meta = ExportMeta(account="cust_1", peer="agent_2", min_time=T0, max_time=T0 + 86_400,
                      tz=UTC, fetched_at=T0 + 90_000, pages=1, calls=1,
                      complete=True)
    target = tmp_path / "evidence"
    job = ExportJob.plan(RoamQuery("cust_1", "agent_2", T0, T0 + 86_400), meta.tz, "bundle",
                         target)
    job.write_bundle(Fetched(messages, pages=1, calls=1, complete=True), meta)
    return target


def test_the_bundle_holds_a_valid_rsmf_equal_to_its_jsonl(tmp_path: Path) -> None:
    objs = records(40)
    folder = bundle_of(tmp_path, objs)
    assert (folder / NAME).is_file()
    assert f"  {NAME}" in (folder / "SHA256SUMS").read_text()
    assert NAME in json.loads((folder / "manifest.json").read_text())["files"]
    parsed = read_rsmf((folder / NAME).read_bytes())
    check_manifest(parsed.manifest)
    events = parsed.manifest["events"]
    assert [e["id"] for e in events] == [o["MsgKey"] for o in objs]
    assert [e.get("deleted", False) for e in events] == [bool(o["MsgFlagBits"] & 8) for o in objs]
    with open_bundle(folder) as source:
        held = [Held(o["MsgKey"], o["MsgTimeStamp"], bool(o["MsgFlagBits"] & 8)) for o in objs]
        assert TRANSCRIPT_CHECKS[NAME](source, NAME, held) == []
        # An RSMF that lost a message, or calls a recalled one not deleted, is named.
        assert TRANSCRIPT_CHECKS[NAME](source, NAME, [*held, Held("key_x", T0, False)]) == [
            "holds 40 events, messages.jsonl 41"]
        flipped = [dataclasses.replace(h, recalled=not h.recalled) if i == 3 else h
                   for i, h in enumerate(held)]
        assert TRANSCRIPT_CHECKS[NAME](source, NAME, flipped) == [
            "key_3 is marked recalled, unlike messages.jsonl"]


def test_what_is_not_rsmf_is_named_in_one_line(tmp_path: Path) -> None:
    folder = bundle_of(tmp_path, records(5))
    (folder / NAME).write_text("From: someone\r\n\r\nhello\r\n")
    with open_bundle(folder) as source:
        assert TRANSCRIPT_CHECKS[NAME](source, NAME, []) == [
            "is not an RSMF file (no X-RSMF-Version header)"]
    out = io.StringIO()
    write_rsmf([], dataclasses.replace(
        ExportMeta("a", "b", T0, T0, UTC, T0, 0, 0, True)), out)
    assert "X-RSMF-EventCount: 0" in out.getvalue()


def test_a_window_too_big_for_one_rsmf_is_bundled_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "BUNDLE_FILES", tuple(
        dataclasses.replace(f, limit=10) if f.name == NAME else f for f in bundle.BUNDLE_FILES))
    folder = bundle_of(tmp_path, records(11))
    assert not (folder / NAME).exists()
    assert NAME not in (folder / "SHA256SUMS").read_text()
    assert (folder / "transcript.txt").is_file()

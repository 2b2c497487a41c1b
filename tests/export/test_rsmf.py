"""RSMF 2.0 export (issue 16): the .rsmf read back with the stdlib as a review platform reads it,
its manifest valid against the official schema and equal to the sandbox's truth, hostile text
kept as data, and a window of more than 10,000 messages written as day slices."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rsmfkit import check_manifest, read_rsmf

from roamtui.export.body import plain_text
from roamtui.export.job import ExportJob, ExportRefused
from roamtui.export.provenance import ExportMeta
from roamtui.export.rsmf import MAX_EVENTS, write_rsmf
from roamtui.im.model import Message, message_obj, parse_message
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import Dataset

T0 = 1_700_000_000
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def truth() -> tuple[list[dict[str, Any]], list[Message], ExportMeta]:
    """One sandbox conversation: every element kind, recalls, read receipts, forwards."""
    ds = Dataset(seed=16, messages=1500, end_time=T0, pairs=1)
    a, b = ds.conversations[0]
    span = ds.span(a, b)
    assert span is not None
    objs = [ds.message_obj(r.index) for r in ds.messages_between(a, b, span[0], span[1])]
    meta = ExportMeta(account=a, peer=b, min_time=span[0], max_time=span[1], tz=SHANGHAI,
                      fetched_at=T0 + 60, pages=15, calls=15, complete=True,
                      source="http://127.0.0.1:9 · SDKAppID 1 · admin admin",
                      names={b: "Alice (support)"})
    return objs, [parse_message(o) for o in objs], meta


def rsmf_bytes(messages: list[Message], meta: ExportMeta) -> bytes:
    out = io.StringIO(newline="")
    write_rsmf(messages, meta, out)
    return out.getvalue().encode("utf-8")


def test_rsmf_reads_back_and_equals_the_sandbox_truth(truth: Any) -> None:
    objs, messages, meta = truth
    data = rsmf_bytes(messages, meta)
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")  # RFC 5322 line ends
    parsed = read_rsmf(data)
    msg, manifest = parsed.message, parsed.manifest
    check_manifest(manifest)
    assert parsed.zip_names == ["rsmf_manifest.json"]
    # Headers a review platform reads before opening the zip.
    assert msg["X-RSMF-Version"] == "2.0.0"
    assert msg["X-RSMF-Generator"].startswith("roamtui ")
    assert msg["X-RSMF-EventCount"] == str(len(objs))
    first = datetime.fromisoformat(msg["X-RSMF-BeginDate"])
    last = datetime.fromisoformat(msg["X-RSMF-EndDate"])
    assert (first.timestamp(), last.timestamp()) == (objs[0]["MsgTimeStamp"],
                                                     objs[-1]["MsgTimeStamp"])
    assert msg["X-RSMF-Custodian"] == meta.account
    assert msg["X-RSMF-Participants"] == f"{meta.account}, Alice (support) ({meta.peer})"
    assert msg["X-RSMF-EventCollectionID"] == manifest["eventcollectionid"]
    # Participants: id = account, display = nickname when known.
    assert manifest["participants"] == [
        {"id": meta.account, "display": meta.account, "account_id": meta.account},
        {"id": meta.peer, "display": "Alice (support)", "account_id": meta.peer}]
    (conv,) = manifest["conversations"]
    assert (conv["type"], conv["platform"], conv["custodian"]) == (
        "direct", "Tencent Cloud IM", meta.account)
    assert conv["participants"] == [meta.account, meta.peer]
    # One event per message, in order, each equal to the service's record.
    events = manifest["events"]
    assert [e["id"] for e in events] == [o["MsgKey"] for o in objs]
    for ev, obj, m in zip(events, objs, messages, strict=True):
        assert ev["type"] == "message" and ev["conversation"] == conv["id"]
        assert ev["participant"] == obj["From_Account"]
        when = datetime.fromisoformat(ev["timestamp"])
        assert when.utcoffset() is not None and when.timestamp() == obj["MsgTimeStamp"]
        assert ev["timestamp"].endswith("+08:00")
        assert ev["direction"] == ("outgoing" if obj["From_Account"] == meta.account
                                   else "incoming")
        assert ev.get("deleted", False) is bool(obj["MsgFlagBits"] & 8)
        read = [{"participant": obj["To_Account"], "action": "read"}]
        assert ev.get("read_receipts") == (read if obj.get("IsPeerRead") == 1 else None)
        custom = {c["name"]: c["value"] for c in ev["custom"]}
        assert custom["MsgSeq"] == str(obj["MsgSeq"])
        assert custom["MsgRandom"] == str(obj["MsgRandom"])
        assert custom["MsgFlagBits"] == str(obj["MsgFlagBits"])
        assert custom.get("CloudCustomData") == (obj.get("CloudCustomData") or None)
        assert ev["body"] == plain_text(m, SHANGHAI)
    assert any(e.get("deleted") for e in events) and any("read_receipts" in e for e in events)
    forwards = [e for e in events if any(c["name"] == "ForwardedMessages" for c in e["custom"])]
    assert forwards and all("\n│ " in e["body"] for e in forwards)
    # The readable body is the conversation as the txt export writes it.
    assert parsed.text.startswith("Conversation export")
    assert f"Messages:             {len(objs)}" in parsed.text
    assert all(o["MsgKey"] in parsed.text for o in objs)


def test_same_messages_same_bytes(truth: Any) -> None:
    _, messages, meta = truth
    assert rsmf_bytes(messages[:50], meta) == rsmf_bytes(messages[:50], meta)


HOSTILE = [
    "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J owned",  # OSC 52 clipboard write, clear screen
    "\u202egnp.exe and pay\u200bpal.com",
    "--rsmf-boundary\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>",
    "line\u2028break\u2029para\x85nel",
    "</body>{\"events\": []} \\u0000 \"quoted\"",
    "lone \ud800 surrogate",
]


def test_hostile_text_stays_data(truth: Any) -> None:
    evil_name = "evil\r\nBcc: victim@example.com\r\nX-RSMF-Version: 9"
    objs = [message_obj(sender="cust\x1b[31m" if i == 0 else "agent", receiver="agent",
                        time=T0 + i, text=text, key=f"k{i}", seq=i, random=i,
                        cloud_custom_data="\x1b[5m{\"x\":1}" if i == 1 else None)
            for i, text in enumerate(HOSTILE)]
    messages = [parse_message(o) for o in objs]
    meta = ExportMeta(account="agent", peer="cust\x1b[31m", min_time=T0, max_time=T0 + 99,
                      tz=UTC, fetched_at=T0 + 100, pages=1, calls=1, complete=True,
                      names={"agent": evil_name})
    data = rsmf_bytes(messages, meta)
    assert b"\x1b" not in data and b"\x07" not in data
    parsed = read_rsmf(data)  # still one body, one attachment: no part was injected
    check_manifest(parsed.manifest)
    msg = parsed.message
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "application/zip"]
    assert msg["Bcc"] is None and msg.get_all("X-RSMF-Version") == ["2.0.0"]
    assert "\n" not in msg["X-RSMF-Custodian"] and msg["X-RSMF-Custodian"].endswith("(agent)")
    # The manifest keeps the text exactly as the service sent it, as JSON data.
    assert [e["body"] for e in parsed.manifest["events"]] == HOSTILE
    custom = {c["name"]: c["value"] for c in parsed.manifest["events"][1]["custom"]}
    assert custom["CloudCustomData"] == "\x1b[5m{\"x\":1}"
    # The readable body shows every control and invisible character as a visible stand-in.
    text = parsed.text
    assert "␛]52;c;cm0gLXJmIH4=␇␛[2J owned" in text
    assert "<U+202E>gnp.exe and pay<U+200B>pal.com" in text
    assert "\x1b" not in text and "\u202e" not in text and "\u200b" not in text


def test_more_than_one_file_holds_is_refused_before_writing(tmp_path: Path) -> None:
    many = [parse_message(message_obj(sender="a", receiver="b", time=T0 + i // 50, text="x",
                                      key=f"k{i}", seq=i)) for i in range(MAX_EVENTS + 1)]
    query = RoamQuery("a", "b", T0, T0 + 10_000)
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "one.rsmf"
    job = ExportJob.plan(query, UTC, "rsmf", target)
    meta = ExportMeta(account="a", peer="b", min_time=T0, max_time=T0 + 10_000, tz=UTC,
                      fetched_at=T0, pages=1, calls=1, complete=True)
    with pytest.raises(ExportRefused, match=r"10,001 messages are more than one rsmf file "
                                            r"holds \(10,000\); give a directory"):
        job.write(many, meta)
    assert list(folder.iterdir()) == []
    job.write(many[:MAX_EVENTS], meta)  # exactly the limit is one file
    assert json.dumps(read_rsmf(target.read_bytes()).message["X-RSMF-EventCount"]) == '"10000"'


def test_a_path_ending_in_a_slash_is_a_folder_only_for_rsmf(tmp_path: Path) -> None:
    query = RoamQuery("a", "b", T0, T0 + 60)
    with pytest.raises(ExportRefused, match="names a directory; this format is one file"):
        ExportJob.plan(query, UTC, "csv", f"{tmp_path}/new/")
    assert ExportJob.plan(query, UTC, "rsmf", f"{tmp_path}/new/").output.directory
    with pytest.raises(ExportRefused, match="does not exist"):
        ExportJob.plan(query, UTC, "rsmf", f"{tmp_path}/no/such/")
    assert not (tmp_path / "new").exists()  # made only when written


def test_a_nickname_with_a_comma_stays_one_participant_and_each_file_has_its_own_id(
    truth: Any,
) -> None:
    import re
    from dataclasses import replace

    _, messages, meta = truth
    meta = replace(meta, names={meta.account: 'Doe, Jane "JD"', meta.peer: "Alice (support)"})
    msg = read_rsmf(rsmf_bytes(messages, meta)).message
    header = msg["X-RSMF-Participants"]
    # Split as a reader of RFC 5322 lists does: commas outside quoted-strings, then unquoted.
    entries = re.findall(r'\s*("(?:[^"\\]|\\.)*"|[^,]+)\s*(?:,|$)', header)
    names = [re.sub(r'\\(.)', r"\1", e[1:-1]) if e.startswith('"') else e for e in entries]
    assert len(names) == 2
    assert names[0] == f'Doe, Jane "JD" ({meta.account})'
    assert header.endswith(f", Alice (support) ({meta.peer})")
    # The same content gives the same Message-ID; other content (half the messages) another.
    again = read_rsmf(rsmf_bytes(messages, meta)).message
    half = read_rsmf(rsmf_bytes(messages[: len(messages) // 2], meta)).message
    assert msg["Message-ID"] == again["Message-ID"] != half["Message-ID"]
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@export.invalid>")

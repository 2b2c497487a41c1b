"""Exports name both parties "nickname (account)" in their headers, from portrait_get through the
job; a nickname that cannot be read leaves the account alone and never fails the export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from roamtui.export.job import ExportJob
from roamtui.im.client import ImClient
from roamtui.im.model import message_obj
from roamtui.im.profile import Nicknames
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import ListStore, SandboxService, demo_connection
from roamtui.sandbox.directory import PORTRAIT_PATH, ApiError
from roamtui.sandbox.people import Directory

T0 = 1_584_669_600
ZONE = ZoneInfo("Asia/Shanghai")
QUERY = RoamQuery("cust_1", "agent_2", T0, T0 + 3600)
HOSTILE = "[b]boss[/b]\x1b[2J\r\n=HYPERLINK(\"x\")"


def _service(nicknames: dict[str, str]) -> SandboxService:
    msgs = [message_obj(sender="cust_1", receiver="agent_2", time=T0 + i, text=f"m{i}", seq=i,
                        random=i) for i in range(5)]
    store = ListStore({("cust_1", "agent_2"): msgs})
    directory = Directory.for_store(store, nicknames)
    return SandboxService(store, rate_limit=None, directory=directory)


def _client(service: SandboxService) -> ImClient:
    return ImClient(demo_connection("http://sandbox.test"), transport=service.mock_transport(),
                    max_retries=0)


async def _export(service: SandboxService, fmt: str, cache: Nicknames | None = None) -> str:
    job = ExportJob.plan(QUERY, ZONE, fmt, None)
    async with _client(service) as client:
        fetched = await job.fetch(client, names=cache)
    out = io.StringIO()
    job.write(fetched.messages, job.provenance(fetched, T0 + 7200), stream=out)
    return out.getvalue()


async def test_csv_and_txt_headers_name_both_parties_nickname_then_account() -> None:
    service = _service({"cust_1": "王小明", "agent_2": "Alice (Support)"})
    rows = list(csv.reader(io.StringIO((await _export(service, "csv")).lstrip("\ufeff"))))
    header = {row[0]: row[1:] for row in rows if row and row[0].startswith("#")}
    assert header["# account"] == ["王小明 (cust_1)"]
    assert header["# peer"] == ["Alice (Support) (agent_2)"]
    txt = await _export(service, "txt")
    assert "王小明 (cust_1)" in txt and "Alice (Support) (agent_2)" in txt


async def test_hostile_nicknames_stay_inert_in_each_format() -> None:
    service = _service({"cust_1": HOSTILE})
    rows = list(csv.reader(io.StringIO((await _export(service, "csv")).lstrip("\ufeff"))))
    account = next(row[1] for row in rows if row and row[0] == "# account")
    assert "\x1b" not in account and "\r" not in account and account.endswith("(cust_1)")
    txt = await _export(service, "txt")
    line = next(x for x in txt.splitlines() if x.startswith("Account:"))
    assert "\x1b" not in txt and "␛" in line and line.endswith("(cust_1)")


@pytest.mark.parametrize("fault", ["refused", "unknown"])
async def test_no_nickname_leaves_the_account_and_the_export_goes_on(fault: str) -> None:
    service = _service({"cust_1": "王小明"})
    if fault == "refused":
        def refuse(doc: dict[str, object]) -> bytes:
            raise ApiError(40004, "Err_Profile_Need_Admin")

        service.directory_api.handlers = {**service.directory_api.handlers, PORTRAIT_PATH: refuse}
    else:
        service.directory.accounts.clear()  # portrait_get knows nobody
    txt = await _export(service, "txt")
    assert "Account:" in txt and "cust_1\n" in txt and "王小明" not in txt
    assert "messages:" in txt.lower()


async def test_the_export_uses_the_runs_cache_without_another_call() -> None:
    service = _service({"cust_1": "王小明"})
    async with _client(service) as client:
        cache = Nicknames(client)
        await cache.resolve(["cust_1", "agent_2"])
        before = service.stats().calls
        job = ExportJob.plan(QUERY, ZONE, "txt", None)
        fetched = await job.fetch(client, names=cache)
    assert fetched.names == {"cust_1": "王小明"}
    assert service.stats().calls - before == 1  # the window's one page, no portrait_get


async def test_a_bundles_manifest_carries_the_parties_nicknames(tmp_path: Path) -> None:
    service = _service({"cust_1": "王小明", "agent_2": HOSTILE})
    job = ExportJob.plan(QUERY, ZONE, "bundle", tmp_path / "case")
    async with _client(service) as client:
        fetched = await job.fetch(client)
    job.write_bundle(fetched, job.provenance(fetched, T0 + 7200))
    text = (tmp_path / "case" / "manifest.json").read_text("ascii")  # ASCII: escapes, inert
    assert json.loads(text)["names"] == {"cust_1": "王小明", "agent_2": HOSTILE}

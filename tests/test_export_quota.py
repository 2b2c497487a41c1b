"""`roamtui export` when the app's remaining quota is below --max-rps (issue 12, point 7).

The quota of 200 calls/s is shared with the company's own backend, so what is left for roamtui
may be less than its default 50/s. Here the sandbox (real HTTP on 127.0.0.1) keeps a token
bucket of 30 calls/s and answers 60007 past it; roamtui runs at its default rate. The export must
slow down (AIMD on the shared limiter), keep every page, and finish: exit 0, exactly the
sandbox's messages, no retry storm. Its wall time and calls are printed (run with -s).

On main before issue 12 (7af1e76) this export failed: exit 1 after 5.5 s and 264 calls, 77 of
them answered 60007, nothing written. Now: exit 0 in about 8 s and 250 calls, one 60007.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from roamtui import cli
from roamtui.im.limiter import DEFAULT_RATE, shared_limiter
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, Dataset, SandboxServer, SandboxService

T0 = 1_700_000_000
SECRET = "quota-test-secret-key-0123456789abcdef"
QUOTA = 30  # calls/s left for roamtui


@pytest.fixture
def fresh_limiter() -> Iterator[None]:
    # The limiter is process-wide: start at the configured rate and leave it so for others.
    shared_limiter(DEFAULT_RATE).reset()
    yield
    shared_limiter(DEFAULT_RATE).reset()


@pytest.mark.usefixtures("fresh_limiter")
def test_export_under_a_quota_below_the_rate_slows_down_and_finishes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = Dataset(seed=5, messages=6000, end_time=T0, pairs=1)
    a, b = dataset.conversations[0]
    span = dataset.span(a, b)
    assert span is not None
    lo, hi = span
    expected = [dataset.message_obj(r.index) for r in dataset.messages_between(a, b, lo, hi)]
    service = SandboxService(dataset, secret_key=SECRET, rate_limit=QUOTA)
    target = tmp_path / "evidence.jsonl"
    cuts_before = shared_limiter(DEFAULT_RATE).cuts
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", SECRET)
    with SandboxServer(service) as server:
        monkeypatch.setenv("ROAMTUI_ENDPOINT", server.endpoint)
        started = time.monotonic()
        argv = ["export", a, b, f"--since=@{lo}", f"--until=@{hi}", "-o", str(target)]
        argv += ["--sdkappid", str(DEMO_SDKAPPID), "--identifier", DEMO_ADMIN, "--tz", "UTC"]
        code = cli.main(argv)  # no --max-rps: the default 50/s
        seconds = time.monotonic() - started
    err = capsys.readouterr().err
    stats = service.stats()
    limiter = shared_limiter(DEFAULT_RATE)
    with capsys.disabled():
        print(
            f"\nexport under a {QUOTA}/s quota at the default {DEFAULT_RATE:g}/s: exit {code}, "
            f"{len(expected)} messages, {seconds:.1f} s wall, {stats.calls} calls "
            f"({stats.ok} ok, {stats.rate_limited} answered 60007), {stats.calls / seconds:.1f} "
            f"calls/s; limiter cut {limiter.cuts - cuts_before} times, ended at "
            f"{limiter.effective_rate:.1f}/s\n{err.strip()}"
        )
    assert code == 0, err
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == expected
    assert "complete" in err and "failed" not in err
    # The quota really bit, and roamtui adapted rather than hammering the service.
    assert stats.rate_limited > 0
    assert stats.rate_limited < stats.ok / 4
    assert limiter.cuts > cuts_before

"""A quota below the client's rate, and 429 with Retry-After (issue 12, point 7).

- quota: the stand-in accepts at most 30 calls in any sliding second and answers the rest with
  60007, as a quota shared with the company's backend would; `roamtui export` at its default
  50 calls/s must slow down and FINISH with exactly the messages held, without a storm of
  refused calls and never above --max-rps.
- retry-after: the first call gets HTTP 429 with ``Retry-After: 2``; the next call must come at
  least 2 s later, and the export finish exactly.
- ok: the same stand-in behaving, as the harness's own check.
"""

from __future__ import annotations

from pathlib import Path

from standin import StandIn, assert_exact_export, make_messages, record, run_export

T0 = 1_700_000_000
RATE = 50


def test_a_well_behaved_stand_in_exports_exactly(tmp_path: Path) -> None:
    messages = make_messages(800, T0, 600, seed=2)
    with StandIn("ok", messages) as standin:
        outcome = run_export(standin.endpoint, tmp_path, T0, T0 + 599, max_rps=RATE, timeout=60)
    record("test_a_well_behaved_stand_in_exports_exactly", standin, outcome)
    assert_exact_export(outcome, messages)
    assert len(outcome.lines) == 1 and "complete" in outcome.lines[0]
    assert standin.max_in_one_second() <= RATE


def test_a_quota_below_the_rate_still_finishes_exactly(tmp_path: Path) -> None:
    messages = make_messages(6000, T0, 3600, seed=3)
    with StandIn("quota", messages, quota=30) as standin:
        outcome = run_export(standin.endpoint, tmp_path, T0, T0 + 3599, max_rps=RATE, timeout=90)
    record("test_a_quota_below_the_rate_still_finishes_exactly", standin, outcome)
    assert_exact_export(outcome, messages)
    refused = standin.codes().get(60007, 0)
    accepted = len(standin.calls) - refused
    assert refused <= accepted // 2, f"{refused} refused for {accepted} accepted: a storm"
    assert standin.max_in_one_second() <= RATE


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    messages = make_messages(300, T0, 600, seed=5)
    with StandIn("retry-after", messages, retry_after=2) as standin:
        outcome = run_export(standin.endpoint, tmp_path, T0, T0 + 599, max_rps=RATE, timeout=60)
    record("test_retry_after_is_honoured", standin, outcome)
    assert_exact_export(outcome, messages)
    first, second = standin.calls[0], standin.calls[1]
    assert first.status == 429 and first.answered is not None
    gap = second.arrived - first.answered
    assert gap >= 2.0, f"the next call came {gap:.2f} s after a 429 with Retry-After: 2"

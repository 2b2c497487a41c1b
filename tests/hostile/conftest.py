"""The hostile-service suite's report: one row per run of the real CLI, printed at the end.

Durations, calls counted by the stand-in, the most calls in any one second and the child's peak
RSS are recorded, not asserted against a clock (the machine is shared); the table shows them.
"""

from __future__ import annotations

import pytest
from standin import ROWS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not ROWS:
        return
    tr = terminalreporter
    tr.section("hostile service: runs of roamtui export")
    tr.write_line(f"{'mode':16} {'exit':>4} {'seconds':>8} {'calls':>6} {'max/s':>6} {'RSS MB':>7}")
    for r in ROWS:
        code = "kill" if r.code is None else str(r.code)
        tr.write_line(
            f"{r.mode:16} {code:>4} {r.seconds:8.1f} {r.calls:6d} {r.per_second:6d} "
            f"{r.rss_mb:7.0f}  {r.line}"
        )

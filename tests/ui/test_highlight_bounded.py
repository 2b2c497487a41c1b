"""Drawing search hits never runs a regex unbounded: a pathological pattern that reaches the
transcript's highlight (one the static check cannot see through) must not freeze the drawing."""

from __future__ import annotations

import re
import time

from roamtui.im.model import parse_message
from roamtui.ui.transcript.layout import _may_mark

CATASTROPHIC = re.compile(r"(a?a)+$")  # exponential on "aaaa…b" under a backtracking engine


def long_message() -> object:
    text = "a" * 60 + "b"  # re.search takes hours here (its time doubles every two a's)
    return parse_message({
        "From_Account": "x", "To_Account": "y", "MsgSeq": 1, "MsgRandom": 1,
        "MsgTimeStamp": 1_700_000_000, "MsgKey": "1_1_1700000000", "MsgFlagBits": 0,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}],
    })


def test_a_catastrophic_highlight_ends_quickly_and_marks_nothing() -> None:
    started = time.monotonic()
    assert not _may_mark(long_message(), CATASTROPHIC, False)  # type: ignore[arg-type]
    # A backtracking re.search here takes minutes; the runner's timeout ends it in a fraction
    # of a second. The bound is generous: this checks "ends", not speed.
    assert time.monotonic() - started < 30

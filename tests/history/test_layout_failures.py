"""An error nobody foresaw (a bug, a reply no check caught) stops loading where it happened: the
gap shows it and waits for the user, instead of going back to idle and being loaded again at
once by the view (which turned one bad reply into ~40 calls a second)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from roamtui.history.timeline import GapRow, Timeline
from roamtui.im.roam import RoamQuery

T0 = 1_700_000_000


class Exploding:
    """A caller whose every call fails with something that is not a RoamError."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.calls = 0

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        raise self.error


def gap_states(tl: Timeline) -> list[str]:
    return [row.gap.state for i in range(len(tl)) if isinstance(row := tl.row(i), GapRow)]


@pytest.mark.parametrize("error", [RecursionError("deep"), ValueError("odd"), KeyError("x")])
async def test_an_unexpected_error_leaves_the_gap_failed_not_idle(error: BaseException) -> None:
    caller = Exploding(error)
    tl = Timeline(caller, RoamQuery("a", "b", T0, T0 + 3600), dt.UTC)
    with pytest.raises(type(error)):
        await tl.open()
    assert caller.calls == 1
    assert gap_states(tl) == ["error"]
    gap = next(row.gap for i in range(len(tl)) if isinstance(row := tl.row(i), GapRow))
    assert gap.error is not None and type(error).__name__ in str(gap.error)
    assert not tl.complete and tl.loaded_count == 0

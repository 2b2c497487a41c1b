"""A jump that has to wait (for the window to be fetched, or a search scan to settle) does not
take the cursor away from where the user went meanwhile: the last key wins."""

from __future__ import annotations

import pytest
from shellkit import settle
from stormkit import slow_world

from roamtui.ui.transcript import Transcript


@pytest.mark.parametrize(
    "first",
    [("left_square_bracket",), ("left_curly_bracket",), ("slash", *"refund", "enter")],
)
async def test_the_newest_end_key_after_a_slow_jump_keeps_the_cursor_at_the_end(
    first: tuple[str, ...],
) -> None:
    world = slow_world(seed=5)
    app = world.app
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.05)  # before or just after the first page: the jump must wait
        transcript = app.screen.query_one(Transcript)
        for key in first:
            await pilot.press(key)
        await pilot.press("escape") if first[0] == "slash" else None
        transcript.focus()
        await pilot.press("G")
        await settle(pilot, rounds=300)
        await pilot.pause(0.2)
        await settle(pilot, rounds=300)
        timeline = transcript.timeline
        newest = timeline.messages()[-1]
        assert transcript.cursor_message is not None
        assert transcript.cursor_message.key == newest.key, (
            f"cursor at {transcript.cursor_message.time}, newest at {newest.time}"
        )

"""Key storm: every documented key and command, pressed at random moments while pages are in
flight over a slow, faulty sandbox; after each key the app is alive, the transcript's rows agree
with the timeline, the cursor is on a message, and a partial window is never called complete.

Hypothesis draws the keys, the pauses between them and the world's seed. The default suite
runs a few examples from a fixed seed (``derandomize``), so CI is repeatable; a longer, random
run is for nightly use::

    ROAMTUI_STORM_EXAMPLES=300 ROAMTUI_STORM_RANDOM=1 pytest tests/ui/test_key_storm.py

On 7af1e76 (before the fix of issue 12's first point) the default run fails with the
``IndexError: row N of N`` of pressing ``]`` while pages arrive.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stormkit import burst, check_alive, check_counters, check_transcript, slow_world

EXAMPLES = int(os.environ.get("ROAMTUI_STORM_EXAMPLES", "8"))
RANDOM = os.environ.get("ROAMTUI_STORM_RANDOM") == "1"

#: Single keys of the transcript, the search pane and the browse screen (see `?` in the app).
KEYS = (
    "j", "k", "down", "up", "pagedown", "pageup", "space", "b", "ctrl+d", "ctrl+u",
    "g", "G", "home", "end", "d", "D", "o", "O", "r", "x",
    "n", "N", "ampersand", "escape", "y", "Y", "p", "ctrl+t",
)
#: Jumps that may fetch the whole window: drawn as often as all other single keys together.
JUMPS = ("right_square_bracket", "left_square_bracket", "right_curly_bracket",
         "left_curly_bracket", "G", "g")
#: Keys that open something, each with what closes it again (or goes on with it).
SEQUENCES: tuple[tuple[str, ...], ...] = (
    ("slash", "r", "e", "f", "u", "n", "d", "enter"),
    ("slash", "escape"),
    ("slash", "e", "x", "p", "escape", "escape"),
    ("ctrl+f", "o", "k", "down", "up", "escape"),
    ("colon", *"goto -2h", "enter"),
    ("colon", *"goto 10:00", "enter"),
    ("colon", *"goto nonsense", "enter"),
    ("colon", *"swap", "enter"),
    ("colon", "escape"),
    ("t", *"-1d", "enter"),
    ("enter", "j", "escape"),
    ("e", "escape"),
    ("question_mark", "escape"),
    ("ampersand", "j", "enter"),
    ("q", "ctrl+o"),
)
PAUSES = (0.0, 0.0, 0.01, 0.03, 0.1, 0.3)

step = st.one_of(
    st.tuples(st.sampled_from(JUMPS)),
    st.tuples(st.sampled_from(KEYS)),
    st.sampled_from(SEQUENCES),
)
#: Each step is pressed key by key (the pilot waits for each), or sent as one burst, as a
#: terminal delivers fast typing or a paste.
storm = st.lists(st.tuples(step, st.sampled_from(PAUSES), st.booleans()), min_size=4,
                 max_size=24)
Steps = list[tuple[tuple[str, ...], float, bool]]


async def run_storm(seed: int, steps: Steps, early: float) -> None:
    world = slow_world(seed)
    app = world.app
    async with app.run_test(size=(100, 32)) as pilot:
        await asyncio.sleep(early)  # keys come before, during or after the first pages
        done: list[str] = []
        for keys, pause, at_once in steps:
            if at_once:
                burst(app, keys)
                done.append("[" + " ".join(keys) + "]")
                await pilot.pause()
            for key in () if at_once else keys:
                await pilot.press(key)
                done.append(key)
                where = " ".join(done[-12:])
                check_alive(app, where)
                check_transcript(app, where)
            await pilot.pause(pause)
            check_alive(app, " ".join(done[-12:]))
            check_transcript(app, " ".join(done[-12:]))
        await check_counters(pilot, " ".join(done[-12:]))
        check_alive(app, "the storm")
    assert app.return_code in (None, 0)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
@given(
    seed=st.integers(0, 2**16),
    steps=storm,
    early=st.sampled_from((0.0, 0.05, 0.2, 0.6)),
)
def test_keys_pressed_while_pages_arrive_keep_the_app_whole(
    seed: int, steps: Steps, early: float
) -> None:
    asyncio.run(run_storm(seed, steps, early))


@pytest.mark.parametrize("key", ["right_square_bracket", "right_curly_bracket"])
@pytest.mark.parametrize("early", [0.0, 0.3])
def test_jump_keys_at_the_newest_end_of_a_loading_window(key: str, early: float) -> None:
    """The ticket's first key: ``]`` (or ``}``) at the newest end while the window loads."""
    asyncio.run(run_storm(early=early, seed=3, steps=[((key,), 0.05, False), ((key,), 0.5, False)]))

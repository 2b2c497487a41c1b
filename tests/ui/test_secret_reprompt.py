"""A secret the service refuses (70009 and the like) is not kept for the run: the app asks for it
again at once, and opening a transcript later asks again until one works."""

from __future__ import annotations

import pytest
from shellkit import Sandbox, build_app, record_notices, settle
from textual.widgets import Input

from roamtui.im.client import Connection
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, DEMO_SECRET_KEY
from roamtui.ui.factory import IN_PROCESS_ENDPOINT
from roamtui.ui.screens.browse import BrowseScreen
from roamtui.ui.screens.query import QueryScreen
from roamtui.ui.screens.secret_prompt import SecretPrompt
from roamtui.ui.transcript import Transcript

SIZE = (100, 30)
WRONG = "0" * 64  # a well-formed secret key of another app: the service answers 70009


def wrong_key() -> Connection:
    return Connection(IN_PROCESS_ENDPOINT, DEMO_SDKAPPID, DEMO_ADMIN, secret_key=WRONG)


async def answer(pilot: object, value: str) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    assert isinstance(app.screen, SecretPrompt)
    app.screen.query_one("#secret-value", Input).value = value
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]


async def test_a_refused_secret_is_asked_for_again_and_the_right_one_loads(
    sandbox: Sandbox,
) -> None:
    app = build_app(sandbox, connection=wrong_key())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SecretPrompt), type(screen).__name__
        reason = str(screen.query_one("#secret-reason").render())
        assert "70009" in reason and WRONG not in reason
        await answer(pilot, DEMO_SECRET_KEY)
        assert isinstance(app.screen, BrowseScreen)
        transcript = app.screen.query_one(Transcript)
        assert transcript.timeline.loaded_count > 0
        assert transcript.cursor_message is not None


async def test_a_second_wrong_secret_is_asked_for_again(sandbox: Sandbox) -> None:
    app = build_app(sandbox, connection=wrong_key())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "1" * 64)
        assert isinstance(app.screen, SecretPrompt)
        await answer(pilot, DEMO_SECRET_KEY)
        assert isinstance(app.screen, BrowseScreen)


@pytest.mark.parametrize("reopen", ["ctrl+o"])
async def test_after_cancelling_reopening_asks_again(sandbox: Sandbox, reopen: str) -> None:
    app = build_app(sandbox, connection=wrong_key())
    notices = record_notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SecretPrompt)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueryScreen)
        assert any("No secret given" in n for n in notices.texts("warning"))
        await pilot.press(reopen)
        await settle(pilot)
        assert isinstance(app.screen, SecretPrompt), "reopening used the refused secret again"
        await answer(pilot, DEMO_SECRET_KEY)
        assert isinstance(app.screen, BrowseScreen)
        assert app.screen.query_one(Transcript).timeline.loaded_count > 0

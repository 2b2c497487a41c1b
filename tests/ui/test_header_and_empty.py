"""The transcript's header names where it reads from; an empty window says what to check."""

from __future__ import annotations

from shellkit import Sandbox, build_app, record_notices, settle
from textual.widgets import Static

from roamtui.im.client import Connection
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, DEMO_SECRET_KEY
from roamtui.settings.connection import Resolved
from roamtui.ui.app import endpoint_host
from roamtui.ui.screens.browse import BrowseScreen

SINGAPORE = "https://adminapisgp.im.qcloud.com"


def _text(app: object, selector: str) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    return str(screen.query_one(selector, Static).render())


def test_endpoint_host_drops_scheme_path_and_userinfo() -> None:
    assert endpoint_host(SINGAPORE + "/") == "adminapisgp.im.qcloud.com"
    assert endpoint_host("http://u:p@127.0.0.1:8080/x") == "127.0.0.1:8080"


async def test_a_real_run_shows_its_profile_and_endpoint_host(sandbox: Sandbox) -> None:
    connection = Connection(SINGAPORE, DEMO_SDKAPPID, DEMO_ADMIN, secret_key=DEMO_SECRET_KEY)
    resolved = Resolved.given(connection, profile_name="work")
    app = build_app(sandbox, connection=resolved, show_endpoint=True)
    async with app.run_test(size=(180, 30)) as pilot:
        await settle(pilot)
        who = _text(app, "#status-who")
        assert who.startswith(" work │ ")
        assert sandbox.account in who and sandbox.peer in who  # (with nicknames, issue 17)
        # Where it reads from: by the window, at the widths people use (120 and up), and the
        # cursor's time keeps its room.
        for width in (180, 120):
            await pilot.resize_terminal(width, 30)
            await settle(pilot)
            window = _text(app, "#position-window")
            assert window.rstrip().endswith("@ adminapisgp.im.qcloud.com"), (width, window)
            assert _text(app, "#position-at").startswith(" ▸ ")
            assert _text(app, "#status-who").startswith(" work │ ")
        await pilot.resize_terminal(90, 30)  # no room: the window and the time stay whole
        await settle(pilot)
        assert "@" not in _text(app, "#position-window")
        assert sandbox.account in _text(app, "#status-who")


async def test_the_demo_header_has_no_loopback_host(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        assert _text(app, "#status-who").startswith(" demo │ ")
        assert "@" not in _text(app, "#position-window")


async def test_an_empty_conversation_says_what_to_check(sandbox: Sandbox) -> None:
    # Both accounts exist, they never talked: the service answers with an empty, complete page.
    empty = Sandbox(sandbox.dataset, sandbox.service, sandbox.transport, "cust_1001", "agent_li")
    app = build_app(empty)
    notices = record_notices(app)
    async with app.run_test(size=(200, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        line = _text(app, "#position-at")
        assert "no messages in this window; check the spelling of 'cust_1001' and 'agent_li'" \
            in line
        [hint] = [n for n in notices.texts("warning") if "retention" in n]
        assert "case-sensitive" in hint and "7 days unless extended" in hint
        await pilot.press("p")  # the other side is empty as well: said again, for it
        await settle(pilot)
        assert len([n for n in notices.texts("warning") if "retention" in n]) == 2
        assert "'agent_li' and 'cust_1001'" in _text(app, "#position-at")

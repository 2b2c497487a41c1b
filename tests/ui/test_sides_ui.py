"""Both sides in the TUI: `--sides both` over a sandbox whose parties hold different histories.
One-sided messages carry a badge naming their only holder, the status bar counts them, `>`/`<`
land on them, the inspector says who holds the message, `P` toggles both / one side."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from shellkit import END, WEEK, Sandbox, build_app, settle

from roamtui.history.sides import Held, TwoSidedTimeline
from roamtui.im.model import parse_message
from roamtui.sandbox import Dataset, SandboxService
from roamtui.sandbox.sides import demo_store
from roamtui.ui.render import HELD_MARK, HELD_PEER, HELD_SELF, RenderContext, message_lines, plain
from roamtui.ui.screens.browse import BrowseScreen
from roamtui.ui.screens.inspector import InspectorScreen, plain_text
from roamtui.ui.transcript import Transcript
from roamtui.ui.widgets.filter_view import FilterView
from roamtui.ui.widgets.status_bar import StatusBar


def sided_sandbox(messages: int = 1500) -> Sandbox:
    dataset = Dataset(seed=0, messages=messages, end_time=END)
    service = SandboxService(demo_store(dataset))
    transport: httpx.AsyncBaseTransport = service.mock_transport()
    account, peer = dataset.conversations[0]
    return Sandbox(dataset, service, transport, account, peer)


def status_text(app: object) -> str:
    bar = app.screen.query_one(StatusBar)  # type: ignore[attr-defined]
    return str(bar._stats_content(bar.stats))


async def test_both_sides_marks_counts_and_jumps_to_one_sided_messages() -> None:
    box = sided_sandbox()
    app = build_app(box, both_sides=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        transcript = app.screen.query_one(Transcript)
        tl = transcript.timeline
        assert isinstance(tl, TwoSidedTimeline)
        await tl.load_all()  # the whole window, so the counts are final
        await settle(pilot)
        one_sided = [m for m in tl.messages() if tl.held(m.key) in (Held.ACCOUNT, Held.PEER)]
        assert one_sided, "the demo plans leave messages on one side only"
        assert f"{len(one_sided):,} one-sided" in status_text(app)
        # > from the top lands on the first one-sided message, < back from the end on the last.
        transcript.set_cursor(0)
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert transcript.cursor_message is not None
        assert transcript.cursor_message.key == one_sided[0].key
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert transcript.cursor_message.key == one_sided[1].key
        await pilot.press("G")
        await settle(pilot)
        await pilot.press("less_than_sign")
        await settle(pilot)
        assert transcript.cursor_message.key == one_sided[-1].key
        # The inspector names the only holder.
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InspectorScreen)
        holder = tl.only_holder(one_sided[-1].key)
        assert holder is not None
        assert f"Held by only {holder}" in " ".join(plain_text(app.screen.items).split())
        await pilot.press("escape")
        await settle(pilot)
        # % then &: the filter view shows the one-sided messages and nothing else.
        await pilot.press("percent_sign")
        await settle(pilot)
        await pilot.press("ampersand")
        await settle(pilot)
        view = app.screen.query_one(FilterView)
        assert [m.key for m in view.shown_messages] == [m.key for m in one_sided]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("percent_sign")
        await settle(pilot)
        # P: one side again (no count, no badge), P: both again.
        await pilot.press("P")
        await settle(pilot)
        assert not isinstance(app.screen.query_one(Transcript).timeline, TwoSidedTimeline)
        assert re.search(r"[\d,]+ one-sided", status_text(app)) is None  # no count: one side
        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen.query_one(Transcript).timeline, TwoSidedTimeline)
        assert isinstance(app.screen, BrowseScreen) and app.screen.target.both


async def test_one_side_reads_only_that_sides_history_and_says_how_to_see_both() -> None:
    box = sided_sandbox()
    app = build_app(box)
    notices: list[str] = []
    app.notify = lambda message, **_: notices.append(str(message))  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        tl = app.screen.query_one(Transcript).timeline
        await tl.load_all()
        store = box.service.store
        conv = store.conversation(box.account, box.peer)
        assert conv is not None
        held = {conv.key(i) for i in range(len(conv.times))
                if END - WEEK <= conv.times[i] <= END}
        assert {m.key for m in tl.messages()} == held
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert any("press P" in n for n in notices)


def test_badge_names_the_holder_in_its_sides_style_and_hostile_names_stay_text() -> None:
    hostile = "cust_[b]x[/b]\x1b[31m"
    holders = {"k1": hostile, "k2": "agent"}
    ctx = RenderContext.for_parties(dt.UTC, hostile, "agent", holders.get)

    def lines(key: str) -> str:
        msg = parse_message({"MsgKey": key, "MsgTimeStamp": END, "From_Account": "agent",
                             "To_Account": "c", "MsgSeq": 1, "MsgRandom": 1,
                             "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]})
        first = message_lines(msg, 80, ctx)[0]
        roles = [r.role for r in first if r.text.startswith(HELD_MARK)]
        return f"{plain(first)}|{','.join(roles)}"

    mine, theirs, both = lines("k1"), lines("k2"), lines("k3")
    assert HELD_MARK in mine and "\x1b" not in mine and mine.endswith(f"|{HELD_SELF}")
    assert theirs.endswith(f"|{HELD_PEER}") and "only agent" in theirs
    assert HELD_MARK not in both

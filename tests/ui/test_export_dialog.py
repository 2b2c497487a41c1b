"""`e`: exporting the transcript's window from the TUI, whole, fetched first, or marked partial."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

import pytest
from inspectkit import ACCOUNT, PEER, T0, ZONE, Notices, build_app, chatter, opened, until
from textual.pilot import Pilot
from textual.widgets import Input, Static

from roamtui.history.timeline import Timeline
from roamtui.im.roam import RoamQuery
from roamtui.ui.screens.browse import BrowseScreen
from roamtui.ui.screens.export_dialog import ExportDialog
from roamtui.ui.screens.export_target import default_directory, default_filename, name_span

SIZE = (110, 36)
WHOLE = (T0 - 3600, T0 + 3600)
# 600 messages a minute apart: far more than the first page, so the window opens partial.
LONG_WINDOW = (T0 - 3600, T0 + 601 * 60)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for exports (tmp_path also holds the isolated home of conftest)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _csv(path: Path) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    blank = rows.index([])
    meta = {row[0]: row[1:] for row in rows[:blank]}
    header, *table = rows[blank + 1:]
    return meta, [dict(zip(header, row, strict=True)) for row in table]


async def _open_dialog(pilot: Pilot[Any]) -> ExportDialog:
    app = pilot.app
    await opened(pilot)
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, ExportDialog))
    dialog = app.screen
    assert isinstance(dialog, ExportDialog)
    return dialog


async def _export_to(pilot: Pilot[Any], dialog: ExportDialog, path: Path) -> None:
    dialog.query_one("#export-path", Input).value = str(path)
    await pilot.pause()
    await pilot.click("#export-go")


async def _closed(pilot: Pilot[Any]) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, BrowseScreen), rounds=2000)


async def test_a_whole_window_is_written_as_jsonl_equal_to_it(out: Path) -> None:
    records = chatter(30)
    app, _, _ = build_app(records, WHOLE)
    notices = Notices()
    async with app.run_test(size=SIZE, message_hook=notices) as pilot:
        dialog = await _open_dialog(pilot)
        assert not dialog.query_one("#export-partial").display  # nothing to choose
        target = out / "window.jsonl"
        await _export_to(pilot, dialog, target)
        await _closed(pilot)
    assert _jsonl(target) == records  # object by object, oldest first
    notice = notices.texts[-1]
    assert str(target) in notice and "30 messages" in notice and "complete" in notice
    assert [p.name for p in out.iterdir()] == ["window.jsonl"]  # no temp file left


async def test_a_partial_window_can_be_fetched_whole_first(out: Path) -> None:
    records = chatter(600)
    app, service, _ = build_app(records, LONG_WINDOW)
    notices = Notices()
    async with app.run_test(size=SIZE, message_hook=notices) as pilot:
        dialog = await _open_dialog(pilot)
        timeline = _timeline_of(dialog)
        assert not timeline.complete and timeline.loaded_count < 600
        assert dialog.query_one("#export-partial").display  # the choice is offered
        state = str(dialog.query_one("#export-state", Static).content)
        assert "not complete" in state
        calls_before = service.stats().calls
        target = out / "whole.jsonl"
        await _export_to(pilot, dialog, target)  # "fetch the rest first" is the default
        await _closed(pilot)
        assert service.stats().calls > calls_before
        assert timeline.complete
    assert _jsonl(target) == records
    assert "600 messages" in notices.texts[-1] and "PARTIAL" not in notices.texts[-1]


async def test_a_partial_window_can_be_written_marked_partial(out: Path) -> None:
    records = chatter(600)
    app, service, _ = build_app(records, LONG_WINDOW)
    notices = Notices()
    async with app.run_test(size=SIZE, message_hook=notices) as pilot:
        dialog = await _open_dialog(pilot)
        path_input = dialog.query_one("#export-path", Input)
        await pilot.click("#export-csv")
        await pilot.click("#export-partial-write")
        await pilot.pause()
        assert path_input.value.endswith("-PARTIAL.csv")  # the default name says so too
        loaded = [m.key for m in _timeline_of(dialog).messages()]
        calls_before = service.stats().calls
        target = out / "part.csv"
        await _export_to(pilot, dialog, target)
        await _closed(pilot)
        assert service.stats().calls == calls_before  # nothing more was fetched
    meta, rows = _csv(target)
    assert meta["# completeness"][0].startswith("PARTIAL")
    assert [row["msg_key"] for row in rows] == loaded
    assert 0 < len(rows) < 600
    assert [row["msg_key"] for row in rows] == [r["MsgKey"] for r in records[-len(rows):]]
    assert "PARTIAL" in notices.texts[-1]


async def test_a_failed_fetch_is_one_line_leaves_no_file_and_partial_still_works(
    out: Path,
) -> None:
    records = chatter(600)
    app, service, _ = build_app(records, LONG_WINDOW)
    notices = Notices()
    async with app.run_test(size=SIZE, message_hook=notices) as pilot:
        dialog = await _open_dialog(pilot)
        service.secret_key = "not-the-demo-key"  # every further call answers 70009
        target = out / "out.txt"
        await pilot.click("#export-txt")
        await _export_to(pilot, dialog, target)
        error = dialog.query_one("#export-error", Static)
        await until(pilot, lambda: bool(str(error.content)), rounds=2000)
        assert app.screen is dialog  # still open: the user chooses what next
        assert "70009" in str(error.content) and "\n" not in str(error.content)
        failed = next(n for n in notices.seen if n.notification.severity == "error")
        assert "70009" in failed.notification.message and not failed.notification.markup
        assert not target.exists() and list(out.iterdir()) == []

        await pilot.click("#export-partial-write")
        await pilot.press("ctrl+s")  # a second click this soon would hit the button's debounce
        await _closed(pilot)
    text = target.read_text(encoding="utf-8")
    assert "PARTIAL" in text
    assert records[-1]["MsgKey"] in text


async def test_escape_cancels_a_running_fetch_and_writes_nothing(out: Path) -> None:
    records = chatter(600)
    app, _, gate = build_app(records, LONG_WINDOW)
    notices = Notices()
    async with app.run_test(size=SIZE, message_hook=notices) as pilot:
        dialog = await _open_dialog(pilot)
        gate.close_gate()
        target = out / "never.jsonl"
        await _export_to(pilot, dialog, target)
        await until(pilot, lambda: gate.held > 0)
        assert dialog.query_one("#export-go").disabled  # busy: the form is locked
        await pilot.press("escape")
        await _closed(pilot)
        gate.open.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "cancelled" in notices.texts[-1]
    assert list(out.iterdir()) == []


async def test_an_existing_file_is_replaced_only_after_a_second_export(out: Path) -> None:
    records = chatter(10)
    target = out / "taken.jsonl"
    target.write_text("keep me\n", encoding="utf-8")
    app, _, _ = build_app(records, WHOLE)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await _open_dialog(pilot)
        await _export_to(pilot, dialog, target)
        await pilot.pause()
        assert "press Export again" in str(dialog.query_one("#export-error", Static).content)
        assert target.read_text(encoding="utf-8") == "keep me\n"
        await pilot.press("ctrl+s")
        await _closed(pilot)
    assert _jsonl(target) == records


async def test_the_default_path_is_in_downloads_and_follows_the_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home-dir"
    (home / "Downloads").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    app, _, _ = build_app(chatter(5), WHOLE)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await _open_dialog(pilot)
        path = Path(dialog.query_one("#export-path", Input).value)
        assert path.parent == home / "Downloads"
        # Window 2023-11-15 05:13 → 07:13 in Shanghai.
        assert path.name == f"roam-{ACCOUNT}-{PEER}-20231115-0513-20231115-0713.jsonl"
        await pilot.click("#export-txt")
        await pilot.pause()
        assert Path(dialog.query_one("#export-path", Input).value).name.endswith("0713.txt")
        await pilot.press("escape")
        await _closed(pilot)
    assert list((home / "Downloads").iterdir()) == []


def test_without_a_download_folder_the_current_directory_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "no-such-home"))
    monkeypatch.chdir(tmp_path)
    assert default_directory() == tmp_path


@dataclass
class _QueryOnly:
    """What default_filename reads of a timeline."""

    query: RoamQuery
    tz: tzinfo


def test_file_names_are_safe_for_any_account_name() -> None:
    timeline = _QueryOnly(RoamQuery("../ev il/a:b", "客服\x1b[0m", T0, T0 + 60), ZONE)
    name = default_filename(timeline, "csv", partial=True)  # type: ignore[arg-type]
    assert "/" not in name and "\x1b" not in name and ":" not in name and " " not in name
    assert "客服" in name and name.endswith("-PARTIAL.csv")


def _timeline_of(dialog: ExportDialog) -> Timeline:
    return dialog.timeline



async def test_typing_in_the_path_renames_the_file_and_up_goes_to_the_formats(out: Path) -> None:
    app, _, _ = build_app(chatter(30), WHOLE)
    notices = Notices()
    async with app.run_test(size=SIZE, message_hook=notices) as pilot:
        dialog = await _open_dialog(pilot)
        path_input = dialog.query_one("#export-path", Input)
        path_input.value = str(out / "roam-window.jsonl")  # as proposed, in a folder of ours
        dialog.query_one("#export-format").focus()
        await pilot.press("tab")  # back on the path: the name alone is selected
        assert path_input.has_focus
        await pilot.press(*"case-42")  # the folder is kept
        assert path_input.value == str(out / "case-42")
        await pilot.press("right", "left")  # arrows move the cursor, they do not type
        assert path_input.value == str(out / "case-42")
        await pilot.press("up")  # up: to the formats above
        assert dialog.query_one("#export-format").has_focus
        await pilot.press("down")  # and down: back, not round the formats
        assert path_input.has_focus and dialog.format == "jsonl"
        await pilot.press("up", "right", "enter")  # csv
        await pilot.pause()
        await pilot.press("ctrl+s")
        await _closed(pilot)
    assert (out / "case-42.csv").is_file()  # a name typed without an ending gets the format's
    assert "as csv" in notices.texts[-1]


async def test_a_whole_path_typed_replaces_the_field_and_its_ending_picks_the_format(
    out: Path,
) -> None:
    app, _, _ = build_app(chatter(30), WHOLE)
    notices = Notices()
    async with app.run_test(size=SIZE, message_hook=notices) as pilot:
        dialog = await _open_dialog(pilot)
        path_input = dialog.query_one("#export-path", Input)
        target = out / "for-the-team.csv"
        await pilot.press(*str(target))  # starts with "/": not spliced into the proposed folder
        assert path_input.value == str(target)
        assert dialog.format == "csv"  # the ending chose the format, as -o does on the CLI
        await pilot.press("enter")
        await _closed(pilot)
    _, rows = _csv(target)
    assert len(rows) == 30 and "as csv" in notices.texts[-1]


def test_the_name_span_is_the_file_name() -> None:
    for text, name in [("/tmp/a/roam-x.jsonl", "roam-x.jsonl"), ("/tmp/a/x-csv/", "x-csv"),
                       ("case.v2.txt", "case.v2.txt"), ("", "")]:
        start, end = name_span(text)
        assert text[start:end] == name, text


@pytest.mark.parametrize("columns", [60, 80, 120])
async def test_every_format_is_on_screen_in_narrow_terminals(columns: int) -> None:
    app, _, _ = build_app(chatter(30), WHOLE)
    async with app.run_test(size=(columns, 30)) as pilot:
        dialog = await _open_dialog(pilot)
        await pilot.pause()
        box = dialog.query_one("#export-dialog").content_region
        buttons = list(dialog.query("#export-format RadioButton"))
        assert [str(b.label) for b in buttons] == ["jsonl", "csv", "txt", "html", "rsmf"]
        assert all(b.region.right <= box.right for b in buttons), columns


@pytest.mark.parametrize(("typed", "written"), [("v1.2", "v1.2.jsonl"), ("out.", "out.jsonl"),
                                                ("notes.md", "notes.md.jsonl")])
async def test_a_new_name_without_a_format_ending_gets_the_formats(
    out: Path, typed: str, written: str
) -> None:
    app, _, _ = build_app(chatter(30), WHOLE)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await _open_dialog(pilot)
        await _export_to(pilot, dialog, out / typed)
        await _closed(pilot)
    assert [p.name for p in out.iterdir()] == [written]


async def test_a_zip_is_refused_with_the_way_to_a_bundle(out: Path) -> None:
    app, _, _ = build_app(chatter(30), WHOLE)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await _open_dialog(pilot)
        await _export_to(pilot, dialog, out / "case.zip")
        await pilot.pause()
        assert "--format bundle" in str(dialog.query_one("#export-error", Static).content)
        assert isinstance(app.screen, ExportDialog) and not list(out.iterdir())

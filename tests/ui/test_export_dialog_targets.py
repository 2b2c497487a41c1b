"""`e` onto what is not a plain file: the dialog plans the same export job as `roamtui export`,
and refuses at once what its thread could block on (a FIFO nobody reads) or draw over the
screen with (a device), so the app never waits on an open() that does not return."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from inspectkit import T0, build_app, chatter, opened, until
from textual.pilot import Pilot
from textual.widgets import Input, Static

from roamtui.ui.screens.export_dialog import ExportDialog

SIZE = (110, 36)
WHOLE_WINDOW = (T0 - 3600, T0 + 3600)


async def _dialog(pilot: Pilot[Any]) -> ExportDialog:
    await opened(pilot)
    await pilot.press("e")
    await until(pilot, lambda: isinstance(pilot.app.screen, ExportDialog))
    dialog = pilot.app.screen
    assert isinstance(dialog, ExportDialog)
    return dialog


async def _refused(pilot: Pilot[Any], dialog: ExportDialog, path: Path) -> str:
    dialog.query_one("#export-path", Input).value = str(path)
    await pilot.pause()
    await pilot.click("#export-go")
    await pilot.pause()
    assert pilot.app.screen is dialog and not dialog.busy  # nothing started
    return str(dialog.query_one("#export-error", Static).content)


async def test_a_fifo_without_a_reader_is_refused_not_waited_on(tmp_path: Path) -> None:
    folder = tmp_path / "out"  # tmp_path also holds the isolated home of conftest
    folder.mkdir()
    fifo = folder / "pipe"
    os.mkfifo(fifo)
    app, _, _ = build_app(chatter(10), WHOLE_WINDOW)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await _dialog(pilot)
        error = await _refused(pilot, dialog, fifo)
        assert "FIFO" in error and "\n" not in error
    assert sorted(os.listdir(folder)) == ["pipe"]


@pytest.mark.parametrize("name", ["gone/out.jsonl", "."])
async def test_a_missing_folder_or_a_folder_is_refused(tmp_path: Path, name: str) -> None:
    app, _, _ = build_app(chatter(10), WHOLE_WINDOW)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await _dialog(pilot)
        error = await _refused(pilot, dialog, tmp_path / name)
        assert ("does not exist" in error) if "/" in name else ("directory" in error)

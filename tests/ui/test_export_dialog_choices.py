"""`e` for people (issue 18 #5) and RSMF in the dialog (issue 16): the notice gives the file's
SHA-256, the format and folder are remembered for the session, the header's Calls agree with
the status bar's after `p`, RSMF slices go into a folder, and a dialog opened before the window
was loaded follows the pages that come in."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from inspectkit import Notices, build_app, chatter, opened, until
from textual.pilot import Pilot
from textual.widgets import Input, RadioButton, Static

from roamtui.export import formats
from roamtui.export.slices import parts
from roamtui.ui.screens import export_dialog, export_target
from roamtui.ui.screens.browse import BrowseScreen
from roamtui.ui.screens.export_dialog import ExportDialog
from roamtui.ui.widgets.status_bar import StatusBar

SIZE = (110, 36)
T0 = 1_700_000_000
WHOLE = (T0 - 3600, T0 + 3600)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


async def open_dialog(pilot: Pilot[Any]) -> ExportDialog:
    await pilot.press("e")
    await until(pilot, lambda: isinstance(pilot.app.screen, ExportDialog))
    dialog = pilot.app.screen
    assert isinstance(dialog, ExportDialog)
    return dialog


async def export(pilot: Pilot[Any], dialog: ExportDialog, path: str, fmt: str | None = None
                 ) -> None:
    if fmt is not None:
        await pilot.click(f"#export-{fmt}")
        await pilot.pause()
    dialog.query_one("#export-path", Input).value = path
    await pilot.pause()
    await pilot.click("#export-go")
    await until(pilot, lambda: isinstance(pilot.app.screen, BrowseScreen), rounds=2000)


def _toast_widths(app: Any) -> list[int]:
    """The width each notice on screen has for its text."""
    return [toast.content_region.width for toast in app.screen.query("Toast")]


async def test_the_notice_gives_the_sha256_and_the_format_is_remembered(out: Path) -> None:
    app, _, _ = build_app(chatter(20), WHOLE)
    notices = Notices()
    async with app.run_test(size=SIZE, message_hook=notices, notifications=True) as pilot:
        await opened(pilot)
        dialog = await open_dialog(pilot)
        assert dialog.format == "jsonl"  # the default the first time
        target = out / "first.csv"
        await export(pilot, dialog, str(target), "csv")
        sha = hashlib.sha256(target.read_bytes()).hexdigest()
        assert notices.texts[-1].endswith(f"SHA-256 {sha}")
        # On screen (110 columns) the digest is one line, whole, as sha256sum prints it.
        await until(pilot, lambda: bool(_toast_widths(app)))
        assert notices.texts[-1].splitlines()[-1] == f"SHA-256 {sha}"
        assert max(_toast_widths(app)) >= len(f"SHA-256 {sha}")
        again = await open_dialog(pilot)  # the same session: csv and the same folder
        assert again.format == "csv"
        assert again.query_one("#export-csv", RadioButton).value
        path = Path(again.query_one("#export-path", Input).value)
        assert path.parent == out and path.suffix == ".csv"
        await pilot.press("escape")


async def test_the_header_calls_are_the_status_bars_after_p(out: Path) -> None:
    records = chatter(300)  # three pages each side
    app, _, _ = build_app(records, (WHOLE[0], T0 + 301 * 60))
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("G")  # read this side a little, then the other side
        await pilot.press("p")
        transcript = await opened(pilot)
        await until(pilot, lambda: transcript.timeline.calls > 0)
        dialog = await open_dialog(pilot)
        target = out / "other-side.txt"
        await export(pilot, dialog, str(target), "txt")  # fetch the rest first (the default)
        await pilot.pause(0.3)  # the stats interval posts the counts again
        shown = pilot.app.screen.query_one(StatusBar).stats.calls
    header = {line.split(":", 1)[0]: line.split(":", 1)[1].strip()
              for line in target.read_text(encoding="utf-8").splitlines()[:20] if ":" in line}
    assert header["Calls"] == str(shown)
    assert header["Messages"] == "300"


@pytest.fixture
def small_rsmf(monkeypatch: pytest.MonkeyPatch) -> int:
    """RSMF files of at most 8 events, so a 20-message window needs slices."""
    limit = 8
    rsmf = dataclasses.replace(formats.FORMATS["rsmf"], per_file=limit,
                               split=lambda m, meta: parts(m, meta, limit, "rsmf"))
    table = MappingProxyType({**formats.FORMATS, "rsmf": rsmf})
    monkeypatch.setattr(formats, "FORMATS", table)
    monkeypatch.setattr(export_dialog, "FORMATS", table)
    monkeypatch.setattr(export_target, "FORMATS", table)  # the proposed name (a folder or not)
    return limit


async def test_rsmf_too_big_for_one_file_goes_into_a_folder(out: Path, small_rsmf: int) -> None:
    # 20 messages an hour apart over a day: the slices are cut at days of the zone.
    records = chatter(20, step=3600)
    app, _, _ = build_app(records, (T0 - 60, T0 + 20 * 3600))
    notices = Notices()
    async with app.run_test(size=SIZE, message_hook=notices) as pilot:
        transcript = await opened(pilot)
        await until(pilot, lambda: transcript.timeline.complete)
        dialog = await open_dialog(pilot)
        await pilot.click("#export-rsmf")
        await pilot.pause()
        proposed = dialog.query_one("#export-path", Input).value
        assert proposed.endswith("-rsmf/")  # more than one file holds: a folder
        # A file name typed anyway is refused, and the path becomes a folder.
        dialog.query_one("#export-path", Input).value = str(out / "one.rsmf")
        await pilot.pause()
        await pilot.click("#export-go")
        await until(pilot, lambda: "slices" in str(dialog.query_one("#export-error",
                                                                     Static).content))
        assert dialog.query_one("#export-path", Input).value == f"{out / 'one'}/"
        # A Button ignores clicks while its pressed effect (0.2 s) lasts, as a hand would.
        await pilot.pause(0.3)
        await pilot.click("#export-go")
        await until(pilot, lambda: isinstance(pilot.app.screen, BrowseScreen), rounds=2000)
    folder = out / "one"
    slices = sorted(folder.glob("*.rsmf"))
    assert len(slices) >= 3 and not (out / "one.rsmf").exists()
    sums = (folder / "SHA256SUMS").read_bytes()
    assert notices.texts[-1].endswith(f"SHA256SUMS SHA-256 {hashlib.sha256(sums).hexdigest()}")
    assert f"({len(slices)} files)" in notices.texts[-1]
    assert {p.name for p in folder.iterdir()} == {p.name for p in slices} | {"SHA256SUMS"}


def _shown(dialog: ExportDialog, selector: str) -> str:
    return str(dialog.query_one(selector, Static).render())


async def test_e_before_the_pages_arrive_the_dialog_follows_them(out: Path) -> None:
    # A slow sandbox whose first pages are still held when `e` is pressed: the counts and the
    # "not loaded whole" choice once stayed at what they were when the dialog opened.
    records = chatter(150)  # two pages at the default page size
    app, _, gate = build_app(records, (T0 - 60, T0 + 150 * 60), latency_ms=40)
    gate.close_gate()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
        await until(pilot, lambda: gate.held > 0)
        dialog = await open_dialog(pilot)
        partial = dialog.query_one("#export-partial")
        assert "0 messages loaded" in _shown(dialog, "#export-state") and partial.display
        await pilot.click("#export-partial-write")  # keys while the page is in flight
        await pilot.click("#export-txt")
        await pilot.pause()
        assert dialog.query_one("#export-path", Input).value.endswith("-PARTIAL.txt")
        gate.open.set()
        transcript = app.screen_stack[-2].query_one("Transcript")
        await until(pilot, lambda: "0 messages" not in _shown(dialog, "#export-state"),
                    rounds=4000)
        loaded = transcript.timeline.loaded_count  # type: ignore[attr-defined]
        assert f"{loaded:,} messages loaded" in _shown(dialog, "#export-state")
        await transcript.timeline.load_all()  # type: ignore[attr-defined]
        await until(pilot, lambda: "the whole window" in _shown(dialog, "#export-state"),
                    rounds=4000)
        assert "150 messages loaded" in _shown(dialog, "#export-state")
        assert not partial.display  # nothing left to choose: the window is whole
        path = dialog.query_one("#export-path", Input).value
        assert path.endswith(".txt") and "PARTIAL" not in path
        await export(pilot, dialog, str(out / "all.txt"))
    assert (out / "all.txt").read_text(encoding="utf-8").count("message ") >= 150

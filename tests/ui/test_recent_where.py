"""Where the query screen's recent queries (customer IDs) go: the state dir, ROAMTUI_RECENT, the
config's `recent`, or nowhere (`--no-history`, `ROAMTUI_RECENT=off`, `recent = false`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clikit import parse

from roamtui.cli.browse import prepare_tui
from roamtui.settings.config import Config, load_config, save_config
from roamtui.settings.recent import recent_path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in {
        "XDG_STATE_HOME": tmp_path / "state", "ROAMTUI_CONFIG": tmp_path / "config.toml",
        "ROAMTUI_ENDPOINT": "http://127.0.0.1:9", "ROAMTUI_SDKAPPID": "1400000000",
        "ROAMTUI_IDENTIFIER": "administrator", "ROAMTUI_SECRET_KEY": "k" * 40,
    }.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("ROAMTUI_RECENT", raising=False)
    return tmp_path


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.json"))


async def _open_and_quit(**options: object) -> None:
    """`roamtui cust_1001 agent_alice --since -2h …`, first frame, quit."""
    app = prepare_tui(parse("browse", "cust_1001", "agent_alice", since="-2h", **options))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.exit()


async def test_by_default_the_query_is_remembered_in_the_state_dir(home: Path) -> None:
    await _open_and_quit()
    saved = json.loads((home / "state/roamtui/recent.json").read_text())
    assert saved["queries"][0]["account"] == "cust_1001"


async def test_no_history_leaves_no_file_anywhere(home: Path) -> None:
    await _open_and_quit(no_history=True)
    assert _files(home) == []


async def test_roamtui_recent_moves_the_file_or_turns_it_off(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROAMTUI_RECENT", str(home / "case-42" / "recent.json"))
    await _open_and_quit()
    assert _files(home) == ["case-42/recent.json"]
    monkeypatch.setenv("ROAMTUI_RECENT", "off")
    (home / "case-42/recent.json").unlink()
    await _open_and_quit()
    assert _files(home) == []


def test_the_config_setting_is_kept_and_obeyed(home: Path) -> None:
    path = home / "config.toml"
    save_config(Config(path=path, recent=False))
    assert "recent = false" in path.read_text()
    assert recent_path(config=load_config(path), env={}) is None
    save_config(Config(path=path, recent="~/cases/recent.json"))
    assert recent_path(config=load_config(path), env={}) == Path("~/cases/recent.json").expanduser()
    # the environment wins over the config, --no-history over both
    assert recent_path(config=load_config(path), env={"ROAMTUI_RECENT": "/x/r.json"}) == Path(
        "/x/r.json")
    assert recent_path(no_history=True, env={"ROAMTUI_RECENT": "/x/r.json"}) is None


def test_a_wrong_config_setting_is_one_line(home: Path) -> None:
    path = home / "config.toml"
    path.write_text("recent = 3\n")
    with pytest.raises(Exception, match="'recent' must be false"):
        load_config(path)

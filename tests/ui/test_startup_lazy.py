"""Start-up (issue 18): what `roamtui demo` has not imported by its first transcript frame.

Each module below is needed only once the user asks for it (a search, an export, a dialog,
the palette, another subcommand, a Redis budget, the keyring); importing it before the first
frame only delays that frame. The check runs the demo's factory in a fresh interpreter (the
test process has imported everything already) up to `on_started`, which the app calls when
its first messages are drawn, and lists what was imported by then.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent

#: Loaded on first use, never before the first transcript frame.
NOT_BEFORE_FIRST_FRAME = (
    # search: the index, the query compiler and its regex engine, the session, the window fetch
    "roamtui.history.search",
    "roamtui.history.search_fetch",
    "roamtui.history.search_haystack",
    "roamtui.history.search_query",
    "roamtui.history.search_regex",
    "roamtui.history.search_results",
    "roamtui.history.search_runner",
    "roamtui.history.search_session",
    # export (formats, bundles, verification) and the other subcommands
    "roamtui.export",
    "roamtui.export.html",
    "roamtui.export.rsmf",
    "roamtui.export.job",
    "roamtui.cli.export",
    "roamtui.cli.verify",
    "roamtui.cli.accounts",
    "roamtui.cli.peers",
    "roamtui.im.contacts",
    # screens and helpers shown on request
    "roamtui.ui.commands",
    "roamtui.ui.clipboard",
    "roamtui.ui.screens.query",
    "roamtui.ui.screens.help",
    "roamtui.ui.screens.inspector",
    "roamtui.ui.screens.export_dialog",
    "roamtui.ui.screens.peers",
    "roamtui.ui.screens.secret_prompt",
    # third party and stdlib used by those only
    "redis",
    "keyring",
    "csv",
)

FIRST_FRAME = r"""
import asyncio, json, sys
from roamtui.ui.factory import demo_app

async def main():
    seen = []
    with demo_app(in_process=True, end_time=1715018400,
                  on_started=lambda: seen.append(sorted(sys.modules))) as app:
        async with app.run_test(size=(120, 40)) as pilot:
            while not seen:
                await pilot.pause(0.01)
            message = app.screen.query_one("Transcript").cursor_message
            print(json.dumps({"modules": seen[0], "drawn": message is not None}))

asyncio.run(main())
"""


def _run(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_demo_draws_its_first_messages_without_the_modules_used_on_request() -> None:
    result = _run(FIRST_FRAME)
    assert result["drawn"], "on_started ran before any message was drawn"
    modules = set(result["modules"])  # type: ignore[arg-type]
    assert "roamtui.ui.screens.browse" in modules  # the check saw the transcript's start-up
    assert "roamtui.ui.search_controller" in modules
    loaded = sorted(name for name in NOT_BEFORE_FIRST_FRAME if name in modules)
    assert loaded == [], f"imported before the first frame: {loaded}"


def test_a_missing_config_file_is_read_without_a_toml_parser(tmp_path: Path) -> None:
    missing = tmp_path / "config.toml"
    result = _run(
        "import json, sys\n"
        "from pathlib import Path\n"
        "from roamtui.settings.config import load_config\n"
        f"config = load_config(Path({str(missing)!r}))\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'names': config.names()}))\n"
    )
    assert result["names"] == []
    assert "tomllib" not in result["modules"]  # type: ignore[operator]

"""`roamtui sandbox` as a user runs it: the printed `export ROAMTUI_…=` lines, pasted into another
shell, are all `roamtui export` needs to reach that sandbox."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from clikit import isolated_env

from roamtui.cli.sandbox import export_lines


def test_export_lines_are_shell_quoted() -> None:
    lines = export_lines("http://127.0.0.1:1234/x y")
    assert lines[0].startswith("#")
    assert "export ROAMTUI_ENDPOINT='http://127.0.0.1:1234/x y'" in lines
    for line in lines[1:]:
        word, assignment = shlex.split(line)
        assert word == "export" and assignment.startswith("ROAMTUI_")


def test_pasted_exports_let_another_shell_export_from_the_sandbox(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "home")
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "roamtui", "sandbox", "--messages", "300", "--seed", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert sandbox.stdout is not None
        exports, conversation = [], ""
        for line in sandbox.stdout:
            if line.startswith("export ROAMTUI_"):
                exports.append(line.strip())
            elif line.startswith("conversation:") and not conversation:
                conversation = line
            elif line.startswith("serving:"):
                break
        names = [line.split("=", 1)[0].removeprefix("export ") for line in exports]
        assert names == ["ROAMTUI_ENDPOINT", "ROAMTUI_SDKAPPID", "ROAMTUI_IDENTIFIER",
                         "ROAMTUI_SECRET_KEY"]
        customer, agent, count = conversation.split()[1:4]
        out = tmp_path / "out.jsonl"
        command = (f"{shlex.quote(sys.executable)} -m roamtui export {customer} {agent} "
                   f"--since @0 --until now -o {shlex.quote(str(out))}")
        script = "; ".join([*exports, command])
        done = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        # The customer's side of the conversation (the sandbox's count is of both sides).
        said = int(done.stderr.split("roamtui export: ", 1)[1].split(" messages", 1)[0])
        assert 0 < said == len([r for r in rows if "MsgKey" in r])
        assert said <= int(count.removeprefix("messages="))
    finally:
        sandbox.send_signal(signal.SIGTERM)  # a background runner may ignore SIGINT
        sandbox.communicate(timeout=60)

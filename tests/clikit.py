"""Arguments for the command handlers, parsed the one way the product parses them.

Every test that hands a handler its arguments builds them through ``roamtui.cli.build_parser``,
so a test can never pass what the command line would refuse or type differently.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from roamtui.cli import build_parser

REPO = Path(__file__).resolve().parents[1]


def parse(command: str, *positionals: str, **options: object) -> argparse.Namespace:
    """``roamtui COMMAND POSITIONALS --name value …``; None leaves an option out, True is a flag.

    Option names are the Namespace's (``max_rps`` → ``--max-rps``, ``output`` → ``-o``); values
    are glued (``--since=-2h``) so that relative times starting with a dash stay values.
    """
    argv = [command, *positionals]
    for name, value in options.items():
        if value is None or value is False:
            continue
        flag = "--output" if name == "output" else "--" + name.replace("_", "-")
        argv.append(flag if value is True else f"{flag}={value}")
    return build_parser().parse_args(argv)


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a roamtui child process: a private HOME, config and XDG dirs, a
    failing keyring, no proxy and none of the user's ROAMTUI_ settings; ``extra`` on top."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ROAMTUI_", "XDG_")) and "proxy" not in key.lower()
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_STATE_HOME=str(home / ".local/state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_RUNTIME_DIR=str(home / ".runtime"),  # the local shared budget's file
        ROAMTUI_CONFIG=str(home / "config.toml"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PYTHONPATH=str(REPO),
        NO_PROXY="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env

"""Arguments for the command handlers, parsed the one way the product parses them.

Every test that hands a handler its arguments builds them through ``roamtui.cli.build_parser``,
so a test can never pass what the command line would refuse or type differently.
"""

from __future__ import annotations

import argparse

from roamtui.cli import build_parser


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

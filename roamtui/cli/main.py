"""The command line: the one parser, and ``main``, which hands each subcommand to its module.

Each command module names its subcommands (``SUBCOMMANDS``), adds them (``add_parsers``) and
names the function that runs each (``set_defaults(run=...)``): :mod:`.browse` (``browse``,
``demo``), :mod:`.export`, :mod:`.accounts` (``login``, ``logout``, ``profiles``),
:mod:`.sandbox`; ``verify`` and ``peers`` will be two more. Textual is imported only by the
subcommands that open the TUI. Every failure ends in one line on stderr; ``--debug`` adds the
traceback, secrets redacted.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import TextIO

from roamtui import __version__
from roamtui.cli import accounts, browse, export, sandbox
from roamtui.cli.options import DEFAULT_WINDOW_HELP, TIME_HELP
from roamtui.im.redact import scrub
from roamtui.text import error_line

#: Every command module, in the order their subcommands are listed.
COMMANDS = (browse, export, accounts, sandbox)
#: The subcommands' names, for telling ``roamtui ACCOUNT PEER`` from ``roamtui SUBCOMMAND``.
SUBCOMMANDS: tuple[str, ...] = tuple(name for c in COMMANDS for name in c.SUBCOMMANDS)
#: Options whose values may start with a dash (``--since -2h``).
_TIME_OPTIONS = ("--since", "--until")


def build_parser() -> argparse.ArgumentParser:
    """The one parser of ``roamtui``: every subcommand, as the commands and the tests use it."""
    parser = argparse.ArgumentParser(
        prog="roamtui",
        description=(
            "Read-only terminal browser for Tencent Cloud IM one-to-one chat history "
            "(admin_getroammsg). Without a subcommand, 'roamtui [ACCOUNT PEER]' opens the TUI "
            "(the same as 'roamtui browse')."
        ),
        epilog=(
            f"subcommands: {', '.join(SUBCOMMANDS)} ('roamtui SUBCOMMAND --help' for each). "
            + TIME_HELP
            + DEFAULT_WINDOW_HELP
        ),
    )
    parser.add_argument("--version", action="version", version=f"roamtui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    for command in COMMANDS:
        command.add_parsers(sub.add_parser)
    return parser


def _glue_dash_values(args: list[str]) -> list[str]:
    """`--since -2h` would read `-2h` as an option; glue such values as `--since=-2h`."""
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] in _TIME_OPTIONS and i + 1 < len(args) and args[i + 1].startswith("-"):
            out.append(f"{args[i]}={args[i + 1]}")
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


def _normalise_argv(argv: Sequence[str]) -> list[str]:
    """`roamtui ACCOUNT PEER …` means `roamtui browse ACCOUNT PEER …`."""
    args = _glue_dash_values(list(argv))
    if not args:
        return ["browse"]
    first = args[0]
    if first in SUBCOMMANDS or first in ("-h", "--help", "--version"):
        return args
    return ["browse", *args]


def _report(exc: BaseException, debug: bool, err: TextIO) -> None:
    if debug:
        err.write(scrub("".join(traceback.format_exception(exc))))
    err.write(f"roamtui: {error_line(exc, clean=scrub)}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_normalise_argv(sys.argv[1:] if argv is None else argv))
    debug = bool(getattr(args, "debug", False))
    try:
        code: int = args.run(args)
        return code
    except KeyboardInterrupt:
        sys.stderr.write("roamtui: interrupted\n")
        return 130
    except Exception as exc:  # every failure ends in one line; tracebacks only with --debug
        _report(exc, debug, sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

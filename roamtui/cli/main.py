"""The command line: the one parser, and ``main``, which hands each subcommand to its module.

:data:`COMMANDS` names each subcommand's module, which adds its subcommands to the parser
(``add_parsers``) and names the function that runs each (``set_defaults(run=...)``):
:mod:`.browse` (``browse``, ``demo``), :mod:`.export`, :mod:`.accounts` (``login``,
``logout``, ``profiles``), :mod:`.sandbox`; ``verify`` and ``peers`` will be two more.

``main`` builds the parser with the one subcommand it runs (``build_parser(only=...)``), so a
command imports what it needs and no more: ``roamtui --version`` nothing, ``roamtui export``
not Textual, ``roamtui demo`` not the export job. Every failure ends in one line on stderr;
``--debug`` adds the traceback, secrets redacted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Iterable, Sequence
from typing import TextIO

from roamtui import __version__
from roamtui.im.redact import scrub
from roamtui.text import error_line

#: Every subcommand and the module that adds and runs it, in the order they are listed.
COMMANDS: dict[str, str] = {
    "browse": "roamtui.cli.browse",
    "demo": "roamtui.cli.browse",
    "export": "roamtui.cli.export",
    "login": "roamtui.cli.accounts",
    "logout": "roamtui.cli.accounts",
    "profiles": "roamtui.cli.accounts",
    "sandbox": "roamtui.cli.sandbox",
}
#: The subcommands' names, for telling ``roamtui ACCOUNT PEER`` from ``roamtui SUBCOMMAND``.
SUBCOMMANDS: tuple[str, ...] = tuple(COMMANDS)
#: Options whose values may start with a dash (``--since -2h``).
_TIME_OPTIONS = ("--since", "--until")


def build_parser(only: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The one parser of ``roamtui``: every subcommand (the tests, ``roamtui --help``), or only
    the modules of the subcommands named in ``only`` (what ``main`` runs)."""
    names = SUBCOMMANDS if only is None else tuple(only)
    parser = argparse.ArgumentParser(
        prog="roamtui",
        description=(
            "Read-only terminal browser for Tencent Cloud IM one-to-one chat history "
            "(admin_getroammsg). Without a subcommand, 'roamtui [ACCOUNT PEER]' opens the TUI "
            "(the same as 'roamtui browse')."
        ),
    )
    parser.add_argument("--version", action="version", version=f"roamtui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    for module in dict.fromkeys(COMMANDS[name] for name in names):
        importlib.import_module(module).add_parsers(sub.add_parser)
    if names:
        from roamtui.cli.options import DEFAULT_WINDOW_HELP, TIME_HELP

        parser.epilog = (
            f"subcommands: {', '.join(SUBCOMMANDS)} ('roamtui SUBCOMMAND --help' for each). "
            + TIME_HELP
            + DEFAULT_WINDOW_HELP
        )
    return parser


def _needed(args: Sequence[str]) -> Iterable[str] | None:
    """The subcommands the parser needs for ``args`` (normalised): the one given, none for
    ``--version``, every one for the top-level help."""
    first = args[0] if args else "--help"
    if first in COMMANDS:
        return (first,)
    return () if first == "--version" else None


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
    given = _normalise_argv(sys.argv[1:] if argv is None else argv)
    args = build_parser(_needed(given)).parse_args(given)
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

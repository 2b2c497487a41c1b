"""The command line: the one parser, and ``main``, which hands each subcommand to its module.

:data:`COMMANDS` names each subcommand's module, the one that runs it; :mod:`.parsers` adds
its options (``ADDERS``, by that module) and names the function (``set_defaults(run=Handler(
module, name))``), imported only when the command runs:
:mod:`.browse` (``browse``, ``demo``), :mod:`.export`, :mod:`.accounts` (``login``,
``logout``, ``profiles``), :mod:`.sandbox`, :mod:`.peers`, :mod:`.verify`.

Building the parser imports none of the core (``roamtui --help`` loads argparse, :mod:`.options`
and :mod:`.parsers`: no asyncio, httpx or Textual); ``main`` builds it with the one subcommand it
runs (``build_parser(only=...)``), and the command imports what it needs and no more:
``roamtui export`` not Textual, ``roamtui demo`` not the export job. Every failure ends in
one line on stderr; ``--debug`` adds the traceback, secrets redacted. A first word close to a
subcommand with no account-like PEER after it (``roamtui profile``, ``roamtui login2 x``), or
with a third word (``roamtui exprot a b``), is taken for a typo: "did you mean …", one line,
exit 2 (:func:`typo_of`), never a TUI on an account of that name.
"""

from __future__ import annotations

import argparse
import re
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
    "peers": "roamtui.cli.peers",
    "verify": "roamtui.cli.verify",
}
#: The subcommands' names, for telling ``roamtui ACCOUNT PEER`` from ``roamtui SUBCOMMAND``.
SUBCOMMANDS: tuple[str, ...] = tuple(COMMANDS)
#: How close a first word must be to a subcommand (difflib's ratio) to be taken for a typo of it:
#: `profile`, `login2`, `exprot` and `sandbx` are (0.83 and up); `demo_user` is not (0.62).
TYPO_CUTOFF = 0.8
#: A PEER that looks like an account: an id with a digit, `_`, `@`, `-` or `.` in it, 3+ long.
_ACCOUNT_LIKE = re.compile(r"(?=.*[\d_@.\-]).{3,}")
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
    if names:
        # Light (argparse and help texts), yet not even these for `roamtui --version`.
        from roamtui.cli.options import DEFAULT_WINDOW_HELP, TIME_HELP
        from roamtui.cli.parsers import ADDERS

        for module in dict.fromkeys(COMMANDS[name] for name in names):
            ADDERS[module](sub.add_parser)
        parser.epilog = (
            f"subcommands: {', '.join(SUBCOMMANDS)} ('roamtui SUBCOMMAND --help' for each; "
            "a first word close to one, with no account-like PEER after it or with a third "
            "word, is taken for a typo of it: 'roamtui browse NAME PEER' browses an account "
            "named so). "
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


def typo_of(args: Sequence[str]) -> str | None:
    """The subcommand ``args[0]`` probably misspells, or None.

    Only when the first word is close to a subcommand and no PEER after it looks like an
    account, or a third word follows (``ACCOUNT PEER`` is all the TUI takes): ``roamtui
    profile``, ``roamtui login2 x`` and ``roamtui exprot a b`` are typos, ``roamtui profile
    cust_0001`` is the TUI on an account named ``profile`` (``roamtui browse …`` always is).
    """
    first = args[0] if args else ""
    if not first or first.startswith("-") or first in SUBCOMMANDS:
        return None
    import difflib  # only for a first word that is no subcommand: not for `roamtui demo`

    close = difflib.get_close_matches(first, SUBCOMMANDS, n=1, cutoff=TYPO_CUTOFF)
    if not close:
        return None
    peer = args[1] if len(args) > 1 and not args[1].startswith("-") else ""
    third = len(args) > 2 and bool(peer) and not args[2].startswith("-")
    return close[0] if third or not _ACCOUNT_LIKE.fullmatch(peer) else None


def _report(exc: BaseException, debug: bool, err: TextIO) -> None:
    if debug:
        err.write(scrub("".join(traceback.format_exception(exc))))
    err.write(f"roamtui: {error_line(exc, clean=scrub)}\n")


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    meant = typo_of(raw)
    if meant is not None:
        sys.stderr.write(
            f"roamtui: {raw[0]!r} is not a subcommand; did you mean 'roamtui {meant}'? "
            f"(to browse an account of that name: roamtui browse {raw[0]} PEER)\n"
        )
        return 2
    given = _normalise_argv(raw)
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

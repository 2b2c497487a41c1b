"""The command line: parses arguments and hands each subcommand to the module that does the work.

Heavy imports (Textual, httpx, keyring) are deferred to the subcommand that needs them, so
`roamtui --help` and `roamtui profiles` stay fast.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TextIO

from roamtui import __version__

REGION_HELP = (
    "mainland (default), singapore, seoul, tokyo, frankfurt, silicon-valley, jakarta, mumbai"
)

SUBCOMMANDS = ("browse", "demo", "export", "login", "logout", "profiles", "sandbox")

TIME_HELP = (
    "Times: ISO 8601 ('2020-03-20 10:00', '2020-03-20T10:00:00+08:00'), Unix seconds "
    "('@1584669600'), or relative ('now', 'today', 'yesterday', '-2h', '-30m', '-7d'). "
    "Without a zone they are read in --tz (default: this machine's zone)."
)
DEFAULT_WINDOW_HELP = " Default window: the last 7 days (the service's default retention)."

SECRET_HELP = (
    "The secret comes from the profile's keyring entry (see 'roamtui login'), or from the "
    "environment: ROAMTUI_SECRET_KEY (the app's SDK secret key; roamtui signs short-lived admin "
    "UserSigs with it) or ROAMTUI_USERSIG (a ready UserSig). ROAMTUI_ENDPOINT, ROAMTUI_SDKAPPID "
    "and ROAMTUI_IDENTIFIER may stand in for the flags."
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, got {value}")
    return value


def _rate(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 200:
        raise argparse.ArgumentTypeError("calls per second must be from 1 to 200")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("expected a fraction between 0 and 1")
    return value


def _add_debug(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks (secrets stay redacted)"
    )


def _add_connection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection", SECRET_HELP)
    group.add_argument("--profile", metavar="NAME", help="a profile saved by 'roamtui login'")
    group.add_argument(
        "--endpoint", metavar="URL", help="REST base URL, e.g. https://console.tim.qq.com"
    )
    group.add_argument(
        "--region",
        metavar="R",
        help=REGION_HELP,
    )
    group.add_argument("--sdkappid", metavar="N", help="the app's SDKAppID")
    group.add_argument("--identifier", metavar="ADMIN", help="an App admin account")
    group.add_argument(
        "--max-rps", type=_rate, metavar="N", help="calls per second (default 50, at most 200)"
    )
    group.add_argument(
        "--page-size", type=_positive_int, metavar="N", help="MaxCnt asked per call (default 100)"
    )
    group.add_argument(
        "--api-fields",
        choices=("from-to", "operator-peer"),
        help="body field names: From_Account/To_Account (default) or Operator_Account/Peer_Account",
    )


def _add_theme(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--theme",
        metavar="NAME",
        help="colour theme, e.g. textual-dark, textual-light, ansi-dark, ansi-light "
        "(also switchable from the command palette, ctrl+p)",
    )


def _add_window(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--since", metavar="T", required=required, help="start of the window")
    parser.add_argument("--until", metavar="T", required=required, help="end of the window")
    parser.add_argument("--tz", metavar="ZONE", help="time zone, e.g. Asia/Shanghai or UTC")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roamtui",
        description=(
            "Read-only terminal browser for Tencent Cloud IM one-to-one chat history "
            "(admin_getroammsg). Without a subcommand, 'roamtui [ACCOUNT PEER]' opens the TUI "
            "(the same as 'roamtui browse')."
        ),
        epilog=(
            "subcommands: browse, demo, export, login, logout, profiles, sandbox "
            "('roamtui SUBCOMMAND --help' for each). " + TIME_HELP + DEFAULT_WINDOW_HELP
        ),
    )
    parser.add_argument("--version", action="version", version=f"roamtui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")

    browse = sub.add_parser(
        "browse",
        help="open the TUI (also the default)",
        description="Open the TUI on the history of ACCOUNT with PEER, or on the query screen. "
        + TIME_HELP
        + DEFAULT_WINDOW_HELP,
    )
    browse.add_argument(
        "account", nargs="?", metavar="ACCOUNT", help="whose history is read (From_Account)"
    )
    browse.add_argument("peer", nargs="?", metavar="PEER", help="the other party (To_Account)")
    _add_window(browse, required=False)
    _add_connection(browse)
    _add_theme(browse)
    _add_debug(browse)

    demo = sub.add_parser(
        "demo",
        help="the TUI over the embedded sandbox, no credentials",
        description="Start the embedded sandbox on 127.0.0.1 and open the TUI on one of its "
        "conversations. No account or network needed.",
    )
    demo.add_argument(
        "--messages",
        type=_positive_int,
        default=5000,
        metavar="N",
        help="messages in the demo dataset (default 5000)",
    )
    demo.add_argument(
        "--latency-ms",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="added latency per call",
    )
    demo.add_argument("--seed", type=int, default=0, metavar="S", help="dataset seed (default 0)")
    demo.add_argument("--tz", metavar="ZONE", help="time zone, e.g. Asia/Shanghai or UTC")
    _add_theme(demo)
    _add_debug(demo)

    export = sub.add_parser(
        "export",
        help="write a whole window as jsonl, csv or txt",
        description="Fetch the whole window and write it as evidence. jsonl: one message per line, "
        "oldest first, exactly as the service returned it; csv/txt: for people, with a provenance "
        "header. A summary goes to stderr. Exit 0 only when the whole window was fetched. "
        + TIME_HELP,
    )
    export.add_argument("account", metavar="ACCOUNT", help="whose history is read (From_Account)")
    export.add_argument("peer", metavar="PEER", help="the other party (To_Account)")
    _add_window(export, required=True)
    export.add_argument(
        "--format", choices=("jsonl", "csv", "txt"), default="jsonl", help="default jsonl"
    )
    export.add_argument("-o", "--output", metavar="FILE", help="output file (default: stdout)")
    _add_connection(export)
    _add_debug(export)

    login = sub.add_parser(
        "login",
        help="save a profile and its secret in the OS keyring",
        description="Save a profile (config file) and its secret (OS keyring). The secret is read "
        "hidden from the terminal, or from stdin when piped; it is never written to a file.",
    )
    login.add_argument(
        "--profile", default="default", metavar="NAME", help="profile name (default 'default')"
    )
    login.add_argument("--sdkappid", required=True, metavar="N", help="the app's SDKAppID")
    login.add_argument(
        "--identifier", required=True, metavar="ADMIN", help="an App admin account of the app"
    )
    where = login.add_mutually_exclusive_group()
    where.add_argument("--region", metavar="R", help=REGION_HELP)
    where.add_argument("--endpoint", metavar="URL", help="REST base URL instead of a region")
    login.add_argument(
        "--usersig",
        action="store_true",
        help="the secret given is a ready UserSig, not the secret key",
    )
    login.add_argument(
        "--check", action="store_true", help="make one real call to check the credentials"
    )
    login.add_argument(
        "--api-fields",
        choices=("from-to", "operator-peer"),
        help="body field names the profile sends (default from-to)",
    )
    login.add_argument("--tz", metavar="ZONE", help="the profile's default time zone")
    login.add_argument(
        "--max-rps", type=_rate, metavar="N", help="the profile's calls per second (1..200)"
    )
    login.add_argument(
        "--page-size", type=_positive_int, metavar="N", help="the profile's MaxCnt per call"
    )
    login.add_argument("--make-default", action="store_true", help="make this the default profile")
    _add_debug(login)

    logout = sub.add_parser(
        "logout",
        help="remove a profile's secret from the keyring",
        description="Remove the profile's secret from the OS keyring.",
    )
    logout.add_argument(
        "--profile", default=None, metavar="NAME", help="default: the default profile"
    )
    logout.add_argument(
        "--forget", action="store_true", help="also remove the profile from the config file"
    )
    _add_debug(logout)

    profiles = sub.add_parser(
        "profiles",
        help="list profiles and whether a secret is stored",
        description="List the saved profiles, the default one, and whether a secret is stored "
        "(never the secret).",
    )
    _add_debug(profiles)

    sandbox = sub.add_parser(
        "sandbox",
        help="serve the embedded stand-in of the IM service",
        description="Serve a local stand-in of admin_getroammsg on 127.0.0.1 and print its "
        "endpoint, demo credentials and conversations as 'key: value' lines. Ctrl+C stops it.",
    )
    sandbox.add_argument(
        "--port", type=_non_negative_int, default=0, metavar="P", help="default: a free port"
    )
    sandbox.add_argument(
        "--messages",
        type=_positive_int,
        default=5000,
        metavar="N",
        help="messages in the dataset (default 5000)",
    )
    sandbox.add_argument(
        "--seed", type=int, default=0, metavar="S", help="dataset seed (default 0)"
    )
    sandbox.add_argument(
        "--latency-ms",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="added latency per call",
    )
    sandbox.add_argument(
        "--fault-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="share of calls that fail (0..1)",
    )
    _add_debug(sandbox)
    return parser


_TIME_OPTIONS = ("--since", "--until")


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


def _dispatch(args: argparse.Namespace) -> int:
    command: str = args.command
    handler: Callable[[argparse.Namespace], int]
    if command == "browse":
        from roamtui.factory import run_tui

        handler = run_tui
    elif command == "demo":
        from roamtui.factory import run_demo

        handler = run_demo
    elif command == "export":
        from roamtui.export_command import run as run_export

        handler = run_export
    elif command in ("login", "logout", "profiles"):
        from roamtui import account_commands

        handler = getattr(account_commands, command)
    else:
        from roamtui.sandbox.serve import run as run_sandbox

        return run_sandbox(
            port=args.port,
            messages=args.messages,
            seed=args.seed,
            latency_ms=args.latency_ms,
            fault_rate=args.fault_rate,
        )
    return handler(args)


def _report(exc: BaseException, debug: bool, err: TextIO) -> None:
    from roamtui.im.redact import scrub
    from roamtui.text import error_line

    if debug:
        err.write(scrub("".join(traceback.format_exception(exc))))
    err.write(f"roamtui: {error_line(exc, clean=scrub)}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_normalise_argv(sys.argv[1:] if argv is None else argv))
    debug = bool(getattr(args, "debug", False))
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        sys.stderr.write("roamtui: interrupted\n")
        return 130
    except Exception as exc:  # every failure ends in one line; tracebacks only with --debug
        _report(exc, debug, sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

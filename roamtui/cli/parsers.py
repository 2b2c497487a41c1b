"""Every subcommand's options and help: what ``roamtui SUBCOMMAND --help`` shows.

Light on purpose: building the whole parser imports argparse, :mod:`.options` and this, none of
the core (no asyncio, httpx, Textual, sandbox or export registry), so ``roamtui --help`` and a
typo'd option answer at once. Each subcommand names the function that runs it as a
:class:`Handler` (module and name), imported only when that command runs: ``roamtui export``
loads the export job, never Textual; ``roamtui demo`` the TUI, never the export job. The
values these texts show that the core defines are in :mod:`.options` (checked against the core
by ``tests/test_cli_tables.py``), the export formats' below.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from roamtui.cli.options import (
    DEFAULT_WINDOW_HELP,
    ENV_MARKS,
    ENV_RECENT,
    REGION_HELP,
    TIME_HELP,
    AddParser,
    add_connection,
    add_dataset,
    add_debug,
    add_parties,
    add_rate_and_paging,
    add_sides,
    add_theme,
    add_tz,
    add_window,
    fraction,
    non_negative_int,
    one_of,
)


@dataclass(frozen=True, slots=True)
class Handler:
    """The function that runs a subcommand, by module and name: ``args.run(args)`` imports it
    then (what the command needs, when it runs), not when the parser is built."""

    module: str
    name: str

    def __call__(self, args: argparse.Namespace) -> int:
        run: Callable[[argparse.Namespace], int] = getattr(
            importlib.import_module(self.module), self.name
        )
        return run(args)


#: The profile ``login``, ``logout`` and the connection use when none is named.
DEFAULT_PROFILE = "default"
#: Where `roamtui demo --fixed-time` stops the clock without a T: 2024-05-06 18:00:00 UTC.
FIXED_DEMO_TIME = "@1715018400"
#: ``roamtui peers --format``.
PEERS_FORMATS = ("text", "jsonl", "csv")
#: ``--context`` at most (export.selection.MAX_CONTEXT).
MAX_CONTEXT = 1000
#: export.formats.CLI_FORMATS: name and summary of each ``--format``, in its order.
EXPORT_FORMATS: dict[str, str] = {
    "jsonl": "one message per line, oldest first, exactly as the service returned it",
    "csv": "a provenance block, then one row per message, for spreadsheets",
    "txt": "a provenance header, then one line per message, for people",
    "html": "one self-contained page to open in any browser, offline: provenance, the chat by "
    "day, recalled badges, search",
    "rsmf": "Relativity Short Message Format 2.0 for eDiscovery review platforms; at most "
    "10,000 messages per file, more into a directory (-o DIR/) as one file per slice, by day",
    "bundle": "a folder, or DIR.zip: messages.jsonl, transcript.html/.txt/.csv, manifest.json "
    "(how the window was fetched) and SHA256SUMS",
}
DEFAULT_FORMAT = "jsonl"  # export.formats.DEFAULT_FORMAT
#: The formats written in slices and the most messages per file (export.formats' ``split``).
SLICED_FORMATS: dict[str, int] = {"rsmf": 10_000}
_SLICED_HELP = "".join(
    f". With --format {name}, a path ending in / (created) or a directory without SHA256SUMS "
    f"gets one .{name} per slice of at most {per_file:,} messages, cut at days, named "
    "by time, and SHA256SUMS; one file of more is refused"
    for name, per_file in SLICED_FORMATS.items()
)


def add_accounts(add: AddParser) -> None:
    login_p = add(
        "login",
        help="save a profile and its secret in the OS keyring",
        description="Save a profile (config file) and its secret (OS keyring). The secret is read "
        "hidden from the terminal, or from stdin when piped; it is never written to a file. "
        "--sdkappid and --identifier may be left out when the profile exists already.",
    )
    login_p.add_argument("--profile", metavar="NAME",
                         help=f"profile name (default {DEFAULT_PROFILE!r})")
    login_p.add_argument("--sdkappid", metavar="N", help="the app's SDKAppID")
    login_p.add_argument("--identifier", metavar="ADMIN", help="an App admin account of the app")
    where = login_p.add_mutually_exclusive_group()
    where.add_argument("--region", metavar="R", help=REGION_HELP)
    where.add_argument("--endpoint", metavar="URL", help="REST base URL instead of a region")
    login_p.add_argument("--usersig", action="store_true",
                         help="the secret given is a ready UserSig, not the secret key")
    login_p.add_argument("--check", action="store_true", help="check with one real call")
    add_tz(login_p, "the profile's default time zone")
    add_rate_and_paging(login_p, profile=True)
    login_p.add_argument("--make-default", action="store_true", help="make it the default")
    add_debug(login_p)
    login_p.set_defaults(run=Handler("roamtui.cli.accounts", "login"))

    logout_p = add(
        "logout",
        help="remove a profile's secret from the keyring",
        description="Remove the profile's secret from the OS keyring.",
    )
    logout_p.add_argument("--profile", metavar="NAME", help="default: the default profile")
    logout_p.add_argument("--forget", action="store_true", help="also drop it from the config")
    add_debug(logout_p)
    logout_p.set_defaults(run=Handler("roamtui.cli.accounts", "logout"))

    listing = add(
        "profiles",
        help="list profiles and whether a secret is stored",
        description="List the saved profiles, the default one, and whether a secret is stored "
        "(never the secret).",
    )
    add_debug(listing)
    listing.set_defaults(run=Handler("roamtui.cli.accounts", "profiles"))


def add_browse(add: AddParser) -> None:
    browse = add(
        "browse",
        help="open the TUI (also the default)",
        description="Open the TUI on the history of ACCOUNT with PEER, or on the query screen. "
        + TIME_HELP
        + DEFAULT_WINDOW_HELP,
    )
    add_parties(browse, optional=True)
    add_window(browse, required=False)
    add_connection(browse)
    add_theme(browse)
    add_sides(browse, "show")
    browse.add_argument(
        "--no-history", action="store_true",
        help="neither read nor save the query screen's recent queries this run (they hold "
        f"customer IDs; by default in the user state dir's roamtui/recent.json, or where "
        f"{ENV_RECENT}=PATH says; {ENV_RECENT}=off or 'recent = false' in the config "
        "keeps none at all), nor the marks and notes on messages (the user data dir's "
        f"roamtui/marks.json, or {ENV_MARKS}=PATH|off, or 'marks = false|PATH' in the "
        "config): marks made then last for the run only",
    )
    add_debug(browse)
    browse.set_defaults(run=Handler("roamtui.cli.browse", "run_tui"))

    demo = add(
        "demo",
        help="the TUI over the embedded sandbox, no credentials",
        description="Start the embedded sandbox on 127.0.0.1 and open the TUI on one of its "
        "conversations. No account or network needed. The dataset's content and order depend "
        "only on --seed and --messages; its times end now, or at --fixed-time.",
    )
    add_dataset(demo)
    demo.add_argument(
        "--fixed-time", nargs="?", const=FIXED_DEMO_TIME, default=None, metavar="T",
        help="stop the demo's clock at T (default with no T: "
        f"{FIXED_DEMO_TIME}): the dataset ends there and 'now' is T, so every time on screen "
        "and in exports is the same run after run (screenshots). Without it the content and "
        "order are fixed by --seed and --messages, and the times end at the moment you start.",
    )
    add_tz(demo)
    add_theme(demo)
    demo.add_argument(
        "--no-history", action="store_true",
        help=f"with --fixed-time, keep marks and notes for this run only (else in roamtui/"
        f"marks.json of the user data dir, or {ENV_MARKS}=PATH; the demo's SDKAppID keeps them "
        "apart from real ones). Without --fixed-time they always last for the run only: the "
        "times, and so the MsgKeys, are new at every start",
    )
    add_sides(demo, "show")
    add_debug(demo)
    demo.set_defaults(run=Handler("roamtui.cli.browse", "run_demo"))


def add_export(add: AddParser) -> None:
    formats = "; ".join(f"{name}: {summary}" for name, summary in EXPORT_FORMATS.items())
    export = add(
        "export",
        help=f"write a whole window as {one_of(EXPORT_FORMATS)}",
        description=f"Fetch the whole window and write it as evidence ({formats}). A summary "
        "goes to stderr. Exit 0 only when the whole window was fetched. " + TIME_HELP,
    )
    add_parties(export, optional=False)
    add_window(export, required=True)
    export.add_argument("--format", choices=tuple(EXPORT_FORMATS), default=None,
                        help="default: the one -o's name ends in (out.csv: csv), else "
                        f"{DEFAULT_FORMAT}; a name ending in another format's is refused")
    export.add_argument(
        "-o", "--output", metavar="FILE",
        help="output file (default: stdout): a regular file is written whole or not at all "
        "(mode 0600); a FIFO or device is written through; a symlink is followed and kept; "
        "SIGINT/SIGTERM/SIGHUP end with 128+signal and leave no partial file" + _SLICED_HELP
        + ". With --format bundle: a new (or empty) folder DIR, or DIR.zip, made whole or "
        "not at all; check it later with `roamtui verify DIR`",
    )
    add_marks_options(export)
    add_sides(export, "export")
    add_connection(export)
    add_debug(export)
    export.set_defaults(run=Handler("roamtui.cli.export", "run"))


def add_marks_options(export: argparse.ArgumentParser) -> None:
    export.add_argument(
        "--marked", action="store_true",
        help="write only the messages marked in the TUI (m) for this account, peer and "
        "SDKAppID, read from the marks file; the provenance says it is a selection of N of M "
        "messages, and names marked messages the service no longer returns. Notes (:note) go "
        "into every export, with or without --marked (jsonl excepted: it holds the service's "
        "objects only)",
    )
    export.add_argument(
        "--context", type=int, default=0, metavar="N",
        help=f"with --marked, also N messages before and after each marked one (default 0, "
        f"at most {MAX_CONTEXT})",
    )
    export.add_argument(
        "--no-history", action="store_true",
        help=f"read no marks file (no notes; --marked refused). The file is the user data "
        f"dir's roamtui/marks.json, or {ENV_MARKS}=PATH, or 'marks = \"PATH\"' in the config",
    )


def add_peers(add: AddParser) -> None:
    peers = add(
        "peers",
        help="list an account's one-to-one conversations with nicknames",
        description="List ACCOUNT's one-to-one conversations (recentcontact/get_list, paged to "
        "the end), newest first: peer, nickname (portrait_get), time of the last message in "
        "--tz, and the command that opens it. Nicknames are the users' own text, shown inert. "
        "A summary goes to stderr.",
    )
    peers.add_argument("account", metavar="ACCOUNT", help="whose conversations are listed")
    peers.add_argument(
        "--since", metavar="T",
        help="only conversations whose last message is at or after T (any form of the TUI's "
        "times: -7d, yesterday, 2020-03-20 10:00, @1584669600)",
    )
    add_tz(peers)
    peers.add_argument("--format", choices=PEERS_FORMATS, default="text",
                       help="text (default: aligned lines), jsonl or csv for scripts")
    add_connection(peers)
    add_debug(peers)
    peers.set_defaults(run=Handler("roamtui.cli.peers", "run"))


def add_sandbox(add: AddParser) -> None:
    sandbox = add(
        "sandbox",
        help="serve the embedded stand-in of the IM service",
        description="Serve a local stand-in of admin_getroammsg on 127.0.0.1 and print its "
        "endpoint, demo credentials and conversations as 'key: value' lines, then the same "
        "connection as 'export ROAMTUI_...=' lines: paste them into another shell and "
        "'roamtui CUSTOMER AGENT' or 'roamtui export ...' talk to this sandbox. Ctrl+C stops it.",
    )
    sandbox.add_argument(
        "--port", type=non_negative_int, default=0, metavar="P", help="default: a free port"
    )
    add_dataset(sandbox)
    sandbox.add_argument(
        "--fault-rate", type=fraction, default=0.0, metavar="F",
        help="share of calls that fail (0..1)",
    )
    sandbox.add_argument(
        "--ends-at", metavar="T",
        help="the dataset's last moment (default: now), e.g. @1795000000 (UTC unless it says "
        "otherwise): two runs with the same --seed, --messages and --ends-at serve the same "
        "history, so a bundle captured from one can be refetched from a --later one",
    )
    sandbox.add_argument(
        "--later", type=non_negative_int, default=0, metavar="N",
        help="serve the same history later: in each conversation N messages recalled since, N "
        "edited by an admin (MsgBody or CloudCustomData) and N deleted, and (per-side "
        "histories) N more deleted by each side from its own history, always the same ones "
        "for the same --seed (printed as 'change:' lines); try 'roamtui verify BUNDLE "
        "--refetch' against it",
    )
    add_debug(sandbox)
    sandbox.set_defaults(run=Handler("roamtui.cli.sandbox", "run"))


def add_verify(add: AddParser) -> None:
    verify = add(
        "verify",
        help="check an evidence bundle offline, or --refetch its window and compare",
        description="Check a bundle written by 'roamtui export --format bundle' (its folder or "
        "its zip), offline: every checksum, messages.jsonl against the manifest's counts and "
        "page records, the transcripts against the jsonl. Exit 0 with one line when intact, "
        "1 naming each file or record that differs. With --refetch, fetch the same window of "
        "the same side (both sides, for a --sides both bundle) again and print one line per "
        "difference (recalled, changed, missing, new, and holder when a message's holding "
        "sides changed, each with its MsgKey) and a summary: exit 0 unchanged, 1 changed, 2 "
        "on errors.",
    )
    verify.add_argument("bundle", metavar="BUNDLE", help="a bundle folder or its .zip")
    verify.add_argument(
        "--refetch", action="store_true",
        help="fetch the bundle's window again and compare message by message (needs a "
        "connection: flags, environment or profile as for 'roamtui export'; a connection "
        "that differs from the capture's is said)",
    )
    verify.add_argument(
        "--out", metavar="DIR2",
        help="with --refetch: write the new capture as a bundle (a new folder or DIR2.zip) "
        "whose manifest names this bundle's SHA256SUMS digest",
    )
    add_tz(verify, help="zone of the times shown and of a new bundle (default: the capture's)")
    add_connection(verify)
    add_debug(verify)
    verify.set_defaults(run=Handler("roamtui.cli.verify", "run"))


#: What adds each command module's subcommands, by the module :data:`main.COMMANDS` names.
ADDERS: dict[str, Callable[[AddParser], None]] = {
    "roamtui.cli.browse": add_browse,
    "roamtui.cli.export": add_export,
    "roamtui.cli.accounts": add_accounts,
    "roamtui.cli.sandbox": add_sandbox,
    "roamtui.cli.peers": add_peers,
    "roamtui.cli.verify": add_verify,
}

"""The options several subcommands share, their help texts, and the core's values they show.

Building the parser imports none of the core (``roamtui --help`` is argparse and this): the
regions (``im.client``), field namings (``im.roam``), rate bounds (``im.limiter`` through
``settings.defaults``), page size, window, environment names, the export formats and the
sandbox's dataset defaults are written out below, and ``tests/test_cli_tables.py`` holds each
equal to its one definition in the core, so a default changed there fails that test rather than
drifting from the help.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import Any, Protocol

#: The core's values shown in the help (see the module's docstring; checked by tests).
DEFAULT_REGION = "mainland"  # im.client.DEFAULT_REGION
REGION_NAMES = ("mainland", "singapore", "seoul", "tokyo", "frankfurt", "silicon-valley",
                "jakarta", "mumbai")  # im.client.REGIONS
DEFAULT_ENDPOINT = "https://console.tim.qq.com"  # im.client.REGIONS[DEFAULT_REGION]
PARTY_FIELDS = {  # im.roam.PARTY_FIELDS
    "from-to": ("From_Account", "To_Account"),
    "operator-peer": ("Operator_Account", "Peer_Account"),
}
FIELD_NAMINGS = tuple(PARTY_FIELDS)  # settings.defaults.FIELD_NAMINGS
DEFAULT_NAMING = "from-to"  # settings.defaults.DEFAULT_NAMING
DEFAULT_MAX_RPS, MAX_RPS = 50, 200  # settings.defaults, from im.limiter
DEFAULT_PAGE_SIZE = 100  # settings.defaults, RoamQuery.page_size
DEFAULT_WINDOW_DAYS = 7  # settings.defaults, history.timeparse.DEFAULT_SPAN
ENV_SECRET_KEY, ENV_USERSIG = "ROAMTUI_SECRET_KEY", "ROAMTUI_USERSIG"  # settings.credentials
ENV_RATE_STORE = "ROAMTUI_RATE_STORE"  # settings.rate_store
ENV_MARKS, ENV_RECENT = "ROAMTUI_MARKS", "ROAMTUI_RECENT"  # settings.marks, settings.recent
DATASET_MESSAGES, DATASET_SEED = 5000, 0  # sandbox.dataset.Dataset's defaults
RATE_STORE_HELP = (  # settings.rate_store.RATE_STORE_HELP
    "budget --max-rps is drawn from: 'local' (default: every roamtui of this user on this "
    "machine shares it, per SDKAppID), 'redis://HOST:PORT/DB' (the whole team shares it "
    "through that Redis; needs roamtui[team]), or 'process' (this process alone); also "
    f"{ENV_RATE_STORE} or a profile's rate_store"
)

#: ``sub.add_parser`` of the top-level parser: each command module adds its own subcommands.
AddParser = Callable[..., argparse.ArgumentParser]


class Adds(Protocol):
    """A parser or an argument group: anything options are added to."""

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action: ...


REGION_HELP = ", ".join(
    f"{name} (default)" if name == DEFAULT_REGION else name for name in REGION_NAMES
)
NAMING_HELP = " or ".join(
    "/".join(fields) + (" (default)" if name == DEFAULT_NAMING else "")
    for name, fields in PARTY_FIELDS.items()
)
TIME_HELP = (
    "Times: ISO 8601 ('2020-03-20 10:00', '2020-03-20T10:00:00+08:00'), Unix seconds "
    "('@1584669600'), or relative ('now', 'today', 'yesterday', '-2h', '-30m', '-7d'). "
    "Without a zone they are read in --tz (default: this machine's zone)."
)
DEFAULT_WINDOW_HELP = (
    f" Default window: the last {DEFAULT_WINDOW_DAYS} days (the service's default retention)."
)
SECRET_HELP = (
    "The secret comes from the profile's keyring entry (see 'roamtui login'), or from the "
    f"environment: {ENV_SECRET_KEY} (the app's SDK secret key; roamtui signs short-lived admin "
    f"UserSigs with it) or {ENV_USERSIG} (a ready UserSig). ROAMTUI_ENDPOINT, ROAMTUI_SDKAPPID "
    "and ROAMTUI_IDENTIFIER may stand in for the flags."
)


def one_of(names: Iterable[str]) -> str:
    """``a, b or c``."""
    *rest, last = list(names)
    return f"{', '.join(rest)} or {last}" if rest else last


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, got {value}")
    return value


def rate(text: str) -> int:
    value = _whole(text)
    if not 1 <= value <= MAX_RPS:
        raise argparse.ArgumentTypeError(f"calls per second must be from 1 to {MAX_RPS}")
    return value


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("expected a fraction between 0 and 1")
    return value


def add_debug(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks (secrets stay redacted)"
    )


def add_tz(parser: argparse.ArgumentParser, help: str = "time zone, e.g. Asia/Shanghai or UTC"
           ) -> None:
    parser.add_argument("--tz", metavar="ZONE", help=help)


def add_window(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--since", metavar="T", required=required, help="start of the window")
    parser.add_argument("--until", metavar="T", required=required, help="end of the window")
    add_tz(parser)


def add_theme(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--theme",
        metavar="NAME",
        help="colour theme, e.g. textual-dark, textual-light, ansi-dark, ansi-light "
        "(also switchable from the command palette, ctrl+p)",
    )


def add_parties(parser: argparse.ArgumentParser, *, optional: bool) -> None:
    nargs = "?" if optional else None
    parser.add_argument(
        "account", nargs=nargs, metavar="ACCOUNT", help="whose history is read (From_Account)"
    )
    parser.add_argument("peer", nargs=nargs, metavar="PEER", help="the other party (To_Account)")


def add_rate_and_paging(parser: Adds, *, profile: bool = False) -> None:
    """``--max-rps``, ``--page-size``, ``--api-fields``; for a profile (``login``) they say what
    the profile keeps."""
    whose = "the profile's " if profile else ""
    parser.add_argument(
        "--max-rps", type=rate, metavar="N",
        help=f"{whose}calls per second (default {DEFAULT_MAX_RPS}, at most {MAX_RPS})",
    )
    parser.add_argument(
        "--page-size", type=positive_int, metavar="N",
        help=f"{whose}MaxCnt asked per call (default {DEFAULT_PAGE_SIZE})",
    )
    parser.add_argument(
        "--api-fields", choices=FIELD_NAMINGS, help=f"{whose}body field names: {NAMING_HELP}"
    )
    parser.add_argument("--rate-store", metavar="STORE", help=f"{whose}{RATE_STORE_HELP}")


SIDES = ("one", "both")


def add_sides(parser: Adds, what: str) -> None:
    """``--sides one|both``: read ACCOUNT's stored history, or both parties' merged."""
    parser.add_argument(
        "--sides", choices=SIDES, default="one",
        help=f"one (default): {what} ACCOUNT's stored history; both: read the conversation "
        "from both sides (each party keeps its own roaming history: a cleared history, "
        "deleted messages, SyncOtherMachine=2 sends) and merge them by MsgKey, marking every "
        "message only one side holds (about twice the calls)",
    )


def add_dataset(parser: argparse.ArgumentParser) -> None:
    """``--messages``, ``--seed``, ``--latency-ms`` of the embedded sandbox (demo, sandbox)."""
    messages, seed = DATASET_MESSAGES, DATASET_SEED
    parser.add_argument(
        "--messages", type=positive_int, default=messages, metavar="N",
        help=f"messages in the dataset (default {messages})",
    )
    parser.add_argument(
        "--seed", type=int, default=seed, metavar="S", help=f"dataset seed (default {seed})"
    )
    parser.add_argument(
        "--latency-ms", type=non_negative_int, default=0, metavar="N",
        help="added latency per call",
    )
    parser.add_argument(
        "--same-sides", action="store_true",
        help="both parties hold the whole conversation (default: per-side histories — the "
        "customer cleared its oldest messages and deleted some it wrote, some agent messages "
        "were never synced to the agent; read them with --sides both)",
    )


def add_connection(parser: argparse.ArgumentParser) -> None:
    """Where to connect, as ``settings.connection.resolve_connection`` reads it."""
    group = parser.add_argument_group("connection", SECRET_HELP)
    group.add_argument("--profile", metavar="NAME", help="a profile saved by 'roamtui login'")
    group.add_argument(
        "--endpoint", metavar="URL", help=f"REST base URL, e.g. {DEFAULT_ENDPOINT}"
    )
    group.add_argument("--region", metavar="R", help=REGION_HELP)
    group.add_argument("--sdkappid", metavar="N", help="the app's SDKAppID")
    group.add_argument("--identifier", metavar="ADMIN", help="an App admin account")
    add_rate_and_paging(group)

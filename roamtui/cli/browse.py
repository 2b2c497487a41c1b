"""`roamtui [browse] [ACCOUNT PEER] …` and `roamtui demo`: check every argument, then open the TUI.

Every argument is checked before the terminal is taken over, so a bad one ends in one line on
stderr and exit status 2; the connection (and the keyring, which may block) is resolved here
too. The app itself is built by :mod:`roamtui.ui.factory`, imported only now: Textual is loaded
by the subcommands that show it, never by `roamtui --help` or `roamtui export`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, TextIO

from roamtui.history.timeparse import TimeParseError, parse_time, parse_window, resolve_zone
from roamtui.settings.config import Config, ConfigError, load_config
from roamtui.settings.connection import (
    NoConnectionGiven,
    Resolved,
    names_connection,
    resolve_connection,
)
from roamtui.settings.credentials import CredentialError
from roamtui.settings.defaults import DEFAULT_SINCE, DEFAULT_UNTIL
from roamtui.settings.marks import mark_store
from roamtui.settings.recent import recent_store
from roamtui.text import error_line

if TYPE_CHECKING:
    from roamtui.ui.app import RoamApp





def demo_clock(fixed: str | None, tz: tzinfo) -> Callable[[], float] | None:
    """The demo's clock: None (the wall clock) unless ``--fixed-time``, then one that always
    says T (read in ``tz`` like every time on the command line). StartError when T is bad."""
    if fixed is None:
        return None
    try:
        at = parse_time(fixed, tz, datetime.now(tz))
    except (TimeParseError, ValueError) as exc:
        raise StartError(f"--fixed-time: {error_line(exc)}") from None
    return lambda: float(at)


class StartError(Exception):
    """A bad argument found before the app starts; `str()` is the one line shown."""


def _fail(message: str, err: TextIO) -> int:
    err.write(f"roamtui: {message}\n")
    return 2


def _check_theme(theme: str | None) -> str | None:
    if theme is None:
        return None
    from textual.theme import BUILTIN_THEMES

    if theme not in BUILTIN_THEMES:
        known = ", ".join(sorted(BUILTIN_THEMES))
        raise StartError(f"unknown theme {theme!r}; known: {known}")
    return theme


def prepare_tui(
    args: argparse.Namespace, *, on_started: Callable[[], None] | None = None
) -> RoamApp:
    """Check the arguments and build the app for `roamtui [ACCOUNT PEER]`; StartError if bad.

    Credentials are looked up here, before the terminal is taken over (the keyring may block);
    later profile switches happen in a thread worker inside the app.
    """
    from roamtui.ui.factory import make_app

    account = getattr(args, "account", None)
    peer = getattr(args, "peer", None)
    if bool(account) != bool(peer):
        raise StartError("give both ACCOUNT and PEER, or neither to use the query screen")
    try:
        resolved = resolve_connection(args)
    except NoConnectionGiven as exc:
        raise StartError(f"{error_line(exc)}; or try `roamtui demo`") from None
    except (ConfigError, CredentialError) as exc:
        raise StartError(error_line(exc)) from None
    try:
        tz = resolve_zone(resolved.tz)
    except (TimeParseError, ValueError) as exc:
        raise StartError(error_line(exc)) from None
    since = getattr(args, "since", None) or DEFAULT_SINCE
    until = getattr(args, "until", None) or DEFAULT_UNTIL
    try:
        window = parse_window(since, until, tz, datetime.now(tz))
    except (TimeParseError, ValueError) as exc:
        raise StartError(error_line(exc)) from None
    locked = names_connection(args)
    profiles: list[str] = []
    config = None
    with contextlib.suppress(ConfigError):
        config = load_config()
        profiles = config.names()

    def resolve_profile(name: str) -> Resolved:
        return resolve_connection(argparse.Namespace(**{**vars(args), "profile": name}))

    return make_app(
        connection=resolved,
        account=account,
        peer=peer,
        window=window if account else None,
        tz=tz,
        since=since,
        until=until,
        profiles=profiles,
        resolve_profile=None if locked else resolve_profile,
        recent=recent_store(no_history=bool(getattr(args, "no_history", False)), config=config),
        marks=mark_store(no_history=bool(getattr(args, "no_history", False)), config=config),
        theme=_check_theme(getattr(args, "theme", None)),
        on_started=on_started,
        both_sides=getattr(args, "sides", "one") == "both",
    )


def _config_or_none() -> Config | None:
    """The config, for where files go; a broken one is reported by the commands that need it."""
    try:
        return load_config()
    except ConfigError:
        return None


def run_tui(args: argparse.Namespace, *, err: TextIO | None = None) -> int:
    """`roamtui [browse] [ACCOUNT PEER] …`: the query screen, or straight to the transcript."""
    err = err if err is not None else sys.stderr
    with _collection_held() as resume:
        try:
            app = prepare_tui(args, on_started=resume)
        except StartError as exc:
            return _fail(str(exc), err)
        return _run(app)


@contextlib.contextmanager
def _collection_held() -> Iterator[Callable[[], None]]:
    """Hold cyclic garbage collection off while the app starts; yields the call that resumes it.

    Start-up allocates a lot (imports, widgets, the first page) and frees next to nothing, yet
    the collections that this triggers took a tenth of `roamtui demo`'s time to its first
    frame. The app resumes collection once its first screen is drawn; leaving the block does
    too, so an early exit or an error never leaves it off.
    """
    was_enabled = gc.isenabled()
    gc.disable()

    def resume() -> None:
        if was_enabled:
            gc.enable()

    try:
        yield resume
    finally:
        resume()


def _run(app: RoamApp) -> int:
    """Run `app` with everything made so far frozen out of garbage collection.

    Modules, classes and the app live as long as the process; sparing each full collection
    from walking them again shortens its pause (`gc.freeze`), in the first frames and after.
    """
    gc.freeze()
    try:
        app.run()
    finally:
        gc.unfreeze()
    return app.return_code or 0


def _demo_marks_for_the_run(args: argparse.Namespace) -> bool:
    """Whether the demo's marks stay in memory: with ``--no-history``, and whenever its clock
    runs, as its MsgKeys hold the message times, which are new at every start: saved, every
    mark would read as "not returned" the next time."""
    return bool(getattr(args, "no_history", False)) or getattr(args, "fixed_time", None) is None


def run_demo(args: argparse.Namespace, *, err: TextIO | None = None) -> int:
    """`roamtui demo`: the TUI over the embedded sandbox, no account and no network needed."""
    err = err if err is not None else sys.stderr
    try:
        tz = resolve_zone(getattr(args, "tz", None))
        theme = _check_theme(getattr(args, "theme", None))
        clock = demo_clock(getattr(args, "fixed_time", None), tz)
    except (TimeParseError, ValueError, StartError) as exc:
        return _fail(error_line(exc), err)
    from roamtui.ui.factory import demo_app

    with _collection_held() as resume, demo_app(
        messages=getattr(args, "messages", None),
        latency_ms=getattr(args, "latency_ms", 0),
        seed=getattr(args, "seed", None),
        same_sides=getattr(args, "same_sides", False),
        both_sides=getattr(args, "sides", "one") == "both",
        tz=tz,
        theme=theme,
        clock=clock,
        on_started=resume,
        marks=mark_store(no_history=_demo_marks_for_the_run(args), config=_config_or_none()),
    ) as app:
        return _run(app)

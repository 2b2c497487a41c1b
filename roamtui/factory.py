"""The one place that wires the layers into a RoamApp, for the command line and the tests alike.

`make_app` takes a resolved connection (or a bare Connection), the conversation and window to
open (optional), and an httpx transport for tests. `run_tui` and `run_demo` are what
`roamtui [browse]` and `roamtui demo` call: they check every argument before the terminal is
taken over, so a bad argument ends in one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, TextIO

from roamtui.history.timeparse import DEFAULT_SPAN, parse_window, resolve_zone, zone_name
from roamtui.im.client import Connection, ImClient
from roamtui.im.roam import FieldNaming, RoamQuery
from roamtui.settings.connection import Resolved
from roamtui.settings.defaults import (
    DEFAULT_MAX_RPS,
    DEFAULT_NAMING,
    DEFAULT_PAGE_SIZE,
    DEFAULT_SINCE,
    DEFAULT_UNTIL,
)
from roamtui.settings.recent import RecentQueries, RecentQuery
from roamtui.text import error_line

if TYPE_CHECKING:
    import httpx

    from roamtui.history.timeline import Timeline
    from roamtui.ui.app import RoamApp

DEMO_PROFILE = "demo"
# A loopback address keeps httpx from applying proxy settings when a mock transport is used.
IN_PROCESS_ENDPOINT = "http://127.0.0.1:9"


class StartError(Exception):
    """A bad argument found before the app starts; `str()` is the one line shown."""


def make_timeline(client: ImClient, query: RoamQuery, tz: tzinfo) -> Timeline:
    from roamtui.history.timeline import Timeline

    return Timeline(client, query, tz)


def make_app(
    *,
    connection: Resolved | Connection,
    account: str | None = None,
    peer: str | None = None,
    window: tuple[int, int] | None = None,
    tz: tzinfo | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    since: str = DEFAULT_SINCE,
    until: str = DEFAULT_UNTIL,
    profile_name: str | None = None,
    profiles: Sequence[str] = (),
    resolve_profile: Callable[[str], Resolved] | None = None,
    recent: RecentQueries | None = None,
    clock: Callable[[], float] = time.time,
    theme: str | None = None,
    naming: FieldNaming = DEFAULT_NAMING,
    max_rps: int = DEFAULT_MAX_RPS,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_started: Callable[[], None] | None = None,
) -> RoamApp:
    """Build the app. With `account` and `peer` it opens straight on that transcript.

    A bare `connection` is taken with `profile_name`, `naming`, `max_rps` and `page_size` as
    :meth:`Resolved.given` says; a Resolved carries its own. `window` defaults to the
    `DEFAULT_SPAN` before `clock()`; `since`/`until` are only the texts the query screen shows
    for it. `transport` replaces the network (tests use the sandbox's
    mock transport). `resolve_profile` (blocking) lets the query screen switch profiles.
    `on_started` is called once the first screen is drawn.
    """
    from roamtui.ui.app import RoamApp, Session
    from roamtui.ui.screens.browse import BrowseTarget

    resolved = connection if isinstance(connection, Resolved) else Resolved.given(
        connection, profile_name=profile_name, naming=naming, max_rps=max_rps, page_size=page_size
    )
    zone = tz if tz is not None else resolve_zone(resolved.tz)
    session = Session(
        resolved=resolved,
        open_client=lambda r: r.client(transport=transport),
        make_timeline=make_timeline,
        default_tz=zone,
        default_tz_name=zone_name(zone),
        profiles=tuple(profiles),
        profile_locked=resolve_profile is None,
        resolve_profile=resolve_profile,
    )
    start: BrowseTarget | None = None
    initial: RecentQuery | None = None
    if account and peer:
        if window is None:
            now = int(clock())
            window = (now - DEFAULT_SPAN, now)
        start = BrowseTarget(account, peer, window[0], window[1], zone)
        initial = RecentQuery(
            account, peer, since, until, zone_name(zone), resolved.profile_name
        )
    return RoamApp(
        session,
        start=start,
        initial=initial,
        recent=recent,
        clock=clock,
        theme=theme,
        on_started=on_started,
    )


# -- the command line's entry points ---------------------------------------------------------------


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
    from roamtui.history.timeparse import TimeParseError
    from roamtui.settings.config import ConfigError, load_config
    from roamtui.settings.connection import NoConnectionGiven, names_connection, resolve_connection
    from roamtui.settings.credentials import CredentialError

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
    with contextlib.suppress(ConfigError):
        profiles = load_config().names()

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
        recent=RecentQueries(),
        theme=_check_theme(getattr(args, "theme", None)),
        on_started=on_started,
    )


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


@contextlib.contextmanager
def demo_app(
    *,
    messages: int = 5000,
    latency_ms: int = 0,
    seed: int = 0,
    tz: tzinfo | None = None,
    end_time: int | None = None,
    in_process: bool = False,
    theme: str | None = None,
    clock: Callable[[], float] | None = None,
    on_started: Callable[[], None] | None = None,
) -> Iterator[RoamApp]:
    """The demo app over a sandbox holding a generated dataset that ends at `end_time` (now).

    The sandbox runs as a real HTTP server on 127.0.0.1 (a background thread), or with
    `in_process` through a mock transport (no socket; for tests and screenshots). The app
    opens on the first conversation's last 7 days; no credentials are asked.
    """
    from roamtui.sandbox import (
        DEMO_ADMIN,
        DEMO_SDKAPPID,
        DEMO_SECRET_KEY,
        Dataset,
        SandboxServer,
        SandboxService,
        demo_connection,
    )

    end = int(end_time if end_time is not None else (clock or time.time)())
    dataset = Dataset(seed=seed, messages=messages, end_time=end)
    service = SandboxService(
        dataset,
        sdkappid=DEMO_SDKAPPID,
        secret_key=DEMO_SECRET_KEY,
        admins=(DEMO_ADMIN,),
        latency_ms=latency_ms,
    )
    account, peer = dataset.conversations[0]
    zone = tz if tz is not None else resolve_zone(None)
    server: SandboxServer | None = None
    transport = None
    if in_process:
        endpoint = IN_PROCESS_ENDPOINT
        transport = service.mock_transport()
    else:
        server = SandboxServer(service)
        endpoint = server.start()
    try:
        yield make_app(
            connection=demo_connection(endpoint),
            account=account,
            peer=peer,
            window=(end - DEFAULT_SPAN, end),
            tz=zone,
            transport=transport,
            profile_name=DEMO_PROFILE,
            clock=clock or time.time,
            theme=theme,
            max_rps=100,
            on_started=on_started,
        )
    finally:
        if server is not None:
            server.stop()


def run_demo(args: argparse.Namespace, *, err: TextIO | None = None) -> int:
    """`roamtui demo`: the TUI over the embedded sandbox, no account and no network needed."""
    err = err if err is not None else sys.stderr
    from roamtui.history.timeparse import TimeParseError

    try:
        tz = resolve_zone(getattr(args, "tz", None))
        theme = _check_theme(getattr(args, "theme", None))
    except (TimeParseError, ValueError, StartError) as exc:
        return _fail(error_line(exc), err)
    with _collection_held() as resume, demo_app(
        messages=getattr(args, "messages", 5000),
        latency_ms=getattr(args, "latency_ms", 0),
        seed=getattr(args, "seed", 0),
        tz=tz,
        theme=theme,
        on_started=resume,
    ) as app:
        return _run(app)

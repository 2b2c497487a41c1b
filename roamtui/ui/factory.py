"""The one place that wires the layers into a RoamApp, for the command line and the tests alike.

`make_app` takes a resolved connection (or a bare Connection), the conversation and window to
open (optional), and an httpx transport for tests. `demo_app` is the same over the embedded
sandbox. The command line's `roamtui [browse]` and `roamtui demo` (`roamtui.cli.browse`) check
their arguments and then build through here.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING

from roamtui.history.timeparse import DEFAULT_SPAN, resolve_zone, zone_name
from roamtui.im.client import Connection, ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.roam import FieldNaming, RoamQuery
from roamtui.settings.connection import Resolved
from roamtui.settings.defaults import (
    DEFAULT_MAX_RPS,
    DEFAULT_NAMING,
    DEFAULT_PAGE_SIZE,
    DEFAULT_SINCE,
    DEFAULT_UNTIL,
)
from roamtui.settings.marks import MarkStore
from roamtui.settings.recent import RecentQueries, RecentQuery

if TYPE_CHECKING:
    import httpx

    from roamtui.history.timeline import Timeline
    from roamtui.ui.app import RoamApp

DEMO_PROFILE = "demo"
# A loopback address keeps httpx from applying proxy settings when a mock transport is used.
IN_PROCESS_ENDPOINT = "http://127.0.0.1:9"


def make_timeline(client: ImClient, query: RoamQuery, tz: tzinfo, both: bool = False) -> Timeline:
    """One side's timeline, or with ``both`` the two sides merged (`history.sides`)."""
    if both:
        from roamtui.history.sides import TwoSidedTimeline

        return TwoSidedTimeline(client, query, tz)
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
    marks: MarkStore | None = None,
    clock: Callable[[], float] = time.time,
    theme: str | None = None,
    naming: FieldNaming = DEFAULT_NAMING,
    max_rps: int = DEFAULT_MAX_RPS,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_started: Callable[[], None] | None = None,
    show_endpoint: bool = True,
    both_sides: bool = False,
    limiter: RateLimiter | None = None,
) -> RoamApp:
    """Build the app. With `account` and `peer` it opens straight on that transcript.

    A bare `connection` is taken with `profile_name`, `naming`, `max_rps` and `page_size` as
    :meth:`Resolved.given` says; a Resolved carries its own. `window` defaults to the
    `DEFAULT_SPAN` before `clock()`; `since`/`until` are only the texts the query screen shows
    for it. `transport` replaces the network (tests use the sandbox's
    mock transport). `resolve_profile` (blocking) lets the query screen switch profiles.
    `recent` and `marks` are the stores on disk; without them nothing is kept after the run.
    `on_started` is called once the first screen is drawn. `both_sides` opens the transcript
    read from both sides (`roamtui ACCOUNT PEER --sides both`; `P` toggles it). `limiter`
    (tests, pictures) replaces the process-wide limiter, whose rate-limit back-off (AIMD) an
    earlier app of the same process would otherwise leave in the new app's status bar.
    """
    from roamtui.ui.app import RoamApp, Session
    from roamtui.ui.screens.browse import BrowseTarget

    resolved = connection if isinstance(connection, Resolved) else Resolved.given(
        connection, profile_name=profile_name, naming=naming, max_rps=max_rps, page_size=page_size
    )
    zone = tz if tz is not None else resolve_zone(resolved.tz)
    session = Session(
        resolved=resolved,
        open_client=lambda r: r.client(transport=transport, limiter=limiter),
        make_timeline=make_timeline,
        default_tz=zone,
        default_tz_name=zone_name(zone),
        profiles=tuple(profiles),
        profile_locked=resolve_profile is None,
        resolve_profile=resolve_profile,
        show_endpoint=show_endpoint,
        marks=marks if marks is not None else MarkStore.memory(),
    )
    start: BrowseTarget | None = None
    initial: RecentQuery | None = None
    if account and peer:
        if window is None:
            now = int(clock())
            window = (now - DEFAULT_SPAN, now)
        start = BrowseTarget(account, peer, window[0], window[1], zone, both=both_sides)
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


@contextlib.contextmanager
def demo_app(
    *,
    messages: int | None = None,
    latency_ms: int = 0,
    seed: int | None = None,
    tz: tzinfo | None = None,
    end_time: int | None = None,
    in_process: bool = False,
    theme: str | None = None,
    clock: Callable[[], float] | None = None,
    on_started: Callable[[], None] | None = None,
    same_sides: bool = False,
    marks: MarkStore | None = None,
    both_sides: bool = False,
) -> Iterator[RoamApp]:
    """The demo app over a sandbox holding a generated dataset that ends at `end_time` (now):
    `messages` and `seed` as given, else the dataset's own defaults.

    The sandbox runs as a real HTTP server on 127.0.0.1 (a background thread), or with
    `in_process` through a mock transport (no socket; for tests and screenshots). The app
    opens on the first conversation's last `DEFAULT_SPAN` seconds; no credentials are asked.
    Each party holds its own history (`sandbox.sides.demo_plans`) unless `same_sides`.
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
    from roamtui.sandbox.sides import demo_store

    end = int(end_time if end_time is not None else (clock or time.time)())
    given = {"seed": seed, "messages": messages}
    dataset = Dataset(end_time=end, **{k: v for k, v in given.items() if v is not None})
    service = SandboxService(
        dataset if same_sides else demo_store(dataset),
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
            show_endpoint=False,  # its loopback address says nothing; the profile says "demo"
            marks=marks,
            both_sides=both_sides,
        )
    finally:
        if server is not None:
            server.stop()

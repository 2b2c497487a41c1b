"""What a setting is when nobody set it, and the bounds it must keep: each defined once.

The numbers the protocol owns stay in the core and are only read here: the calls per second
(``im.limiter``), the page size and field naming a query gets by default (``im.roam.RoamQuery``),
the window (``history.timeparse.DEFAULT_SPAN``). What only settings need (the
page-size bound) is defined here. The command line's help texts, the profile checks and the
connection resolution all read these names, so a default changes in one place.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, cast

from roamtui.history.timeparse import DEFAULT_SPAN
from roamtui.im.limiter import DEFAULT_RATE, MAX_RATE
from roamtui.im.roam import PARTY_FIELDS, FieldNaming, RoamQuery


def default_of(fn: Callable[..., Any], name: str) -> Any:
    """The default of parameter ``name`` of ``fn`` (a function, a class, a dataclass)."""
    default = inspect.signature(fn).parameters[name].default
    if default is inspect.Parameter.empty:
        raise TypeError(f"{name} of {fn!r} has no default")
    return default


#: Calls per second when none is configured, and the most the service allows the whole app.
DEFAULT_MAX_RPS = int(DEFAULT_RATE)
MAX_RPS = int(MAX_RATE)
#: ``MaxCnt`` asked per call when none is configured.
DEFAULT_PAGE_SIZE: int = default_of(RoamQuery, "page_size")
#: The service documents no MaxCnt maximum; this only catches typos like 10000.
PAGE_SIZE_LIMIT = 1000
#: Request field names when the profile names none, and every naming a profile may choose.
DEFAULT_NAMING = cast(FieldNaming, default_of(RoamQuery, "naming"))
FIELD_NAMINGS: tuple[str, ...] = tuple(PARTY_FIELDS)
#: Days the window reaches back from its end when no start is given (``DEFAULT_SPAN`` seconds,
#: the service's retention), for texts such as ``-7d``.
DEFAULT_WINDOW_DAYS = DEFAULT_SPAN // 86_400
#: The window as the query screen and recent queries write it when nothing was typed.
DEFAULT_SINCE = f"-{DEFAULT_WINDOW_DAYS}d"
DEFAULT_UNTIL = "now"


def empty_window_hint(account: str, peer: str) -> str:
    """What to check when a window holds no message (the service answers an unknown account or
    an expired window with an empty, complete page): said by `roamtui export` and the TUI."""
    return (
        f"no messages in this window; check the spelling of {account!r} and {peer!r} (IDs are "
        "case-sensitive), and that the window lies within the app's history retention "
        f"({DEFAULT_WINDOW_DAYS} days unless extended)"
    )

"""Loop guards of admin_getroammsg paging: every chain, window fetch and timeline must end.

The continuation rule trusts the service to make progress. A repeated cursor or an empty page
is easy to catch, but a broken service can also hand out fresh messages and a fresh, well-formed
cursor on every page while never leaving one second, or leave it by one second a page: each
page looks right, and the fetch never ends (1,471 calls in 30 s, memory growing). Nothing on one
page tells that apart from honest data, so the guards bound what honest data can need:

* Inside one second: a real one-to-one conversation cannot hold thousands of messages in one
  second. A chain may spend :func:`inside_cap` pages whose messages all lie in one second: 50
  (5,000 messages at the default MaxCnt of 100), more at a small MaxCnt, so that 5,000
  messages always fit. Replies cut by the 13 KB cap hold fewer, so a second of ~50 messages of
  13 KB each is the documented limit there.
* Per fetch: pages against the seconds they made whole, ``FLOOR_PAGES`` plus
  ``PAGES_PER_SECOND`` for each second known whole. A busy chat averages far below one message a
  second; half a page a second of history is 20-50 messages a second, sustained, and the floor
  lets dense stretches (bursts, small pages) through before the history around them pays.

Each stop is one line that says what happened and that roamtui stopped; what was fetched before
stays with the caller (``on_page``, the timeline's segments).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from roamtui.im.errors import ProtocolError

if TYPE_CHECKING:
    from roamtui.im.roam import Cursor, Page

#: Pages of one chain that may lie wholly inside one second, at the least.
SECOND_PAGES = 50
#: Messages one second may hold before its chain is stopped (pages = this / MaxCnt).
SECOND_MESSAGES = 5_000
#: Pages a fetch may spend before the seconds it made whole have to pay for them.
FLOOR_PAGES = 1_000
#: Pages a fetch may spend per second of history it made whole, on average.
PAGES_PER_SECOND = 0.5

_BROKEN = "stopped — the service's paging looks broken"


def inside_cap(page_size: int) -> int:
    """Pages a chain may spend inside one second at ``MaxCnt = page_size``."""
    return max(SECOND_PAGES, math.ceil(SECOND_MESSAGES / page_size))


def page_cap(covered: int) -> int:
    """Pages a fetch may spend once ``covered`` seconds are known whole."""
    return FLOOR_PAGES + math.floor(PAGES_PER_SECOND * max(0, covered))


def _second(t: int) -> str:
    try:
        return f"{dt.datetime.fromtimestamp(t, dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
    except (OverflowError, OSError, ValueError):
        return f"@{t}"


class PagingGuard:
    """The budgets of one fetch, shared by all its chains (or by all a timeline's loads).

    Call :meth:`count_call` before each call (or as each page lands, when another loop makes
    the calls) and :meth:`after_page` with each page that came back; both raise ProtocolError
    when the service's paging cannot be honest.
    """

    __slots__ = ("_inside", "_inside_cap", "pages")

    def __init__(self, page_size: int) -> None:
        self._inside_cap = inside_cap(page_size)
        # Pages spent inside the second of each cursor by the chain that reached it.
        self._inside: dict[Cursor, int] = {}
        self.pages = 0

    def count_call(self, covered: int) -> None:
        """Count one call; refuse it past :func:`page_cap` of the seconds known whole."""
        cap = page_cap(covered)
        if self.pages >= cap:
            raise ProtocolError(
                f"admin_getroammsg kept paging: {self.pages:,} pages for {covered:,} seconds "
                f"of history fetched whole (at most {FLOOR_PAGES:,} + {PAGES_PER_SECOND:g} a "
                f"second); {_BROKEN}"
            )
        self.pages += 1

    def after_page(self, after: Cursor | None, page: Page) -> None:
        """A page that continued ``after`` (None: a chain's first page) came back."""
        below = page.next
        if page.complete or below is None:
            return
        if below == after:
            raise ProtocolError(
                "admin_getroammsg repeated a continuation cursor "
                f"(LastMsgTime {below.max_time}); stopped instead of looping"
            )
        messages = page.messages
        # The cursor is the oldest message (parse_page): the page lies inside its second when
        # the newest one does too.
        if not messages or messages[-1].time != below.max_time:
            return
        spent = 1
        if after is not None and after.max_time == below.max_time:
            spent += self._inside.get(after, 0)
        if spent > self._inside_cap:
            raise ProtocolError(
                f"admin_getroammsg kept paging inside second {_second(below.max_time)} "
                f"({spent} pages); {_BROKEN}"
            )
        self._inside[below] = spent


class ChainGuard:
    """One chain's own checks (a repeated cursor, an empty or stale page while Complete stays
    0) over the budgets of the fetch it belongs to."""

    __slots__ = ("_budget", "_cursors", "_last")

    def __init__(self, start: Cursor | None, budget: PagingGuard) -> None:
        self._cursors: set[Cursor] = set() if start is None else {start}
        self._last = start
        self._budget = budget

    def count_call(self, covered: int) -> None:
        self._budget.count_call(covered)

    def check(self, page: Page, fresh: int) -> Cursor | None:
        """Where the chain goes on (None: done), or ProtocolError instead of looping."""
        if page.complete or page.next is None:
            return None
        if not page.messages:
            raise ProtocolError(
                "admin_getroammsg returned an empty page while Complete stays 0; "
                "stopped instead of asking again forever"
            )
        if page.next in self._cursors:
            raise ProtocolError(
                "admin_getroammsg repeated a continuation cursor "
                f"(LastMsgTime {page.next.max_time}); stopped instead of looping"
            )
        if fresh == 0:
            raise ProtocolError(
                "admin_getroammsg returned only messages already seen while Complete stays 0; "
                "stopped instead of looping"
            )
        self._budget.after_page(self._last, page)
        self._cursors.add(page.next)
        self._last = page.next
        return page.next

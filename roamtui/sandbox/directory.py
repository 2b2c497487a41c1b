"""The sandbox's ``v4/profile/portrait_get`` and ``v4/recentcontact/get_list`` over a Directory.

:class:`DirectoryApi` answers the body of one call (the service checks the URL, the UserSig, the
quota and injects faults first, as for admin_getroammsg). What it does is what
``docs/profile-and-contacts.md`` relies on:

* portrait_get: ``To_Account`` 1..100 UserIDs and a ``TagList``; one ``UserProfileItem`` per
  account in the order asked, ``ResultCode`` 0 with the nickname (``""`` when none is set),
  40003 for an account that does not exist (or, with ``unknown_fails_request``, the whole
  request fails with ErrorCode 40003: the documentation allows both readings), 40006 for an
  account the directory marks flaky; ``Fail_Account`` lists the failed ones.
* get_list: the account's conversations newest first, pinned ones first when ``AssistFlags``
  bit 0 asks for them (paged apart with bit 2), empty conversations only with bit 1; pages of
  ``page_size`` items continued with the four cursors the previous reply returned
  (``TimeStamp``/``StartIndex`` for ordinary, ``TopTimeStamp``/``TopStartIndex`` for pinned
  conversations: the last item's time and how many items of that time were returned);
  ``CompleteFlag`` 1 on the last page.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from roamtui.sandbox.people import Directory, Session

PORTRAIT_PATH = "/v4/profile/portrait_get"
CONTACTS_PATH = "/v4/recentcontact/get_list"
MAX_PROFILE_ACCOUNTS = 100
DEFAULT_CONTACTS_PAGE = 100
NICK_TAG = "Tag_Profile_IM_Nick"
PINNED, EMPTY, PINNED_PAGES = 1, 2, 4  # AssistFlags bits

Cursor = tuple[int, int]  # (time of the last item returned, items of that time returned)


class ApiError(Exception):
    """A failed call: the service answers ``ActionStatus FAIL`` with this code and info."""

    def __init__(self, code: int, info: str) -> None:
        super().__init__(code, info)
        self.code, self.info = code, info


def _ok(fields: Mapping[str, Any]) -> bytes:
    doc = {**fields, "ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "ErrorDisplay": ""}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _whole(doc: Mapping[str, Any], name: str, code: int) -> int:
    value = doc.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiError(code, f"{name} is missing or not a non-negative integer")
    return value


class DirectoryApi:
    """The two APIs over one :class:`Directory`. Thread-safe (the flaky counters are locked)."""

    def __init__(
        self,
        directory: Directory,
        *,
        page_size: int = DEFAULT_CONTACTS_PAGE,
        unknown_fails_request: bool = False,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.directory = directory
        self.page_size = page_size
        self.unknown_fails_request = unknown_fails_request
        self._lock = threading.Lock()
        self.handlers: Mapping[str, Callable[[dict[str, Any]], bytes]] = {
            PORTRAIT_PATH: self.portrait_get,
            CONTACTS_PATH: self.get_list,
        }

    # -- portrait_get -----------------------------------------------------------------------

    def portrait_get(self, doc: dict[str, Any]) -> bytes:
        accounts = doc.get("To_Account")
        if accounts is None:
            raise ApiError(40002, "To_Account is missing")
        if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
            raise ApiError(40001, "To_Account must be an array of UserIDs")
        if not 1 <= len(accounts) <= MAX_PROFILE_ACCOUNTS:
            raise ApiError(40001, f"To_Account must hold 1 to {MAX_PROFILE_ACCOUNTS} accounts")
        tags = doc.get("TagList")
        if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
            raise ApiError(40001, "TagList must be a non-empty array of tags")
        unknown_tag = next((t for t in tags if not t.startswith("Tag_Profile_")), None)
        if unknown_tag is not None:
            raise ApiError(40009, f"the tag {unknown_tag[:40]} does not exist")
        found = self.directory
        missing = [a for a in accounts if not found.exists(a)]
        if missing and self.unknown_fails_request:
            raise ApiError(40003, f"account {missing[0][:40]} does not exist")
        items = [self._profile_item(account, tags) for account in accounts]
        failed = [item["To_Account"] for item in items if item["ResultCode"]]
        fields: dict[str, Any] = {"UserProfileItem": items}
        if failed:
            fields["Fail_Account"] = failed
        return _ok(fields)

    def _profile_item(self, account: str, tags: Sequence[str]) -> dict[str, Any]:
        if not self.directory.exists(account):
            return {"To_Account": account, "ResultCode": 40003,
                    "ResultInfo": "Err_Profile_Account_Not_Exist"}
        with self._lock:
            left = self.directory.flaky.get(account, 0)
            if left:
                self.directory.flaky[account] = left - 1
        if left:
            return {"To_Account": account, "ResultCode": 40006,
                    "ResultInfo": "Err_Profile_PortraitGet_Read_Custom_Data_Fail"}
        profile = [{"Tag": NICK_TAG, "Value": self.directory.nicknames.get(account, "")}]
        return {"To_Account": account, "ProfileItem": [p for p in profile if p["Tag"] in tags],
                "ResultCode": 0, "ResultInfo": ""}

    # -- recentcontact/get_list -------------------------------------------------------------

    def get_list(self, doc: dict[str, Any]) -> bytes:
        account = doc.get("From_Account")
        if not isinstance(account, str) or not account:
            raise ApiError(50002, "From_Account is missing or not a string")
        general: Cursor = (_whole(doc, "TimeStamp", 50002), _whole(doc, "StartIndex", 50002))
        top: Cursor = (_whole(doc, "TopTimeStamp", 50002), _whole(doc, "TopStartIndex", 50002))
        flags = _whole(doc, "AssistFlags", 50002)
        if not self.directory.exists(account):
            raise ApiError(50001, f"From_Account {account[:40]} is not imported")
        sessions = self.directory.sessions_of(account)
        if not flags & EMPTY:
            sessions = [s for s in sessions if s.msg_time]
        pinned = _newest_first(s for s in sessions if s.pinned and flags & PINNED)
        ordinary = _newest_first(s for s in sessions if not (s.pinned and flags & PINNED))
        room = self.page_size
        page: list[Session] = []
        if flags & PINNED_PAGES or top == (0, 0):
            taken, top = _take(pinned, top, room if flags & PINNED_PAGES else len(pinned))
            page += taken
            room -= len(taken)
        pinned_done = _start(pinned, top) >= len(pinned) or not flags & PINNED_PAGES
        if pinned_done and room > 0:
            taken, general = _take(ordinary, general, room)
            page += taken
        complete = pinned_done and _start(ordinary, general) >= len(ordinary)
        return _ok({
            "SessionItem": [_item(s) for s in page],
            "CompleteFlag": int(complete),
            "TimeStamp": general[0], "StartIndex": general[1],
            "TopTimeStamp": top[0], "TopStartIndex": top[1],
        })


def _newest_first(sessions: Any) -> list[Session]:
    return sorted(sessions, key=lambda s: (-s.msg_time, s.group or s.peer))


def _start(items: Sequence[Session], cursor: Cursor) -> int:
    """Where a page continuing ``cursor`` starts in ``items`` (newest first)."""
    stamp, done = cursor
    if cursor == (0, 0):
        return 0
    newer = sum(1 for s in items if s.msg_time > stamp)
    return newer + done


def _take(items: Sequence[Session], cursor: Cursor, room: int) -> tuple[list[Session], Cursor]:
    """Up to ``room`` items after ``cursor``, and the cursor after them."""
    start = _start(items, cursor)
    taken = list(items[start : start + room])
    if not taken:
        return taken, cursor
    last = taken[-1].msg_time
    same = sum(1 for s in items[: start + len(taken)] if s.msg_time == last)
    return taken, (last, same)


def _item(session: Session) -> dict[str, Any]:
    item: dict[str, Any] = {"Type": session.kind}
    if session.group:
        item["GroupId"] = session.group
    else:
        item["To_Account"] = session.peer
    item["MsgTime"] = session.msg_time
    item["TopFlag"] = int(session.pinned)
    return item

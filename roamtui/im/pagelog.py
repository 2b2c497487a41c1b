"""What each call of a window fetch showed, kept so that anyone can later see how the window was
covered (the evidence bundle's manifest lists these records; :mod:`roamtui.export.manifest`).

:func:`roamtui.im.roam.fetch_window` hands one :class:`PageRecord` per call that returned a page
to its ``on_record`` observer, in the order the replies landed. A record holds the request body
as sent (it never holds a secret: the UserSig and the SDKAppID travel in the URL), what the reply
said about paging (``Complete``, ``MsgCnt``, ``LastMsgTime``, ``LastMsgKey``), how many HTTP
attempts the call took, and which messages bounded the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from roamtui.im.model import Message


@dataclass(frozen=True, slots=True)
class PageRecord:
    """One call that returned a page."""

    request: Mapping[str, Any]  # the JSON body sent
    complete: bool  # the reply's Complete
    msg_cnt: int | None  # the reply's MsgCnt (None when it had none)
    last_msg_time: int | None  # LastMsgTime when Complete is 0, else None
    last_msg_key: str | None  # LastMsgKey when Complete is 0, else None
    attempts: int | None  # HTTP attempts the call took (None when the client does not say)
    messages: int  # in the reply's MsgList
    new: int  # of those, not returned by an earlier call of the same fetch
    first_key: str  # MsgList[0]'s MsgKey ("" for an empty page)
    last_key: str  # MsgList[-1]'s MsgKey

    def as_json(self) -> dict[str, Any]:
        """The record as the manifest writes it (reply fields under the service's names)."""
        return {
            "request": dict(self.request),
            "reply": {"Complete": int(self.complete), "MsgCnt": self.msg_cnt,
                      "LastMsgTime": self.last_msg_time, "LastMsgKey": self.last_msg_key},
            "attempts": self.attempts,
            "messages": self.messages,
            "new": self.new,
            "first_key": self.first_key,
            "last_key": self.last_key,
        }


def page_record(
    body: Mapping[str, Any],
    messages: tuple[Message, ...],
    complete: bool,
    last: tuple[int, str] | None,
    msg_cnt: int | None,
    attempts: int | None,
    new: int,
) -> PageRecord:
    """The record of one call: its body, the reply's paging fields, and its bounding messages."""
    return PageRecord(
        request=dict(body), complete=complete, msg_cnt=msg_cnt,
        last_msg_time=None if last is None else last[0],
        last_msg_key=None if last is None else last[1],
        attempts=attempts, messages=len(messages), new=new,
        first_key=messages[0].key if messages else "",
        last_key=messages[-1].key if messages else "",
    )

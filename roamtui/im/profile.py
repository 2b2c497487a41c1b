"""v4/profile/portrait_get: nicknames, looked up in batches of at most 100 and kept for the run.

The call goes through the same :class:`~roamtui.im.client.ImClient` as admin_getroammsg (its
limiter, deadline, retries, re-signing and redaction); only the body and the reply differ
(``docs/profile-and-contacts.md`` says what we rely on and what the documentation leaves open).

A nickname is a courtesy, never a condition: an account without a profile, an account the
service does not know, or one the reply leaves out is simply shown by its ID. The documentation
says every account of a request must exist, and does not say whether one unknown account fails
the whole request (``ErrorCode`` 40003) or only its own item (``ResultCode``): both are read.
A whole batch refused for an unknown account is split in halves until the unknown accounts are
alone, so one of them costs a few calls, not the other 99 nicknames. An account whose item
carries a code that says "try again" (40006) is asked once more in a later call.

Nicknames are untrusted text (any user may set their own): nothing here makes them safe for a
destination; every caller shows them through :mod:`roamtui.text` as it shows message text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from roamtui.im.errors import Action, ProtocolError, ServiceError, spec_for
from roamtui.im.roam import RoamCaller

API = "v4/profile/portrait_get"
NICK_TAG = "Tag_Profile_IM_Nick"
#: Accounts per call: "不得超过100" (no more than 100), or the reply may fail for its size.
MAX_BATCH = 100
#: Batches in flight at once; the shared limiter bounds the rate anyway.
CONCURRENCY = 4
#: Codes that mean "this account has no profile to read" (whole reply or one item).
MISSING_CODES = frozenset({40003, 70107, 20003, 50001})
#: The item's code when the reply did not mention an account that was asked for.
NOT_RETURNED = -1
#: Characters of a nickname kept (the service's own limit is not documented for reading).
MAX_NICK = 500
#: Bytes of a UserID (the service's documented limit); longer ones are never asked for.
MAX_ACCOUNT_BYTES = 128


@dataclass(frozen=True, slots=True)
class Profile:
    """One account's nickname as read (``""`` when none is set or it could not be read)."""

    account: str
    nickname: str = ""
    code: int = 0  # the item's ResultCode; NOT_RETURNED when the reply left it out
    info: str = ""  # the item's ResultInfo (service text: untrusted, one line)

    @property
    def found(self) -> bool:
        return self.code == 0


def party_label(nickname: str, account: str) -> str:
    """``nickname (account)``, or the account alone when there is no nickname (or it is the
    account itself). Both parts are untrusted: the caller sanitises the result."""
    nickname = nickname.strip()
    if not nickname or nickname == account:
        return account
    return f"{nickname} ({account})"


def build_body(accounts: Sequence[str]) -> dict[str, Any]:
    if not 1 <= len(accounts) <= MAX_BATCH:
        raise ValueError(f"portrait_get takes 1 to {MAX_BATCH} accounts, not {len(accounts)}")
    return {"To_Account": list(accounts), "TagList": [NICK_TAG]}


def _bad(what: str) -> ProtocolError:
    return ProtocolError(f"malformed portrait_get reply: {what}")


def _nickname(items: object) -> str:
    """The Tag_Profile_IM_Nick value of a ProfileItem list ("" when absent or not text)."""
    if not isinstance(items, list):
        return ""
    for item in items:
        if isinstance(item, dict) and item.get("Tag") == NICK_TAG:
            value = item.get("Value")
            return value[:MAX_NICK] if isinstance(value, str) else ""
    return ""


def _code(value: object) -> int:
    if value is None:
        return 0  # items of older samples carry no ResultCode when they succeed
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad("a ResultCode is not an integer")
    return value


def parse_reply(reply: object, asked: Sequence[str]) -> dict[str, Profile]:
    """Every asked account's Profile from one OK reply (ProtocolError when it cannot be read).

    An item for an account that was not asked for is refused: the reply is not for this request.
    """
    if not isinstance(reply, dict):
        raise _bad(f"the reply is a {type(reply).__name__}, not an object")
    items = reply.get("UserProfileItem", [])
    if not isinstance(items, list):
        raise _bad("UserProfileItem is not a list")
    wanted = set(asked)
    found: dict[str, Profile] = {}
    for item in items:
        if not isinstance(item, dict):
            raise _bad("an item of UserProfileItem is not an object")
        account = item.get("To_Account")
        if not isinstance(account, str) or account not in wanted:
            raise _bad("an item names an account that was not asked for")
        if account in found:
            continue  # the first answer for an account stands
        info = item.get("ResultInfo")
        found[account] = Profile(
            account,
            _nickname(item.get("ProfileItem")),
            _code(item.get("ResultCode")),
            info[:200] if isinstance(info, str) else "",
        )
    for account in asked:
        found.setdefault(account, Profile(account, "", NOT_RETURNED, "not in the reply"))
    return found


def _askable(account: object) -> bool:
    return (
        isinstance(account, str)
        and bool(account)
        and len(account.encode("utf-8", "surrogatepass")) <= MAX_ACCOUNT_BYTES
    )


async def _batch(client: RoamCaller, batch: Sequence[str]) -> dict[str, Profile]:
    """One batch; a whole batch refused for an unknown account is split until it is alone."""
    try:
        reply = await client.call(API, build_body(batch))
    except ServiceError as exc:
        if exc.code not in MISSING_CODES:
            raise
        if len(batch) == 1:
            return {batch[0]: Profile(batch[0], "", exc.code, exc.info)}
        half = len(batch) // 2
        first = await _batch(client, batch[:half])
        return first | await _batch(client, batch[half:])
    return parse_reply(reply, batch)


def _transient(profile: Profile) -> bool:
    return profile.code > 0 and spec_for(profile.code).action is Action.RETRY


async def fetch_profiles(
    client: RoamCaller, accounts: Iterable[str], *, concurrency: int = CONCURRENCY
) -> dict[str, Profile]:
    """The Profile of every distinct account, in batches of at most :data:`MAX_BATCH`.

    Accounts that cannot be UserIDs (empty, over 128 bytes) are not asked for and come back as
    not found. Items that failed with a code that says "try again" are asked once more. A
    failure of the call itself (transport, credentials, quota) is raised as its RoamError.
    """
    unique = list(dict.fromkeys(accounts))
    out = {a: Profile(a, "", 40003, "not a UserID") for a in unique if not _askable(a)}
    ask = [a for a in unique if a not in out]
    gate = asyncio.Semaphore(max(1, concurrency))

    async def run(batch: Sequence[str]) -> dict[str, Profile]:
        async with gate:
            return await _batch(client, batch)

    for attempt in range(2):
        batches = [ask[i : i + MAX_BATCH] for i in range(0, len(ask), MAX_BATCH)]
        for result in await asyncio.gather(*(run(b) for b in batches)):
            out.update(result)
        ask = [a for a in ask if _transient(out[a])] if attempt == 0 else []
        if not ask:
            break
    return out


class Nicknames:
    """Nicknames looked up once for the run and kept (per client: one connection's app).

    :meth:`resolve` asks only for accounts it does not know yet (and not already being asked
    for by another caller); :meth:`nickname` and :meth:`party` read what is known without a
    call. A failed lookup is not kept, so a later :meth:`resolve` tries again.
    """

    def __init__(self, client: RoamCaller) -> None:
        self._client = client
        self._known: dict[str, Profile] = {}
        self._pending: dict[str, asyncio.Future[None]] = {}

    def __contains__(self, account: object) -> bool:
        return account in self._known

    def profile(self, account: str) -> Profile | None:
        return self._known.get(account)

    def nickname(self, account: str) -> str:
        known = self._known.get(account)
        return known.nickname if known is not None else ""

    def party(self, account: str) -> str:
        """``nickname (account)`` when the nickname is known, else the account (untrusted)."""
        return party_label(self.nickname(account), account)

    def names(self, accounts: Iterable[str]) -> dict[str, str]:
        """account -> nickname for the given accounts whose nickname is known and not empty."""
        return {a: n for a in accounts if (n := self.nickname(a))}

    async def resolve(self, accounts: Iterable[str]) -> Mapping[str, Profile]:
        """The profiles of ``accounts``, looked up if not known (a RoamError if the call
        fails; the accounts are then still unknown)."""
        wanted = list(dict.fromkeys(accounts))
        ask = [a for a in wanted if a not in self._known and a not in self._pending]
        waits = [self._pending[a] for a in wanted if a in self._pending]
        if ask:
            loop = asyncio.get_running_loop()
            mine = {a: loop.create_future() for a in ask}
            self._pending.update(mine)
            try:
                self._known.update(await fetch_profiles(self._client, ask))
            finally:
                for account, future in mine.items():
                    self._pending.pop(account, None)
                    if not future.done():
                        future.set_result(None)  # waiters see it unknown, never our error
        if waits:
            await asyncio.gather(*waits)
        return {a: self._known[a] for a in wanted if a in self._known}

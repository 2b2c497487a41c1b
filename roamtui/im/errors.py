"""Every error code the IM REST API may answer with: meaning, advice and what the client does.

Codes and classes follow reference/tim-api.md §1.8 and §3; the advice is written for a support
agent who has to decide what to do next. The exception types are the only ones the core raises;
their text is always one redacted line.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from roamtui.im.redact import safe_text


class Action(enum.Enum):
    """What the client does when a reply carries the code."""

    RETRY = "retry"  # bounded exponential backoff with jitter
    RESIGN = "resign"  # sign a fresh UserSig once and try again, then stop
    STOP = "stop"  # report it; retrying cannot help


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    code: int
    meaning: str
    advice: str
    action: Action


_R, _S, _X = Action.RETRY, Action.RESIGN, Action.STOP
_BUG = "roamtui sent a request the service could not read; report it with --debug output"
_BUSY = "the service is busy; roamtui retries by itself, try again in a minute if it persists"
_INTERNAL = "temporary fault on the service side; roamtui retries, try again later if it persists"
_RESIGNED = (
    "the UserSig was rejected even after re-signing; check the secret key belongs to this "
    "SDKAppID and that this machine's clock is right"
)
_ADMIN = "use an App admin account as identifier (IM console > App admin)"
_NOT_READ = "not expected for a read-only query; report it with --debug output"
_MISSING = "check the spelling of the account ID (case-sensitive) and that it exists in this app"
_NO_PROFILE = "nicknames are shown as account IDs; allow the admin to read Tag_Profile_IM_Nick"

_TABLE: tuple[tuple[int, str, str, Action], ...] = (
    # §3.1 REST public codes
    (60002, "HTTP request could not be parsed", "check the endpoint URL for typos", _X),
    (60003, "request JSON could not be parsed", _BUG, _X),
    (60004, "identifier or UserSig in the URL is wrong", _RESIGNED, _S),
    (60005, "identifier or UserSig in the request is wrong", _RESIGNED, _S),
    (
        60006,
        "SDKAppID is invalid",
        "check the SDKAppID in the profile against the IM console",
        _X,
    ),
    (60007, "REST call frequency limit exceeded", "lower --max-rps; " + _BUSY, _R),
    (60008, "service timeout or bad HTTP format", _INTERNAL, _R),
    (60009, "unknown API path", "check the endpoint URL; it must be the bare REST domain", _X),
    (60010, "identifier is not an App admin", _ADMIN, _X),
    (60011, "SDKAppID request frequency limit exceeded", "lower --max-rps; " + _BUSY, _R),
    (60012, "sdkappid missing from the URL", _BUG, _X),
    (60013, "service could not parse its own reply", _INTERNAL, _R),
    (60014, "account exchange timed out", _INTERNAL, _R),
    (60015, "identifier must be a string", "check the admin identifier in the profile", _X),
    (60016, "SDKAppID is disabled", "contact Tencent Cloud support to re-enable the app", _X),
    (60017, "request is disabled for this app", "contact Tencent Cloud support", _X),
    (60018, "too many requests", "lower --max-rps; " + _BUSY, _R),
    (60019, "too many requests", "lower --max-rps; " + _BUSY, _R),
    (
        60020,
        "no valid package or the Pro package expired",
        "renew the IM package in the console (a new purchase takes about 5 minutes)",
        _X,
    ),
    (
        60021,
        "caller IP is not allowed by the REST IP whitelist",
        "add this machine's public IP to the app's REST API whitelist",
        _X,
    ),
    (80001, "text content security hit", _NOT_READ, _X),
    (80002, "message body too long", _NOT_READ, _X),
    # §3.2 account and UserSig codes
    (70001, "UserSig expired", _RESIGNED, _S),
    (
        70002,
        "UserSig is empty",
        "give a secret key (ROAMTUI_SECRET_KEY or `roamtui login`) or a UserSig",
        _X,
    ),
    (70003, "UserSig check failed (truncated)", _RESIGNED, _S),
    (70005, "UserSig check failed", _RESIGNED, _S),
    (
        70009,
        "UserSig does not verify: the secret key is not this SDKAppID's",
        "copy the secret key of this exact SDKAppID from the IM console and log in again",
        _X,
    ),
    (
        70013,
        "identifier differs from the one inside the UserSig",
        "make the UserSig for the admin identifier of the profile",
        _X,
    ),
    (
        70014,
        "SDKAppID differs from the one inside the UserSig",
        "make the UserSig for this SDKAppID",
        _X,
    ),
    (
        70016,
        "no key found for this app",
        "check the SDKAppID and that the app uses a secret key (TLSSigAPIv2)",
        _X,
    ),
    (
        70020,
        "SDKAppID not found",
        "check the SDKAppID and that the region/endpoint is the one the app was created in",
        _X,
    ),
    (
        70050,
        "locked out after too many failed attempts",
        "wait at least one minute before trying again, and fix the credentials first",
        _X,
    ),
    (70051, "account is blacklisted", "use another admin account or contact support", _X),
    (70052, "UserSig was invalidated", _RESIGNED, _S),
    (
        70107,
        "the requested account does not exist",
        "check the spelling of the account IDs (they are case-sensitive)",
        _X,
    ),
    (70114, "restricted for security reasons", "contact Tencent Cloud support", _X),
    (70169, "internal timeout", _INTERNAL, _R),
    (70206, "invalid batch count", _BUG, _X),
    (70398, "account count over the free-tier limit", _NOT_READ, _X),
    (70402, "invalid parameters", "check the accounts and the time window", _X),
    (70403, "the request needs an App admin", _ADMIN, _X),
    (70500, "internal error", _INTERNAL, _R),
    # §1.8 admin_getroammsg codes
    (90001, "request body JSON could not be parsed", _BUG, _X),
    (
        90003,
        "To_Account (peer) missing or not a string",
        "give the peer account; if the profile uses api_fields, try the other naming",
        _X,
    ),
    (
        90008,
        "From_Account (account) missing or the account does not exist",
        "check the account ID (case-sensitive) and that it was imported into this app",
        _X,
    ),
    (90009, "the request needs App admin permission", _ADMIN, _X),
    (91000, "internal service error", _INTERNAL, _R),
    # §3.3 message-service codes that may appear
    (90992, "internal error", _INTERNAL, _R),
    (90994, "internal error", _INTERNAL, _R),
    (90995, "internal error", _INTERNAL, _R),
    (
        20003,
        "identifier is invalid or was never imported",
        "check the account IDs and that they exist in this app",
        _X,
    ),
    (20004, "network error inside the service", _INTERNAL, _R),
    (20005, "internal service error", _INTERNAL, _R),
    (10002, "internal service error", _INTERNAL, _R),
    # v4/profile/portrait_get (docs/profile-and-contacts.md); per account in ResultCode too
    (40001, "profile request could not be read", _BUG, _X),
    (40002, "profile request without To_Account", _BUG, _X),
    (40003, "the account does not exist (profile)", _MISSING, _X),
    (40004, "the profile request needs an App admin", _ADMIN, _X),
    (40006, "profile service internal error", _INTERNAL, _R),
    (40007, "no permission to read these profile fields", _NO_PROFILE, _X),
    (40009, "the profile field (Tag) does not exist", _BUG, _X),
    # v4/recentcontact/get_list
    (50001, "the account was never imported (conversation list)", _MISSING, _X),
    (50002, "conversation list request parameters are wrong", _BUG, _X),
    (50003, "the conversation list needs an App admin", _ADMIN, _X),
    (50004, "conversation list internal error", _INTERNAL, _R),
    (50005, "conversation list network timeout", _INTERNAL, _R),
)

#: Codes that say the credentials themselves were refused (after the one re-signing): asking
#: the user for the secret again can help; retrying with the same one cannot.
CREDENTIAL_CODES: frozenset[int] = frozenset(
    {60004, 60005, 70001, 70002, 70003, 70005, 70009, 70013, 70014, 70052}
)

ERRORS: Mapping[int, ErrorSpec] = MappingProxyType(
    {code: ErrorSpec(code, meaning, advice, action) for code, meaning, advice, action in _TABLE}
)


def spec_for(code: int) -> ErrorSpec:
    """The spec of ``code``; a code nobody documented is reported, not retried."""
    spec = ERRORS.get(code)
    if spec is not None:
        return spec
    return ErrorSpec(
        code,
        "undocumented error",
        "look the code up in the Tencent Cloud IM error code list; try again later if it persists",
        Action.STOP,
    )


class RoamError(Exception):
    """Base of every error the core raises; ``str()`` is one redacted line."""

    def __init__(self, message: str) -> None:
        self.message = safe_text(message)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class ServiceError(RoamError):
    """The service answered with a non-zero ``ErrorCode``."""

    def __init__(
        self,
        code: int,
        info: str = "",
        *,
        advice: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.code = code
        self.spec = spec_for(code)
        self.info = safe_text(info, limit=200)
        self.attempts = attempts
        text = f"{code} {self.spec.meaning} — {advice or self.spec.advice}"
        if self.info and self.info.casefold() != self.spec.meaning.casefold():
            text += f' (service said: "{self.info}")'
        if attempts > 1:
            text += f" [gave up after {attempts} attempts]"
        super().__init__(text)

    @property
    def action(self) -> Action:
        return self.spec.action

    @property
    def missing_account(self) -> bool:
        """The service says an account of the query does not exist (a typo, most likely)."""
        return self.code in (70107, 90008)


class TransportError(RoamError):
    """HTTP 5xx, timeouts, connection failures or unreadable bodies, after the retries."""

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        self.attempts = attempts
        if attempts > 1:
            message += f" [gave up after {attempts} attempts]"
        super().__init__(message)


class ProtocolError(RoamError):
    """A reply that does not follow the protocol (missing fields, repeating cursor, ...)."""

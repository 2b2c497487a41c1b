"""Where to connect and with which secret: the one connection type, and the one function that
reads it from the command line.

:class:`Resolved` carries a connection from the command line (:func:`resolve_connection`) or
from the caller (:meth:`Resolved.given`: the demo, tests) through the app to the client
(:meth:`Resolved.client`) and into every query (:meth:`Resolved.query`). The TUI asks for a
missing or refused secret and goes on with :meth:`Resolved.with_secret`.

Precedence, field by field: command-line flags, then ``ROAMTUI_*`` environment variables, then the
profile, then the built-in defaults. The profile is the one named by ``--profile``; without it the
config's default profile is used unless a flag or variable names a connection itself (endpoint,
SDKAppID or identifier), in which case no profile is involved.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, cast

from roamtui.history.timeparse import TimeParseError, resolve_zone
from roamtui.im.client import REGIONS, ClientEvent, Connection, ImClient, endpoint_for
from roamtui.im.limiter import RateLimiter
from roamtui.im.roam import FieldNaming, RoamQuery
from roamtui.im.sharing import SharedSpec
from roamtui.settings.config import Config, ConfigError, Profile, load_config
from roamtui.settings.credentials import (
    CredentialError,
    CredentialStore,
    SecretKind,
    SecretSource,
    resolve_secret,
)
from roamtui.settings.defaults import (
    DEFAULT_MAX_RPS,
    DEFAULT_NAMING,
    DEFAULT_PAGE_SIZE,
    FIELD_NAMINGS,
    MAX_RPS,
    PAGE_SIZE_LIMIT,
)
from roamtui.settings.rate_store import (
    DEFAULT_RATE_STORE,
    ENV_RATE_STORE,
    PROCESS,
    shared_spec,
    validate_rate_store,
)
from roamtui.settings.rate_store import (
    describe as describe_store,
)

if TYPE_CHECKING:
    import httpx

ENV_ENDPOINT = "ROAMTUI_ENDPOINT"
ENV_SDKAPPID = "ROAMTUI_SDKAPPID"
ENV_IDENTIFIER = "ROAMTUI_IDENTIFIER"

#: Why a connection given without a secret has none.
NO_SECRET_GIVEN = "no secret key or UserSig was given"


class ConnectionConfigError(ConfigError):
    """A connection setting that cannot be used; ``str()`` is one line naming where it came from."""


class NoConnectionGiven(ConnectionConfigError):
    """Neither flags, environment nor a default profile say where to connect."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """Everything needed to talk to the service, wherever it came from. Its repr never shows a
    secret."""

    connection: Connection
    profile_name: str | None
    naming: FieldNaming
    #: IANA zone name, or None for the machine's own zone.
    tz: str | None
    max_rps: int
    page_size: int
    #: Why no secret was found (the TUI prompts with it; other commands report it and stop).
    missing_secret: str | None = None
    secret_source: SecretSource | None = field(default=None)
    #: "local", "process" or a Redis URL, and the budgets it means (None: in-process).
    rate_store: str = PROCESS
    share: SharedSpec | None = None

    def __repr__(self) -> str:
        c = self.connection
        return (
            f"Resolved(endpoint={c.endpoint!r}, sdkappid={c.sdkappid}, "
            f"identifier={c.identifier!r}, profile={self.profile_name!r}, naming={self.naming!r}, "
            f"tz={self.tz!r}, max_rps={self.max_rps}, page_size={self.page_size}, "
            f"rate_store={describe_store(self.rate_store)!r}, "
            f"secret={self.secret_source or 'missing'})"
        )

    __str__ = __repr__

    @classmethod
    def given(
        cls,
        connection: Connection,
        *,
        profile_name: str | None = None,
        naming: FieldNaming = DEFAULT_NAMING,
        tz: str | None = None,
        max_rps: int = DEFAULT_MAX_RPS,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Resolved:
        """A connection given directly (the demo, tests), as resolve_connection would carry it."""
        has_secret = bool(connection.secret_key or connection.usersig)
        return cls(
            connection=connection,
            profile_name=profile_name,
            naming=naming,
            tz=tz,
            max_rps=max_rps,
            page_size=page_size,
            missing_secret=None if has_secret else NO_SECRET_GIVEN,
            secret_source="given" if has_secret else None,
        )

    def client(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        on_event: Callable[[ClientEvent], None] | None = None,
        limiter: RateLimiter | None = None,
    ) -> ImClient:
        """A client for this connection, at this rate, on the process-wide limiter drawing from
        this connection's shared budget; ``on_event`` hears of each retry while a call goes on.
        ``limiter`` replaces the process-wide one (set to this rate and budget): an app of its
        own, whose back-off an earlier app in the same process never leaves behind."""
        if limiter is not None:
            limiter.rate = self.max_rps
            limiter.share(self.share)
        return ImClient(
            self.connection, max_rps=self.max_rps, transport=transport, on_event=on_event,
            share=self.share, limiter=limiter,
        )

    def query(self, account: str, peer: str, min_time: int, max_time: int) -> RoamQuery:
        """The conversation and window asked with this connection's page size and naming."""
        return RoamQuery(account, peer, min_time, max_time, self.page_size, self.naming)

    def with_secret(self, kind: SecretKind, value: str) -> Resolved:
        """A copy carrying a secret the user typed in; it is kept in memory only."""
        value = value.strip()
        if not value:
            raise CredentialError("missing", "an empty secret was given; nothing to connect with")
        conn = replace(
            self.connection,
            secret_key=value if kind == "secret_key" else None,
            usersig=value if kind == "usersig" else None,
        )
        return replace(self, connection=conn, missing_secret=None, secret_source="prompt")

    def without_secret(self, reason: str) -> Resolved:
        """A copy with no secret, saying why: the service refused the one it carried."""
        conn = replace(self.connection, secret_key=None, usersig=None)
        return replace(self, connection=conn, missing_secret=reason, secret_source=None)

    def require_secret(self) -> Resolved:
        """Self, or CredentialError with the reason when no secret was found."""
        if self.missing_secret is not None:
            raise CredentialError("missing", self.missing_secret)
        return self


@dataclass(frozen=True, slots=True)
class _Layers:
    """One setting as given by flags, environment and profile, for precedence and error texts."""

    flags: argparse.Namespace
    env: Mapping[str, str]
    profile: Profile | None
    profile_where: str

    def pick(self, attr: str, env_name: str | None = None) -> tuple[object, str] | None:
        value = getattr(self.flags, attr, None)
        if value is not None and value != "":
            return value, f"--{attr.replace('_', '-')}"
        if env_name is not None:
            env_value = self.env.get(env_name, "").strip()
            if env_value:
                return env_value, env_name
        if self.profile is not None:
            prof_value = getattr(self.profile, attr)
            if prof_value is not None:
                return prof_value, self.profile_where
        return None


def names_connection(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> bool:
    """True when flags or environment say where to connect without a profile."""
    flags = ("endpoint", "sdkappid", "identifier")
    if any(getattr(args, a, None) not in (None, "") for a in flags):
        return True
    return any(env.get(n, "").strip() for n in (ENV_ENDPOINT, ENV_SDKAPPID, ENV_IDENTIFIER))


def _pick_profile(
    args: argparse.Namespace, env: Mapping[str, str], config: Config | None
) -> Profile | None:
    name = getattr(args, "profile", None)
    if name:
        config = load_config(env=env) if config is None else config
        return config.profile(name)
    if names_connection(args, env):
        return None
    config = load_config(env=env) if config is None else config
    found = config.default_profile()
    if found is None:
        raise NoConnectionGiven(
            "no connection given: create a profile with `roamtui login --profile NAME --sdkappid N "
            "--identifier ADMIN`, or pass --profile NAME, or --endpoint URL --sdkappid N "
            f"--identifier ADMIN (or {ENV_ENDPOINT}, {ENV_SDKAPPID}, {ENV_IDENTIFIER})"
        )
    return found


def _int_in(picked: tuple[object, str] | None, what: str, lo: int, hi: int, default: int) -> int:
    return default if picked is None else parse_bounded_int(picked[0], what, lo, hi, picked[1])


def parse_bounded_int(value: object, what: str, lo: int, hi: int, where: str) -> int:
    """``value`` (int or digits) as an int in ``lo..hi``; ConnectionConfigError otherwise."""
    number = _as_int(value)
    if number is None or not lo <= number <= hi:
        raise ConnectionConfigError(
            f"{what} must be a whole number from {lo} to {hi}, not {value!r} (from {where})"
        )
    return number


def parse_sdkappid(value: object, where: str) -> int:
    number = _as_int(value)
    if number is None or number <= 0:
        raise ConnectionConfigError(
            f"SDKAppID must be a positive whole number, not {value!r} (from {where})"
        )
    return number


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdecimal() and text.isascii() else None


def validate_endpoint(url: str, where: str) -> str:
    """``url`` without a trailing slash, if it is a bare http(s) base URL."""
    try:
        return endpoint_for(None, url)
    except ValueError as exc:
        raise ConnectionConfigError(f"{exc}, not {url!r} (from {where})") from None


def validate_region(region: str, where: str) -> str:
    """The canonical region name (``Silicon Valley`` -> ``silicon-valley``)."""
    name = region.strip().lower().replace("_", "-").replace(" ", "-")
    if name not in REGIONS:
        raise ConnectionConfigError(
            f"unknown region {region!r} (from {where}); known: {', '.join(REGIONS)}"
        )
    return name


def validate_tz(tz: str, where: str) -> str:
    """Accept every zone form the time parser reads (IANA names, UTC, offsets like +08:00)."""
    try:
        resolve_zone(tz)
    except TimeParseError:
        raise ConnectionConfigError(
            f"unknown time zone {tz!r} (from {where}); "
            "use an IANA name such as Asia/Shanghai, UTC, or an offset like +08:00"
        ) from None
    return tz


def _endpoint(layers: _Layers) -> str:
    # The highest layer that says where to connect decides; region and endpoint at once is unclear.
    flags_region = getattr(layers.flags, "region", None) or None
    flags_endpoint = getattr(layers.flags, "endpoint", None) or None
    env_endpoint = layers.env.get(ENV_ENDPOINT, "").strip() or None
    # (region, endpoint, where the region came from, where the endpoint came from)
    candidates: list[tuple[str | None, str | None, str, str]] = [
        (flags_region, flags_endpoint, "--region", "--endpoint"),
        (None, env_endpoint, ENV_ENDPOINT, ENV_ENDPOINT),
    ]
    if layers.profile is not None:
        p = layers.profile
        candidates.append((p.region, p.endpoint, layers.profile_where, layers.profile_where))
    for region, endpoint, region_src, endpoint_src in candidates:
        if region and endpoint:
            both = region_src if region_src == endpoint_src else f"{region_src} and {endpoint_src}"
            raise ConnectionConfigError(
                f"both a region and an endpoint are given ({both}); give only one"
            )
        if endpoint:
            return validate_endpoint(endpoint, endpoint_src)
        if region:
            return REGIONS[validate_region(region, region_src)]
    return endpoint_for(None, None)


def resolve_connection(
    args: argparse.Namespace,
    *,
    env: Mapping[str, str] = os.environ,
    store: CredentialStore | None = None,
    config: Config | None = None,
) -> Resolved:
    """Connection, naming, zone, rate and page size for a command; see the module docstring.

    Raises ConfigError / ConnectionConfigError for unusable settings. A missing secret is not an
    error here: ``missing_secret`` says why, so the TUI can ask and other commands can stop.
    """
    profile = _pick_profile(args, env, config)
    where = f"profile {profile.name!r}" if profile is not None else "profile"
    layers = _Layers(args, env, profile, where)

    sdkappid_pick = layers.pick("sdkappid", ENV_SDKAPPID)
    if sdkappid_pick is None:
        raise ConnectionConfigError(
            f"no SDKAppID: pass --sdkappid N or set {ENV_SDKAPPID}, or use --profile NAME"
        )
    sdkappid = parse_sdkappid(*sdkappid_pick)
    identifier_pick = layers.pick("identifier", ENV_IDENTIFIER)
    identifier = str(identifier_pick[0]).strip() if identifier_pick else ""
    if not identifier:
        raise ConnectionConfigError(
            f"no admin identifier: pass --identifier ADMIN or set {ENV_IDENTIFIER}, "
            "or use --profile NAME"
        )

    naming_pick = layers.pick("api_fields")
    naming = str(naming_pick[0]) if naming_pick else DEFAULT_NAMING
    if naming not in FIELD_NAMINGS:
        raise ConnectionConfigError(
            f"api_fields must be one of {', '.join(FIELD_NAMINGS)}, not {naming!r} "
            f"(from {naming_pick[1] if naming_pick else 'default'})"
        )
    tz_pick = layers.pick("tz")
    tz = validate_tz(str(tz_pick[0]), tz_pick[1]) if tz_pick else None
    max_rps = _int_in(layers.pick("max_rps"), "max_rps", 1, MAX_RPS, DEFAULT_MAX_RPS)
    page_size = _int_in(
        layers.pick("page_size"), "page_size", 1, PAGE_SIZE_LIMIT, DEFAULT_PAGE_SIZE
    )
    endpoint = _endpoint(layers)
    store_pick = layers.pick("rate_store", ENV_RATE_STORE)
    rate_store = (
        validate_rate_store(str(store_pick[0]), store_pick[1])
        if store_pick else DEFAULT_RATE_STORE
    )

    # The keyring entry is named by the effective SDKAppID and identifier: a key belongs to one app.
    ref = None if profile is None else replace(profile, sdkappid=sdkappid, identifier=identifier)
    lookup = resolve_secret(ref, env=env, store=store)
    secret = lookup.secret
    connection = Connection(
        endpoint,
        sdkappid,
        identifier,
        secret_key=secret.value if secret and secret.kind == "secret_key" else None,
        usersig=secret.value if secret and secret.kind == "usersig" else None,
    )
    return Resolved(
        connection=connection,
        profile_name=profile.name if profile is not None else None,
        naming=cast(FieldNaming, naming),
        tz=tz,
        max_rps=max_rps,
        page_size=page_size,
        missing_secret=lookup.missing_reason,
        secret_source=secret.source if secret else None,
        rate_store=rate_store,
        share=shared_spec(rate_store, sdkappid, env),
    )

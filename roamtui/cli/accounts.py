"""`roamtui login`, `logout` and `profiles`: save a profile and its secret, remove it, list them.

The secret is read hidden from the terminal (or one line from a pipe), checked by signing a
UserSig with it and, with ``--check``, by one real call; it goes to the OS keyring only and is
never printed. Exit codes: 0 done, 1 the keyring or the check failed, 2 unusable input.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import re
import secrets
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO, cast

from roamtui.cli.parsers import DEFAULT_PROFILE
from roamtui.im import redact
from roamtui.im.client import DEFAULT_REGION, Connection, ImClient, endpoint_for
from roamtui.im.errors import RoamError, ServiceError
from roamtui.im.roam import API, FieldNaming, RoamQuery, build_body
from roamtui.im.usersig import UserSigError, decode, sign, verify
from roamtui.settings.config import (
    Config,
    ConfigError,
    Profile,
    load_config,
    save_config,
    valid_profile_name,
)
from roamtui.settings.connection import (
    parse_bounded_int,
    parse_sdkappid,
    validate_endpoint,
    validate_region,
    validate_tz,
)
from roamtui.settings.credentials import (
    ENV_SECRET_KEY,
    ENV_USERSIG,
    SERVICE,
    CredentialError,
    CredentialStore,
    SecretKind,
    backend_label,
    entry_name,
)
from roamtui.settings.defaults import DEFAULT_NAMING, FIELD_NAMINGS, MAX_RPS, PAGE_SIZE_LIMIT
from roamtui.settings.rate_store import kept_rate_store
from roamtui.text import one_line

if TYPE_CHECKING:
    import httpx

#: Replies that can only come after the service accepted sdkappid, identifier and UserSig:
#: the probe accounts do not exist (90008 for the reading side, 90003 for the peer).
CHECK_OK_CODES = (90008, 90003)
_CONSOLE_KEY = re.compile(r"[0-9a-fA-F]{64}")


class _UsageError(Exception):
    """Input the command cannot work with; exit status 2."""


def _say(stream: TextIO, text: str) -> None:
    stream.write(text + "\n")
    stream.flush()


def login(
    args: argparse.Namespace,
    *,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
    store: CredentialStore | None = None,
    env: Mapping[str, str] = os.environ,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Save a profile and its secret (see the module docstring for exit codes)."""
    store = CredentialStore(env=env) if store is None else store
    try:
        config = load_config(env=env)
        profile = _profile_from_args(args, config)
        kind: SecretKind = "usersig" if getattr(args, "usersig", False) else "secret_key"
    except (_UsageError, ConfigError, CredentialError) as exc:
        _say(stderr, f"roamtui login: {exc}")
        return 2
    try:
        # Before the secret is asked for: typing it only to hear it cannot be kept is worse.
        store.check_secure()
    except CredentialError as exc:
        return _save_without_secret(config, profile, args, stdout, stderr, exc)
    checking = bool(getattr(args, "check", False))
    try:
        value = _read_secret(stdin, stderr, kind)
        redact.register(value)
        _validate_secret(profile, kind, value, stderr, checking=checking)
    except (_UsageError, ConfigError, CredentialError) as exc:
        _say(stderr, f"roamtui login: {exc}")
        return 2
    if kind == "secret_key":
        _say(stdout, f"The secret key signs a valid UserSig for {_who(profile)}.")
    else:
        _say(stdout, f"The UserSig is well-formed and made for {_who(profile)}.")

    if checking:
        ok, verdict = asyncio.run(_check(profile, kind, value, transport))
        _say(stdout if ok else stderr, f"Check: {verdict}")
        if not ok:
            _say(stderr, "roamtui login: nothing was saved.")
            return 1

    previous = config.find(profile.name)
    if not _save_profile(config, profile, args, stdout, stderr):
        return 1
    try:
        if previous is not None and entry_name(previous) != entry_name(profile):
            # A key belongs to one SDKAppID and admin; the old entry would only linger.
            store.delete(previous)
        store.set(profile, kind, value)
    except CredentialError as exc:
        _say(
            stderr,
            f"roamtui login: profile {profile.name!r} was saved, but its secret was NOT stored, "
            f"so the profile needs {ENV_SECRET_KEY} or {ENV_USERSIG} until a keyring works: {exc}",
        )
        return 1
    _say(
        stdout,
        f"Stored the {_kind_text(kind)} in the OS keyring ({backend_label(store.backend)}) "
        f"as {SERVICE} / {entry_name(profile)}.",
    )
    return 0


def _save_profile(
    config: Config, profile: Profile, args: argparse.Namespace, stdout: TextIO, stderr: TextIO
) -> bool:
    """Write ``profile`` into the config (default if asked, or if first); say where."""
    try:
        config = config.with_profile(profile, make_default=bool(getattr(args, "make_default", 0)))
        path = save_config(config)
    except ConfigError as exc:
        _say(stderr, f"roamtui login: {exc}")
        return False
    mark = " (default)" if config.default == profile.name else ""
    _say(stdout, f"Saved profile {profile.name!r}{mark} to {path}.")
    return True


def _save_without_secret(
    config: Config, profile: Profile, args: argparse.Namespace, stdout: TextIO, stderr: TextIO,
    problem: CredentialError,
) -> int:
    """No secure keyring: keep the profile (no secret in it), never ask for the secret."""
    if not _save_profile(config, profile, args, stdout, stderr):
        return 1
    _say(
        stderr,
        f"roamtui login: the secret was not asked for, it could not be kept: {problem} "
        f"Until a keyring works, use the profile with {ENV_SECRET_KEY} or {ENV_USERSIG} set.",
    )
    return 1


def _kind_text(kind: SecretKind) -> str:
    return "secret key" if kind == "secret_key" else "UserSig"


def _who(profile: Profile) -> str:
    return f"{one_line(profile.identifier)} on SDKAppID {profile.sdkappid}"


def _profile_from_args(args: argparse.Namespace, config: Config) -> Profile:
    """The profile to save: flags over what an existing profile of that name already says."""
    name = getattr(args, "profile", None) or DEFAULT_PROFILE
    if not valid_profile_name(name):
        raise _UsageError(
            f"bad profile name {name!r}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    old = config.find(name)
    raw_sdkappid = getattr(args, "sdkappid", None) or (old.sdkappid if old else None)
    if raw_sdkappid is None:
        raise _UsageError("--sdkappid N is required (the app's SDKAppID from the IM console)")
    sdkappid = parse_sdkappid(raw_sdkappid, "--sdkappid")
    identifier = str(getattr(args, "identifier", None) or (old.identifier if old else "")).strip()
    if not identifier:
        raise _UsageError("--identifier ADMIN is required (an App admin account)")

    region = getattr(args, "region", None) or None
    endpoint = getattr(args, "endpoint", None) or None
    if region and endpoint:
        raise _UsageError("give --region or --endpoint, not both")
    if region is None and endpoint is None and old is not None:
        region, endpoint = old.region, old.endpoint
    where_region = "--region" if getattr(args, "region", None) else f"profile {name!r}"
    where_endpoint = "--endpoint" if getattr(args, "endpoint", None) else f"profile {name!r}"
    region = validate_region(region, where_region) if region else None
    endpoint = validate_endpoint(endpoint, where_endpoint) if endpoint else None

    api_fields = getattr(args, "api_fields", None) or (old.api_fields if old else DEFAULT_NAMING)
    if api_fields not in FIELD_NAMINGS:
        raise _UsageError(f"--api-fields must be one of {', '.join(FIELD_NAMINGS)}")
    tz = getattr(args, "tz", None) or (old.tz if old else None)
    max_rps = getattr(args, "max_rps", None) or (old.max_rps if old else None)
    page_size = getattr(args, "page_size", None) or (old.page_size if old else None)
    return Profile(
        name=name,
        sdkappid=sdkappid,
        identifier=identifier,
        region=region,
        endpoint=endpoint,
        api_fields=cast(FieldNaming, api_fields),
        tz=validate_tz(tz, "--tz") if tz else None,
        max_rps=None if max_rps is None
        else parse_bounded_int(max_rps, "max_rps", 1, MAX_RPS, "--max-rps"),
        page_size=None if page_size is None
        else parse_bounded_int(page_size, "page_size", 1, PAGE_SIZE_LIMIT, "--page-size"),
        rate_store=kept_rate_store(getattr(args, "rate_store", None), old),
    )


def _read_secret(stdin: TextIO, stderr: TextIO, kind: SecretKind) -> str:
    """Hidden from the terminal when interactive, else one line from the pipe."""
    what = _kind_text(kind)
    if stdin.isatty():
        try:
            value = getpass.getpass(f"{what.capitalize()} (input hidden): ", stream=stderr)
        except (EOFError, KeyboardInterrupt):
            raise _UsageError("cancelled; nothing was saved") from None
    else:
        value = stdin.readline()
    value = value.strip()
    if not value:
        raise _UsageError(
            f"no {what} given: type it at the prompt or pipe it in, "
            f"e.g. `pass show im-key | roamtui login …`"
        )
    return value


def _validate_secret(
    profile: Profile, kind: SecretKind, value: str, stderr: TextIO, *, checking: bool
) -> None:
    if kind == "secret_key":
        # Signing then verifying proves the key works with this SDKAppID and identifier locally.
        try:
            sig = sign(profile.sdkappid, value, profile.identifier, expire=300)
            verify(sig, profile.sdkappid, value, profile.identifier)
        except UserSigError as exc:
            raise _UsageError(f"cannot sign a UserSig with this key ({exc.code})") from None
        if _CONSOLE_KEY.fullmatch(value) is None:
            # With --check the call below decides; without, it is saved and the warning stays.
            then = ("--check will tell whether the service takes it" if checking
                    else "saving it anyway; --check would ask the service")
            _say(
                stderr,
                "warning: this does not look like the console's secret key (64 hex "
                f"characters); {then}",
            )
        return
    try:
        claims = decode(value)
    except UserSigError:
        raise _UsageError("the UserSig is malformed (not a TLSSigAPIv2 signature)") from None
    if claims.sdkappid != profile.sdkappid:
        raise _UsageError(
            f"the UserSig was made for SDKAppID {claims.sdkappid}, not {profile.sdkappid}"
        )
    if claims.identifier != profile.identifier:
        raise _UsageError(
            f"the UserSig was made for identifier {one_line(claims.identifier)!r}, "
            f"not {one_line(profile.identifier)!r}"
        )
    left = claims.expires_at - int(time.time())
    if left <= 0:
        raise _UsageError("the UserSig has expired; make a new one")
    _say(
        stderr,
        f"note: a ready UserSig cannot be renewed by roamtui; it expires in {_span(left)}",
    )


def _span(seconds: int) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    return f"{max(seconds // 60, 1)} minutes"


async def _check(
    profile: Profile, kind: SecretKind, value: str, transport: httpx.AsyncBaseTransport | None
) -> tuple[bool, str]:
    """One admin_getroammsg for a pair that cannot exist, over a 1-second window."""
    conn = Connection(
        endpoint_for(profile.region, profile.endpoint),
        profile.sdkappid,
        profile.identifier,
        secret_key=value if kind == "secret_key" else None,
        usersig=value if kind == "usersig" else None,
    )
    probe = f"roamtui-check-{secrets.token_hex(8)}"
    now = int(time.time())
    query = RoamQuery(probe, f"{probe}-peer", now - 1, now, page_size=1, naming=profile.api_fields)
    try:
        async with ImClient(conn, transport=transport, max_retries=1) as client:
            await client.call(API, build_body(query))
    except ServiceError as exc:
        if exc.code in CHECK_OK_CODES:
            return True, (
                f"the service accepted the credentials (it answered {exc.code}: "
                "the probe account does not exist, as expected)"
            )
        return False, f"the service refused the request: {exc}"
    except RoamError as exc:
        return False, f"could not complete the call: {exc}"
    return True, "the service accepted the credentials"


def logout(
    args: argparse.Namespace,
    *,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
    store: CredentialStore | None = None,
    env: Mapping[str, str] = os.environ,
) -> int:
    """Remove a profile's secret from the keyring; with ``--forget`` the profile too."""
    store = CredentialStore(env=env) if store is None else store
    try:
        config = load_config(env=env)
        name = getattr(args, "profile", None) or config.default or DEFAULT_PROFILE
        profile = config.profile(name)
    except ConfigError as exc:
        _say(stderr, f"roamtui logout: {exc}")
        return 2
    status = 0
    try:
        if store.delete(profile):
            _say(stdout, f"Removed the secret of profile {name!r} from the OS keyring.")
        else:
            _say(stdout, f"There was no secret stored for profile {name!r}.")
    except CredentialError as exc:
        _say(stderr, f"roamtui logout: could not remove the secret: {exc}")
        status = 1
    if getattr(args, "forget", False):
        try:
            save_config(config.without_profile(name))
        except ConfigError as exc:
            _say(stderr, f"roamtui logout: {exc}")
            return 1
        _say(stdout, f"Forgot profile {name!r} (removed from {config.path}).")
    return status


def profiles(
    args: argparse.Namespace,
    *,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
    store: CredentialStore | None = None,
    env: Mapping[str, str] = os.environ,
) -> int:
    """List the profiles: default mark, app, admin, where, and whether a secret is stored."""
    store = CredentialStore(env=env) if store is None else store
    try:
        config = load_config(env=env)
    except ConfigError as exc:
        _say(stderr, f"roamtui profiles: {exc}")
        return 2
    if not config.profiles:
        _say(
            stdout,
            f"No profiles yet ({config.path}). Create one with: "
            "roamtui login --profile NAME --sdkappid N --identifier ADMIN",
        )
        return 0
    keyring_problem: str | None = None
    rows = [("", "PROFILE", "SDKAPPID", "IDENTIFIER", "REGION/ENDPOINT", "SECRET")]
    for p in config.profiles:
        stored = "unknown"
        if keyring_problem is None:
            try:
                stored = "yes" if store.has(p) else "no"
            except CredentialError as exc:
                # Stop asking after the first failure: a locked keyring may prompt every time.
                keyring_problem = str(exc)
        where = p.endpoint or p.region or DEFAULT_REGION
        mark = "*" if p.name == config.default else ""
        row = (mark, p.name, str(p.sdkappid), one_line(p.identifier), one_line(where), stored)
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        _say(stdout, "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    _say(stdout, f"(* = default; config: {config.path})")
    if keyring_problem is not None:
        _say(stderr, f"roamtui profiles: cannot tell whether secrets are stored: {keyring_problem}")
    return 0

"""Secrets in the OS keyring, environment overrides, and one clear message per failure.

An entry lives under service ``roamtui`` with a user name naming profile, SDKAppID and identifier
(``work:1400000000:administrator``) and holds ``{"kind": "secret_key"|"usersig", "value": ...}``.

The keyring is only used when it is secure storage. Plaintext, null and other low-priority
backends are refused, never used silently. The keyring library is imported on first use only
(it loads its backends' entry points), so a connection read from the environment, or the demo,
never pays for it. Every keyring call is synchronous (a D-Bus round trip, or an unlock prompt on
a desktop), so the UI calls this module from a thread worker.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar, cast, get_args

from roamtui.text import one_line

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "roamtui"
ENV_SECRET_KEY = "ROAMTUI_SECRET_KEY"
ENV_USERSIG = "ROAMTUI_USERSIG"
ENV_KEYRING_BACKEND = "PYTHON_KEYRING_BACKEND"

SecretKind = Literal["secret_key", "usersig"]
SECRET_KINDS: tuple[str, ...] = get_args(SecretKind)
#: Where a secret came from; "given": in the Connection itself (the demo, tests).
SecretSource = Literal["env", "keyring", "prompt", "given"]
T = TypeVar("T")

FailureKind = Literal[
    "no-backend", "locked", "dismissed", "insecure", "empty-env", "bad-backend", "error", "corrupt",
    "missing",
]

#: The ways out, appended to every keyring failure so the user always knows what to do next.
#: Kept short enough that the longest failure stays one whole line (`text.one_line`'s 400
#: characters) with the command's prefix: a cut recipe is worse than none.
WAYS_OUT = (
    f"Ways out: set {ENV_SECRET_KEY} or {ENV_USERSIG}; or a keyring: "
    "dbus-run-session -- sh -c 'gnome-keyring-daemon --unlock --components=secrets; roamtui …' "
    f"(its password on stdin, then Ctrl+D); or a secure {ENV_KEYRING_BACKEND}."
)
#: Characters of $PYTHON_KEYRING_BACKEND quoted in the bad-backend message.
_DETAIL = 60


class CredentialError(Exception):
    """The secret could not be read or stored; ``str()`` is one line with the ways out."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class AccountRef(Protocol):
    """What names a keyring entry; ``config.Profile`` satisfies it."""

    @property
    def name(self) -> str: ...
    @property
    def sdkappid(self) -> int: ...
    @property
    def identifier(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret key or a ready UserSig, and where it came from. Its repr never shows the value."""

    kind: SecretKind
    value: str = field(repr=False)
    source: SecretSource

    def __repr__(self) -> str:
        return f"Secret(kind={self.kind!r}, source={self.source!r}, value=<redacted>)"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class SecretLookup:
    """The outcome of resolution: a secret, or the reason there is none (for the UI's prompt)."""

    secret: Secret | None
    missing_reason: str | None = None


def entry_name(ref: AccountRef) -> str:
    """The keyring user name of ``ref``: ``profile:sdkappid:identifier``."""
    return f"{ref.name}:{int(ref.sdkappid)}:{ref.identifier}"


def backend_label(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__name__}"


def _insecure_reason(backend: KeyringBackend) -> str | None:
    """Why ``backend`` is not secure storage, or None when it is."""
    module = type(backend).__module__
    if module.startswith("keyring.backends.null"):
        return "the null backend stores nothing"
    if module.startswith("keyrings.alt"):
        return "keyrings.alt backends keep secrets in files"
    try:
        priority = float(backend.priority)
    except Exception:  # a backend's priority property raises when it is not viable
        return "the backend reports itself as not usable"
    if priority < 1:
        return f"priority {priority:g} < 1"
    return None


class CredentialStore:
    """The keyring, wrapped: typed entries, secure backends only, one clear error per failure.

    ``backend`` is injectable for tests; by default ``keyring.get_keyring()`` is looked up on first
    use, after checking that ``PYTHON_KEYRING_BACKEND`` is not set to an empty value (keyring
    crashes with ``ValueError: Empty module name`` on that).
    """

    def __init__(
        self, backend: KeyringBackend | None = None, *, env: Mapping[str, str] = os.environ
    ) -> None:
        self._backend = backend
        self._env = env

    @property
    def backend(self) -> KeyringBackend:
        """The keyring backend in use; CredentialError when none can be loaded."""
        if self._backend is None:
            self._backend = self._load_backend()
        return self._backend

    def _load_backend(self) -> KeyringBackend:
        chosen = self._env.get(ENV_KEYRING_BACKEND)
        if chosen is not None and not chosen.strip():
            raise CredentialError(
                "empty-env",
                f"{ENV_KEYRING_BACKEND} is set but empty, which breaks the keyring library: "
                f"unset it (`unset {ENV_KEYRING_BACKEND}`) or name a backend. {WAYS_OUT}",
            )
        try:
            import keyring

            return keyring.get_keyring()
        except (ImportError, AttributeError, ValueError, RuntimeError) as exc:
            where = (f"{ENV_KEYRING_BACKEND}={one_line(chosen, _DETAIL)!r}" if chosen
                     else "the keyring configuration")
            raise CredentialError(
                "bad-backend",
                f"the keyring backend chosen by {where} cannot be loaded "
                f"({type(exc).__name__}). {WAYS_OUT}",
            ) from None

    def check_secure(self) -> KeyringBackend:
        """The backend if it is secure storage; otherwise CredentialError (no-backend/insecure)."""
        backend = self.backend
        if type(backend).__module__ == "keyring.backends.fail":
            raise CredentialError(
                "no-backend",
                f"no OS keyring is available (no Secret Service on D-Bus). {WAYS_OUT}",
            )
        reason = _insecure_reason(backend)
        if reason is not None:
            raise CredentialError(
                "insecure",
                f"the keyring backend {backend_label(backend)} is not secure storage "
                f"({reason}). {WAYS_OUT}",
            )
        return backend

    def get(self, ref: AccountRef) -> Secret | None:
        """The stored secret of ``ref``, or None when there is none."""
        backend = self.check_secure()
        raw = self._call(lambda: backend.get_password(SERVICE, entry_name(ref)))
        if raw is None:
            return None
        return _decode_entry(raw, entry_name(ref))

    def has(self, ref: AccountRef) -> bool:
        return self.get(ref) is not None

    def set(self, ref: AccountRef, kind: SecretKind, value: str) -> None:
        """Store ``value`` as the secret of ``ref`` (refuses insecure backends)."""
        if kind not in SECRET_KINDS:
            raise ValueError(f"unknown secret kind {kind!r}")
        if not value:
            raise ValueError("refusing to store an empty secret")
        backend = self.check_secure()
        payload = json.dumps({"kind": kind, "value": value})
        self._call(lambda: backend.set_password(SERVICE, entry_name(ref), payload))

    def delete(self, ref: AccountRef) -> bool:
        """Remove the secret of ``ref``; False when there was none."""
        backend = self.check_secure()
        name = entry_name(ref)
        # Backends signal "not found" and real failures with the same PasswordDeleteError, so ask
        # first; a racing delete in between is reported as "there was none", which is true.
        if self._call(lambda: backend.get_password(SERVICE, name)) is None:
            return False
        try:
            self._call(lambda: backend.delete_password(SERVICE, name))
        except CredentialError:
            if self._call(lambda: backend.get_password(SERVICE, name)) is None:
                return False
            raise
        return True

    def _call(self, op: Callable[[], T]) -> T:
        import keyring.errors

        try:
            return op()
        except keyring.errors.KeyringLocked:
            raise CredentialError(
                "locked",
                "the OS keyring is locked and could not be unlocked (wrong password, or the "
                f"unlock was refused). {WAYS_OUT}",
            ) from None
        except keyring.errors.InitError:
            raise CredentialError(
                "dismissed",
                "the OS keyring could not be opened: its unlock prompt was dismissed or cannot "
                f"be shown (no display). {WAYS_OUT}",
            ) from None
        except keyring.errors.NoKeyringError:
            raise CredentialError(
                "no-backend", f"no OS keyring is available. {WAYS_OUT}"
            ) from None
        except (keyring.errors.KeyringError, RuntimeError, OSError) as exc:
            # The backend's own text may echo what was passed in; keep only the type name.
            raise CredentialError(
                "error",
                f"the OS keyring refused the request ({type(exc).__name__}). {WAYS_OUT}",
            ) from None


def _decode_entry(raw: str, name: str) -> Secret:
    try:
        doc = json.loads(raw)
        kind, value = doc["kind"], doc["value"]
    except (ValueError, TypeError, KeyError):
        kind = value = None
    if kind not in SECRET_KINDS or not isinstance(value, str) or not value:
        raise CredentialError(
            "corrupt",
            f"the keyring entry {SERVICE}/{name} was not written by roamtui or is damaged; "
            "run `roamtui logout` and `roamtui login` again",
        )
    return Secret(kind=cast(SecretKind, kind), value=value, source="keyring")


def secret_from_env(env: Mapping[str, str] = os.environ) -> Secret | None:
    """``ROAMTUI_SECRET_KEY`` (preferred: roamtui can re-sign with it) or ``ROAMTUI_USERSIG``."""
    key = env.get(ENV_SECRET_KEY, "").strip()
    if key:
        return Secret(kind="secret_key", value=key, source="env")
    sig = env.get(ENV_USERSIG, "").strip()
    if sig:
        return Secret(kind="usersig", value=sig, source="env")
    return None


def resolve_secret(
    ref: AccountRef | None,
    *,
    env: Mapping[str, str] = os.environ,
    store: CredentialStore | None = None,
) -> SecretLookup:
    """Environment, then the keyring entry of ``ref``; otherwise the reason, so the UI can ask.

    A keyring failure is not raised here: its message becomes ``missing_reason``. The TUI prompts
    and keeps the answer in memory only; a plain command reports the reason and stops.
    """
    from_env = secret_from_env(env)
    if from_env is not None:
        return SecretLookup(from_env)
    if ref is None:
        return SecretLookup(
            None,
            f"no secret for this connection: set {ENV_SECRET_KEY} or {ENV_USERSIG}, "
            "or save one with `roamtui login --profile NAME …` and use --profile NAME",
        )
    store = CredentialStore(env=env) if store is None else store
    try:
        found = store.get(ref)
    except CredentialError as exc:
        return SecretLookup(None, str(exc))
    if found is None:
        return SecretLookup(
            None,
            f"no secret stored for profile {ref.name!r} (SDKAppID {ref.sdkappid}, "
            f"identifier {ref.identifier}): run `roamtui login --profile {ref.name}`, "
            f"or set {ENV_SECRET_KEY} or {ENV_USERSIG}",
        )
    return SecretLookup(found)

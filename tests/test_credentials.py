"""CredentialStore and secret resolution: entries, env overrides and every keyring failure mode."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from roamtui.settings.config import Profile
from roamtui.settings.credentials import (
    ENV_KEYRING_BACKEND,
    SERVICE,
    CredentialError,
    CredentialStore,
    Secret,
    entry_name,
    resolve_secret,
    secret_from_env,
)
from roamtui.text import error_line

KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
WORK = Profile(name="work", sdkappid=1400000000, identifier="administrator")


class MemoryKeyring(KeyringBackend):
    """In-memory secure-looking backend (environment.md §2 recipe (a)); never registered."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise PasswordDeleteError(username) from None


class RaisingKeyring(KeyringBackend):
    """A secure-priority backend whose every call raises the given keyring error."""

    priority = 5

    def __init__(self, exc: Exception) -> None:
        super().__init__()
        self.exc = exc

    def get_password(self, service: str, username: str) -> str | None:
        raise self.exc

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.exc

    def delete_password(self, service: str, username: str) -> None:
        raise self.exc


class LowPriorityKeyring(MemoryKeyring):
    """Stands in for keyrings.alt's PlaintextKeyring (priority 0.5)."""

    priority = 0.5  # type: ignore[assignment]


def test_entry_name_names_profile_app_and_admin() -> None:
    assert entry_name(WORK) == "work:1400000000:administrator"


def test_round_trip_stores_kind_and_value_as_json() -> None:
    kr = MemoryKeyring()
    store = CredentialStore(kr)
    assert store.get(WORK) is None
    assert not store.has(WORK)
    store.set(WORK, "secret_key", KEY)
    raw = kr.entries[(SERVICE, "work:1400000000:administrator")]
    assert json.loads(raw) == {"kind": "secret_key", "value": KEY}
    got = store.get(WORK)
    assert got == Secret(kind="secret_key", value=KEY, source="keyring")
    assert store.has(WORK)
    assert store.delete(WORK) is True
    assert store.delete(WORK) is False
    assert store.get(WORK) is None


def test_entries_of_other_apps_are_separate() -> None:
    store = CredentialStore(MemoryKeyring())
    store.set(WORK, "secret_key", KEY)
    other = Profile(name="work", sdkappid=1400000001, identifier="administrator")
    assert store.get(other) is None


def test_secret_repr_never_shows_the_value() -> None:
    secret = Secret(kind="secret_key", value=KEY, source="env")
    assert KEY not in repr(secret)
    assert KEY not in str(secret)
    assert "redacted" in repr(secret)


def test_empty_secret_is_refused() -> None:
    store = CredentialStore(MemoryKeyring())
    with pytest.raises(ValueError):
        store.set(WORK, "secret_key", "")


def _message(fn: Callable[[], object]) -> CredentialError:
    with pytest.raises(CredentialError) as info:
        fn()
    text = str(info.value)
    assert "\n" not in text
    # Shown whole as the one error line (never cut with "…"), even with a long profile name.
    assert error_line(info.value) == text and len(text) <= 370  # room for "roamtui export: "
    # Every failure names the ways out: the env vars, a Secret Service, the backend variable.
    assert "ROAMTUI_SECRET_KEY" in text
    assert "dbus-run-session" in text
    assert "PYTHON_KEYRING_BACKEND" in text
    return info.value


def test_no_backend_fail_keyring() -> None:
    store = CredentialStore(keyring.backends.fail.Keyring())
    err = _message(lambda: store.get(WORK))
    assert err.kind == "no-backend"
    assert "no OS keyring" in str(err)
    assert _message(lambda: store.set(WORK, "secret_key", KEY)).kind == "no-backend"


def test_no_keyring_error_from_a_backend() -> None:
    store = CredentialStore(RaisingKeyring(keyring.errors.NoKeyringError("gone")))
    assert _message(lambda: store.get(WORK)).kind == "no-backend"


def test_locked_collection() -> None:
    store = CredentialStore(RaisingKeyring(keyring.errors.KeyringLocked("Failed to unlock")))
    err = _message(lambda: store.get(WORK))
    assert err.kind == "locked"
    assert "locked" in str(err)
    assert "gnome-keyring-daemon --unlock" in str(err)


def test_prompt_dismissed() -> None:
    exc = keyring.errors.InitError("Failed to create the collection: Prompt dismissed.")
    store = CredentialStore(RaisingKeyring(exc))
    err = _message(lambda: store.set(WORK, "secret_key", KEY))
    assert err.kind == "dismissed"
    assert "prompt was dismissed" in str(err)


def test_null_backend_is_refused_and_stores_nothing() -> None:
    store = CredentialStore(keyring.backends.null.Keyring())
    err = _message(lambda: store.set(WORK, "secret_key", KEY))
    assert err.kind == "insecure"
    assert "not secure storage" in str(err)


def test_low_priority_backend_is_refused_and_stores_nothing() -> None:
    kr = LowPriorityKeyring()
    store = CredentialStore(kr)
    err = _message(lambda: store.set(WORK, "secret_key", KEY))
    assert err.kind == "insecure"
    assert "not secure storage" in str(err)
    assert kr.entries == {}
    # Not read either: a secret found there was not put there by roamtui.
    kr.entries[(SERVICE, entry_name(WORK))] = json.dumps({"kind": "secret_key", "value": KEY})
    assert _message(lambda: store.get(WORK)).kind == "insecure"


def test_keyrings_alt_module_is_refused_whatever_its_priority() -> None:
    alt = type(
        "PlaintextKeyring", (MemoryKeyring,), {"__module__": "keyrings.alt.file", "priority": 5}
    )
    store = CredentialStore(alt())
    err = _message(lambda: store.set(WORK, "secret_key", KEY))
    assert err.kind == "insecure"
    assert "keyrings.alt" in str(err)


def test_empty_python_keyring_backend_is_detected_before_keyring_crashes() -> None:
    store = CredentialStore(env={ENV_KEYRING_BACKEND: ""})
    err = _message(lambda: store.get(WORK))
    assert err.kind == "empty-env"
    assert "set but empty" in str(err)


def test_unloadable_python_keyring_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_KEYRING_BACKEND, "no_such_module.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    store = CredentialStore(env={ENV_KEYRING_BACKEND: "no_such_module.Keyring"})
    err = _message(lambda: store.get(WORK))
    assert err.kind == "bad-backend"
    assert "no_such_module.Keyring" in str(err)


def test_default_backend_is_keyrings_current_one() -> None:
    kr = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(kr)
    try:
        CredentialStore(env={}).set(WORK, "usersig", "sig-value-123")
    finally:
        keyring.set_keyring(previous)
    assert (SERVICE, entry_name(WORK)) in kr.entries


def test_other_backend_errors_never_echo_the_secret() -> None:
    store = CredentialStore(RaisingKeyring(keyring.errors.PasswordSetError(f"bad {KEY}")))
    err = _message(lambda: store.set(WORK, "secret_key", KEY))
    assert err.kind == "error"
    assert KEY not in str(err)


def test_corrupt_entry_is_reported_without_its_content() -> None:
    kr = MemoryKeyring()
    kr.entries[(SERVICE, entry_name(WORK))] = KEY  # plain text, not roamtui's JSON
    with pytest.raises(CredentialError) as info:
        CredentialStore(kr).get(WORK)
    err = info.value
    assert err.kind == "corrupt"
    assert KEY not in str(err)
    assert "roamtui login" in str(err)


def test_env_secret_key_wins_over_usersig_and_keyring() -> None:
    kr = MemoryKeyring()
    store = CredentialStore(kr)
    store.set(WORK, "secret_key", "from-keyring-000")
    env = {"ROAMTUI_SECRET_KEY": " envkey ", "ROAMTUI_USERSIG": "envsig"}
    found = resolve_secret(WORK, env=env, store=store)
    assert found.secret == Secret(kind="secret_key", value="envkey", source="env")
    found = resolve_secret(WORK, env={"ROAMTUI_USERSIG": "envsig"}, store=store)
    assert found.secret == Secret(kind="usersig", value="envsig", source="env")
    assert secret_from_env({"ROAMTUI_SECRET_KEY": "  "}) is None


def test_keyring_is_used_when_env_is_empty() -> None:
    store = CredentialStore(MemoryKeyring())
    store.set(WORK, "usersig", "stored-sig-000")
    found = resolve_secret(WORK, env={}, store=store)
    assert found.secret is not None and found.secret.source == "keyring"
    assert found.missing_reason is None


def test_missing_secret_gives_a_reason_for_the_prompt() -> None:
    found = resolve_secret(WORK, env={}, store=CredentialStore(MemoryKeyring()))
    assert found.secret is None
    assert found.missing_reason is not None
    assert "roamtui login --profile work" in found.missing_reason


def test_keyring_failure_becomes_the_missing_reason() -> None:
    store = CredentialStore(keyring.backends.fail.Keyring())
    found = resolve_secret(WORK, env={}, store=store)
    assert found.secret is None
    assert found.missing_reason is not None and "no OS keyring" in found.missing_reason


def test_no_profile_means_env_only(tmp_path: Path) -> None:
    found = resolve_secret(None, env={}, store=CredentialStore(MemoryKeyring()))
    assert found.secret is None
    assert found.missing_reason is not None and "ROAMTUI_SECRET_KEY" in found.missing_reason


def test_export_with_a_profile_and_no_keyring_says_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from roamtui.cli.main import main

    config = tmp_path / "config.toml"
    config.write_text('[profiles.customer-support-mainland]\nsdkappid = 1400000000\n'
                      'identifier = "administrator"\n')
    monkeypatch.setenv("ROAMTUI_CONFIG", str(config))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for name in ("ROAMTUI_SECRET_KEY", "ROAMTUI_USERSIG", "ROAMTUI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    code = main(["export", "a", "b", "--profile", "customer-support-mainland",
                 "--since", "-1h", "--until", "now", "-o", str(tmp_path / "out.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.rstrip().endswith("or a secure PYTHON_KEYRING_BACKEND.")  # not cut with "…"
    assert "dbus-run-session -- sh -c 'gnome-keyring-daemon" in err

"""Credentials against a REAL Secret Service (gnome-keyring over D-Bus).

Run by `.ci/secret-service-tests.sh`: once in a private D-Bus session with an unlocked, throwaway
keyring (ROAMTUI_TEST_SECRET_SERVICE=1), once with a daemon that was never unlocked and has no
display for its prompt (ROAMTUI_TEST_SECRET_SERVICE=prompt). A plain `pytest` skips them all.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator

import keyring
import keyring.backends.SecretService
import pytest

from roamtui.cli import build_parser
from roamtui.cli.accounts import login, logout, profiles
from roamtui.settings.config import Profile
from roamtui.settings.credentials import CredentialError, CredentialStore, Secret, resolve_secret

KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"

_BUS = bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS"))
_MODE = os.environ.get("ROAMTUI_TEST_SECRET_SERVICE", "")
pytestmark = pytest.mark.secret_service
unlocked = pytest.mark.skipif(
    not (_BUS and _MODE == "1"),
    reason="needs a real, unlocked Secret Service: run .ci/secret-service-tests.sh "
    "(DBUS_SESSION_BUS_ADDRESS and ROAMTUI_TEST_SECRET_SERVICE=1 must both be set)",
)
never_unlocked = pytest.mark.skipif(
    not (_BUS and _MODE == "prompt"),
    reason="needs a Secret Service that was never unlocked: run .ci/secret-service-tests.sh "
    "(it sets ROAMTUI_TEST_SECRET_SERVICE=prompt for this one)",
)


@pytest.fixture
def secret_service() -> Iterator[CredentialStore]:
    """A store on the real SecretService backend; the global keyring is restored afterwards."""
    previous = keyring.get_keyring()
    try:
        yield CredentialStore(keyring.backends.SecretService.Keyring(), env={})
    finally:
        keyring.set_keyring(previous)


def unique_profile() -> Profile:
    # Unique per run, so a rerun against the same keyring never sees an old entry.
    return Profile(name=f"t{uuid.uuid4().hex[:12]}", sdkappid=1400000000, identifier="admin")


@unlocked
def test_keyring_detects_the_secret_service_as_secure(secret_service: CredentialStore) -> None:
    keyring.core.init_backend()
    store = CredentialStore(env={})
    assert type(store.check_secure()).__module__ == "keyring.backends.SecretService"


@unlocked
def test_set_get_delete_round_trip(secret_service: CredentialStore) -> None:
    profile = unique_profile()
    assert secret_service.get(profile) is None
    secret_service.set(profile, "secret_key", KEY)
    assert secret_service.get(profile) == Secret(kind="secret_key", value=KEY, source="keyring")
    secret_service.set(profile, "usersig", "replaced-sig-value")
    assert secret_service.get(profile) == Secret(
        kind="usersig", value="replaced-sig-value", source="keyring"
    )
    assert secret_service.delete(profile) is True
    assert secret_service.get(profile) is None
    assert secret_service.delete(profile) is False


@unlocked
def test_login_profiles_logout_through_the_real_keyring(secret_service: CredentialStore) -> None:
    profile = unique_profile()
    out, err = io.StringIO(), io.StringIO()
    args = build_parser().parse_args([
        "login", "--profile", profile.name, "--sdkappid", str(profile.sdkappid),
        "--identifier", profile.identifier,
    ])
    assert login(args, stdin=io.StringIO(KEY + "\n"), stdout=out, stderr=err,
                 store=secret_service) == 0, err.getvalue()
    assert "keyring.backends.SecretService.Keyring" in out.getvalue()

    listing = io.StringIO()
    listed = build_parser().parse_args(["profiles"])
    assert profiles(listed, stdout=listing, stderr=err, store=secret_service) == 0
    row = next(line for line in listing.getvalue().splitlines() if profile.name in line)
    assert row.split()[-1] == "yes"
    assert KEY not in listing.getvalue() + out.getvalue() + err.getvalue()

    gone = io.StringIO()
    ns = build_parser().parse_args(["logout", "--profile", profile.name, "--forget"])
    assert logout(ns, stdout=gone, stderr=err, store=secret_service) == 0
    assert "Removed the secret" in gone.getvalue()
    assert secret_service.get(profile) is None


@never_unlocked
def test_unlock_prompt_that_cannot_show_is_one_clear_error(
    secret_service: CredentialStore,
) -> None:
    profile = unique_profile()
    with pytest.raises(CredentialError) as info:
        secret_service.set(profile, "secret_key", KEY)
    assert info.value.kind == "dismissed"
    assert "prompt was dismissed" in str(info.value)
    assert "ROAMTUI_SECRET_KEY" in str(info.value)
    # Resolution turns it into the reason the TUI shows before asking for the secret.
    found = resolve_secret(profile, env={}, store=secret_service)
    assert found.secret is None
    assert found.missing_reason == str(info.value)

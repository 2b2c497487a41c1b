"""Test-wide isolation: no test reads or writes the user's real config, state or keyring."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from hypothesis import Phase, settings

from roamtui.im.limiter import DEFAULT_RATE, shared_limiter

# These machines are noisy (two cores, often shared): a property test checks what happens, never
# how fast, so no example has a deadline; and a failure is reported as found, without the
# "explain" phase, whose line tracing made one failing example run past the suite's timeout.
settings.register_profile(
    "roamtui",
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
settings.load_profile("roamtui")

_ENV_TO_CLEAR = (
    "ROAMTUI_SECRET_KEY",
    "ROAMTUI_USERSIG",
    "ROAMTUI_ENDPOINT",
    "ROAMTUI_SDKAPPID",
    "ROAMTUI_IDENTIFIER",
    "ROAMTUI_CONFIG",
    "ROAMTUI_MARKS",
    "ROAMTUI_RATE_STORE",
)


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point platformdirs (XDG) at a temporary home and clear the credential env vars."""
    home = tmp_path / "home"
    names = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME",
             "XDG_RUNTIME_DIR")  # the runtime dir holds the local shared budget
    for name in names:
        path = home / name.lower()
        path.mkdir(parents=True)
        monkeypatch.setenv(name, str(path))
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    yield home


@pytest.fixture(autouse=True)
def fresh_process_limiter() -> Iterator[None]:
    """Each test starts with the process-wide limiter at its configured rate and unshared: a
    test that met 60007 must not leave the next one backed off (slower, and a budget field in
    its status bar that a snapshot would show)."""
    limiter = shared_limiter(DEFAULT_RATE)
    limiter.reset()
    limiter.share(None)
    yield


@pytest.fixture(autouse=True)
def no_real_keyring(request: pytest.FixtureRequest) -> Iterator[None]:
    """Unless a test asks for the real Secret Service, the global keyring always fails."""
    if request.node.get_closest_marker("secret_service"):
        yield
        return
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def pytest_report_header(config: pytest.Config) -> str:
    bus = "yes" if os.environ.get("DBUS_SESSION_BUS_ADDRESS") else "no"
    return f"roamtui: D-Bus session for Secret Service tests: {bus}"

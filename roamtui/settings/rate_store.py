"""Which budget of calls per second a connection shares, and where it lives.

``--rate-store`` (``ROAMTUI_RATE_STORE``, a profile's ``rate_store``) is one of:

* ``local`` (the default): every roamtui of this user on this machine that talks to the same
  SDKAppID shares one budget, a small file in the user's runtime dir (``$XDG_RUNTIME_DIR``,
  a RAM disk cleared at logout), else in the state dir;
* ``redis://HOST:PORT/DB`` (or ``rediss://``, ``unix://``): the whole team shares one budget
  through that Redis server, with the local budget as the fallback when it is unreachable;
* ``process``: this process keeps to its own budget (the behaviour before budgets were shared).

``im`` builds the budgets from the :class:`~roamtui.im.sharing.SharedSpec` made here: it may not
know about platformdirs, so the path is decided in this layer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from roamtui.im.budget_redis import check_url
from roamtui.im.sharing import SharedSpec
from roamtui.settings.config import APP_NAME, ConfigError, Profile

ENV_RATE_STORE = "ROAMTUI_RATE_STORE"
LOCAL, PROCESS = "local", "process"
DEFAULT_RATE_STORE = LOCAL
RATE_STORE_HELP = (
    "budget --max-rps is drawn from: 'local' (default: every roamtui of this user on this "
    "machine shares it, per SDKAppID), 'redis://HOST:PORT/DB' (the whole team shares it "
    "through that Redis; needs roamtui[team]), or 'process' (this process alone); also "
    f"{ENV_RATE_STORE} or a profile's rate_store"
)


class RateStoreError(ConfigError):
    """A rate store setting that cannot be used; ``str()`` is one line."""


def validate_rate_store(value: str, where: str) -> str:
    """``local``, ``process`` or a usable Redis URL (stripped); RateStoreError otherwise."""
    text = value.strip()
    if text.lower() in (LOCAL, PROCESS):
        return text.lower()
    try:
        check_url(text)
    except ValueError as exc:
        raise RateStoreError(f"{exc} (from {where})") from None
    return text


def kept_rate_store(flag: str | None, old: Profile | None) -> str | None:
    """What a profile keeps (``roamtui login``): ``--rate-store`` (checked) over what it had."""
    if flag:
        return validate_rate_store(flag, "--rate-store")
    return old.rate_store if old is not None else None


def describe(store: str) -> str:
    """How a validated ``store`` is named to people: never a password of its URL."""
    if store in (LOCAL, PROCESS):
        return store
    try:
        return check_url(store)
    except ValueError:
        return "redis"


def budget_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Where the local budget's file lives: the runtime dir where there is one, else state."""
    if sys.platform.startswith("linux") and not env.get("XDG_RUNTIME_DIR", "").strip():
        # Without XDG_RUNTIME_DIR, platformdirs would warn and pick a shared /tmp path.
        base = env.get("XDG_STATE_HOME", "").strip() or os.path.expanduser("~/.local/state")
        return Path(base) / APP_NAME
    if sys.platform.startswith("linux"):
        return Path(env["XDG_RUNTIME_DIR"].strip()) / APP_NAME
    return Path(platformdirs.user_runtime_dir(APP_NAME))


def shared_spec(
    store: str, sdkappid: int, env: Mapping[str, str] = os.environ
) -> SharedSpec | None:
    """The budgets for ``store`` (a validated value), None for ``process``."""
    if store == PROCESS:
        return None
    local = str(budget_dir(env) / f"budget-{int(sdkappid)}.gcra")
    return SharedSpec(int(sdkappid), local, None if store == LOCAL else store)

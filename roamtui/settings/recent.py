"""Recent queries of the query screen, kept in platformdirs' user state dir (or elsewhere, or not).

Where (:func:`recent_store`): ``--no-history`` keeps none this run; else ``$ROAMTUI_RECENT`` (a
file path, or ``off``); else the config's top-level ``recent`` (``false`` or a path); else
``<user state dir>/roamtui/recent.json``. ``ROAMTUI_CONFIG`` moves only the config file.

Only what the agent typed is stored (profile name, the two accounts, the window as typed and
the zone): never a secret, never message content. The file is rewritten atomically with mode
0600 (``roamtui.atomicfile``, as the config and exports are) so a crash never leaves half a list
behind, and a broken or foreign file is read as empty rather than stopping the app.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from roamtui.atomicfile import write_atomically
from roamtui.settings.config import APP_NAME, Config
from roamtui.settings.defaults import DEFAULT_SINCE, DEFAULT_UNTIL

ENV_RECENT = "ROAMTUI_RECENT"
#: Values of ``$ROAMTUI_RECENT`` that keep no recent queries.
OFF = frozenset({"off", "none", "no", "false", "0"})
FILE_NAME = "recent.json"
FORMAT_VERSION = 1
DEFAULT_LIMIT = 20
_FIELDS = ("account", "peer", "since", "until", "tz", "profile")


def default_path() -> Path:
    """`<user state dir>/roamtui/recent.json` (XDG_STATE_HOME on Linux)."""
    return platformdirs.user_state_path(APP_NAME) / FILE_NAME


def recent_path(
    *, no_history: bool = False, config: Config | None = None,
    env: Mapping[str, str] = os.environ,
) -> Path | None:
    """Where recent queries are kept, or None to keep none (see the module docstring)."""
    if no_history:
        return None
    given = env.get(ENV_RECENT, "").strip()
    if given:
        return None if given.lower() in OFF else Path(given).expanduser()
    setting = config.recent if config is not None else None
    if setting is False:
        return None
    if isinstance(setting, str):
        return Path(setting).expanduser()
    return default_path()


def recent_store(
    *, no_history: bool = False, config: Config | None = None,
    env: Mapping[str, str] = os.environ,
) -> RecentQueries | None:
    """The recent-queries file to use, or None (nothing read, nothing written)."""
    path = recent_path(no_history=no_history, config=config, env=env)
    return None if path is None else RecentQueries(path)


@dataclass(frozen=True, slots=True)
class RecentQuery:
    """One query as the agent typed it; times stay in their typed (often relative) form."""

    account: str
    peer: str
    since: str = DEFAULT_SINCE
    until: str = DEFAULT_UNTIL
    tz: str = ""
    profile: str | None = None

    def label(self) -> str:
        """One line for the recent list: `a ⇄ b · -7d … now · zone · profile`."""
        window = f"{self.since or DEFAULT_SINCE} … {self.until or DEFAULT_UNTIL}"
        parts = [f"{self.account} ⇄ {self.peer}", window]
        if self.tz:
            parts.append(self.tz)
        if self.profile:
            parts.append(f"profile {self.profile}")
        return " · ".join(parts)

    def same_query(self, other: RecentQuery) -> bool:
        return asdict(self) == asdict(other)


def _from_obj(obj: object) -> RecentQuery | None:
    """A stored entry, or None when it is not one of ours (hand-edited or from a newer version)."""
    if not isinstance(obj, dict):
        return None
    account, peer = obj.get("account"), obj.get("peer")
    if not isinstance(account, str) or not isinstance(peer, str) or not account or not peer:
        return None
    texts = {name: obj.get(name) for name in ("since", "until", "tz")}
    if not all(isinstance(value, str) for value in texts.values()):
        return None
    profile = obj.get("profile")
    if profile is not None and not isinstance(profile, str):
        return None
    return RecentQuery(
        account=account,
        peer=peer,
        since=str(texts["since"]),
        until=str(texts["until"]),
        tz=str(texts["tz"]),
        profile=profile,
    )


class RecentQueries:
    """The list of recent queries, newest first, without duplicates, at most `limit` long."""

    def __init__(self, path: Path | None = None, *, limit: int = DEFAULT_LIMIT) -> None:
        self.path = path if path is not None else default_path()
        self.limit = limit

    def __repr__(self) -> str:
        return f"RecentQueries(path={str(self.path)!r}, limit={self.limit})"

    def load(self) -> list[RecentQuery]:
        """The stored list; a missing, unreadable or malformed file reads as empty."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        entries = data.get("queries") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            return []
        queries: list[RecentQuery] = []
        for entry in entries:
            query = _from_obj(entry)
            if query is not None and not any(query.same_query(q) for q in queries):
                queries.append(query)
        return queries[: self.limit]

    def remember(self, query: RecentQuery) -> list[RecentQuery]:
        """Put `query` first (moving it up if it was already there), store, return the list.

        Raises OSError when the state dir cannot be written; the list is then unchanged on disk.
        """
        queries = [query, *(q for q in self.load() if not q.same_query(query))][: self.limit]
        self._write(queries)
        return queries

    def forget(self, query: RecentQuery) -> list[RecentQuery]:
        """Remove one entry and store the rest."""
        queries = [q for q in self.load() if not q.same_query(query)]
        self._write(queries)
        return queries

    def _write(self, queries: list[RecentQuery]) -> None:
        payload = {
            "version": FORMAT_VERSION,
            "queries": [{name: getattr(q, name) for name in _FIELDS} for q in queries],
        }
        text = json.dumps(payload, ensure_ascii=False, indent=1) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomically(self.path, lambda handle: handle.write(text), newline="\n")

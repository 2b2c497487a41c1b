"""Connection profiles: a small TOML file under platformdirs' user config dir.

The file never holds a secret (those live in the OS keyring, see ``credentials``). It is read with
``tomllib`` and written by hand, because the schema is flat and the stdlib has no TOML writer; every
write goes to a temporary file in the same directory and is renamed over the old one, so a crash
never leaves half a config behind.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import platformdirs

from roamtui.atomicfile import write_atomically
from roamtui.im.roam import FieldNaming
from roamtui.settings.defaults import DEFAULT_NAMING, FIELD_NAMINGS

if TYPE_CHECKING:
    import tomllib

ENV_CONFIG = "ROAMTUI_CONFIG"
APP_NAME = "roamtui"

#: A profile name is also part of a keyring user name ("name:sdkappid:identifier"), so no colons.
_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_POSITION = re.compile(r"^(?P<reason>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")

_HEADER = "# roamtui profiles. Secrets are kept in the OS keyring, never in this file.\n"


class ConfigError(Exception):
    """A config problem the user can fix; ``str()`` is one line naming the file and the cause."""


@dataclass(frozen=True, slots=True)
class Profile:
    """One named connection. Optional fields left as None fall back to the built-in defaults."""

    name: str
    sdkappid: int
    identifier: str
    region: str | None = None
    endpoint: str | None = None
    api_fields: FieldNaming = DEFAULT_NAMING
    tz: str | None = None
    max_rps: int | None = None
    page_size: int | None = None
    rate_store: str | None = None  # "local", "process" or a Redis URL (settings.rate_store)


@dataclass(frozen=True, slots=True)
class Config:
    """All profiles of one config file (empty when the file does not exist yet)."""

    path: Path
    profiles: tuple[Profile, ...] = ()
    default: str | None = None
    exists: bool = field(default=False, compare=False)
    #: Recent queries of the query screen: False keeps none, a string is the file's path,
    #: None the state dir (``settings.recent``).
    recent: bool | str | None = None
    #: Marks and notes on messages: False keeps them for the session only, a string is the
    #: file's path, None the data dir (``settings.marks``).
    marks: bool | str | None = None

    def names(self) -> list[str]:
        return [p.name for p in self.profiles]

    def find(self, name: str) -> Profile | None:
        return next((p for p in self.profiles if p.name == name), None)

    def profile(self, name: str) -> Profile:
        """The profile called ``name``; ConfigError if there is none."""
        found = self.find(name)
        if found is None:
            known = ", ".join(self.names()) or "none yet"
            raise ConfigError(
                f"unknown profile {name!r} in {self.path} (known: {known}); "
                "create it with `roamtui login --profile NAME --sdkappid N --identifier ADMIN`"
            )
        return found

    def default_profile(self) -> Profile | None:
        return None if self.default is None else self.find(self.default)

    def with_profile(self, profile: Profile, *, make_default: bool = False) -> Config:
        """A copy with ``profile`` added or replaced; it becomes default if asked or if first."""
        if self.find(profile.name) is None:
            profiles = (*self.profiles, profile)
        else:
            profiles = tuple(profile if p.name == profile.name else p for p in self.profiles)
        default = self.default
        if make_default or default is None:
            default = profile.name
        return replace(self, profiles=profiles, default=default)

    def without_profile(self, name: str) -> Config:
        """A copy without ``name``; the default is cleared when it pointed there."""
        profiles = tuple(p for p in self.profiles if p.name != name)
        default = None if self.default == name else self.default
        return replace(self, profiles=profiles, default=default)


def config_path(env: Mapping[str, str] = os.environ) -> Path:
    """Where the config lives: ``$ROAMTUI_CONFIG`` if set, else the platform's user config dir."""
    override = env.get(ENV_CONFIG, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def valid_profile_name(name: str) -> bool:
    return _PROFILE_NAME.fullmatch(name) is not None


def load_config(path: Path | None = None, *, env: Mapping[str, str] = os.environ) -> Config:
    """Read and validate the config file; a missing file is an empty config, not an error."""
    path = config_path(env) if path is None else path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Config(path=path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    import tomllib  # only with a file to parse: most runs have none, and start sooner without

    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; fix or remove the file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_describe_toml_error(path, exc)) from None
    return _parse(path, doc)


def _describe_toml_error(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    # Python 3.11's TOMLDecodeError has no lineno attribute; the position is only in the text.
    text = str(exc)
    match = _TOML_POSITION.match(text)
    if match is None:
        return f"{path}: broken TOML: {text}"
    return (
        f"{path}: line {match['line']}, column {match['col']}: "
        f"broken TOML: {match['reason']}"
    )


_TOP_KEYS = ("default", "recent", "marks", "profiles")
_PROFILE_KEYS = (
    "sdkappid", "identifier", "region", "endpoint", "api_fields", "tz", "max_rps", "page_size",
    "rate_store",
)


def _parse(path: Path, doc: dict[str, object]) -> Config:
    for key in doc:
        if key not in _TOP_KEYS:
            raise ConfigError(
                f"{path}: unknown key {key!r} at top level (known: {', '.join(_TOP_KEYS)})"
            )
    default = doc.get("default")
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{path}: 'default' must be a string naming a profile")
    recent = doc.get("recent")
    if recent is not None and not (recent is False or (isinstance(recent, str) and recent)):
        raise ConfigError(
            f"{path}: 'recent' must be false (keep no recent queries) or a file path string"
        )
    marks = doc.get("marks")
    if marks is not None and not (marks is False or (isinstance(marks, str) and marks)):
        raise ConfigError(
            f"{path}: 'marks' must be false (keep marks for the session only) or a file path "
            "string"
        )
    tables = doc.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: 'profiles' must be a table of [profiles.NAME] tables")
    profiles = []
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: profiles.{name} must be a table")
        profiles.append(_parse_profile(path, name, table))
    if default is not None and default not in tables:
        raise ConfigError(
            f"{path}: default = {default!r} names no profile "
            f"(known: {', '.join(tables) or 'none'})"
        )
    return Config(
        path=path, profiles=tuple(profiles), default=default, exists=True,
        recent=cast(bool | str | None, recent), marks=cast(bool | str | None, marks),
    )


def _parse_profile(path: Path, name: str, table: Mapping[str, object]) -> Profile:
    where = f"{path}: profile {name!r}"
    if not valid_profile_name(name):
        raise ConfigError(
            f"{where}: a profile name is 1-64 letters, digits, '_', '.' or '-' "
            "and starts with a letter or digit"
        )
    for key in table:
        if key not in _PROFILE_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(_PROFILE_KEYS)})")

    def get(key: str, kind: type, required: bool = False) -> object:
        value = table.get(key)
        if value is None:
            if required:
                raise ConfigError(f"{where}: missing required key {key!r}")
            return None
        # bool is a subclass of int in Python, but `max_rps = true` is a mistake, not 1.
        if isinstance(value, bool) or not isinstance(value, kind):
            wanted = "an integer" if kind is int else "a string"
            raise ConfigError(
                f"{where}: {key!r} must be {wanted}, not {type(value).__name__} {value!r}"
            )
        return value

    sdkappid = cast(int, get("sdkappid", int, required=True))
    identifier = cast(str, get("identifier", str, required=True))
    if sdkappid <= 0:
        raise ConfigError(f"{where}: 'sdkappid' must be a positive integer")
    if not identifier:
        raise ConfigError(f"{where}: 'identifier' must not be empty")
    api_fields = cast(str | None, get("api_fields", str)) or DEFAULT_NAMING
    if api_fields not in FIELD_NAMINGS:
        raise ConfigError(f"{where}: 'api_fields' must be one of {', '.join(FIELD_NAMINGS)}")
    return Profile(
        name=name,
        sdkappid=sdkappid,
        identifier=identifier,
        region=cast(str | None, get("region", str)),
        endpoint=cast(str | None, get("endpoint", str)),
        api_fields=cast(FieldNaming, api_fields),
        tz=cast(str | None, get("tz", str)),
        max_rps=cast(int | None, get("max_rps", int)),
        page_size=cast(int | None, get("page_size", int)),
        rate_store=cast(str | None, get("rate_store", str)),
    )


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped."""
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def dumps(config: Config) -> str:
    """The TOML text of ``config``, stable so that diffs stay small."""
    lines = [_HEADER]
    if config.default is not None:
        lines.append(f"default = {toml_string(config.default)}\n")
    if config.recent is False:
        lines.append("recent = false\n")
    elif isinstance(config.recent, str):
        lines.append(f"recent = {toml_string(config.recent)}\n")
    if config.marks is False:
        lines.append("marks = false\n")
    elif isinstance(config.marks, str):
        lines.append(f"marks = {toml_string(config.marks)}\n")
    for p in config.profiles:
        lines.append(f"\n[profiles.{_toml_key(p.name)}]\n")
        lines.append(f"sdkappid = {int(p.sdkappid)}\n")
        lines.append(f"identifier = {toml_string(p.identifier)}\n")
        for key in ("region", "endpoint", "tz", "rate_store"):
            value = getattr(p, key)
            if value is not None:
                lines.append(f"{key} = {toml_string(value)}\n")
        lines.append(f"api_fields = {toml_string(p.api_fields)}\n")
        for key in ("max_rps", "page_size"):
            value = getattr(p, key)
            if value is not None:
                lines.append(f"{key} = {int(value)}\n")
    return "".join(lines)


def save_config(config: Config) -> Path:
    """Write ``config`` atomically with mode 0600 (missing directories are made 0700)."""
    path = config.path
    text = dumps(config)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomically(path, lambda fh: fh.write(text), newline="\n")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the config file: {exc.strerror}") from None
    return path

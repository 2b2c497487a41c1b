"""resolve_connection: precedence flags > env > profile > defaults, validation, secret lookup."""

from __future__ import annotations

import argparse
from pathlib import Path

import keyring.backends.fail
import pytest
from test_credentials import KEY, MemoryKeyring

from roamtui.cli import build_parser
from roamtui.im.client import REGIONS
from roamtui.settings.config import Config, ConfigError, Profile, save_config
from roamtui.settings.connection import (
    ConnectionConfigError,
    NoConnectionGiven,
    Resolved,
    resolve_connection,
)
from roamtui.settings.credentials import CredentialError, CredentialStore

FIELDS = ("profile", "endpoint", "region", "sdkappid", "identifier", "max_rps", "page_size", "tz",
          "api_fields")

WORK = Profile(
    name="work", sdkappid=1400000000, identifier="administrator", region="singapore",
    api_fields="operator-peer", tz="Asia/Shanghai", max_rps=80, page_size=40,
)
LAB = Profile(name="lab", sdkappid=1400000001, identifier="admin", endpoint="http://127.0.0.1:9")


def ns(**given: object) -> argparse.Namespace:
    values: dict[str, object] = dict.fromkeys(FIELDS)
    values.update(given)
    return argparse.Namespace(**values)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    cfg = Config(path=tmp_path / "config.toml").with_profile(WORK).with_profile(LAB)
    save_config(cfg)
    return cfg


@pytest.fixture
def store() -> CredentialStore:
    return CredentialStore(MemoryKeyring())


def test_default_profile_when_nothing_names_a_connection(
    config: Config, store: CredentialStore
) -> None:
    store.set(WORK, "secret_key", KEY)
    r = resolve_connection(ns(), env={}, store=store, config=config)
    assert r.profile_name == "work"
    assert r.connection.endpoint == REGIONS["singapore"]
    assert (r.connection.sdkappid, r.connection.identifier) == (1400000000, "administrator")
    assert (r.naming, r.tz, r.max_rps, r.page_size) == ("operator-peer", "Asia/Shanghai", 80, 40)
    assert r.connection.secret_key == KEY and r.connection.usersig is None
    assert r.secret_source == "keyring" and r.missing_secret is None


def test_default_profile_read_from_the_config_file(config: Config, store: CredentialStore) -> None:
    env = {"ROAMTUI_CONFIG": str(config.path)}
    assert resolve_connection(ns(), env=env, store=store).profile_name == "work"


def test_named_profile_and_builtin_defaults(config: Config, store: CredentialStore) -> None:
    r = resolve_connection(ns(profile="lab"), env={}, store=store, config=config)
    assert r.connection.endpoint == "http://127.0.0.1:9"
    assert (r.naming, r.tz, r.max_rps, r.page_size) == ("from-to", None, 50, 100)


def test_flags_beat_env_beat_profile(config: Config, store: CredentialStore) -> None:
    env = {"ROAMTUI_SDKAPPID": "1400000002", "ROAMTUI_IDENTIFIER": "env-admin",
           "ROAMTUI_ENDPOINT": "http://127.0.0.1:7"}
    r = resolve_connection(ns(profile="work"), env=env, store=store, config=config)
    assert r.connection.sdkappid == 1400000002
    assert r.connection.identifier == "env-admin"
    assert r.connection.endpoint == "http://127.0.0.1:7"
    flags = ns(profile="work", sdkappid="1400000003", identifier="flag-admin", region="tokyo",
               max_rps="200", page_size=20, tz="UTC", api_fields="from-to")
    r = resolve_connection(flags, env=env, store=store, config=config)
    assert r.connection.sdkappid == 1400000003
    assert r.connection.identifier == "flag-admin"
    assert r.connection.endpoint == REGIONS["tokyo"]
    assert (r.naming, r.tz, r.max_rps, r.page_size) == ("from-to", "UTC", 200, 20)


def test_flags_naming_a_connection_skip_the_default_profile(
    config: Config, store: CredentialStore
) -> None:
    args = ns(endpoint="http://127.0.0.1:5/", sdkappid="77", identifier="root")
    r = resolve_connection(args, env={"ROAMTUI_SECRET_KEY": KEY}, store=store, config=config)
    assert r.profile_name is None
    assert r.connection.endpoint == "http://127.0.0.1:5"
    assert (r.max_rps, r.page_size, r.naming) == (50, 100, "from-to")  # nothing from 'work'
    assert r.secret_source == "env"


def test_env_alone_names_a_connection(store: CredentialStore, tmp_path: Path) -> None:
    env = {"ROAMTUI_SDKAPPID": "42", "ROAMTUI_IDENTIFIER": "admin", "ROAMTUI_USERSIG": "sig-xyz"}
    r = resolve_connection(ns(), env=env, store=store, config=Config(path=tmp_path / "x.toml"))
    assert r.connection.endpoint == REGIONS["mainland"]
    assert r.connection.usersig == "sig-xyz" and r.connection.secret_key is None


def test_no_connection_at_all(tmp_path: Path, store: CredentialStore) -> None:
    with pytest.raises(ConnectionConfigError, match=r"no connection given.*roamtui login"):
        resolve_connection(ns(), env={}, store=store, config=Config(path=tmp_path / "x.toml"))


def test_unknown_profile(config: Config, store: CredentialStore) -> None:
    with pytest.raises(ConfigError, match="unknown profile 'home'"):
        resolve_connection(ns(profile="home"), env={}, store=store, config=config)


def test_broken_config_file_is_reported(tmp_path: Path, store: CredentialStore) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[profiles.work\n")
    with pytest.raises(ConfigError, match="line 1"):
        resolve_connection(ns(), env={"ROAMTUI_CONFIG": str(path)}, store=store)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (ns(sdkappid="14e8", identifier="a"), {}, r"SDKAppID must be .*'14e8' \(from --sdkappid\)"),
        (ns(identifier="a"), {"ROAMTUI_SDKAPPID": "-3"}, r"'-3' \(from ROAMTUI_SDKAPPID\)"),
        (ns(identifier="a"), {}, "no SDKAppID"),
        (ns(sdkappid="1"), {}, "no admin identifier"),
        (ns(profile="work", region="atlantis"), {}, r"unknown region 'atlantis' \(from --region\)"),
        (ns(profile="work", region="tokyo", endpoint="http://x"), {}, "both a region and an end"),
        (ns(profile="work", endpoint="ftp://x"), {}, r"http\(s\) URL.*\(from --endpoint\)"),
        (ns(profile="work", max_rps="0"), {}, r"max_rps must be .* 1 to 200, not '0'"),
        (ns(profile="work", max_rps=500), {}, r"max_rps must be .* 1 to 200, not 500"),
        (ns(profile="work", max_rps="fast"), {}, "max_rps must be a whole number"),
        (ns(profile="work", page_size="0"), {}, "page_size must be a whole number"),
        (ns(profile="work", tz="Mars/Olympus"), {}, r"time zone 'Mars/Olympus' \(from --tz\)"),
        (ns(profile="work", api_fields="a-b"), {}, "api_fields must be one of"),
    ],
)
def test_validation_errors_are_one_line_with_their_source(
    config: Config, store: CredentialStore, args: argparse.Namespace, env: dict[str, str],
    message: str,
) -> None:
    with pytest.raises(ConnectionConfigError, match=message) as info:
        resolve_connection(args, env=env, store=store, config=config)
    assert "\n" not in str(info.value)


def test_profile_with_both_region_and_endpoint(tmp_path: Path, store: CredentialStore) -> None:
    bad = Profile(name="bad", sdkappid=1, identifier="a", region="tokyo", endpoint="http://x")
    cfg = Config(path=tmp_path / "c.toml").with_profile(bad)
    with pytest.raises(ConnectionConfigError, match="profile 'bad'"):
        resolve_connection(ns(), env={}, store=store, config=cfg)


def test_region_flag_overrides_the_profile_endpoint(config: Config, store: CredentialStore) -> None:
    r = resolve_connection(ns(profile="lab", region="Silicon Valley"), env={}, store=store,
                           config=config)
    assert r.connection.endpoint == REGIONS["silicon-valley"]


def test_out_of_range_max_rps_in_the_profile_names_the_profile(
    tmp_path: Path, store: CredentialStore
) -> None:
    cfg = Config(path=tmp_path / "c.toml").with_profile(
        Profile(name="greedy", sdkappid=1, identifier="a", max_rps=1000)
    )
    with pytest.raises(ConnectionConfigError, match=r"not 1000 \(from profile 'greedy'\)"):
        resolve_connection(ns(), env={}, store=store, config=cfg)


def test_env_secret_wins_over_the_keyring(config: Config, store: CredentialStore) -> None:
    store.set(WORK, "secret_key", KEY)
    r = resolve_connection(ns(), env={"ROAMTUI_USERSIG": "envsig"}, store=store, config=config)
    assert r.connection.usersig == "envsig" and r.connection.secret_key is None
    assert r.secret_source == "env"


def test_keyring_entry_follows_the_effective_app(config: Config, store: CredentialStore) -> None:
    store.set(WORK, "secret_key", KEY)
    r = resolve_connection(ns(sdkappid="1400000009", profile="work"), env={}, store=store,
                           config=config)
    assert r.connection.secret_key is None
    assert r.missing_secret is not None and "1400000009" in r.missing_secret


def test_missing_secret_is_a_reason_not_an_error(config: Config) -> None:
    store = CredentialStore(keyring.backends.fail.Keyring())
    r = resolve_connection(ns(), env={}, store=store, config=config)
    assert r.connection.secret_key is None and r.connection.usersig is None
    assert r.missing_secret is not None and "no OS keyring" in r.missing_secret
    with pytest.raises(CredentialError, match="no OS keyring"):
        r.require_secret()
    typed = r.with_secret("secret_key", f" {KEY}\n")
    assert typed.connection.secret_key == KEY
    assert typed.secret_source == "prompt" and typed.missing_secret is None
    assert typed.require_secret() is typed
    with pytest.raises(CredentialError):
        r.with_secret("usersig", "  ")


def test_a_refused_secret_is_dropped_with_the_reason(
    config: Config, store: CredentialStore
) -> None:
    r = resolve_connection(ns(), env={"ROAMTUI_SECRET_KEY": KEY}, store=store, config=config)
    refused = r.without_secret("70009 the secret key is not this SDKAppID's")
    assert refused.connection.secret_key is None and refused.connection.usersig is None
    assert refused.missing_secret is not None and "70009" in refused.missing_secret
    assert refused.secret_source is None and KEY not in repr(refused)
    with pytest.raises(CredentialError, match="70009"):
        refused.require_secret()


def test_repr_never_shows_the_secret(config: Config, store: CredentialStore) -> None:
    r = resolve_connection(ns(), env={"ROAMTUI_SECRET_KEY": KEY}, store=store, config=config)
    assert isinstance(r, Resolved)
    assert KEY not in repr(r) and KEY not in str(r)
    assert "secret=env" in repr(r)


@pytest.mark.parametrize("command", ["browse", "export"])
def test_the_command_line_feeds_resolve_connection(
    config: Config, store: CredentialStore, command: str
) -> None:
    argv = [command, "a", "b", "--profile", "work", "--max-rps", "120", "--api-fields", "from-to"]
    if command == "export":
        argv += ["--since=-1h", "--until=now"]
    args = build_parser().parse_args(argv)
    r = resolve_connection(args, env={}, store=store, config=config)
    assert (r.max_rps, r.naming, r.profile_name, r.tz) == (120, "from-to", "work", "Asia/Shanghai")


def test_no_connection_at_all_is_its_own_error(tmp_path: Path, store: CredentialStore) -> None:
    empty = Config(path=tmp_path / "none.toml")
    with pytest.raises(NoConnectionGiven, match="no connection given"):
        resolve_connection(ns(), env={}, store=store, config=empty)


def test_a_connection_given_directly_carries_the_defaults() -> None:
    from roamtui.im.client import Connection

    bare = Resolved.given(Connection("http://127.0.0.1:9", 1, "admin"), profile_name="demo")
    assert (bare.max_rps, bare.page_size, bare.naming) == (50, 100, "from-to")
    assert bare.missing_secret is not None and bare.secret_source is None
    keyed = bare.with_secret("secret_key", KEY)
    assert keyed.missing_secret is None and keyed.connection.secret_key == KEY
    query = keyed.query("a", "b", 1, 2)
    assert (query.page_size, query.naming) == (100, "from-to")

"""Profiles file: location, round trip, atomic 0600 writes, and one-line errors for bad files."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roamtui.settings.config import (
    Config,
    ConfigError,
    Profile,
    config_path,
    dumps,
    load_config,
    save_config,
    toml_string,
)

WORK = Profile(
    name="work",
    sdkappid=1400000000,
    identifier="administrator",
    region="singapore",
    api_fields="operator-peer",
    tz="Asia/Shanghai",
    max_rps=80,
    page_size=50,
)
LAB = Profile(name="lab", sdkappid=1400000001, identifier="admin", endpoint="http://127.0.0.1:8080")


def test_default_path_is_under_xdg_config_home(isolated_user_dirs: Path) -> None:
    path = config_path(os.environ)
    assert path == isolated_user_dirs / "xdg_config_home" / "roamtui" / "config.toml"


def test_roamtui_config_overrides_the_path(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.toml"
    assert config_path({"ROAMTUI_CONFIG": str(target)}) == target
    save_config(Config(path=target).with_profile(LAB))
    assert load_config(env={"ROAMTUI_CONFIG": str(target)}).names() == ["lab"]


def test_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path / "none.toml")
    assert config.profiles == ()
    assert config.default is None
    assert not config.exists


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "config.toml"
    config = Config(path=path).with_profile(WORK).with_profile(LAB)
    save_config(config)
    loaded = load_config(path)
    assert loaded.profiles == (WORK, LAB)
    assert loaded.default == "work"  # the first profile saved becomes the default
    assert loaded.profile("lab").endpoint == "http://127.0.0.1:8080"


def test_make_default_and_forget(tmp_path: Path) -> None:
    config = Config(path=tmp_path / "c.toml").with_profile(WORK).with_profile(LAB)
    assert config.with_profile(LAB, make_default=True).default == "lab"
    forgotten = config.without_profile("work")
    assert forgotten.names() == ["lab"]
    assert forgotten.default is None


def test_replacing_a_profile_keeps_its_place(tmp_path: Path) -> None:
    config = Config(path=tmp_path / "c.toml").with_profile(WORK).with_profile(LAB)
    changed = Profile(name="work", sdkappid=1400000009, identifier="root")
    assert config.with_profile(changed).profiles == (changed, LAB)


def test_file_is_0600_and_new_directory_0700(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    save_config(Config(path=path).with_profile(WORK))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_rewrite_tightens_a_loose_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("")
    path.chmod(0o644)
    save_config(Config(path=path).with_profile(WORK))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_goes_through_a_temp_file_in_the_same_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cfg" / "config.toml"
    real_replace = os.replace
    seen: list[tuple[Path, int]] = []

    def spy(src: str, dst: str) -> None:
        seen.append((Path(src), stat.S_IMODE(Path(src).stat().st_mode)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    save_config(Config(path=path).with_profile(WORK))
    [(src, mode)] = seen
    assert src.parent == path.parent and src != path
    assert mode == 0o600  # already private before it takes the real name


def test_write_is_atomic_old_file_survives_a_failed_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cfg" / "config.toml"
    save_config(Config(path=path).with_profile(WORK))
    before = path.read_text()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ConfigError, match="No space left"):
        save_config(Config(path=path).with_profile(LAB))
    assert path.read_text() == before
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temp file left


def test_broken_toml_names_file_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('default = "work"\n\n[profiles.work]\nsdkappid = 14000\nidentifier = admin\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert str(path) in text
    assert "line 5" in text
    assert "Invalid value" in text
    assert "\n" not in text


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('colour = "red"\n')
    with pytest.raises(ConfigError, match="unknown key 'colour' at top level"):
        load_config(path)


def test_unknown_profile_key_lists_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[profiles.work]\nsdkappid = 1\nidentifier = "a"\nsecret_key = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "unknown key 'secret_key'" in str(info.value)
    assert "sdkappid" in str(info.value)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('sdkappid = "1400000000"', "'sdkappid' must be an integer, not str"),
        ("max_rps = true", "'max_rps' must be an integer, not bool"),
        ("tz = 8", "'tz' must be a string, not int"),
        ('api_fields = "sender-receiver"', "'api_fields' must be one of from-to, operator-peer"),
    ],
)
def test_wrong_types(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "config.toml"
    base = {"sdkappid": "sdkappid = 1400000000", "identifier": 'identifier = "admin"'}
    key = line.split(" = ")[0]
    base[key] = line
    path.write_text("[profiles.work]\n" + "\n".join(base.values()) + "\n")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_required_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[profiles.work]\nsdkappid = 1400000000\n")
    with pytest.raises(ConfigError, match="missing required key 'identifier'"):
        load_config(path)


def test_default_naming_no_profile(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('default = "home"\n[profiles.work]\nsdkappid = 1\nidentifier = "a"\n')
    with pytest.raises(ConfigError, match="default = 'home' names no profile"):
        load_config(path)


def test_unknown_profile_lookup(tmp_path: Path) -> None:
    config = Config(path=tmp_path / "c.toml").with_profile(WORK)
    with pytest.raises(ConfigError) as info:
        config.profile("home")
    assert "unknown profile 'home'" in str(info.value)
    assert "known: work" in str(info.value)
    assert "roamtui login" in str(info.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"default = \"\xff\"\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_written_file_holds_no_unexpected_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(Config(path=path).with_profile(WORK))
    doc = tomllib.loads(path.read_text())
    assert set(doc["profiles"]["work"]) <= {
        "sdkappid", "identifier", "region", "endpoint", "api_fields", "tz", "max_rps", "page_size",
    }
    assert dumps(load_config(path)) == path.read_text()


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_toml_string_quotes_anything(value: str) -> None:
    assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value


@settings(max_examples=60, deadline=None)
@given(
    name=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True),
    identifier=st.text(min_size=1, max_size=40),
    tz=st.none() | st.text(max_size=30),
)
def test_any_profile_survives_dumps_and_load(
    tmp_path_factory: pytest.TempPathFactory, name: str, identifier: str, tz: str | None
) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    profile = Profile(name=name, sdkappid=7, identifier=identifier, tz=tz)
    path.write_text(dumps(Config(path=path).with_profile(profile)), encoding="utf-8")
    assert load_config(path).profiles == (profile,)

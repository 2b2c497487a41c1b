"""Which budget a connection shares (issue 20): --rate-store, ROAMTUI_RATE_STORE, a profile's
rate_store, and where the local budget's file lives."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_connection import ns
from test_credentials import KEY

from roamtui.settings.config import Config, ConfigError, Profile, load_config, save_config
from roamtui.settings.connection import resolve_connection
from roamtui.settings.rate_store import budget_dir


@pytest.fixture
def config(tmp_path: Path) -> Config:
    profile = Profile("team", 1400000009, "admin", endpoint="http://127.0.0.1:9",
                      rate_store="redis://10.0.0.5:6380/2")
    path = save_config(Config(tmp_path / "config.toml").with_profile(profile))
    return load_config(path)


def resolve(args_given: dict[str, object], env: dict[str, str], config: Config | None = None):
    return resolve_connection(ns(**args_given), env={"ROAMTUI_SECRET_KEY": KEY, **env},
                              config=config)


def test_by_default_the_local_budget_of_the_app_in_the_runtime_dir(tmp_path: Path) -> None:
    env = {"XDG_RUNTIME_DIR": str(tmp_path / "run")}
    r = resolve({"endpoint": "http://127.0.0.1:5", "sdkappid": "77", "identifier": "root"}, env)
    assert r.rate_store == "local" and r.share is not None
    assert r.share.local_path == str(tmp_path / "run" / "roamtui" / "budget-77.gcra")
    assert r.share.redis_url is None and r.share.sdkappid == 77


def test_without_a_runtime_dir_the_state_dir(tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    assert budget_dir(env) == tmp_path / "state" / "roamtui"


def test_profile_then_env_then_flag_and_process_means_no_sharing(config: Config) -> None:
    r = resolve({"profile": "team"}, {}, config)
    assert r.share is not None and r.share.redis_url == "redis://10.0.0.5:6380/2"
    assert "rate_store='redis 10.0.0.5:6380/2'" in repr(r)
    r = resolve({"profile": "team"}, {"ROAMTUI_RATE_STORE": "local"}, config)
    assert r.share is not None and r.share.redis_url is None
    r = resolve({"profile": "team", "rate_store": "process"}, {"ROAMTUI_RATE_STORE": "local"},
                config)
    assert r.rate_store == "process" and r.share is None


def test_a_bad_rate_store_names_where_it_came_from(config: Config) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve({"profile": "team"}, {"ROAMTUI_RATE_STORE": "memcached://x"}, config)
    assert "ROAMTUI_RATE_STORE" in str(caught.value) and "\n" not in str(caught.value)


def test_the_profile_keeps_its_rate_store_through_a_save(config: Config) -> None:
    assert "rate_store" in config.path.read_text() and config.profile("team").rate_store
    again = load_config(config.path)
    assert again.profile("team").rate_store == "redis://10.0.0.5:6380/2"

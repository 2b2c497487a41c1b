"""`roamtui login`, `logout` and `profiles` as a user runs them: piped secrets, output, exits."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import keyring.backends.fail
import keyring.backends.null
import pytest
from test_credentials import KEY, MemoryKeyring

from roamtui.cli import build_parser
from roamtui.cli.accounts import login, logout, profiles
from roamtui.im.client import ImClient
from roamtui.im.roam import API, RoamQuery, build_body
from roamtui.im.usersig import UserSigError, sign, verify
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, DEMO_SECRET_KEY, Dataset, SandboxServer
from roamtui.settings.config import Profile, load_config
from roamtui.settings.connection import resolve_connection
from roamtui.settings.credentials import SERVICE, CredentialStore, Secret

APP = 1400000000


def login_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["login", *argv])


def logout_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["logout", *argv])


class Run:
    """One command run with captured streams."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.code: int | None = None

    @property
    def text(self) -> str:
        return self.out.getvalue() + self.err.getvalue()


def run_login(store: CredentialStore, stdin: str, *argv: str, **kw: object) -> Run:
    run = Run()
    run.code = login(login_args(*argv), stdin=io.StringIO(stdin), stdout=run.out, stderr=run.err,
                     store=store, **kw)  # type: ignore[arg-type]
    return run


def run_profiles(store: CredentialStore) -> Run:
    run = Run()
    args = build_parser().parse_args(["profiles"])
    run.code = profiles(args, stdout=run.out, stderr=run.err, store=store)
    return run


def run_logout(store: CredentialStore, *argv: str) -> Run:
    run = Run()
    run.code = logout(logout_args(*argv), stdout=run.out, stderr=run.err, store=store)
    return run


@pytest.fixture
def kr() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def store(kr: MemoryKeyring) -> CredentialStore:
    return CredentialStore(kr)


def work(**kw: object) -> Profile:
    values: dict[str, object] = {"name": "work", "sdkappid": APP, "identifier": "administrator"}
    values.update(kw)
    return Profile(**values)  # type: ignore[arg-type]


def files_containing(root: Path, needle: str) -> list[Path]:
    data = needle.encode()
    return [p for p in root.rglob("*") if p.is_file() and data in p.read_bytes()]


WORK_ARGS = ("--profile", "work", "--sdkappid", str(APP), "--identifier", "administrator")


def test_login_from_a_pipe_saves_profile_and_keyring_entry(
    store: CredentialStore, kr: MemoryKeyring, tmp_path: Path
) -> None:
    run = run_login(store, KEY + "\n", *WORK_ARGS, "--region", "singapore", "--tz", "UTC")
    assert run.code == 0, run.text
    config = load_config()
    assert config.profile("work") == work(region="singapore", tz="UTC")
    assert config.default == "work"
    assert store.get(work()) == Secret(kind="secret_key", value=KEY, source="keyring")
    assert "Saved profile 'work' (default)" in run.out.getvalue()
    assert f"{SERVICE} / work:{APP}:administrator" in run.out.getvalue()
    assert KEY not in run.text
    assert files_containing(tmp_path, KEY) == []


def test_login_reads_hidden_from_a_terminal(
    store: CredentialStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str, stream: object = None) -> str:
        prompts.append(prompt)
        return KEY

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    code = login(login_args(*WORK_ARGS), stdin=Tty("not this\n"), stdout=io.StringIO(),
                 stderr=io.StringIO(), store=store)
    assert code == 0
    assert prompts == ["Secret key (input hidden): "]
    assert store.get(work()) is not None and store.get(work()).value == KEY  # type: ignore[union-attr]


def test_login_warns_about_a_key_that_does_not_look_like_the_consoles(
    store: CredentialStore,
) -> None:
    run = run_login(store, "short-key\n", *WORK_ARGS)
    assert run.code == 0
    assert "does not look like the console's secret key" in run.err.getvalue()
    assert "short-key" not in run.text


def test_login_with_a_ready_usersig(store: CredentialStore) -> None:
    sig = sign(APP, KEY, "administrator", expire=7 * 86400)
    run = run_login(store, sig + "\n", *WORK_ARGS, "--usersig")
    assert run.code == 0, run.text
    assert store.get(work()) == Secret(kind="usersig", value=sig, source="keyring")
    assert "expires in 6 days" in run.err.getvalue() or "expires in 7 days" in run.err.getvalue()
    assert sig not in run.text


@pytest.mark.parametrize(
    ("sig", "message"),
    [
        (sign(APP + 1, KEY, "administrator"), f"made for SDKAppID {APP + 1}, not {APP}"),
        (sign(APP, KEY, "someone"), "made for identifier 'someone'"),
        (sign(APP, KEY, "administrator", expire=10, now=int(time.time()) - 100), "has expired"),
        ("not-a-signature", "malformed"),
    ],
)
def test_login_rejects_an_unusable_usersig(
    store: CredentialStore, kr: MemoryKeyring, sig: str, message: str
) -> None:
    run = run_login(store, sig + "\n", *WORK_ARGS, "--usersig")
    assert run.code == 2
    assert message in run.err.getvalue()
    assert kr.entries == {}
    assert not load_config().exists


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (("--identifier", "a"), KEY, "--sdkappid N is required"),
        (("--sdkappid", "1"), KEY, "--identifier ADMIN is required"),
        (("--sdkappid", "x1", "--identifier", "a"), KEY, "SDKAppID must be a positive"),
        (("--sdkappid", "1", "--identifier", "a"), "\n", "no secret key given"),
        (("--profile", "a:b", "--sdkappid", "1", "--identifier", "a"), KEY, "bad profile name"),
        (("--sdkappid", "1", "--identifier", "a", "--region", "moon"), KEY, "unknown region"),
        (("--sdkappid", "1", "--identifier", "a", "--tz", "Nowhere/X"), KEY, "unknown time zone"),
    ],
    ids=["no-app", "no-admin", "bad-app", "no-secret", "bad-name", "region", "tz"],
)
def test_login_usage_errors(
    store: CredentialStore, argv: tuple[str, ...], stdin: str, message: str
) -> None:
    run = run_login(store, stdin, *argv)
    assert run.code == 2
    assert message in run.err.getvalue()
    assert run.err.getvalue().count("\n") == 1


def test_login_rates_beyond_the_service_limit_are_refused_by_the_parser(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["login", "--sdkappid", "1", "--identifier", "a",
                                   "--max-rps", "999"])
    assert exit_info.value.code == 2
    assert "calls per second must be from 1 to 200" in capsys.readouterr().err


class NoReading(io.StringIO):
    """A terminal nobody should be asked to type into."""

    def isatty(self) -> bool:
        raise AssertionError("the secret was asked for")

    def readline(self, size: int | None = -1) -> str:
        raise AssertionError("the secret was asked for")


def test_login_without_a_keyring_never_asks_for_the_secret(tmp_path: Path) -> None:
    run = Run()
    run.code = login(login_args(*WORK_ARGS, "--check"), stdin=NoReading(), stdout=run.out,
                     stderr=run.err, store=CredentialStore(keyring.backends.fail.Keyring()))
    assert run.code == 1
    err = run.err.getvalue()
    assert err.count("\n") == 1 and "the secret was not asked for" in err
    assert "ROAMTUI_SECRET_KEY" in err and "dbus-run-session" in err and "…'" in err
    assert "Saved profile 'work'" in run.out.getvalue()
    assert load_config().profile("work") == work()
    assert files_containing(tmp_path, KEY) == []


def test_login_refuses_the_null_backend(tmp_path: Path) -> None:
    run = run_login(CredentialStore(keyring.backends.null.Keyring()), KEY, *WORK_ARGS)
    assert run.code == 1
    assert "not secure storage" in run.err.getvalue()
    assert files_containing(tmp_path, KEY) == []


def test_relogin_keeps_settings_and_moves_the_entry(
    store: CredentialStore, kr: MemoryKeyring
) -> None:
    assert run_login(store, KEY, *WORK_ARGS, "--region", "tokyo").code == 0
    other_key = "f" * 64
    assert run_login(store, other_key, "--profile", "work", "--sdkappid", "1400000005").code == 0
    profile = load_config().profile("work")
    assert (profile.sdkappid, profile.identifier, profile.region) == (
        1400000005, "administrator", "tokyo"
    )
    assert list(kr.entries) == [(SERVICE, "work:1400000005:administrator")]


def test_second_profile_becomes_default_only_when_asked(store: CredentialStore) -> None:
    assert run_login(store, KEY, *WORK_ARGS).code == 0
    lab = ("--profile", "lab", "--sdkappid", "7", "--identifier", "a")
    assert run_login(store, KEY, *lab).code == 0
    assert load_config().default == "work"
    assert run_login(store, KEY, *lab, "--make-default").code == 0
    assert load_config().default == "lab"


class FakeService:
    """Just enough of admin_getroammsg for `--check`: verifies the UserSig like the service."""

    def __init__(self, key: str = KEY) -> None:
        self.key = key
        self.bodies: list[dict[str, object]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        body = json.loads(request.content)
        self.bodies.append(body)
        try:
            verify(query["usersig"], int(query["sdkappid"]), self.key, query["identifier"])
        except UserSigError as exc:
            return httpx.Response(200, json={"ActionStatus": "FAIL", "ErrorCode": exc.code,
                                             "ErrorInfo": exc.reason})
        return httpx.Response(200, json={"ActionStatus": "FAIL", "ErrorCode": 90008,
                                         "ErrorInfo": "From_Account not found"})


def test_login_check_accepted(store: CredentialStore) -> None:
    service = FakeService()
    run = run_login(store, KEY, *WORK_ARGS, "--check", "--api-fields", "operator-peer",
                    transport=httpx.MockTransport(service))
    assert run.code == 0, run.text
    assert "Check: the service accepted the credentials (it answered 90008" in run.out.getvalue()
    [body] = service.bodies
    assert str(body["Operator_Account"]).startswith("roamtui-check-")
    assert body["MaxTime"] == int(body["MinTime"]) + 1  # type: ignore[call-overload]
    assert store.has(work())


def test_login_check_refused_saves_nothing(store: CredentialStore, kr: MemoryKeyring) -> None:
    run = run_login(store, "0" * 64, *WORK_ARGS, "--check",
                    transport=httpx.MockTransport(FakeService()))
    assert run.code == 1
    err = run.err.getvalue()
    assert "Check: the service refused the request: 70009" in err
    assert "nothing was saved" in err

    # A key that does not even look like one: the warning defers to the check, one story.
    run = run_login(store, "z" * 40, *WORK_ARGS, "--check",
                    transport=httpx.MockTransport(FakeService()))
    err = run.err.getvalue()
    assert run.code == 1 and "--check will tell" in err and "nothing was saved" in err
    assert "anyway" not in err and "Saved" not in run.out.getvalue()
    assert "0" * 64 not in run.text
    assert kr.entries == {}
    assert not load_config().exists


def test_login_check_unreachable(store: CredentialStore) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    run = run_login(store, KEY, *WORK_ARGS, "--check", transport=httpx.MockTransport(down))
    assert run.code == 1
    assert "could not complete the call" in run.err.getvalue()
    assert KEY not in run.text


def test_logout_removes_the_secret_then_says_there_is_none(
    store: CredentialStore, kr: MemoryKeyring
) -> None:
    assert run_login(store, KEY, *WORK_ARGS).code == 0
    run = run_logout(store)
    assert run.code == 0
    assert "Removed the secret of profile 'work'" in run.out.getvalue()
    assert kr.entries == {}
    assert load_config().names() == ["work"]  # the profile stays
    run = run_logout(store, "--profile", "work")
    assert run.code == 0
    assert "There was no secret stored for profile 'work'" in run.out.getvalue()


def test_logout_forget_removes_the_profile(store: CredentialStore) -> None:
    assert run_login(store, KEY, *WORK_ARGS).code == 0
    run = run_logout(store, "--profile", "work", "--forget")
    assert run.code == 0
    assert "Forgot profile 'work'" in run.out.getvalue()
    assert load_config().profiles == ()
    assert load_config().default is None


def test_logout_unknown_profile(store: CredentialStore) -> None:
    run = run_logout(store, "--profile", "nope")
    assert run.code == 2
    assert "unknown profile 'nope'" in run.err.getvalue()


def test_logout_when_the_keyring_is_locked(store: CredentialStore) -> None:
    assert run_login(store, KEY, *WORK_ARGS).code == 0
    from test_credentials import RaisingKeyring

    locked = CredentialStore(RaisingKeyring(keyring.errors.KeyringLocked("locked")))
    run = run_logout(locked)
    assert run.code == 1
    assert "keyring is locked" in run.err.getvalue()


def test_profiles_lists_default_mark_and_stored_state(
    store: CredentialStore, tmp_path: Path
) -> None:
    assert run_login(store, KEY, *WORK_ARGS, "--region", "singapore").code == 0
    assert run_login(store, KEY, "--profile", "lab", "--sdkappid", "7", "--identifier", "root",
                     "--endpoint", "http://127.0.0.1:8080").code == 0
    run_logout(store, "--profile", "lab")
    run = run_profiles(store)
    assert run.code == 0
    lines = run.out.getvalue().splitlines()
    assert lines[0].split() == ["PROFILE", "SDKAPPID", "IDENTIFIER", "REGION/ENDPOINT", "SECRET"]
    assert lines[1].split() == ["*", "work", str(APP), "administrator", "singapore", "yes"]
    assert lines[2].split() == ["lab", "7", "root", "http://127.0.0.1:8080", "no"]
    assert KEY not in run.text
    assert files_containing(tmp_path, KEY) == []


def test_profiles_says_unknown_when_the_keyring_fails(store: CredentialStore) -> None:
    assert run_login(store, KEY, *WORK_ARGS).code == 0
    run = run_profiles(CredentialStore(keyring.backends.fail.Keyring()))
    assert run.code == 0
    assert run.out.getvalue().splitlines()[1].split()[-1] == "unknown"
    assert "no OS keyring" in run.err.getvalue()


def test_profiles_when_there_are_none(store: CredentialStore) -> None:
    run = run_profiles(store)
    assert run.code == 0
    assert "No profiles yet" in run.out.getvalue()
    assert "roamtui login" in run.out.getvalue()


def test_profiles_with_a_broken_config(store: CredentialStore) -> None:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "roamtui" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("[profiles\n")
    run = run_profiles(store)
    assert run.code == 2
    assert "line 1" in run.err.getvalue()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(Dataset(seed=0, messages=200)) as server:
        yield server


def test_login_check_against_the_sandbox_then_the_profile_connects(
    sandbox: SandboxServer, store: CredentialStore, tmp_path: Path
) -> None:
    argv = ("--profile", "demo", "--sdkappid", str(DEMO_SDKAPPID), "--identifier", DEMO_ADMIN,
            "--endpoint", sandbox.endpoint, "--check")
    run = run_login(store, DEMO_SECRET_KEY + "\n", *argv)
    assert run.code == 0, run.text
    assert "it answered 90008" in run.out.getvalue()

    # The saved profile and keyring entry are all a command needs now.
    browse = build_parser().parse_args(["browse", "--profile", "demo"])
    resolved = resolve_connection(browse, env={}, store=store)
    assert resolved.connection.endpoint == sandbox.endpoint
    assert resolved.secret_source == "keyring"
    account, peer = Dataset(seed=0, messages=200).conversations[0]

    async def one_page() -> dict[str, object]:
        async with ImClient(resolved.connection) as client:
            now = int(time.time())
            query = RoamQuery(account, peer, now - 400 * 86400, now, page_size=5)
            return await client.call(API, build_body(query))

    reply = asyncio.run(one_page())
    assert reply["ActionStatus"] == "OK"
    assert files_containing(tmp_path, DEMO_SECRET_KEY) == []


def test_login_check_with_the_wrong_key_against_the_sandbox(
    sandbox: SandboxServer, store: CredentialStore
) -> None:
    argv = ("--sdkappid", str(DEMO_SDKAPPID), "--identifier", DEMO_ADMIN,
            "--endpoint", sandbox.endpoint, "--check")
    run = run_login(store, KEY + "\n", *argv)
    assert run.code == 1
    assert "Check: the service refused the request: 70009" in run.err.getvalue()
    assert not load_config().exists

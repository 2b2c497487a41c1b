"""The command line as a user meets it: help, version, argument forms, one-line errors."""

from __future__ import annotations

import pytest

from roamtui import __version__
from roamtui.cli.main import SUBCOMMANDS, _normalise_argv, build_parser, main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"roamtui {__version__}"


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: roamtui {command}")


def test_account_and_peer_alone_mean_browse() -> None:
    args = build_parser().parse_args(_normalise_argv(["alice", "bob", "--since", "-2h"]))
    assert (args.command, args.account, args.peer, args.since) == ("browse", "alice", "bob", "-2h")


def test_relative_times_starting_with_a_dash_are_values_not_options() -> None:
    argv = ["export", "a", "b", "--since", "-2h", "--until", "-30m"]
    args = build_parser().parse_args(_normalise_argv(argv))
    assert (args.since, args.until) == ("-2h", "-30m")


def test_no_arguments_open_the_query_screen() -> None:
    assert build_parser().parse_args(_normalise_argv([])).command == "browse"


def test_rate_above_the_service_limit_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "a", "b", "--since", "-1h", "--until", "now", "--max-rps", "500"])
    assert exit_info.value.code == 2
    assert "from 1 to 200" in capsys.readouterr().err


def test_errors_are_one_line_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROAMTUI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("ROAMTUI_SDKAPPID", "1400000000")
    monkeypatch.setenv("ROAMTUI_IDENTIFIER", "administrator")
    monkeypatch.setenv("ROAMTUI_SECRET_KEY", "a-secret-that-must-not-show")
    code = main(["export", "a", "b", "--since", "tomorrow-ish", "--until", "now"])
    err = capsys.readouterr().err
    assert code != 0
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "tomorrow-ish" in err
    assert "a-secret-that-must-not-show" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "a", "b", "--since=-2h", "--until=now", "--format", "csv", "--max-rps", "9"],
        ["browse", "a", "b", "--profile", "work"],
        ["login", "--sdkappid", "1", "--identifier", "admin", "--check"],
        ["sandbox", "--port", "0"],
    ],
)
def test_main_parses_one_subcommand_as_the_whole_parser_does(argv: list[str]) -> None:
    whole, one = build_parser().parse_args(argv), build_parser([argv[0]]).parse_args(argv)
    assert vars(whole) == vars(one)


def test_the_version_needs_no_subcommand_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from roamtui.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('roamtui.cli.', 'httpx', 'textual')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "['roamtui.cli.main']"


@pytest.mark.parametrize(
    ("argv", "meant"),
    [(["profile"], "profiles"), (["login2", "x"], "login"), (["exprot", "a"], "export"),
     (["sandbx", "--port", "0"], "sandbox"), (["demos"], "demo"),
     (["exprot", "cust_1001", "agent_alice", "--since", "-1d"], "export"),
     (["verfy", "evidence", "more"], "verify")],
)
def test_a_typod_subcommand_says_did_you_mean_in_one_line(
    argv: list[str], meant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"did you mean 'roamtui {meant}'?" in err
    assert f"roamtui browse {argv[0]} PEER" in err


@pytest.mark.parametrize(
    "argv",
    [["profile", "cust_0001"], ["login2", "agent_alice"], ["demo_user"], ["alice", "bob"],
     ["browse", "profile", "x"], ["--version"], ["profile", "cust_0001", "--since", "-1d"]],
)
def test_an_account_close_to_a_subcommand_is_still_browsed(argv: list[str]) -> None:
    from roamtui.cli.main import typo_of

    assert typo_of(argv) is None

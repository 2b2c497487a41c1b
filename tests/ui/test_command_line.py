"""The `:` command line's parser: what a user may type and the one-line errors they see."""

from __future__ import annotations

import pytest

from roamtui.ui.widgets.command_line import Command, CommandError, parse_command


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("goto 10:40", Command("goto", "10:40")),
        (":goto 2020-03-20 10:40", Command("goto", "2020-03-20 10:40")),
        ("  go   -2h ", Command("goto", "-2h")),
        ("q", Command("quit")),
        ("quit", Command("quit")),
        ("exit", Command("exit")),
        ("swap", Command("swap")),
        ("help", Command("help")),
        ("theme ansi-dark", Command("theme", "ansi-dark")),
        ("GOTO @1584669600", Command("goto", "@1584669600")),
    ],
)
def test_commands_parse(line: str, expected: Command) -> None:
    assert parse_command(line) == expected


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("", "empty command"),
        ("jump 10:40", "unknown command 'jump'"),
        ("goto", "goto needs an argument"),
        ("theme", "theme needs an argument"),
        ("q now", "quit takes no argument"),
    ],
)
def test_bad_lines_say_why_in_one_line(line: str, says: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(line)
    assert says in str(info.value)
    assert "\n" not in str(info.value)

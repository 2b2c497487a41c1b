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


async def test_the_prompt_suggests_the_filter_kinds_as_they_are_now() -> None:
    from roamtui.history.filters import KINDS
    from roamtui.ui.widgets.command_line import CommandSuggester

    suggester = CommandSuggester()
    assert await suggester.get_suggestion("filter ") == f"filter {next(iter(KINDS))}"
    assert await suggester.get_suggestion("filter f") == "filter from "
    assert await suggester.get_suggestion("filter c") == "filter clear"
    assert await suggester.get_suggestion("go") == "goto "
    assert "marked" in KINDS  # registered by ui.marking: suggested too
    assert await suggester.get_suggestion("filter m") == "filter marked"

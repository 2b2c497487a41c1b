"""The bench table: each goal row shows its figure, its goal and how far it is from it."""

from __future__ import annotations

import pytest

from tests.bench.table import Goal, format_table, missed, normalise


def test_a_ceiling_row_shows_the_goal_and_the_share_of_it() -> None:
    (line,) = normalise([Goal("search, worst", "worst 21.2 ms", 21.2, 33, "ms")])
    assert line == ("search, worst", "worst 21.2 ms", "≤ 33 ms", "64 %", "pass")
    (over,) = normalise([Goal("memory", "944 B/msg", 944, 600, "B")])
    assert over[2:] == ("≤ 600 B", "157 %", "FAIL")


def test_a_floor_row_passes_above_its_goal() -> None:
    rate = Goal("rate used", "158/s of 200/s", 0.79, 0.95, "%", at_least=True)
    assert normalise([rate])[0][2:] == ("≥ 95 %", "83 %", "FAIL")
    assert Goal("speed-up", "3.1×", 3.1, 2.8, "×", at_least=True).met


def test_plain_rows_and_goals_share_one_table() -> None:
    lines = normalise([("set-up", "2.9 s", "-", "info"), ("flag", "x", "y", False),
                       Goal("start-up", "1.42×", 1.42, 1.5, "×")])
    table = format_table(lines).splitlines()
    assert table[0].split() == ["benchmark", "figure", "goal", "of", "goal", "verdict"]
    assert table[2].split()[-2:] == ["-", "info"]
    assert table[4].endswith("≤ 1.50×  95 %     pass")
    assert missed(lines) == ["flag"]


def test_a_row_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="4 fields"):
        normalise([("only", "three", "fields")])

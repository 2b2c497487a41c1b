"""The rows a benchmark returns and the one table ``tests/bench/run.py`` prints.

A row held to a number is a :class:`Goal`: the figure in words, the headline value, the goal,
and whether the goal is a ceiling (times, bytes, calls, ratios) or a floor (rates, shares).
The table prints the figure, the goal, the value as a share of the goal, and the verdict, all
from one run, so a reader sees at once how far each row is from its goal::

    rows.append(Goal("search keystroke, worst", f"{worst:.1f} ms ({n:,} msgs)", worst, 33, "ms"))
    rows.append(Goal("fetch rate used", f"{rate:.0f}/s of 200/s", rate / 200, 0.95, "%",
                     at_least=True))

A row with no goal (set-up figures, context) is a plain 4-tuple
``(benchmark, figure, target, verdict)``, as before; ``verdict`` is a bool or a short word.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: What the table prints for each row.
Line = tuple[str, str, str, str, str]
HEADER: Line = ("benchmark", "figure", "goal", "of goal", "verdict")


def _number(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0%}".replace("%", " %")
    if unit in ("×", "x"):
        return f"{value:.2f}×"
    text = f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.3g}"
    return f"{text} {unit}".rstrip()


@dataclass(frozen=True, slots=True)
class Goal:
    """One measured value held to a goal (see the module docstring)."""

    name: str
    figure: str
    value: float
    limit: float
    unit: str = ""
    at_least: bool = False

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    @property
    def target(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {_number(self.limit, self.unit)}"

    @property
    def share(self) -> str:
        """The value as a share of the goal: under 100 % meets a ceiling, over it a floor."""
        if not self.limit:
            return "-"
        return f"{self.value / self.limit:.0%}".replace("%", " %")

    def line(self) -> Line:
        return (self.name, self.figure, self.target, self.share, "pass" if self.met else "FAIL")


def _verdict(value: object) -> str:
    if isinstance(value, bool):
        return "pass" if value else "FAIL"
    return str(value)


def normalise(rows: Iterable[Goal | Sequence[object]]) -> list[Line]:
    """Table lines from what a benchmark returned: Goals and plain 4-tuples."""
    out: list[Line] = []
    for row in rows:
        if isinstance(row, Goal):
            out.append(row.line())
            continue
        if len(row) != 4:
            raise ValueError(f"a benchmark row needs 4 fields, got {len(row)}: {row!r}")
        name, figure, target, verdict = row
        out.append((str(name), str(figure), str(target), "-", _verdict(verdict)))
    return out


def format_table(lines: Sequence[Line]) -> str:
    """A plain text table, one benchmark row per line."""
    table = [HEADER, *lines]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]

    def text(line: Line) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([text(HEADER), rule, *(text(line) for line in lines)])


def missed(lines: Sequence[Line]) -> list[str]:
    """Names of the rows that missed their goal."""
    return [line[0] for line in lines if line[4] == "FAIL"]

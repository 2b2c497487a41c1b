"""The conversation timeline over ``roamtui.im``: segments, gaps, rows and the loads that fill them.

Textual-free (an import-linter contract keeps it so). Search and export live beside it.
"""

from roamtui.history.rows import DayRow, EdgeRow, Gap, GapRow, MessageRow, Row, RowsChanged
from roamtui.history.segments import Segment
from roamtui.history.timeline import LoadProgress, OpResult, Timeline

__all__ = [
    "DayRow",
    "EdgeRow",
    "Gap",
    "GapRow",
    "LoadProgress",
    "MessageRow",
    "OpResult",
    "Row",
    "RowsChanged",
    "Segment",
    "Timeline",
]

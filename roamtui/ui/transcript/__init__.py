"""The transcript: one Line-API ScrollView over a conversation timeline, by composition.

``widget``    Transcript, the Textual widget: keys, messages, the reactive cursor, drawing
``messages``  what it posts (CursorMoved, StatsChanged, LoadFailed, InspectRequested, ...)
``loader``    Loader: the opening, jumps and landings, gap fills and retries as Textual workers
``cursor``    Cursor: where each move takes the cursor, and its MsgKey kept apart from its row
``viewport``  Viewport: the rows on screen, anchors that hold them in place, measuring there
``layout``    TranscriptLayout: timeline rows at one width, drawn lines, one-line rows, caches
``index``     LineIndex: per-row heights, kinds and prefix sums
``strips``    StripPainter and the CSS: component-class styles and the strip cache
"""

from roamtui.ui.transcript.widget import STATS_INTERVAL, Transcript

__all__ = ["STATS_INTERVAL", "Transcript"]

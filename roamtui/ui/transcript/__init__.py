"""The transcript: one Line-API ScrollView over a conversation timeline (see widget.py)."""

from roamtui.ui.transcript.widget import STATS_INTERVAL, Transcript

__all__ = ["STATS_INTERVAL", "Transcript"]

"""Widgets of the browse screen: the transcript, the status and position lines, the prompt."""

"""`roamtui export --marked [--context N]`: the stored marks and notes of the pair, for the job.

The marks the TUI keeps (``m``, ``:note``; :mod:`roamtui.settings.marks`) are read here, where
the marks file is found, and handed to the export job as plain data
(:class:`~roamtui.export.selection.MarkSet`): the export layer never reads settings. Every
export writes the pair's notes; ``--marked`` writes only the marked messages and ``--context
N`` messages before and after each. ``--no-history`` reads no marks file (so no notes, and
``--marked`` is refused). Problems are found before any call: exit 2 and one line.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from roamtui.export.job import Fetched
from roamtui.export.selection import MAX_CONTEXT, MarkSet
from roamtui.settings.config import Config, ConfigError, load_config
from roamtui.settings.marks import ENV_MARKS, Pair, mark_store


class MarksRefused(ValueError):
    """``--marked`` or ``--context`` cannot be honoured; ``str()`` is the one line shown."""


def marks_for(args: argparse.Namespace, sdkappid: int, account: str, peer: str,
              err: TextIO) -> MarkSet | None:
    """The pair's stored marks and notes as the job takes them (None: none to write); a
    problem with the marks file is a one-line warning, or MarksRefused with ``--marked``."""
    marked_only = bool(getattr(args, "marked", False))
    context = getattr(args, "context", 0) or 0
    if not 0 <= context <= MAX_CONTEXT:
        raise MarksRefused(f"--context takes 0 to {MAX_CONTEXT} messages, not {context}")
    if context and not marked_only:
        raise MarksRefused("--context goes with --marked (the messages around each marked one)")
    if marked_only and getattr(args, "format", "") == "bundle":
        raise MarksRefused("--marked: a bundle is the whole window (roamtui verify checks that "
                           "its pages cover it); its manifest carries the marks and notes "
                           "anyway. For a selection use --format html, txt, csv or rsmf")
    no_history = bool(getattr(args, "no_history", False))
    if no_history and marked_only:
        raise MarksRefused("--marked reads the stored marks, which --no-history leaves unread")
    store = mark_store(no_history=no_history, config=_config())
    if not store.persist:
        if marked_only:
            raise MarksRefused(f"--marked: marks are not kept ({ENV_MARKS} or the config's "
                               "'marks' switches them off), so there are none to export")
        return None
    book = store.book(Pair(sdkappid, account, peer))
    if store.problem is not None:
        if marked_only:
            raise MarksRefused(f"--marked: {store.problem}")
        err.write(f"roamtui export: warning: notes not included: {store.problem}\n")
        return None
    marked = {m.key: m.time for m in book.marked()}
    if marked_only and not marked:
        raise MarksRefused(f"--marked: no marked messages of {account} with {peer} (SDKAppID "
                           f"{sdkappid}) in {store.path}; mark them with m in the TUI")
    notes = book.notes()
    if not marked_only and not notes and not marked:
        return None
    return MarkSet(marked, notes, context if marked_only else None)


def _config() -> Config | None:
    try:
        return load_config()
    except ConfigError:
        return None  # the connection's resolution reports a broken config


def selection_text(fetched: Fetched) -> str:
    """What the summary adds for a selection: ``12 of 3,412 messages (5 marked, …)``."""
    chosen = fetched.selection
    if chosen is None:
        return ""
    around = f", {chosen.context} of context each side" if chosen.context else ""
    absent = ""
    if chosen.absent:
        absent = f"; {chosen.absent_text()}"
    return (f"selection: {chosen.selected:,} of the window's {chosen.total:,} messages "
            f"({chosen.marked} marked{around}){absent}")

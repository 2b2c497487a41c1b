"""Exports: the writers of every format and the one export job that both front ends run.

Textual-free (an import-linter contract keeps it so). ``formats`` is the registry (one entry
per format module: ``jsonl``, ``csv``, ``txt``); ``provenance`` the header every format for
people prints and the one row per message they share; ``job`` the export itself: plan → fetch →
provenance → digest → atomic write, run by ``roamtui export`` and by the TUI's export dialog.
"""

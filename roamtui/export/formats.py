"""The registry of export formats: one module per format, one entry here.

A format is a name, one line saying what it is (help texts), and a writer
``write(messages, meta, out) -> count`` that puts the messages, oldest first, onto a text sink.
Adding a format (html, bundle and rsmf are next) is one module with its writer and one entry in
:data:`FORMATS`; the command line's ``--format`` choices and the export dialog's buttons follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from roamtui.atomicfile import TextSink
from roamtui.export import csv, html, jsonl, txt
from roamtui.export.provenance import ExportMeta
from roamtui.im.model import Message

Writer = Callable[[Iterable[Message], ExportMeta, TextSink], int]


@dataclass(frozen=True, slots=True)
class Format:
    """One export format: ``write`` returns how many messages it wrote."""

    name: str
    summary: str
    write: Writer


#: Every format by name, the default first.
FORMATS: Mapping[str, Format] = MappingProxyType({f.name: f for f in (
    Format("jsonl", "one message per line, oldest first, exactly as the service returned it",
           jsonl.write),
    Format("csv", "a provenance block, then one row per message, for spreadsheets",
           csv.write_csv),
    Format("txt", "a provenance header, then one line per message, for people", txt.write_txt),
    Format("html", "one self-contained page to open in any browser, offline: provenance, "
           "the chat by day, recalled badges, search", html.write_html),
)})
DEFAULT_FORMAT = next(iter(FORMATS))


def format_named(name: str) -> Format:
    """The format called ``name``; ValueError (one line, naming the choices) if there is none."""
    found = FORMATS.get(name)
    if found is None:
        raise ValueError(f"unknown export format {name!r}; choose one of {', '.join(FORMATS)}")
    return found


def write_export(name: str, messages: Iterable[Message], meta: ExportMeta, out: TextSink) -> int:
    """Write ``messages`` in the format called ``name``; returns how many were written."""
    return format_named(name).write(messages, meta, out)

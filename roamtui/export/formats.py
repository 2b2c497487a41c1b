"""The registry of export formats: one module per format, one entry here.

A format is a name, one line saying what it is (help texts), and a writer
``write(messages, meta, out) -> count`` that puts the messages, oldest first, onto a text sink.
Adding a format is one module with its writer and one entry in :data:`FORMATS`; the command
line's ``--format`` choices and the export dialog's buttons follow. A format with a most
messages per file (``per_file``, RSMF's 10,000) may also ``split`` a window into files of its
own, written into a directory (:meth:`roamtui.export.job.ExportJob.write`).
The bundle (:data:`BUNDLE`, command line only) holds several of them; its files are listed in
:data:`roamtui.export.bundle.BUNDLE_FILES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from roamtui.atomicfile import TextSink
from roamtui.export import csv, html, jsonl, rsmf, txt
from roamtui.export.provenance import ExportMeta
from roamtui.export.slices import Part
from roamtui.im.model import Message

Writer = Callable[[Iterable[Message], ExportMeta, TextSink], int]
Splitter = Callable[[Sequence[Message], ExportMeta], list[Part]]


@dataclass(frozen=True, slots=True)
class Format:
    """One export format: ``write`` returns how many messages it wrote. A ``bundle`` format is a
    folder of files (or its zip) written by :mod:`roamtui.export.bundle`, not one text stream."""

    name: str
    summary: str
    write: Writer
    #: Most messages one file may hold; None: no limit.
    per_file: int | None = None
    #: The files of a window written into a directory (``-o DIR/``); None: one file only.
    split: Splitter | None = None
    #: A folder of files (or its zip) written by :mod:`roamtui.export.bundle`, not one stream.
    bundle: bool = False


#: Every format by name, the default first.
FORMATS: Mapping[str, Format] = MappingProxyType({f.name: f for f in (
    Format("jsonl", "one message per line, oldest first, exactly as the service returned it",
           jsonl.write),
    Format("csv", "a provenance block, then one row per message, for spreadsheets",
           csv.write_csv),
    Format("txt", "a provenance header, then one line per message, for people", txt.write_txt),
    Format("html", "one self-contained page to open in any browser, offline: provenance, "
           "the chat by day, recalled badges, search", html.write_html),
    Format("rsmf", "Relativity Short Message Format 2.0 for eDiscovery review platforms; "
           f"at most {rsmf.MAX_EVENTS:,} messages per file, more into a directory (-o DIR/) "
           "as one file per slice, by day", rsmf.write_rsmf, rsmf.MAX_EVENTS, rsmf.rsmf_parts),
)})
DEFAULT_FORMAT = next(iter(FORMATS))


def _not_a_stream(messages: Iterable[Message], meta: ExportMeta, out: TextSink) -> int:
    raise ValueError("a bundle is a folder of files, not one stream: see roamtui.export.bundle")


#: The evidence bundle: the formats above side by side, with manifest.json and SHA256SUMS.
BUNDLE = Format("bundle", "a folder, or DIR.zip: messages.jsonl, transcript.html/.txt/.csv, "
                "manifest.json (how the window was fetched) and SHA256SUMS", _not_a_stream,
                bundle=True)
#: What `roamtui export --format` offers: every stream format, then the bundle.
CLI_FORMATS: Mapping[str, Format] = MappingProxyType({**FORMATS, BUNDLE.name: BUNDLE})


def format_named(name: str) -> Format:
    """The format called ``name``; ValueError (one line, naming the choices) if there is none."""
    found = BUNDLE if name == BUNDLE.name else FORMATS.get(name)
    if found is None:
        raise ValueError(
            f"unknown export format {name!r}; choose one of {', '.join(CLI_FORMATS)}"
        )
    return found


#: File name endings that name a format (``.htm`` is an old spelling of ``.html``; a ``.zip``
#: is what ``--format bundle`` writes).
ENDINGS: Mapping[str, str] = MappingProxyType(
    {**{f".{n}": n for n in FORMATS}, ".htm": "html", ".zip": BUNDLE.name})


def named_by(path: str | None) -> str | None:
    """The format a file name ends in (``out.csv``: csv), None when it names none."""
    if not path or path.endswith(("/", "\\")):
        return None
    dot = path.rfind(".")
    return ENDINGS.get(path[dot:].lower()) if dot > max(path.rfind("/"), path.rfind("\\")) else None


def format_for(given: str | None, path: str | None, *, choose: str = "--format {}") -> str:
    """The format to write ``path`` in: the one asked for, else the one its name ends in, else
    the default. ValueError (one line, saying to ``choose`` the other) when the two disagree:
    jsonl in a file named ``.csv`` is a spreadsheet full of JSON for whoever opens it."""
    named = named_by(path)
    if given is None:
        return named or DEFAULT_FORMAT
    if named is not None and named != given:
        article = "an" if named in ("html", "rsmf") else "a"  # said "aitch", "ar"
        raise ValueError(f"{path} names {article} {named} file but the format is {given}: "
                         f"give {choose.format(named)}, or another name")
    return given


def write_export(name: str, messages: Iterable[Message], meta: ExportMeta, out: TextSink) -> int:
    """Write ``messages`` in the format called ``name``; returns how many were written."""
    return format_named(name).write(messages, meta, out)

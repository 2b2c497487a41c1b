"""The parser is built from light modules: the core's values it shows are written out in
``cli/options.py`` and ``cli/parsers.py``; these tests hold each equal to its one definition in
the core, and check that building the whole parser (``roamtui --help``) loads no core."""

from __future__ import annotations

import subprocess
import sys

from roamtui.cli import options, parsers


def test_the_help_shows_the_cores_own_values() -> None:
    from roamtui.export import formats
    from roamtui.export.selection import MAX_CONTEXT
    from roamtui.im.client import DEFAULT_REGION, REGIONS
    from roamtui.im.roam import PARTY_FIELDS
    from roamtui.sandbox.dataset import Dataset
    from roamtui.settings import credentials, defaults, marks, rate_store, recent

    pairs = {  # what the help shows: (written out in cli/, defined in the core)
        "region": ((options.DEFAULT_REGION, options.REGION_NAMES),
                   (DEFAULT_REGION, tuple(REGIONS))),
        "endpoint": (options.DEFAULT_ENDPOINT, REGIONS[DEFAULT_REGION]),
        "party fields": (options.PARTY_FIELDS, PARTY_FIELDS),
        "namings": ((options.FIELD_NAMINGS, options.DEFAULT_NAMING),
                    (tuple(defaults.FIELD_NAMINGS), defaults.DEFAULT_NAMING)),
        "rates": ((options.DEFAULT_MAX_RPS, options.MAX_RPS),
                  (defaults.DEFAULT_MAX_RPS, defaults.MAX_RPS)),
        "page size": (options.DEFAULT_PAGE_SIZE, defaults.DEFAULT_PAGE_SIZE),
        "window": (options.DEFAULT_WINDOW_DAYS, defaults.DEFAULT_WINDOW_DAYS),
        "secrets": ((options.ENV_SECRET_KEY, options.ENV_USERSIG),
                    (credentials.ENV_SECRET_KEY, credentials.ENV_USERSIG)),
        "rate store": (options.RATE_STORE_HELP, rate_store.RATE_STORE_HELP),
        "files": ((options.ENV_MARKS, options.ENV_RECENT), (marks.ENV_MARKS, recent.ENV_RECENT)),
        "dataset": ((options.DATASET_MESSAGES, options.DATASET_SEED),
                    (defaults.default_of(Dataset, "messages"),
                     defaults.default_of(Dataset, "seed"))),
        "context": (parsers.MAX_CONTEXT, MAX_CONTEXT),
        "formats": (parsers.EXPORT_FORMATS,
                    {n: f.summary for n, f in formats.CLI_FORMATS.items()}),
        "default format": (parsers.DEFAULT_FORMAT, formats.DEFAULT_FORMAT),
        "sliced": (parsers.SLICED_FORMATS,
                   {f.name: f.per_file for f in formats.FORMATS.values() if f.split}),
    }
    for what, (shown, defined) in pairs.items():
        assert shown == defined, what


def test_every_handler_named_by_the_parser_exists() -> None:
    from roamtui.cli.main import SUBCOMMANDS, build_parser

    parser = build_parser()
    for name in SUBCOMMANDS:
        argv = {"export": [name, "a", "b", "--since=-1h", "--until=now"],
                "peers": [name, "a"], "verify": [name, "x"]}.get(name, [name])
        handler = parser.parse_args(argv).run
        assert isinstance(handler, parsers.Handler)
        assert callable(getattr(__import__(handler.module, fromlist=["_"]), handler.name))


def test_roamtui_help_loads_no_core() -> None:
    # A child process: this one has imported the core already.
    code = (
        "import sys\nfrom roamtui.cli.main import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = ('asyncio', 'httpx', 'textual', 'rich', 'keyring', 'regex', 'platformdirs',\n"
        "         'roamtui.history', 'roamtui.sandbox', 'roamtui.export', 'roamtui.settings',\n"
        "         'roamtui.im.client', 'roamtui.im.roam', 'roamtui.ui')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy[:7] or\n"
        "             m.startswith(heavy[7:])))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "[]"
    shown = subprocess.run([sys.executable, "-m", "roamtui", "--help"], capture_output=True,
                           text=True, check=True)
    assert "subcommands: browse, demo, export" in shown.stdout

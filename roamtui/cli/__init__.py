"""The command line: ``build_parser`` (the one parser) and ``main`` (the ``roamtui`` script).

One module per command: ``browse`` (``browse``, ``demo``), ``export``, ``accounts`` (``login``,
``logout``, ``profiles``), ``sandbox``; ``options`` holds what several of them share.
"""

from roamtui.cli.main import build_parser, main

__all__ = ["build_parser", "main"]

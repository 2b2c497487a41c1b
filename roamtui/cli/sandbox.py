"""`roamtui sandbox`: serve the embedded stand-in of admin_getroammsg on 127.0.0.1 and print its
endpoint, the demo credentials and its conversations (``roamtui.sandbox.serve``)."""

from __future__ import annotations

import argparse

from roamtui.cli.options import AddParser, add_dataset, add_debug, fraction, non_negative_int


def add_parsers(add: AddParser) -> None:
    sandbox = add(
        "sandbox",
        help="serve the embedded stand-in of the IM service",
        description="Serve a local stand-in of admin_getroammsg on 127.0.0.1 and print its "
        "endpoint, demo credentials and conversations as 'key: value' lines. Ctrl+C stops it.",
    )
    sandbox.add_argument(
        "--port", type=non_negative_int, default=0, metavar="P", help="default: a free port"
    )
    add_dataset(sandbox)
    sandbox.add_argument(
        "--fault-rate", type=fraction, default=0.0, metavar="F",
        help="share of calls that fail (0..1)",
    )
    add_debug(sandbox)
    sandbox.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from roamtui.sandbox.serve import run as serve

    return serve(
        port=args.port,
        messages=args.messages,
        seed=args.seed,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
    )

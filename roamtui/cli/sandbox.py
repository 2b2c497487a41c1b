"""`roamtui sandbox`: serve the embedded stand-in of admin_getroammsg on 127.0.0.1 and print its
endpoint, the demo credentials and its conversations (``roamtui.sandbox.serve``), then the same
connection as ``export ROAMTUI_…=`` lines to paste into another shell."""

from __future__ import annotations

import argparse
import shlex


def export_lines(endpoint: str) -> list[str]:
    """The sandbox's connection as POSIX shell exports, each value quoted for the shell."""
    from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, DEMO_SECRET_KEY
    from roamtui.settings.connection import ENV_ENDPOINT, ENV_IDENTIFIER, ENV_SDKAPPID
    from roamtui.settings.credentials import ENV_SECRET_KEY

    values = {
        ENV_ENDPOINT: endpoint,
        ENV_SDKAPPID: str(DEMO_SDKAPPID),
        ENV_IDENTIFIER: DEMO_ADMIN,
        ENV_SECRET_KEY: DEMO_SECRET_KEY,  # the demo key: printed on purpose, it protects nothing
    }
    return [
        "# paste into another shell to use this sandbox (roamtui CUSTOMER AGENT, roamtui export):",
        *(f"export {name}={shlex.quote(value)}" for name, value in values.items()),
    ]


def _ends_at(given: str | None) -> int | None:
    if given is None:
        return None
    from datetime import UTC

    from roamtui.history.timeparse import TimeParseError, parse_time

    try:
        return parse_time(given, UTC)
    except (TimeParseError, ValueError) as exc:
        raise SystemExit(f"roamtui sandbox: --ends-at: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from roamtui.sandbox.serve import run as serve

    return serve(
        port=args.port,
        messages=args.messages,
        seed=args.seed,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        then=export_lines,
        same_sides=args.same_sides,
        later=args.later,
        end_time=_ends_at(args.ends_at),
    )

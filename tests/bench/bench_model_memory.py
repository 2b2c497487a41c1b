"""Memory per loaded message (PRODUCT.md §6: ≤ 1 KB) and parse speed of roamtui.im.model.

    python -m tests.bench.bench_model_memory [--messages N]     (or through tests/bench/run.py)

Typical messages: about 40 characters of text with the usual fields, as the service returns
them. Memory is traced (tracemalloc) over the list of parsed Messages, once right after
loading and once after every message built its search text. Parse speed is timed untraced.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from roamtui.im.model import Message, message_obj, parse_message
from tests.bench.table import Goal, format_table, normalise

BUDGET = 1024
_EN = "Hello, my order #{i} has not arrived yet, can you check?"
_ZH = "你好，我的订单{i}还没有到，请帮我查一下物流信息，谢谢你们的帮助。"
MIXES: dict[str, Callable[[int], str]] = {
    "english": lambda i: _EN,
    "chinese": lambda i: _ZH,
    "half/half": lambda i: _ZH if i % 2 else _EN,
}


def typical(i: int, text: str) -> dict[str, Any]:
    """The i-th message of a two-party chat, shaped like the service's records."""
    sender, receiver = ("customer_1024", "agent_007") if i % 3 else ("agent_007", "customer_1024")
    return message_obj(
        sender=sender, receiver=receiver, time=1_584_669_600 + i // 3, text=text.format(i=i),
        seq=549_396_494 + i * 7919, random=(i * 2_654_435_761) % 4_294_967_296,
        flag_bits=8 if i % 20 == 0 else 0, is_peer_read=i % 2 == 0, cloud_custom_data="",
    )


def memory_per_message(n: int, pick: Callable[[int], str]) -> tuple[float, float]:
    """Traced bytes per message: (after loading, after building every search text)."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    loaded: list[Message] = [parse_message(typical(i, pick(i))) for i in range(n)]
    gc.collect()
    after_load = tracemalloc.get_traced_memory()[0] - base
    for m in loaded:
        m.search_text()
    gc.collect()
    after_search = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return after_load / n, after_search / n


def parse_micros(n: int, pick: Callable[[int], str]) -> float:
    objs = [typical(i, pick(i)) for i in range(n)]
    started = time.perf_counter()
    for obj in objs:
        parse_message(obj)
    return (time.perf_counter() - started) / n * 1e6


def main(messages: int = 100_000) -> list[tuple[str, str, str, str] | Goal]:
    """Rows for tests/bench/run.py."""
    rows: list[tuple[str, str, str, str] | Goal] = []
    for name, pick in MIXES.items():
        # The mixed case is the headline at full size; the others are linear, so a fifth will do.
        n = messages if name == "half/half" else max(messages // 5, 1)
        loaded, searched = memory_per_message(n, pick)
        rows.append(Goal(f"model memory {name} ({n:,} msgs), +search",
                         f"{loaded:.0f} B/msg loaded, {searched:.0f} B/msg +search", searched,
                         BUDGET, "B"))
    rows.append(("model parse_message (typical, half/half)",
                 f"{parse_micros(min(messages, 20_000), MIXES['half/half']):.1f} µs/msg",
                 "-", "info"))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    print(format_table(normalise(main(parser.parse_args().messages))))

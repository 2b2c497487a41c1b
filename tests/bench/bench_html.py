"""The HTML transcript at 100,000 messages: bytes, time to write, time for Chromium to open it.

One conversation of the sandbox dataset (every element type, recalls, forwards, hostile text)
is written by the real writer (:func:`roamtui.export.html.write_html`) to a file; the file is
opened in headless Chromium (the system's ``/usr/bin/chromium`` through Playwright) from
navigation to the first frame after ``load`` (wall time: the browser is another process),
then a search for a word is timed in the page (2 s after the first frame: Enter in the box to
the next frame, the first hit scrolled into view).
The write is timed in CPU seconds. The page is opened again with ``content-visibility``
taken out of its style sheet (the same page otherwise, its CSP hash recomputed) to show what
that rule saves.

Goals (issue 14: "stays usable for 100,000 messages"): write ≤ 5 s, open ≤ 3 s, search ≤ 1 s.

    python tests/bench/bench_html.py [--messages N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC
from pathlib import Path
from typing import Any

from roamtui.export import html as html_writer
from roamtui.export import html_assets
from roamtui.export.provenance import ExportMeta
from roamtui.im.model import Message, parse_message
from roamtui.sandbox import Dataset
from tests.bench.table import Goal

MESSAGES = 100_000
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WRITE_GOAL_S, OPEN_GOAL_S, SEARCH_GOAL_S = 5.0, 3.0, 1.0

Row = tuple[str, str, str, str] | Goal


def messages(n: int) -> tuple[list[Message], ExportMeta]:
    ds = Dataset(seed=0, messages=n, pairs=1, end_time=1_800_000_000)
    a, b = ds.conversations[0]
    conv = ds.conversation(a, b)
    assert conv is not None
    msgs = [parse_message(conv.message(i)) for i in range(len(conv))]
    meta = ExportMeta(a, b, msgs[0].time, msgs[-1].time, UTC, msgs[-1].time, 1000, 1000, True,
                      "http://127.0.0.1:9 · SDKAppID 1400000000 · admin administrator")
    return msgs, meta


def write(path: Path, msgs: list[Message], meta: ExportMeta) -> float:
    """CPU seconds of the write (the machine is shared: wall time would time the others)."""
    started = time.process_time()
    with path.open("w", encoding="utf-8", newline="") as out:
        html_writer.write_html(msgs, meta, out)
    return time.process_time() - started


_SEARCH_JS = """word => new Promise(done => {
  const box = document.getElementById('rt-search');
  const started = performance.now();
  box.value = word;
  box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter'}));
  document.body.offsetHeight;
  requestAnimationFrame(() => done(performance.now() - started));
})"""


def open_page(browser: Any, path: Path, word: str | None) -> tuple[float, float | None, int]:
    """Seconds to the first frame after load, seconds for a search (or None), messages shown."""
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    try:
        started = time.perf_counter()
        page.goto(path.resolve().as_uri(), wait_until="load", timeout=120_000)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(0)))")
        opened = time.perf_counter() - started
        count = page.locator("article.msg").count()
        searched = None
        if word is not None:
            page.wait_for_timeout(2000)  # a reader looks at the page before typing
            # Timed in the page, from Enter to the next frame with the first hit in view:
            # what the reader waits for (Playwright's own typing would be timed otherwise).
            ms = page.evaluate(_SEARCH_JS, word)
            searched = ms / 1000
        return opened, searched, count
    finally:
        context.close()


def run(n: int = MESSAGES) -> list[Row]:
    msgs, meta = messages(n)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="roamtui-bench-html-") as tmp:
        page = Path(tmp) / "transcript.html"
        took = write(page, msgs, meta)
        size = page.stat().st_size
        rows.append((f"html: {n:,} messages, file size", f"{size / 2**20:.1f} MiB "
                     f"({size / n:.0f} B per message)", "", ""))
        rows.append(Goal(f"html: write {n:,} messages", f"{took:.2f} s CPU", took, WRITE_GOAL_S,
                         "s"))
        # The same page without content-visibility: what the rule saves when it opens.
        plain_style = html_assets.STYLE.replace(
            ".blk{content-visibility:auto;contain-intrinsic-size:auto 9000px}", "")
        plain = Path(tmp) / "plain.html"
        saved = html_writer.STYLE, html_writer.CSP
        html_writer.STYLE = plain_style
        html_writer.CSP = html_assets.CSP.replace(
            html_assets._sha256_source(html_assets.STYLE),
            html_assets._sha256_source(plain_style))
        try:
            write(plain, msgs, meta)
        finally:
            html_writer.STYLE, html_writer.CSP = saved
        if not os.access(CHROMIUM, os.X_OK):
            rows.append(("html: open in Chromium", f"skipped: {CHROMIUM} is absent", "", ""))
            return rows
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                open_page(browser, page, None)  # warms the file cache and the browser
                opened, searched, count = open_page(browser, page, "refund")
                bare, _, _ = open_page(browser, plain, None)
            finally:
                browser.close()
    load = os.getloadavg()[0]
    rows.append(Goal(f"html: open {count:,} messages in Chromium", f"{opened:.2f} s to the "
                     f"first frame after load ({bare:.2f} s without content-visibility; "
                     f"load average {load:.1f} on {os.cpu_count()} CPUs)",
                     opened, OPEN_GOAL_S, "s"))
    if searched is not None:
        rows.append(Goal("html: in-page search over every message", f"{searched * 1000:.0f} ms",
                         searched, SEARCH_GOAL_S, "s"))
    return rows


def _cli() -> None:
    from tests.bench.run import format_table, normalise

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=MESSAGES)
    args = parser.parse_args()
    print(format_table(normalise(run(args.messages))))


if __name__ == "__main__":
    _cli()

"""One headless Chromium for a test module (the system's: browsers cannot be downloaded here),
and a page that records every request it tries and every console message and page error."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def browser_fixture() -> Any:
    """A module-scoped fixture: ``browser`` (skipped with a reason when Chromium is absent)."""

    @pytest.fixture(scope="module")
    def browser() -> Iterator[Any]:
        if not os.access(CHROMIUM, os.X_OK):
            pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
        sync_api = pytest.importorskip("playwright.sync_api")
        with sync_api.sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield b
            finally:
                b.close()

    return browser


@dataclass(slots=True)
class Watched:
    """A page and what it did: requests other than the file itself, console lines, errors."""

    page: Any
    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_page(browser: Any, path: Path, *, scripts: bool = True,
              viewport: tuple[int, int] = (1100, 800)) -> Watched:
    """Open ``path`` in a fresh context; every request but the file's own is aborted and noted."""
    context = browser.new_context(java_script_enabled=scripts,
                                  viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    watched = Watched(page)
    url = path.resolve().as_uri()

    def route(r: Any) -> None:
        if r.request.url == url:
            r.continue_()
        else:
            watched.requests.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda req: req.url != url and watched.requests.append(req.url))
    page.on("console", lambda msg: watched.console.append((msg.type, msg.text)))
    page.on("pageerror", lambda exc: watched.errors.append(str(exc)))

    def dialog(d: Any) -> None:
        watched.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    page.goto(url, wait_until="load")
    return watched

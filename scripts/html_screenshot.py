"""Make the README picture of the HTML transcript: screenshots/html-transcript.png.

    python scripts/html_screenshot.py [--out screenshots] [--dark]

The page is what `roamtui export … --format html` writes: the real command runs in-process
against the sandbox (a mock transport, a dataset ending at a fixed moment, shown in
Asia/Shanghai), so the picture is the same on every run. It is opened in headless Chromium
(`/usr/bin/chromium` through Playwright, no network) at a recalled message, and the top of the
page (provenance header, the search and filter bar, the first day) is captured.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from roamtui.cli import build_parser  # noqa: E402
from roamtui.cli import export as export_cli  # noqa: E402
from roamtui.sandbox import (  # noqa: E402
    DEMO_ADMIN,
    DEMO_SDKAPPID,
    DEMO_SECRET_KEY,
    Dataset,
    SandboxService,
)

END = 1_795_000_000  # 2026-11-18: the demo's fixed end
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def write_page(path: Path) -> None:
    dataset = Dataset(seed=0, messages=3000, end_time=END)
    customer, agent = dataset.conversations[0]
    span = dataset.span(customer, agent)
    assert span is not None
    # Start the window a little before a recalled message near its end, so the picture has one.
    recalled = [r.time for r in dataset.messages_between(customer, agent, span[1] - 86400,
                                                         span[1]) if r.recalled]
    since = (recalled[0] if recalled else span[1] - 86400) - 240
    os.environ["ROAMTUI_SECRET_KEY"] = DEMO_SECRET_KEY  # the demo key: it protects nothing
    args = build_parser().parse_args([
        "export", customer, agent, f"--since=@{since}", f"--until=@{span[1]}",
        "--format=html", f"--output={path}", "--tz=Asia/Shanghai",
        "--endpoint=https://console.tim.qq.com", f"--sdkappid={DEMO_SDKAPPID}",
        f"--identifier={DEMO_ADMIN}"])
    err = io.StringIO()
    service = SandboxService(dataset, rate_limit=None)
    code = export_cli.run(args, transport=service.mock_transport(), stderr=err,
                          now=datetime.fromtimestamp(END + 3600, UTC))  # a fixed 'fetched at'
    if code != 0:
        raise SystemExit(err.getvalue())


def shoot(page_file: Path, out: Path, dark: bool) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 1300},
                                          color_scheme="dark" if dark else "light",
                                          device_scale_factor=1)
            page = context.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                       else r.abort())
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            page.locator("details.fwd").first.evaluate("d => d.open = true")
            page.screenshot(path=str(out), full_page=False)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "screenshots")
    parser.add_argument("--dark", action="store_true", help="the dark scheme, as -dark.png")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="roamtui-html-shot-") as tmp:
        page = Path(tmp) / "transcript.html"
        write_page(page)
        name = "html-transcript-dark.png" if args.dark else "html-transcript.png"
        shoot(page, args.out / name, args.dark)
        print(args.out / name)


if __name__ == "__main__":
    main()

"""The HTML transcript opened in a real headless Chromium: one element per message with
``id`` = MsgKey, recalled marks, hostile texts shown as text and never run, nothing requested
from the network, no console errors, the search and the recalled-only filter (this one with
scripts off too), the PARTIAL banner."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from roamtui.export.formats import write_export
from roamtui.export.provenance import ExportMeta
from roamtui.im.model import Message, message_obj, parse_message
from tests.export.browserkit import browser_fixture, open_page

browser = browser_fixture()

T0 = 1_584_669_600  # 2020-03-20 02:00:00 UTC
ZONE = ZoneInfo("Asia/Shanghai")
A, B = "cust_1001", "agent_alice"
HOSTILE = [
    "<script>window.__pwned = 1; alert('xss')</script>",
    '<img src=x onerror="window.__pwned = 2">',
    '<b>bold</b> &amp; <a href="https://example.com/steal">link</a> <style>*{display:none}</style>',
    "\x1b[31mred alert\x1b[0m \u202eevil\u202c end",
]
IMAGE_URL = "https://cos.example.com/img/1.png"


def _msgs() -> list[Message]:
    objs: list[dict[str, Any]] = []

    def add(**kw: Any) -> None:
        i = len(objs)
        kw.setdefault("sender", A if i % 2 == 0 else B)
        kw.setdefault("receiver", B if kw["sender"] == A else A)
        objs.append(message_obj(time=T0 + 37 * i, seq=10 + i, random=1000 + i, **kw))

    add(text="hello, my order never arrived", is_peer_read=True)
    for text in HOSTILE:
        add(text=text)
    add(text="please refund the parcel")
    add(text="sent by mistake", flag_bits=8)  # recalled, content returned
    add(flag_bits=8)  # recalled, no content
    add(body=[{"MsgType": "TIMImageElem", "MsgContent": {"UUID": "u1", "ImageFormat": 3,
          "ImageInfoArray": [{"Type": 1, "Size": 2048, "Width": 640, "Height": 480,
                              "URL": IMAGE_URL}]}}])
    add(body=[{"MsgType": "TIMRelayElem", "MsgContent": {"Title": "chat history", "MsgNum": 2,
          "MsgList": [message_obj(sender="someone_else", receiver=A, time=T0 - 86400,
                                  text="forwarded marmalade line", key="n1"),
                      message_obj(sender=A, receiver="someone_else", time=T0 - 86000,
                                  text="<script>window.__pwned = 3</script>", key="n2")]}}])
    add(text="next day", sender="<i>mallory</i>", receiver=A)
    objs[-1]["MsgTimeStamp"] = T0 + 86400
    add(text="odd key", key='k"><img src=x onerror="window.__pwned=4">')
    objs[-1]["MsgTimeStamp"] = T0 + 86500
    return [parse_message(o) for o in objs]


MESSAGES = _msgs()


def _meta(complete: bool = True) -> ExportMeta:
    return ExportMeta(A, B, T0 - 90000, T0 + 90000, ZONE, T0 + 100000, 2, 3, complete,
                      "http://127.0.0.1:9 · SDKAppID 1400000000 · admin administrator",
                      "" if complete else "written from the transcript before it was loaded whole")


def _write(tmp: Path, name: str, complete: bool = True) -> Path:
    path = tmp / name
    with path.open("w", encoding="utf-8") as out:
        write_export("html", MESSAGES, _meta(complete), out)
    return path


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("html"), "t.html")


@pytest.fixture(scope="module")
def watched(browser: Any, page_file: Path) -> Any:
    w = open_page(browser, page_file)
    yield w
    w.page.context.close()


def test_one_element_per_message_with_its_msgkey_as_id(watched: Any) -> None:
    page = watched.page
    ids = page.eval_on_selector_all("article.msg", "els => els.map(e => e.id)")
    normal = [m.key for m in MESSAGES if '"' not in m.key]
    assert ids[:-1] == normal  # every message once, oldest first
    assert len(ids) == len(MESSAGES)
    # The hostile key is an attribute value, not markup: still one element, found by its id.
    odd = MESSAGES[-1].key
    assert page.evaluate("k => document.getElementById(k) !== null", odd)
    first = page.locator(f"article[id='{MESSAGES[0].key}']")
    text = first.inner_text()
    assert "10:00:00" in text and A in text and "my order never arrived" in text
    assert "✓ read" in text
    assert first.locator("a.t").get_attribute("href") == f"#{MESSAGES[0].key}"


def test_recalled_messages_carry_the_word_recalled(watched: Any) -> None:
    page = watched.page
    recalled = [m.key for m in MESSAGES if m.recalled]
    shown = page.eval_on_selector_all(
        "article.msg", "els => els.filter(e => e.textContent.includes('recalled')).map(e => e.id)")
    assert shown == recalled
    assert "sent by mistake" in page.locator(f"article[id='{recalled[0]}']").inner_text()
    assert "no content" in page.locator(f"article[id='{recalled[1]}']").inner_text()


def test_hostile_text_is_shown_as_text_and_never_runs(watched: Any) -> None:
    page = watched.page
    assert page.evaluate("window.__pwned") is None
    assert watched.dialogs == []
    main = page.locator("#rt-messages")
    assert main.locator("img, script, style, a[href^='http'], b, i").count() == 0
    body = main.inner_text()
    for text in HOSTILE[:3]:
        assert text.split(" ")[0] in body
    assert "<script>window.__pwned = 1;" in body
    assert "␛[31mred alert␛[0m" in body and "⟨U+202E⟩evil" in body
    assert "<i>mallory</i>" in body
    assert page.locator("script").count() == 1  # the page's own


def test_nothing_leaves_the_page_and_the_console_is_clean(watched: Any) -> None:
    page = watched.page
    page.locator("details.fwd summary").click()
    page.wait_for_timeout(100)
    assert watched.requests == []
    assert [text for kind, text in watched.console if kind in ("error", "warning")] == []
    assert watched.errors == []
    placeholder = page.locator(f"article[id='{MESSAGES[8].key}']").inner_text()
    assert "[image 640×480 2 KB]" in placeholder and IMAGE_URL in placeholder


def test_a_merged_forward_opens_to_its_messages(watched: Any) -> None:
    details = watched.page.locator("details.fwd")
    assert details.count() == 1
    inner = details.inner_text()
    assert "forwarded marmalade line" in inner and "someone_else" in inner
    assert "<script>window.__pwned = 3</script>" in inner
    assert details.locator("article").count() == 0  # forwarded messages are not the window's


def test_day_separators_and_colours_per_party(watched: Any) -> None:
    page = watched.page
    days = page.locator("h2.day").all_inner_texts()
    assert days == ["2020-03-20 (Friday)", "2020-03-21 (Saturday)"]
    colour = "id => getComputedStyle(document.getElementById(id).querySelector('.who')).color"
    a, b = (page.evaluate(colour, MESSAGES[i].key) for i in (0, 1))
    assert a != b
    # A forwarded line takes its own sender's colour, not that of the message forwarding it.
    inner = page.eval_on_selector_all(
        "details.fwd li .who", "els => els.map(e => [e.textContent, getComputedStyle(e).color])")
    assert dict(inner)[A] == a and dict(inner)["someone_else"] not in (a, b)


def test_few_nodes_per_message_and_no_page_wide_has(watched: Any) -> None:
    """What keeps 100,000 messages quick to open (bench_html): the time, sender and marks are
    the article's own children, no whitespace node sits between articles, and no ``:has``
    is anchored on an ancestor of the messages (Chromium re-checks it per inserted node)."""
    page = watched.page
    first = page.evaluate("k => Array.from(document.getElementById(k).childNodes, "
                          "n => n.nodeName + '.' + (n.className || ''))", MESSAGES[0].key)
    assert first == ["A.t", "SPAN.who", "SPAN.read", "DIV.body"]
    gaps = page.evaluate("() => Array.from(document.querySelectorAll('article.msg + article'), "
                         "n => n.previousSibling.nodeType)")
    assert gaps and set(gaps) == {1}  # the next article is the next node: no text between
    rules = page.evaluate("() => Array.from(document.styleSheets[0].cssRules, r => r.cssText)"
                          ".filter(t => t.includes(':has('))")
    assert rules and all(r.startswith(".tools:has(") for r in rules)


def test_the_search_box_finds_a_word(watched: Any) -> None:
    page = watched.page
    box = page.locator("#rt-search")
    assert box.is_visible()
    box.fill("refund")
    box.press("Enter")
    assert "1 of" in page.locator("#rt-count").inner_text()
    visible = page.eval_on_selector_all(
        "article.msg", "els => els.filter(e => e.offsetParent !== null).map(e => e.id)")
    assert visible == [MESSAGES[5].key]
    box.fill("")
    box.press("Escape")
    page.wait_for_timeout(50)
    assert page.locator("#rt-messages.rt-searching").count() == 0
    shown = "els => els.filter(e => e.offsetParent !== null).length"
    assert page.eval_on_selector_all("article.msg", shown) == len(MESSAGES)


def test_readable_with_scripts_off_and_the_recalled_filter_works(
    browser: Any, page_file: Path
) -> None:
    w = open_page(browser, page_file, scripts=False)
    try:
        page = w.page
        shown = "els => els.filter(e => e.offsetParent !== null).length"
        assert page.eval_on_selector_all("article.msg", shown) == len(MESSAGES)
        assert not page.locator("#rt-search").is_visible()
        page.locator("#rt-recalled").check()
        assert page.eval_on_selector_all("article.msg", shown) == 2
        assert w.requests == []
    finally:
        w.page.context.close()


def test_a_partial_window_has_a_red_banner(browser: Any, tmp_path: Path) -> None:
    w = open_page(browser, _write(tmp_path, "partial.html", complete=False))
    try:
        banner = w.page.locator("#rt-partial")
        assert banner.is_visible() and "PARTIAL" in banner.inner_text()
        colour = w.page.evaluate("getComputedStyle(document.getElementById('rt-partial'))"
                                 ".backgroundColor")
        assert colour == "rgb(176, 0, 32)"
        assert "PARTIAL" in w.page.locator("table.prov").inner_text()
    finally:
        w.page.context.close()


def test_dark_scheme_and_print(browser: Any, page_file: Path) -> None:
    w = open_page(browser, page_file)
    try:
        page = w.page
        background = "getComputedStyle(document.body).backgroundColor"
        light = page.evaluate(background)
        page.emulate_media(color_scheme="dark")
        assert page.evaluate(background) != light
        page.emulate_media(media="print", color_scheme="light")
        assert not page.locator(".tools").is_visible()  # no search box or filter on paper
        # A closed forward prints its messages, and every block is laid out for paper.
        inner = page.locator("details.fwd ol")
        assert inner.is_visible() and "forwarded marmalade line" in inner.inner_text()
        assert page.evaluate("getComputedStyle(document.querySelector('.blk'))"
                             ".contentVisibility") == "visible"
        assert w.errors == [] and w.requests == []
    finally:
        w.page.context.close()


def test_hostile_notes_are_shown_as_text_and_never_run(browser: Any, tmp_path: Path) -> None:
    """Notes (issue 19) are untrusted too: typed by an agent, or a hand-edited marks file."""
    notes = {m.key: HOSTILE[i % len(HOSTILE)] for i, m in enumerate(MESSAGES[:4])}
    meta = replace(_meta(), notes=notes, marked=frozenset(notes))
    path = tmp_path / "notes.html"
    with path.open("w", encoding="utf-8") as out:
        write_export("html", MESSAGES, meta, out)
    w = open_page(browser, path)
    try:
        page = w.page
        assert page.evaluate("window.__pwned") is None and w.dialogs == []
        shown = page.locator("div.note")
        assert shown.count() == 4 and shown.locator("img, script, style, a").count() == 0
        assert shown.locator("b").count() == 4  # the "Note:" labels only; "<b>bold</b>" is text
        text = "\n".join(shown.all_inner_texts())
        assert "<script>window.__pwned = 1;" in text and "␛[31mred alert" in text
        assert page.locator("article.msg.marked").count() == 4
    finally:
        w.page.context.close()

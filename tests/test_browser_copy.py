"""What a student copies and a researcher exports, read back in the browser, and a screen where
nothing covers text, at 1280x800 and 375x800 (slow, headless Chromium)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser_layout import COVERED_TEXT_JS, PLACE_JS

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CONVICTED = "How many people were convicted?"  # its passage's source: "A total of **1 273** people were convicted"


def words(text: str) -> str:
    return " ".join(text.split())


def test_copy_quote_puts_the_words_as_shown_on_the_clipboard(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    answer = page.request.post(server.rstrip("/") + "/api/ask", data={"question": CONVICTED, "k": 3}).json()
    passage = next(p for p in answer["passages"] if "**1 273**" in p["text"])  # Markdown in the source
    page.goto(server.rstrip("/") + passage["link"])
    page.get_by_role("button", name="Copy quote").click()
    expect(page.locator("button[data-copy='quote']")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "A total of 1 273 people were convicted" in copied and "*" not in copied
    assert copied == passage["plain_text"]  # the JSON's plain text is the clipboard's
    shown = page.locator("article .in-passage").evaluate_all(  # the marked paragraphs as the reader sees them
        "els => els.map(e => { const c = e.cloneNode(true); c.querySelectorAll('.num').forEach(n => n.remove());"
        " return c.textContent; }).join(' ')")
    assert words(copied) == words(shown)
    context.close()


def test_csv_export_holds_the_passages_as_shown_and_links_that_open(browser, server: str,  # type: ignore[no-untyped-def]
                                                                    tmp_path: Path) -> None:
    # reached as "localhost", not as the 127.0.0.1 the server was started with: links follow the request
    address = server.replace("127.0.0.1", "localhost").rstrip("/")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{address}/?tab=search&q=people+were+convicted")
    page.wait_for_function("() => (document.querySelector('#results')?.textContent || '').includes('1 273')",
                           timeout=30_000)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    download.value.save_as(tmp_path / "results.csv")
    with open(tmp_path / "results.csv", encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 20 and all("**" not in row["passage"] for row in rows)
    for row in rows:  # each passage as its card shows it, each link absolute and live
        card = page.locator(f"#result-{row['rank']} .result-text").inner_text()
        assert words(row["passage"]) == words(card)
        assert row["link"].startswith(f"{address}/doc/") and row["link"].endswith("#passage")
        response = page.request.get(row["link"])
        assert response.status == 200 and 'id="passage"' in response.text()
    assert any("A total of 1 273 people were convicted" in row["passage"] for row in rows)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export JSON").click()
    download.value.save_as(tmp_path / "results.json")
    first = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["passages"][0]
    assert words(first["plain_text"]) == words(rows[0]["passage"]) and first["text"]  # JSON keeps both
    assert urlsplit(first["link"]).path.startswith("/doc/")
    page.close()


def covered_text(page) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """Lines of text something lies over; asked twice a second apart when the first answer is not
    empty, so that Gradio's loading overlays, there while an event runs, have gone."""
    found = page.evaluate(COVERED_TEXT_JS)
    if found:
        page.wait_for_timeout(1000)
        found = page.evaluate(COVERED_TEXT_JS)
    return list(found)


def covered_while_scrolling_the_chat(page, step: int = 40) -> list[tuple[int, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """Scroll the chat's log from top to bottom, `step` pixels at a time, and collect what lies over
    text at each place (Gradio shows its round scroll-down button once the log is scrolled, over
    whatever line is at the bottom of the box): [(scrollTop, {text, over}), ...], each found twice
    a second apart (see `covered_text`)."""
    found = []
    end = page.evaluate("() => { const log = document.querySelector('#chat [role=log]');"
                        " return log.scrollHeight - log.clientHeight; }")
    for top in [*range(0, end, step), end]:
        page.evaluate("y => { document.querySelector('#chat [role=log]').scrollTop = y; }", top)
        page.wait_for_timeout(80)
        found += [(top, item) for item in covered_text(page)]
    return found


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 800)])
def test_nothing_covers_text_and_the_question_box_is_in_view(browser, server: str, width: int,  # type: ignore[no-untyped-def]
                                                             height: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server)
    page.get_by_label("Your question").wait_for()
    page.wait_for_timeout(500)
    box = page.evaluate(PLACE_JS, "#question textarea")
    assert box["top"] >= 0 and box["bottom"] <= box["window"], f"the question box is cut: {box}"
    examples = page.evaluate(PLACE_JS, "#examples")
    assert examples["bottom"] <= examples["window"], f"the example questions are below the fold: {examples}"
    assert covered_text(page) == []
    page.get_by_label("Your question").fill("How many citizens were killed?")
    page.get_by_label("Your question").press("Enter")
    page.locator("#chat blockquote.verbatim-quote").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    assert covered_text(page) == [], "as the reply is first shown"
    # no copy icon on a reply: Gradio's copies the reply's HTML source, not the words shown
    assert page.locator("#chat button[aria-label*='opy'], #chat button[title*='opy']").count() == 0
    assert covered_while_scrolling_the_chat(page) == []
    box = page.evaluate(PLACE_JS, "#question textarea")
    assert box["top"] >= 0 and box["bottom"] <= box["window"], f"the question box is cut after a reply: {box}"
    page.goto(server.rstrip("/") + "/?tab=search&q=law+enforcement+officers")
    page.wait_for_function("() => document.querySelectorAll('#results .result').length === 20", timeout=30_000)
    for where in (0.0, 0.5, 1.0):
        page.evaluate("f => window.scrollTo(0, f * (document.documentElement.scrollHeight - innerHeight))", where)
        page.wait_for_timeout(200)
        assert covered_text(page) == [], f"the search tab scrolled to {where:.0%}"
    page.close()

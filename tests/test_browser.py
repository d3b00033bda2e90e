"""The served page in Debian's headless Chromium, driven by Playwright (slow).

Chromium comes from Debian (`apt-get install chromium`); no browser is ever downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "eval" / "reports" / "screenshots"


@pytest.fixture
def page(browser, server: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1200, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.hosts = set()  # every host the page sends a request to
    page.on("request", lambda request: page.hosts.add(urlparse(request.url).netloc))
    page.goto(server)
    yield page
    context.close()


def wait_for_results(page, text: str) -> None:  # type: ignore[no-untyped-def]
    """The search table's text (its cells may be scrolled out of view) contains `text`."""
    page.wait_for_function("t => (document.querySelector('#results')?.textContent || '').includes(t)",
                           arg=text, timeout=30_000)


def ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def test_question_gets_the_238_citizens_passage_with_citation(page, server: str) -> None:
    ask(page, "How many citizens were killed?")
    reply = page.locator("#chat .message.bot, #chat [data-testid='bot']").last
    reply.wait_for(timeout=30_000)
    page.get_by_text("238 citizens").first.wait_for(timeout=30_000)
    text = page.locator("#chat").inner_text()
    first_quote = text.index("[1]")
    assert "238 citizens" in text[first_quote : text.index("[2]")]
    assert "76th session of the UN Committee against Torture" in text and "para" in text
    marked = page.locator("#chat mark").first.inner_text()  # the answering sentence is highlighted
    assert "238 citizens" in marked
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.get_by_text("[1]", exact=True).first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "chat.png"))
    assert page.hosts == {urlparse(server).netloc}, "the page fetched from another host"


def test_example_question_can_be_clicked(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="What happened in Taldykorgan?").click()
    page.get_by_role("button", name="Ask").click()
    page.get_by_text("steam iron").first.wait_for(timeout=30_000)


def test_markup_in_a_question_is_shown_literally_and_runs_nothing(page) -> None:  # type: ignore[no-untyped-def]
    attack = '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> [x](javascript:alert(1))'
    ask(page, attack)
    page.get_by_text("<script>window.__pwned=2</script>", exact=False).first.wait_for(timeout=30_000)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#chat img[src='x']").count() == 0
    assert page.locator("#chat a[href^='javascript']").count() == 0


def test_follow_up_question_is_answered_in_context(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "Which musician was shot dead in Almaty?")
    page.get_by_text("Bitayev").first.wait_for(timeout=30_000)
    ask(page, "Why was he killed?")
    page.get_by_text("Searched for: “Which musician was shot dead in Almaty? Why was he killed?”").first.wait_for(
        timeout=30_000)


def test_empty_and_huge_questions_get_a_polite_reply(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Ask").click()
    page.get_by_text("Please type a question first").first.wait_for(timeout=30_000)
    ask(page, "x" * 100_000)
    page.get_by_text("cannot be searched").first.wait_for(timeout=30_000)
    assert "100,000 characters long; the limit is 1,000" in page.locator("#chat").inner_text()


def test_citation_opens_the_document_at_the_passage_and_copies(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "How many citizens were killed?")
    link = page.locator("#chat a[href*='/doc/']").first
    link.wait_for(timeout=30_000)
    with page.context.expect_page() as opened:
        link.click()
    viewer = opened.value
    viewer.on("request", lambda request: page.hosts.add(urlparse(request.url).netloc))
    viewer.wait_for_load_state()
    passage = viewer.locator("#passage")
    assert "238 citizens" in viewer.locator("#passage mark").first.inner_text()
    box, height = passage.bounding_box(), viewer.viewport_size["height"]
    assert box is not None and -2 <= box["y"] < height, "the passage is scrolled into view"
    assert "Committee against Torture" in viewer.locator("h1 + .meta").inner_text()
    viewer.screenshot(path=str(SCREENSHOTS / "viewer.png"))
    viewer.get_by_role("button", name="Copy citation").click()
    viewer.wait_for_function("document.body.dataset.copied !== undefined", timeout=10_000)
    copied = viewer.evaluate("navigator.clipboard.readText()")
    assert "paras. 41–46" in copied and "/doc/" in copied
    assert page.hosts == {urlparse(viewer.url).netloc}


def test_passage_link_of_a_changed_document_says_so(page, server: str) -> None:  # type: ignore[no-untyped-def]
    stale = server.rstrip("/") + "/doc/2023-05-02-cat76-kazakhstan-january-events?start=0&end=10&v=000000000000"
    page.goto(stale)
    assert "has changed since the link was made" in page.get_by_role("alert").inner_text()
    page.goto(server.rstrip("/") + "/doc/no-such-document")
    assert "no document 'no-such-document'" in page.get_by_role("alert").inner_text()


def test_search_mode_shows_rankers_filters_and_exports(page, server: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name="Search").click()
    box = page.get_by_label("Search the documents")
    box.fill("video footage")
    page.get_by_label("Exact phrase").check()
    page.get_by_role("button", name="Search", exact=True).click()
    wait_for_results(page, "36 criminal cases of torture")
    table = page.locator("#results").inner_text()
    assert "dense rank" in table and "lexical rank" in table
    assert "This footage shows" not in table  # "footage" alone is not the phrase
    assert "tab=search" in page.url and "q=video+footage" in page.url and "phrase=1" in page.url
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    saved = tmp_path / "results.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("rank,score,dense rank,lexical rank") and "36 criminal cases" in saved.read_text()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export JSON").click()
    download.value.save_as(tmp_path / "results.json")
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["question"] == "video footage" and data["passages"][0]["link"].startswith("/doc/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "search.png"))
    assert page.hosts == {urlparse(server).netloc}


def test_a_shared_url_reproduces_the_search(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.rstrip("/") + "/?tab=search&q=Istanbul+Protocol")
    wait_for_results(page, "based on the Istanbul Protocol")
    assert page.get_by_label("Search the documents").input_value() == "Istanbul Protocol"
    page.goto(server.rstrip("/") + "/?q=How+many+citizens+were+killed%3F")
    page.get_by_text("238 citizens").first.wait_for(timeout=30_000)
    assert "Speech on the investigation" in page.locator("#sources").inner_text()


def test_narrow_window_and_keyboard(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(server)
    page.get_by_label("Your question").wait_for()
    for _ in range(40):  # Tab until the question box has the focus
        if page.evaluate("document.activeElement && document.activeElement.closest('#question') !== null"):
            break
        page.keyboard.press("Tab")
    page.keyboard.type("How many citizens were killed?")
    page.keyboard.press("Enter")
    page.get_by_text("238 citizens").first.wait_for(timeout=30_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1, "no sideways scrolling"
    page.screenshot(path=str(SCREENSHOTS / "narrow.png"))
    context.close()

"""The served page in Debian's headless Chromium, driven by Playwright (slow).

Chromium comes from Debian (`apt-get install chromium`); no browser is ever downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "eval" / "reports" / "screenshots"


@pytest.fixture
def page(browser, server: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.hosts = set()  # every host the page sends a request to
    page.on("request", lambda request: page.hosts.add(urlparse(request.url).netloc))
    page.goto(server)
    yield page
    context.close()


WIDTHS = [(1280, 900), (375, 800)]
# Words of `selector`'s elements that the browser drew over more than one line (a word broken mid-word).
BROKEN_WORDS_JS = """selector => {
  const broken = [];
  for (const element of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""
# What lies over `element`: elements found at its corners and centre (a block) or at the centre of
# each of its line boxes (an inline element such as <mark>) that are neither it nor inside it.
COVERED_BY_JS = """element => {
  const points = [];
  for (const box of element.getClientRects()) {
    points.push([(box.left + box.right) / 2, (box.top + box.bottom) / 2]);
    if (getComputedStyle(element).display !== 'inline') {
      points.push([box.left + 2, box.top + 2], [box.right - 2, box.top + 2], [box.left + 2, box.bottom - 2],
                  [box.right - 2, box.bottom - 2]);
    }
  }
  return points.map(([x, y]) => document.elementFromPoint(x, y))
    .filter(hit => hit && hit !== element && !element.contains(hit))
    .map(hit => hit.tagName + '.' + hit.className);
}"""


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """A screenshot for review, in eval/reports/screenshots/ (ignored by git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def wait_for_results(page, text: str) -> None:  # type: ignore[no-untyped-def]
    """The search results contain `text`."""
    page.wait_for_function("t => (document.querySelector('#results')?.textContent || '').includes(t)",
                           arg=text, timeout=30_000)


def ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def wait_for_reply(page, count: int) -> None:  # type: ignore[no-untyped-def]
    """The chat shows `count` replies, and the page has had a moment to settle its scrolling."""
    page.wait_for_function("n => document.querySelectorAll('#chat .message-row.bot-row').length >= n",
                           arg=count, timeout=30_000)
    page.wait_for_timeout(300)


def newest_reply_top(page) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Where the newest reply's header stands against the chat box and the window."""
    return page.evaluate("""() => {
        const rows = document.querySelectorAll('#chat .message-row.bot-row');
        const head = rows[rows.length - 1].querySelector('.reply-head') || rows[rows.length - 1];
        const log = document.querySelector('#chat [role=log]').getBoundingClientRect();
        const box = head.getBoundingClientRect();
        return {top: box.top, bottom: box.bottom, logTop: log.top, logBottom: log.bottom,
                window: window.innerHeight, text: head.innerText};
    }""")


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
    assert page.locator("#chat .reply-head").last.inner_text().startswith("Answered · 5 passages")
    assert page.hosts == {urlparse(server).netloc}, "the page fetched from another host"


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_each_reply_is_shown_from_its_top(browser, server: str, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    """After an answer the chat shows the reply's header and passage [1], not its last passage;
    also for a second reply, and for an abstained one (screenshots for review)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(server)
    for count, (question, level, name) in enumerate([
            ("How many people were convicted?", "Answered", None),
            ("How many citizens were killed?", "Answered", "chat"),
            ("What is the capital of France?", "Nothing relevant found", "abstained")], start=1):
        ask(page, question)
        wait_for_reply(page, count)
        where = newest_reply_top(page)
        assert where["text"].startswith(level), where
        assert where["logTop"] - 1 <= where["top"] and where["bottom"] <= where["logBottom"], f"{question}: {where}"
        assert where["top"] >= 0 and where["bottom"] <= where["window"], f"{question}: {where}"
        if name:
            shot(page, f"{name}-{width}")
    context.close()


def test_header_says_what_was_searched_and_gives_notices(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "What is the capital of France?")
    wait_for_reply(page, 1)
    reply = page.locator("#chat .message-row.bot-row").last
    assert reply.locator("a[href*='/doc/']").count() == 1  # nothing relevant: only the closest passage
    assert "Closest passage (not an answer)" in reply.inner_text()
    ask(page, "Wat happend in Taldykorgn?")  # a corrected spelling is shown in the header
    wait_for_reply(page, 2)
    head = page.locator("#chat .reply-head").last.inner_text()
    assert head.startswith("Answered") and "Searched for: “Wat happend in Taldykorgan?”" in head
    ask(page, "Что случилось в Алматы?")  # a question in another language gets one notice line
    wait_for_reply(page, 3)
    assert "the documents are in English" in page.locator("#chat .reply-notice").last.inner_text()


@pytest.mark.parametrize("width", [320, 375, 450])
def test_placeholder_fits_its_box_on_a_phone(browser, server: str, width: int) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(server)
    fit = page.locator("#question textarea").evaluate("""box => {
        const style = getComputedStyle(box);
        const context = document.createElement('canvas').getContext('2d');
        context.font = style.font;
        const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return {text: context.measureText(box.placeholder).width, room: room};
    }""")
    assert fit["text"] <= fit["room"], fit
    context.close()


def test_example_question_can_be_clicked(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.get_by_role("button", name="What happened in Taldykorgan?").click()
    # the example reaches the box by a round trip to the server: ask once it is there, as a person does
    expect(page.locator("#question textarea")).to_have_value("What happened in Taldykorgan?", timeout=30_000)
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
    page.locator("#chat a[href*='/doc/']").first.wait_for(timeout=30_000)
    links = page.locator("#chat a[href*='/doc/']")
    assert links.count() == 5
    for index in range(links.count()):  # every citation number can be clicked: nothing lies over it
        link = links.nth(index)
        link.scroll_into_view_if_needed()
        assert link.evaluate(COVERED_BY_JS) == []
    with page.context.expect_page() as opened:
        links.first.click()
    viewer = opened.value
    viewer.on("request", lambda request: page.hosts.add(urlparse(request.url).netloc))
    viewer.wait_for_load_state()
    passage = viewer.locator("#passage")
    assert "238 citizens" in viewer.locator("#passage mark").first.inner_text()
    box, height = passage.bounding_box(), viewer.viewport_size["height"]
    assert box is not None and -2 <= box["y"] < height, "the passage is scrolled into view"
    assert "Committee against Torture" in viewer.locator("h1 + .meta").inner_text()
    assert "2 May 2023" in viewer.locator("h1 + .meta").inner_text()
    assert viewer.locator(".source").inner_text() == "Source: The speech as delivered at the session"
    assert viewer.locator("h1").count() == 1
    viewer.get_by_role("button", name="Copy citation").click()
    expect(viewer.locator("button[data-copy='citation-full']")).to_have_text("Copied")
    copied = viewer.evaluate("navigator.clipboard.readText()")
    assert "paras. 41–46" in copied and "/doc/" in copied
    viewer.get_by_role("button", name="Copy quote").click()
    expect(viewer.locator("button[data-copy='quote']")).to_have_text("Copied")
    assert "238 citizens" in viewer.evaluate("navigator.clipboard.readText()")
    assert page.hosts == {urlparse(viewer.url).netloc}


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_no_paragraph_of_the_reader_is_ever_covered(browser, server: str, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    """The citation panel is docked below the text: the marked passage, and every paragraph
    scrolled to the bottom edge of the text, is uncovered (screenshots for review)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server + "?q=How+many+citizens+were+killed%3F")
    href = page.locator("#chat a[href*='/doc/']").first.get_attribute("href", timeout=30_000)
    page.goto(server.rstrip("/") + href)
    page.locator(".cite").wait_for()
    shot(page, f"reader-{width}")
    for element in page.locator("#passage, article .in-passage, article mark").all():
        assert element.evaluate(COVERED_BY_JS) == [], "the marked passage is covered"
    for paragraph in page.locator("article p, article h2").all():
        paragraph.evaluate("p => p.scrollIntoView({block: 'end'})")
        assert paragraph.evaluate(COVERED_BY_JS) == [], paragraph.inner_text()[:60]
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, "no sideways scrolling"
    page.close()


def test_links_that_lead_nowhere_are_shown_as_text(page, server: str) -> None:  # type: ignore[no-untyped-def]
    """The speech's closing "([Tokarev, Klebanov](#))" is text in the chat and in the reader."""
    ask(page, "Who attacked and threatened journalists and bloggers?")
    page.get_by_text("Tokarev, Klebanov").first.wait_for(timeout=30_000)
    hrefs = page.locator("#chat a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs and all(h.startswith(("/doc/", "http://", "https://")) for h in hrefs), hrefs
    assert "Tokarev" not in " ".join(page.locator("#chat mark").all_inner_texts())  # never the best sentence
    page.goto(server.rstrip("/") + "/doc/2023-05-02-cat76-kazakhstan-january-events")
    assert "(Tokarev, Klebanov)" in page.locator("article").inner_text()
    assert page.locator("article a").evaluate_all("links => links.map(a => a.href)") == []


def test_passage_link_of_a_changed_document_says_so(page, server: str) -> None:  # type: ignore[no-untyped-def]
    stale = server.rstrip("/") + "/doc/2023-05-02-cat76-kazakhstan-january-events?start=0&end=10&v=000000000000"
    page.goto(stale)
    assert "has changed since the link was made" in page.get_by_role("alert").inner_text()
    response = page.goto(server.rstrip("/") + "/doc/no-such-document")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "No such document"
    assert "no document 'no-such-document'" in page.get_by_role("alert").inner_text()
    page.get_by_role("link", name="Search the documents").click()
    page.get_by_label("Your question").wait_for()


def test_search_mode_shows_rankers_filters_and_exports(page, server: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name="Search").click()
    box = page.get_by_label("Search the documents")
    box.fill("video footage")
    page.get_by_label("Exact phrase").check()
    page.get_by_role("button", name="Search", exact=True).click()
    wait_for_results(page, "36 criminal cases of torture")
    first = page.locator("#result-1")
    assert "dense rank" in first.inner_text() and "lexical rank" in first.inner_text()
    assert "This footage shows" not in page.locator("#results").inner_text()  # "footage" alone is not the phrase
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
    assert page.hosts == {urlparse(server).netloc}


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_search_results_are_readable_and_every_citation_opens_the_reader(browser, server: str, width: int,  # type: ignore[no-untyped-def]
                                                                         height: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server + "?tab=search&q=law+enforcement+officers")
    wait_for_results(page, "law enforcement")
    cards = page.locator("#results .result")
    assert cards.count() == 20
    assert page.evaluate(BROKEN_WORDS_JS, "#results dt, #results .result-rank, #results .reply-head") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, "no sideways scrolling"
    page.locator("#result-1").scroll_into_view_if_needed()
    shot(page, f"search-{width}")
    links = page.locator("#results a.result-cite")
    assert links.count() == 20
    for index in range(20):  # every row is reachable by scrolling the page, and its citation is a live link
        link = links.nth(index)
        link.scroll_into_view_if_needed()
        assert link.evaluate(COVERED_BY_JS) == [], f"citation {index + 1} is covered"
        response = page.request.get(server.rstrip("/") + link.get_attribute("href"))
        assert response.status == 200 and 'id="passage"' in response.text()
    with page.context.expect_page() as opened:
        links.nth(19).click()
    reader = opened.value
    reader.wait_for_load_state()
    assert reader.locator("#passage").count() == 1 and reader.locator("#citation").inner_text()
    page.context.close()


@pytest.mark.parametrize("query", ["   ", ""])
def test_an_empty_search_gets_the_same_message_as_the_chat(page, query: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name="Search").click()
    page.get_by_label("Search the documents").fill(query)
    page.get_by_role("button", name="Search", exact=True).click()
    message = page.locator("#results [role=alert]")
    expect(message).to_contain_text("Please type a question first")
    assert page.locator(".toast-body, [data-testid='toast-body']").count() == 0  # no bare "Error" badge
    page.get_by_role("tab", name="Chat").click()
    page.get_by_role("button", name="Ask").click()
    page.locator("#chat").get_by_text("Please type a question first").wait_for(timeout=30_000)


def test_a_search_without_words_gets_the_same_message_as_the_chat(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "* ?")
    page.locator("#chat").get_by_text("has no word to search for").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Search").click()
    page.get_by_label("Search the documents").fill("* ?")
    page.get_by_role("button", name="Search", exact=True).click()
    message = page.locator("#results [role=alert]")
    expect(message).to_contain_text("Sorry, that question cannot be searched: the question '* ?' has no word")


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
    context.close()

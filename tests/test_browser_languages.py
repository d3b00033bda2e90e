"""A question in Russian in the served chat: English passages with the notice, reader view, copy (slow)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.test_browser import ask, page, wait_for_reply  # noqa: F401 - `page` is a fixture

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_russian_question_gets_english_passages_with_the_notice(page) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    ask(page, "Сколько автомобилей сожгли во время беспорядков?")
    wait_for_reply(page, 1)
    reply = page.locator("#chat .message-row.bot-row").last
    head = reply.locator(".reply-head").inner_text()
    assert head.startswith("Answered"), head
    assert reply.locator(".reply-notice").inner_text() == (
        "Your question is in Russian; the documents are in English, so the passages are quoted in English.")
    assert "765 vehicles were burned" in reply.inner_text()  # the speech's own words, not a translation
    assert "765 vehicles were burned" in " ".join(reply.locator("mark").all_inner_texts())
    first = " ".join(reply.locator("blockquote").first.inner_text().split())  # passage [1] as the chat shows it
    with page.context.expect_page() as opened:
        reply.locator("a[href*='/doc/']").first.click()  # its citation number
    viewer = opened.value
    viewer.wait_for_load_state()
    shown = " ".join(viewer.locator("#passage").inner_text().split())
    assert first[:80] in shown, (first[:80], shown[:200])  # the reader opens at the passage that was cited
    viewer.get_by_role("button", name="Copy citation").click()
    expect(viewer.locator("button[data-copy='citation-full']")).to_have_text("Copied")
    copied = viewer.evaluate("navigator.clipboard.readText()")
    assert "Committee against Torture" in copied and "para" in copied and "/doc/" in copied
    assert page.hosts == {urlparse(viewer.url).netloc}

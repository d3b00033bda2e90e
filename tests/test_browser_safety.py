"""A hostile document in the corpus, and links that outlive the server (slow, browser)."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import CORPUS, run_cli, serving

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HOSTILE = """# Harbour <script>window.__pwned = 1</script> notes

The lighthouse keeper wrote <img src=x onerror="window.__pwned = 2"> in the harbour log.

See [the keeper's page](javascript:window.__pwned=3) and <b>raw bold</b> about the lighthouse.
"""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    index = root / "index"
    assert run_cli("--corpus", str(corpus), "--index", str(index), "index").returncode == 0
    return corpus, index


def test_hostile_document_runs_nothing_in_chat_or_reader(browser, hostile_site) -> None:  # type: ignore[no-untyped-def]
    with serving(*hostile_site) as url:
        page = browser.new_page()
        hosts: set[str] = set()
        page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
        page.goto(url)
        box = page.get_by_label("Your question")
        box.fill("What did the lighthouse keeper write in the harbour log?")
        box.press("Enter")
        page.get_by_text("onerror=", exact=False).first.wait_for(timeout=30_000)
        assert page.evaluate("window.__pwned") is None
        assert page.locator("#chat img[src='x'], #chat a[href^='javascript']").count() == 0
        link = page.locator("#chat a[href*='/doc/hostile']").first
        with page.context.expect_page() as opened:
            link.click()
        reader = opened.value
        reader.wait_for_load_state()
        assert "<script>window.__pwned = 1</script>" in reader.locator("h1").inner_text()
        assert "onerror=" in reader.locator("#passage").inner_text()
        assert reader.evaluate("window.__pwned") is None
        assert reader.locator("article img, article a[href^='javascript']").count() == 0
        page.context.close()
        assert hosts == {urlparse(url).netloc}


def ask_for_citations(browser, url: str):  # type: ignore[no-untyped-def]
    """A new page that asked the killed-citizens question and shows its citation links."""
    page = browser.new_page()
    page.goto(url)
    box = page.get_by_label("Your question")
    box.fill("How many citizens were killed?")
    box.press("Enter")
    page.locator("#chat a[href*='/doc/']").first.wait_for(timeout=30_000)
    return page


def test_citations_are_reachable_by_keyboard(browser, hostile_site) -> None:  # type: ignore[no-untyped-def]
    with serving(*hostile_site) as url:
        page = ask_for_citations(browser, url)
        reached = set()
        for _ in range(80):
            page.keyboard.press("Tab")
            href = page.evaluate("document.activeElement && document.activeElement.getAttribute('href')")
            if href and "/doc/" in href:
                reached.add(href)
        assert len(reached) >= 2, "Tab reaches the citation links"
        page.context.close()


def test_passage_link_survives_a_server_restart(browser, hostile_site) -> None:  # type: ignore[no-untyped-def]
    with serving(*hostile_site) as url:
        page = ask_for_citations(browser, url)
        href = page.locator("#chat a[href*='/doc/']").first.get_attribute("href")
        page.context.close()
    assert href and href.startswith("/doc/")
    with serving(*hostile_site) as url:  # a new process, on another port
        page = browser.new_page()
        page.goto(url.rstrip("/") + href)
        assert "238 citizens" in page.locator("#passage mark").first.inner_text()
        assert page.get_by_role("alert").count() == 0  # the document did not change
        page.context.close()

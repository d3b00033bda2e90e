"""A collection of several documents in the browser: the chat's document selector, page and
paragraph citations of a PDF, and its reader view with page marks (slow, headless Chromium)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import run_cli, serving
from tests.documents_factory import make_report, write_pdf
from tests.test_documents_cli import QUESTION, copy_library

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def collection(built_index: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("collection")
    corpus, index = copy_library(built_index, root)
    pdf = write_pdf(root / "xyz-co4.pdf", make_report())
    added = run_cli("--corpus", str(corpus), "--index", str(index), "add", str(pdf))
    assert added.returncode == 0, added.stderr
    with serving(corpus, index) as url:
        yield url


def test_chat_restricted_to_one_document_cites_page_and_paragraph(browser, collection: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    page.goto(collection)
    selector = page.locator("#chat-docs input")
    selector.click()
    selector.fill("xyz")
    page.get_by_role("option", name=re.compile(r"Xyzland \(xyz-co4\)")).click()
    box = page.get_by_label("Your question")
    box.fill(QUESTION)
    box.press("Enter")
    page.get_by_text("Ridder").first.wait_for(timeout=30_000)
    chat = page.locator("#chat").inner_text()
    assert "CAT/C/XYZ/CO/4" in chat and "p. 14, para. 41" in chat
    assert "238 citizens" not in chat  # nothing from the speech: the selector restricts the search
    assert "CAT/C/XYZ/CO/4" in page.locator("#sources").inner_text()
    assert "doc=xyz-co4" in page.url  # the restriction is part of the shared URL
    with page.context.expect_page() as opened:
        page.locator("#chat a[href^='/doc/xyz-co4']").first.click()
    reader = opened.value
    reader.wait_for_load_state()
    passage = reader.locator("#passage")
    assert "Ridder" in passage.inner_text()
    assert reader.locator("#page-14").count() == 1  # page marks of the PDF
    assert "p. 14, para. 41" in reader.locator("#citation").inner_text()
    assert hosts == {urlparse(collection).netloc}
    page.context.close()


def test_a_shared_url_with_a_document_restores_the_selector(browser, collection: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(collection.rstrip("/") + "/?q=frostbite+in+winter&doc=xyz-co4")
    page.get_by_text("Ridder").first.wait_for(timeout=30_000)
    assert "xyz-co4" in page.locator("#chat-docs").inner_text()
    assert "238 citizens" not in page.locator("#chat").inner_text()
    page.context.close()


@pytest.fixture(scope="module")
def report_reader(built_index: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.layout_factory import write_report_pdf

    root = tmp_path_factory.mktemp("wells")
    corpus, index = copy_library(built_index, root)
    added = run_cli("--corpus", str(corpus), "--index", str(index), "add", str(write_report_pdf(root / "wells.pdf")))
    assert added.returncode == 0, added.stderr
    with serving(corpus, index) as url:
        yield url


def test_the_reader_shows_a_pdfs_title_block_and_footnotes_apart_and_the_run_over_paragraph_whole(
        browser, report_reader: str) -> None:  # type: ignore[no-untyped-def]
    from tests.layout_factory import REPORT_DATE_LINE, REPORT_NOTES

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(report_reader)
    box = page.get_by_label("Your question")
    box.fill("What does deepening one well cost compared with water deliveries by truck?")
    box.press("Enter")
    page.get_by_text("pp. 1–2, para. 9").first.wait_for(timeout=30_000)
    chat = page.locator("#chat").inner_text()
    assert REPORT_DATE_LINE not in chat and "Readings were taken" not in chat
    with page.context.expect_page() as opened:
        page.locator("#chat a[href^='/doc/wells']").first.click()
    reader = opened.value
    reader.wait_for_load_state()
    apart = reader.locator("p.apart").all_inner_texts()
    assert REPORT_DATE_LINE in "\n".join(apart) and all(note in apart for note in REPORT_NOTES)
    passage = reader.locator("#passage").inner_text()  # both halves, one paragraph, no footnote between
    assert passage.startswith("9. The cost") and passage.endswith("pays for itself within two years.")
    assert "Readings" not in passage
    assert "2025-03-15" in reader.locator("#citation").inner_text() or "15 March 2025" in reader.locator(
        "#citation").inner_text()
    page.context.close()

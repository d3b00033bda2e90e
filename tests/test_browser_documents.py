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

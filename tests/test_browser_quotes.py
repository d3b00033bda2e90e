"""Every quote the chat and the reader show has exactly the characters of its slice, for
documents full of list-like lines in every format (slow, headless Chromium)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from app.documents.tables import is_delimiter, is_table
from app.documents.text import blocks
from app.store.folder import load_index, read_manifest
from tests.arrivals_factory import LIST_LIKE, MARKDOWN_LISTS, write_table_markdown
from tests.conftest import serving
from tests.test_documents_cli import cli, copy_library

pytestmark = [pytest.mark.slow, pytest.mark.browser]
QUESTION = "What did the board decide about the budget and the auditors?"


def write_list_like_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    y = 760
    for block in LIST_LIKE.split("\n\n"):
        for line in block.splitlines():
            pdf.drawString(72, y, line)
            y -= 14
        y -= 14
    pdf.showPage()
    pdf.save()
    return path


def write_list_like_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    for block in LIST_LIKE.split("\n\n"):
        for line in block.splitlines():
            document.add_paragraph(line)
    document.save(str(path))
    return path


def write_list_like_html(path: Path) -> Path:
    import html

    lines = [f"<p>{html.escape(line)}</p>" for block in LIST_LIKE.split("\n\n") for line in block.splitlines()]
    path.write_text(f"<html lang='en'><head><title>Board minutes</title></head><body><main>{''.join(lines)}"
                    "</main></body></html>", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def minutes(built_index: tuple[Path, Path],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, tuple[Path, Path]]]:
    root = tmp_path_factory.mktemp("quotes")
    library = copy_library(built_index, root)
    incoming = root / "incoming"
    incoming.mkdir()
    (incoming / "minutes-text.txt").write_text(LIST_LIKE, encoding="utf-8")
    (incoming / "lists.md").write_text(MARKDOWN_LISTS, encoding="utf-8")
    files = [incoming / "minutes-text.txt", incoming / "lists.md", write_list_like_pdf(incoming / "minutes-print.pdf"),
             write_list_like_docx(incoming / "minutes-word.docx"), write_list_like_html(incoming / "minutes-web.html"),
             write_table_markdown(incoming / "cases.md")]
    added = cli(library, "add", *map(str, files))
    assert added.returncode == 0, added.stderr
    with serving(*library) as url:
        yield url, library


def characters(text: str, markup_chars: str = "") -> str:
    text = re.sub(r"\s+", "", text)
    return "".join(ch for ch in text if ch not in markup_chars)


def expected_characters(doc_format: str, text: str, table_piece: bool = False) -> str:
    """The characters a quote must show: all of them, less the markup of its tables (Markdown,
    HTML and DOCX text) and of Markdown's emphasis."""
    shown = []
    for start, end in blocks(text):
        block = text[start:end]
        if doc_format != "text" and doc_format != "pdf" and (table_piece or is_table(block)):
            block = "\n".join(line for line in block.splitlines() if not is_delimiter(line)).replace("|", "")
        shown.append(block)
    joined = "".join(shown)
    return characters(joined.replace("**", "") if doc_format == "markdown" else joined)


@pytest.mark.parametrize(("doc", "question"), [
    ("minutes-text", QUESTION), ("minutes-print", QUESTION), ("minutes-word", QUESTION), ("minutes-web", QUESTION),
    ("lists", "Which point was taken first?"), ("cases", "How many cases were filed in Arkalyk?"),
])
def test_every_quote_in_the_chat_and_the_reader_is_its_slice(browser, minutes: tuple[str, tuple[Path, Path]],  # type: ignore[no-untyped-def]
                                                            doc: str, question: str) -> None:
    url, library = minutes
    index = load_index(library[1], read_manifest(library[1]))  # type: ignore[arg-type]
    answer = json.loads(cli(library, "ask", "--json", "--doc", doc, question).stdout)  # the chat's answer
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(f"{url.rstrip('/')}/?q={quote(question)}&doc={doc}")
    page.locator("#chat blockquote.verbatim-quote").first.wait_for(timeout=30_000)
    quotes = page.locator("#chat blockquote.verbatim-quote")
    assert quotes.count() == len(answer["passages"]) >= 1
    for shown, passage in zip(quotes.all(), answer["passages"]):
        record = index.document(passage["doc_id"])
        source = index.text(passage["doc_id"])[passage["start"] : passage["end"]]
        context = shown.locator("thead.context")
        header = context.inner_text() if context.count() else ""
        assert characters(shown.inner_text()).removeprefix(characters(header)) == \
            expected_characters(record.format, source, bool(passage["table_header"]))
        assert shown.locator("ol, ul, li, h1, h2, h3").count() == 0
    with page.context.expect_page() as opened:
        page.locator("#chat a[href^='/doc/']").first.click()
    reader = opened.value
    reader.wait_for_load_state()
    first = answer["passages"][0]
    record = index.document(first["doc_id"])
    marked = reader.locator(".in-passage").evaluate_all(  # the marked paragraphs, without the margin numbers
        "els => els.map(e => { const c = e.cloneNode(true); c.querySelectorAll('.num').forEach(n => n.remove());"
        " return c.textContent; }).join(' ')")
    expected = expected_characters(record.format, index.text(first["doc_id"])[first["start"] : first["end"]],
                                   bool(first["table_header"]))
    assert expected in characters(marked)
    assert reader.locator("article ol, article ul, article li").count() == 0
    page.context.close()

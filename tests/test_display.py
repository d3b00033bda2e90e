"""What the chat and the reader show as a quote has exactly the characters of its slice:
plain formats are never read as Markdown, Markdown is styled but never renumbered."""

from __future__ import annotations

import html
import re

import pytest

from app.passages.chunk import chunk_document, markup_for
from app.web.display import passage_html, table_html
from app.web.reader import render_body
from tests.arrivals_factory import LIST_LIKE, MARKDOWN_LISTS, write_table_markdown


def shown_text(fragment: str) -> str:
    """The characters a browser shows for an HTML fragment, whitespace aside."""
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def characters(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("fmt", ["text", "pdf", "docx", "html"])
def test_plain_formats_show_every_character_of_every_passage(fmt: str) -> None:
    text = LIST_LIKE
    markup = markup_for(fmt)
    chunks = chunk_document("d", text, markup=markup)
    assert chunks
    for chunk in chunks:
        shown = passage_html(chunk.text, chunk.start, [(chunk.start, chunk.end)], markup, chunk.table_header)
        if markup == "plain":
            assert shown_text(shown) == characters(chunk.text), chunk.text
        for tag in ("<ol", "<ul", "<li", "<h1", "<em", "<strong", "<blockquote", "<code", "<b>"):
            assert tag not in shown
    whole = passage_html(text, 0, [], "plain")
    assert "2025." in whole and "1) the budget" in whole and "# of votes" in whole and "&gt; the chair" in whole
    assert "C:\\minutes\\2025\\march.txt" in whole and "__full__" in whole and "&lt;b&gt;bold&lt;/b&gt;" in whole


def test_the_reader_shows_plain_text_literally() -> None:
    body = render_body(LIST_LIKE, None, [], "plain")
    assert "<h2>" not in body and "<table" not in body and "<hr>" not in body
    paragraphs = re.findall(r"<p[^>]*>(?:<span class=\"num\">\d+</span>)?(.*?)</p>", body, flags=re.DOTALL)
    assert characters("".join(shown_text(p) for p in paragraphs)) == characters(LIST_LIKE)


def test_markdown_is_styled_but_never_renumbered() -> None:
    chunks = chunk_document("m", MARKDOWN_LISTS, markup="markdown")
    for chunk in chunks:
        shown = passage_html(chunk.text, chunk.start, [], "markdown")
        assert "<ol" not in shown and "<li" not in shown
        assert shown_text(shown) == characters(chunk.text.replace("**", ""))
    joined = "".join(passage_html(c.text, c.start, [], "markdown") for c in chunks)
    assert "3. The third point was taken <strong>first</strong>." in joined
    assert "1. One\n1. One again\n1. And once more" in joined or "1. One 1. One again 1. And once more" in joined
    assert "7) Seventh" in joined and "- a dash item" in joined and "+ a plus item" in joined


@pytest.mark.parametrize("text", [
    "The rate is 5*2 = 10 and 3*4*5 = 60.",
    "Order 2*3*4 calculators and a*b*c boxes.",
    "Room 12*B and 7*x.",
])
def test_an_asterisk_inside_a_word_or_number_is_shown_not_taken_for_emphasis(text: str) -> None:
    shown = passage_html(text, 0, [], "markdown")
    assert shown_text(shown) == characters(text) and "<em>" not in shown


def test_markdown_emphasis_between_words_is_still_styled() -> None:
    shown = passage_html("Some *stressed* words and **strong** ones, 5 * 2 too.", 0, [], "markdown")
    assert "<em>stressed</em>" in shown and "<strong>strong</strong>" in shown and "5 * 2" in shown


def test_highlights_mark_slices_and_nothing_else() -> None:
    text = "Alpha beta. Gamma delta.\n\nEpsilon."
    shown = passage_html(text, 100, [(112, 124)], "plain")
    assert shown == "<p>Alpha beta. <mark>Gamma delta.</mark></p><p>Epsilon.</p>"
    hyphen = passage_html("remarkable capabili-\nties here", 0, [], "plain")
    assert hyphen == "<p>remarkable capabili-ties here</p>"  # the page's hyphen, no space


def test_a_table_piece_shows_its_rows_with_the_header_as_context(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = write_table_markdown(tmp_path / "t.md").read_text(encoding="utf-8")
    pieces = [c for c in chunk_document("t", text) if "|" in c.text]
    assert len(pieces) >= 2 and not pieces[0].table_header
    later = next(c for c in pieces[1:] if "Arkalyk" in c.text)
    assert later.table_header == "| District | Cases filed | Convictions |"
    assert "Cases filed" in later.ranking_text and "Cases filed" not in later.text
    row = next(span for span in later.sentences if "Arkalyk" in text[span[0] : span[1]])
    shown = passage_html(later.text, later.start, [row], "markdown", later.table_header)
    assert '<thead class="context"' in shown and "<th>Cases filed</th>" in shown
    assert "<td><mark>Arkalyk</mark></td><td><mark>193</mark></td><td><mark>6</mark></td>" in shown
    body = shown.split("</thead>")[1]
    assert shown_text(body) == characters(later.text.replace("|", ""))
    whole = table_html(text, pieces[0].start, pieces[-1].end, [], "markdown")
    assert whole.count("<tr") == 31  # the header and 30 rows

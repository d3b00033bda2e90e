from __future__ import annotations

import re

from app.viewer import parse_highlights, passage_link, render_body, render_page

DOC = {"title": "T <b>", "date": "2024-01-01", "venue": None, "source": None, "language": "en"}


def test_passage_paragraphs_are_marked_and_anchored() -> None:
    text = "# Head\n\nFirst para.\n\nSecond **bold** para. Next sentence.\n\nThird."
    start = text.index("Second")
    end = text.index("Next sentence.") + len("Next sentence.")
    sentence = (start, text.index(" Next"))
    body = render_body(text, (start, end), [sentence])
    assert "<h2>Head</h2>" in body
    assert '<p id="passage" data-para="2" class="in-passage"><span class="num">2</span>' \
           "<mark>Second <strong>bold</strong> para.</mark> Next sentence.</p>" in body
    assert '<p id="para-3"><span class="num">3</span>Third.</p>' in body


def test_paragraph_broken_across_a_blank_line_is_one_paragraph() -> None:
    body = render_body("Eighty-four people are\n\nacknowledged victims.", None, [])
    assert body == '<p id="para-1"><span class="num">1</span>Eighty-four people are acknowledged victims.</p>'


def test_markup_in_documents_and_titles_is_shown_as_text() -> None:
    text = ('<script>alert(1)</script> <img src=x onerror="alert(2)">\n\n'
            "[click](javascript:alert(3)) and <b>raw</b>")
    page = render_page(DOC, text, (0, 10), [], "cite <i>", "quote </div>", "note <u>")
    assert "<script>alert" not in page and "<img" not in page and 'href="javascript' not in page
    assert "[click](javascript:alert(3))" in page  # shown literally, not as a link
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "T &lt;b&gt;" in page
    assert "quote &lt;/div&gt;" in page and "note &lt;u&gt;" in page
    assert len(re.findall(r"<script>", page)) == 1  # only the page's own copy-button script


def test_links_carry_document_version_and_highlights() -> None:
    link = passage_link("doc", "abcdef0123456789", 5, 40, [(5, 12), (20, 30)])
    assert link == "/doc/doc?start=5&end=40&v=abcdef012345&hl=5-12,20-30#passage"
    assert parse_highlights("5-12,20-30,bad,9-3") == [(5, 12), (20, 30)]


def test_pages_are_marked_and_own_numbers_replace_counted_ones() -> None:
    text = "1. First page text here.\n\n2. More text.\n\f\n3. Second page text.\n"
    body = render_body(text, None, [])
    assert '<div class="page" id="page-1">p. 1</div>' in body and '<div class="page" id="page-2">p. 2</div>' in body
    assert body.index("page-2") > body.index("2. More text.")
    assert '<span class="num">' not in body  # the document's own numbers are in its text


def test_reader_page_with_symbol_and_source_link() -> None:
    doc = {**DOC, "symbol": "CAT/C/XYZ/CO/4", "source_url": "https://example.org/co4"}
    page = render_page(doc, "Text.", None, [], None, None, None)
    assert "CAT/C/XYZ/CO/4" in page and 'href="https://example.org/co4"' in page
    assert "javascript:" not in render_page({**doc, "source_url": "javascript:alert(1)"}, "T.", None, [], None,
                                            None, None)

from __future__ import annotations

import re

from app.web.reader import document_page, parse_highlights, passage_link, readable_date, render_body, render_page

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


def test_links_to_anything_but_a_web_page_are_shown_as_text() -> None:
    text = "Attacks on bloggers were confirmed.\n([Tokarev, Klebanov](#)) and [the rules](rules.md), " \
           "[write](mailto:a@example.org), [the report](https://example.org/r)."
    body = render_body(text, None, [])
    assert "(Tokarev, Klebanov)" in body and "the rules" in body and "write" in body
    assert re.findall(r'href="([^"]*)"', body) == ["https://example.org/r"]  # only the web page stays a link
    assert 'rel="noopener noreferrer"' in body


def test_a_first_heading_equal_to_the_title_is_not_shown_twice() -> None:
    doc = {**DOC, "title": "Harbour Report"}
    page = render_page(doc, "# Harbour  report\n\nShips came in spring.\n\n## Boats\n\nThey return.", None, [], None,
                       None, None)
    assert page.count("Harbour Report") == 2 and page.count("Harbour  report") == 0  # <title> and <h1> only
    assert "<h2>Boats</h2>" in page  # later headings stay
    other = render_page(doc, "# Annex\n\nShips came in spring.", None, [], None, None, None)
    assert "<h2>Annex</h2>" in other


def test_source_lines_are_written_for_readers() -> None:
    doc = {**DOC, "venue": "76th session, Geneva", "date": "2023-05-02", "symbol": "CAT/C/XYZ/CO/4",
           "source": "The speech as delivered at the session", "source_url": "https://example.org/co4"}
    page = render_page(doc, "Text.", None, [], None, None, None)
    meta = re.search(r'<p class="meta">(.*?)</p><p class="source">(.*?)</p>', page)
    assert meta is not None
    assert meta.group(1) == "76th session, Geneva · 2 May 2023 · Document CAT/C/XYZ/CO/4"
    assert meta.group(2).startswith("Source: The speech as delivered at the session · <a href=\"https://example.org/co4\"")
    assert "the original at example.org" in meta.group(2)
    assert readable_date("2023-05") == "May 2023" and readable_date("2023") == "2023"
    assert readable_date("2023-13-40") == "2023-13-40"


def test_the_citation_panel_is_docked_with_app_buttons() -> None:
    page = render_page(DOC, "One.\n\nTwo.", (0, 4), [], "T, para. 1", "One.", None, "http://h/doc/d?start=0&end=4")
    assert '<main id="reader"' in page and page.index("</main>") < page.index('<aside class="cite"')
    assert '<span id="citation">T, para. 1</span>' in page
    assert '<div id="citation-full" hidden>T, para. 1. http://h/doc/d?start=0&amp;end=4</div>' in page
    assert '<button type="button" class="btn primary" data-copy="citation-full">Copy citation</button>' in page
    assert "'Copied'" in page  # the button says so when the copy worked


def test_an_unknown_document_gets_a_styled_404_with_a_way_home(tiny_corpus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.answer.engine import Engine
    from app.models.embed import HashingEmbedder

    engine = Engine(tiny_corpus, tmp_path / "index", make_embedder=HashingEmbedder, spec=HashingEmbedder.spec,
                    log=lambda message: None)
    status, page = document_page(engine, "no-such<doc>", None, None, None, None, "http://h/")
    assert status == 404 and "<style>" in page and "<h1>No such document</h1>" in page
    assert "no document &#x27;no-such&lt;doc&gt;&#x27;" in page and 'href="/"' in page
    status, page = document_page(engine, "harbour", "9", "3", None, None, "http://h/")
    assert status == 400 and "<style>" in page and "start and end must be offsets" in page

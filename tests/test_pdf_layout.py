"""How a maintainer's PDFs and Word files are cited: a title block and footnotes are shown but never
numbered, cited or highlighted; a UN letterhead is not the title; sub-items stay in their item; a
paragraph runs on over a page break; a table is not the paragraph before it (documents written here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.answer.engine import Engine
from app.documents.corpus import Document, parse_document
from app.documents.metadata import date_in_text
from app.documents.pdf import Line, footnotes, lay_out, title_block
from app.documents.text import SET_APART, set_apart_spans
from app.models.embed import HashingEmbedder
from app.passages.chunk import Chunk, chunk_document, markup_for, parse_structure
from app.search.ranking import RankingSettings
from app.web.reader import render_body
from tests.layout_factory import (
    COLUMN_NOTES,
    COLUMN_TITLE,
    FLOWING_NOTES,
    LEFT_COLUMN,
    REPORT_AUTHORITY,
    REPORT_DATE_LINE,
    REPORT_NOTES,
    REPORT_TITLE,
    RIGHT_COLUMN,
    UN_NOTES,
    UN_SYMBOL,
    UN_TITLE,
    write_flowing_notes_pdf,
    write_item_then_table_docx,
    write_report_pdf,
    write_two_column_pdf,
    write_un_layout_pdf,
)

WRITERS = {"report.pdf": write_report_pdf, "un.pdf": write_un_layout_pdf, "columns.pdf": write_two_column_pdf,
           "items.docx": write_item_then_table_docx}


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Document, list[Chunk]]]:
    folder = tmp_path_factory.mktemp("layouts")
    found = {}
    for name, writer in WRITERS.items():
        path = writer(folder / name)
        doc = parse_document(path.name, path.read_bytes(), {})
        found[name] = doc, chunk_document(doc.doc_id, doc.text, markup=markup_for(doc.format))
    return found


def apart(doc: Document) -> list[str]:
    """The blocks set apart from the body, each as in the text."""
    return [block.strip() for a, b in set_apart_spans(doc.text) for block in doc.text[a:b].split("\n\n")
            if block.strip()]


def paragraphs(doc: Document) -> list[str]:
    return [doc.text[p.start : p.end] for p in parse_structure(doc.text, markup_for(doc.format))[1]]


@pytest.mark.parametrize("name", list(WRITERS))
def test_every_passage_is_an_exact_slice_holding_nothing_set_apart(docs, name: str) -> None:  # type: ignore[no-untyped-def]
    doc, chunks = docs[name]
    assert chunks and all(doc.text[c.start : c.end] == c.text for c in chunks)
    assert all("\v" not in c.text for c in chunks)
    for block in apart(doc):
        assert all(block not in c.text for c in chunks), block


def test_a_title_block_is_the_title_and_the_date_never_a_paragraph(docs) -> None:  # type: ignore[no-untyped-def]
    doc, chunks = docs["report.pdf"]
    assert (doc.title, doc.date) == (REPORT_TITLE, "2025-03-15")  # not "Microsoft Word - wells.docx"
    assert apart(doc)[:2] == [REPORT_TITLE, f"{REPORT_AUTHORITY}\n{REPORT_DATE_LINE}"]
    assert paragraphs(doc)[0].startswith("6. The Authority inspected")
    assert chunks[0].paragraphs == (1,) and chunks[0].labels == ("6",)


def test_a_un_letterhead_is_not_the_title(docs) -> None:  # type: ignore[no-untyped-def]
    doc, chunks = docs["un.pdf"]
    assert (doc.title, doc.symbol, doc.date) == (UN_TITLE, UN_SYMBOL, "2023-06-12")
    assert "United Nations" in apart(doc) and f"{UN_TITLE}*" in apart(doc)  # kept, verbatim, set apart
    assert [c.labels for c in chunks] == [("1",), ("2",), ("3",)]


def test_footnotes_are_kept_verbatim_but_never_paragraphs(docs) -> None:  # type: ignore[no-untyped-def]
    for name, notes in (("report.pdf", REPORT_NOTES), ("un.pdf", UN_NOTES), ("columns.pdf", COLUMN_NOTES)):
        doc, _ = docs[name]
        assert [block for block in apart(doc) if block in notes] == notes, name
        assert not any(p in notes for p in paragraphs(doc)), name


def test_a_sub_item_stays_in_its_item_and_a_paragraph_runs_over_the_page_break(docs) -> None:  # type: ignore[no-untyped-def]
    doc, chunks = docs["report.pdf"]
    assert [c.labels for c in chunks] == [("6",), ("7",), ("8",), ("9",), ("10",)]
    item_8 = chunks[2]
    assert "\n\n2) that a hand pump" in item_8.text and item_8.page == 1
    item_9 = chunks[3]
    assert item_9.text.endswith("water deliveries by\n\f\ntruck to the village it serves, so the programme pays "
                                "for itself within two years.")
    assert (item_9.page, item_9.last_page) == (1, 2)
    page_1 = doc.text[: doc.text.index("\f")]
    assert all(note in page_1 for note in REPORT_NOTES)  # the notes stay on their page, before item 9


def test_a_two_column_page_keeps_its_columns_paragraphs(docs) -> None:  # type: ignore[no-untyped-def]
    doc, _ = docs["columns.pdf"]
    assert doc.title == COLUMN_TITLE
    assert paragraphs(doc) == ["\n".join(lines).replace("\u00b9", "1") for lines in LEFT_COLUMN + RIGHT_COLUMN]


def test_a_table_after_item_11_is_cited_as_a_table(docs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doc, chunks = docs["items.docx"]
    assert [c.labels for c in chunks] == [("9",), ("10",), ("11",), ("table 1",), ("12",)]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_item_then_table_docx(corpus / "items.docx")
    engine = Engine(corpus, tmp_path / "index", make_embedder=HashingEmbedder, spec=HashingEmbedder.spec,
                    ranking=RankingSettings(min_score=0.0), log=lambda message: None)
    hit = engine.ask("Mallaig", k=1).hits[0]
    assert "| Mallaig | 4 |" in hit.chunk.text and hit.citation == "Well inspections, table 1"


def test_the_reader_shows_what_is_set_apart_without_a_number(docs) -> None:  # type: ignore[no-untyped-def]
    doc, _ = docs["report.pdf"]
    html = render_body(doc.text, None, (), markup_for(doc.format))
    assert f'<p class="apart">{REPORT_TITLE}</p>' in html
    assert '<p class="apart">1 Readings were taken' in html
    assert '<p id="para-1">6. The Authority' in html  # the body's first paragraph, by its own number


@pytest.mark.parametrize(("header", "date"), [
    ("Regional Water Authority, Date: 15 March 2025", "2025-03-15"),
    ("Ref. WA/14/2025 \u00b7 Date: 15 March 2025", "2025-03-15"),
    ("The inspection of 15 March 2025 found nothing.", None), ("The treaty dated 4 May 2020", None),
])
def test_a_labelled_date_after_other_words_of_a_header_line(header: str, date: str | None) -> None:
    assert date_in_text(f"Annual report\n\n{header}\n\nThe body.") == date


def line(text: str, y: float, size: float = 10.0, x: float = 72.0) -> Line:
    return Line(text, x, x + 0.5 * size * len(text), y, y + size)


def test_footnote_rules_on_lines_as_measured() -> None:
    body = [line("The Committee met in Geneva and heard the delegation of the State party on the", 700),
            line("report, which it examined article by article over two days.", 688)]
    notes = [line("1 Summary records of the 1990th and 1991st meetings.", 80, 8),
             line("continued on two lines of small type.", 70, 8)]
    assert footnotes(body + notes, 10) == {2, 3}
    assert footnotes(body + [line("Printed on recycled paper", 80, 8)], 10) == set()  # no note mark
    assert footnotes(body + [line("1 A note in body type", 80, 10)], 10) == set()  # not small type
    beside = line("A body line in the other column, lower than the note.", 60, 10, x=320)
    assert footnotes(body + notes + [beside], 10) == {2, 3}  # its own column only
    under = line("A body line under the note.", 50, 10)
    assert footnotes(body + notes + [under], 10) == set()


def test_notes_stay_after_a_last_paragraph_that_ends_and_go_before_one_that_runs_over() -> None:
    ends = [line("The Committee met in Geneva and closed its session on Friday.", 700),
            line("1 Summary records.", 80, 8)]
    runs = [line("The Committee met in Geneva and closed its session on", 700),
            line("1 Summary records.", 80, 8)]
    after = [line("the Friday of the second week, as planned.", 760)]
    assert lay_out([ends, after]).pages[0] == [ends[0].text, SET_APART, "1 Summary records.", SET_APART]
    assert lay_out([runs, after]).pages[0] == [SET_APART, "1 Summary records.", SET_APART, runs[0].text]


def test_no_title_block_without_a_larger_title_or_before_prose() -> None:
    prose = [line("The Committee met in Geneva and heard the delegation of the State party on the", 700),
             line("report, which it examined article by article over two days.", 688)]
    assert title_block([[line("Minutes", 760)], prose], 10) == 0  # the same size as the body: no title
    assert title_block([[line("Minutes of the meeting", 760, 16)], prose], 10) == 1
    cover = [[line("Minutes of the meeting", 760, 16)], [line("Prepared by the clerk, March 2025", 700)]]
    assert title_block(cover, 10) == 0  # a one-page document with no prose: its paragraphs stay
    assert title_block(cover, 10, cover=True) == 2  # before other pages: a cover page, all title block
    assert title_block([[line("Minutes", 760)]], 10, cover=True) == 0  # no larger text: no cover


@pytest.mark.parametrize(("text", "labels"), [
    # More sub-items than paragraphs: the numbering that runs on is the paragraphs', not the most used.
    ("Intro.\n\n1. First.\n\n1) a\n\n2) b\n\n3) c\n\n2. Second.\n\n1) d\n\n2) e\n\n3) f\n\n4) g\n", ["1", "2"]),
    ("Intro.\n\n1) First.\n\n2) Second.\n\n3) Third.\n\n4) Fourth.\n", ["1", "2", "3", "4"]),
    ("7. Seven.\n\n8. Eight:\n\n(1) one;\n\n(2) two.\n\n9. Nine.\n", ["7", "8", "9"]),
])
def test_items_under_a_numbered_paragraph_are_part_of_it(text: str, labels: list[str]) -> None:
    chunks = chunk_document("d", text, markup="plain")
    assert [c.labels[0] for c in chunks if c.labels] == labels


def test_a_report_laid_out_by_platypus_joins_the_paragraph_it_split_and_sets_its_notes_apart(tmp_path: Path) -> None:
    path = write_flowing_notes_pdf(tmp_path / "survey.pdf")
    doc = parse_document(path.name, path.read_bytes(), {})
    chunks = chunk_document(doc.doc_id, doc.text, markup=markup_for(doc.format))
    assert doc.pages == 2 and doc.title == "District survey of hand-dug wells"
    assert [c.labels for c in chunks] == [(str(n),) for n in range(1, 13)]  # each numbered paragraph once
    [split] = [c for c in chunks if c.page != c.last_page]  # the one platypus carried over the page break
    assert (split.page, split.last_page) == (1, 2) and "\f" in split.text
    assert " ".join(split.text.replace("\f", " ").split()).endswith("the path that led to it.")
    assert [block for block in apart(doc) if block in FLOWING_NOTES] == FLOWING_NOTES
    assert all(note in doc.text[: doc.text.index("\f")] for note in FLOWING_NOTES)  # on page 1
    assert all(doc.text[c.start : c.end] == c.text and not any(n in c.text for n in FLOWING_NOTES) for c in chunks)

"""A collection fed documents as they arrive (tiny deterministic embedder): tables answered by
their row, metadata that lies, Russian, one report in two formats, a title-only file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.answer.engine import Engine
from app.documents.corpus import parse_document, scan_corpus
from app.documents.metadata import date_in_text, is_placeholder_title
from app.models.embed import HashingEmbedder
from app.passages.chunk import chunk_document, markup_for
from app.search.ranking import RankingSettings
from app.store.bm25 import analyze
from app.store.build import build_index
from app.store.folder import FolderTexts
from app.store.library import add_files
from app.web.render import quote_markdown
from tests.arrivals_factory import (
    RUSSIAN,
    write_bulletin_pdf,
    write_table_docx,
    write_table_html,
    write_table_markdown,
    write_un_pdf,
    write_water_pdf,
)
from tests.conftest import run_cli
from tests.documents_factory import make_report, write_markdown, write_pdf


def engine_for(corpus: Path, index: Path, **ranking: object) -> Engine:
    return Engine(corpus, index, make_embedder=HashingEmbedder, spec=HashingEmbedder.spec,
                  ranking=RankingSettings(**{"min_score": 0.0, **ranking}), log=lambda message: None)  # type: ignore[arg-type]


@pytest.mark.parametrize("writer", [write_table_markdown, write_table_html, write_table_docx])
def test_a_long_table_is_cut_by_rows_and_the_answering_row_is_highlighted(writer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    path = writer(corpus / f"cases.{writer.__name__.rsplit('_', 1)[1].replace('markdown', 'md')}")
    engine = engine_for(corpus, tmp_path / "index")
    text = engine.index.text("cases")
    pieces = [c for c in engine.index.chunks if "| Aktobe |" in c.text or c.table_header]
    assert len(pieces) >= 2 and all(len(c.text) <= 600 for c in pieces), path.name
    hit = engine.ask("Lisakovsk", k=1).hits[0]  # (the toy embedder's hashed words collide in a longer question)
    assert hit.chunk.table_header.split() == ["|", "District", "|", "Cases", "filed", "|", "Convictions", "|"]
    [(start, end)] = hit.highlights
    assert text[start:end].split("|")[1].strip() == "Lisakovsk"  # the row, and only the row
    quote = quote_markdown(hit)
    assert '<thead class="context"' in quote and "<mark>Lisakovsk</mark>" in quote and "\n" not in quote


@pytest.mark.parametrize("title", [
    "(anonymous)", "untitled", "Untitled-3", "Microsoft Word - report.docx", "Microsoft PowerPoint - deck.pptx",
    "Slide 1", "PowerPoint Presentation", "Presentation1", "Document1", "New Microsoft Word Document", "Book1",
    "Title", "scan0042.pdf", "IMG_2041", "C:\\Users\\me\\Desktop\\report.doc", "  ", "1234", "LaTeX with hyperref",
])
def test_producer_placeholders_are_not_titles(title: str) -> None:
    assert is_placeholder_title(title, "notes.pdf")


@pytest.mark.parametrize("title", ["Annual report 2024", "Book of Common Prayer", "Slide rules for engineers",
                                   "Document management policy", "Concluding observations on Kazakhstan"])
def test_real_titles_are_kept(title: str) -> None:
    assert not is_placeholder_title(title, "notes.pdf")


def test_a_date_comes_from_the_header_never_from_the_pdfs_creation_date(tmp_path: Path) -> None:
    un = write_un_pdf(tmp_path / "abc.pdf")
    doc = parse_document(un.name, un.read_bytes(), {})
    assert (doc.date, doc.symbol, doc.title) == ("2023-06-08", "CAT/C/ABC/CO/2", "Concluding observations on Abcland")
    water = write_water_pdf(tmp_path / "water.pdf")
    doc = parse_document(water.name, water.read_bytes(), {})
    assert doc.date is None  # "1 May 2025" in a sentence is not the document's date
    assert doc.title == "Annual review of the water supply"  # not "Microsoft Word - review.docx"
    assert parse_document(water.name, water.read_bytes(), {"date": "2024-12-01"}).date == "2024-12-01"
    web = write_table_html(tmp_path / "cases.html")  # "cases filed in 2023" is no date of the page
    assert parse_document(web.name, web.read_bytes(), {}).date is None


def test_a_title_from_the_running_head_when_nothing_better_is_there(tmp_path: Path) -> None:
    bulletin = write_bulletin_pdf(tmp_path / "b.pdf")  # metadata "untitled", no larger text, no title line
    assert parse_document(bulletin.name, bulletin.read_bytes(), {}).title == "HARBOUR AUTHORITY - INTERNAL BULLETIN"
    assert parse_document("clauses.txt", b"I. Parties\n\nII. Premises\n", {}).title == "clauses"


@pytest.mark.parametrize(("header", "date"), [
    ("Distr.: General\n8 June 2023", "2023-06-08"), ("Geneva, 12 March 2024", "2024-03-12"),
    ("Date: March 3, 2024", "2024-03-03"), ("Report\n\n2022-11-30\n", "2022-11-30"),
    ("Distr. générale\n8 juin 2023", "2023-06-08"), ("Распр.: общая\n8 июня 2023 года", "2023-06-08"),
    ("The riots of 4 January 2022 were investigated.", None), ("Pages 1 May 2020 to 3", None),
])
def test_dates_stated_in_a_header(header: str, date: str | None) -> None:
    assert date_in_text(header) == date


def test_docs_says_no_date_and_how_to_set_one(tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    write_water_pdf(corpus / "water.pdf")
    build_index(corpus, index, HashingEmbedder())
    listed = run_cli("--corpus", str(corpus), "--index", str(index), "docs")
    assert listed.returncode == 0, listed.stderr
    assert "no date" in listed.stdout and "--date YYYY-MM-DD" in listed.stdout
    assert "water.pdf.meta.json" in listed.stdout
    outcome = add_files(corpus, FolderTexts(index), [corpus / "water.pdf"], {"date": "2024-12-01"})
    assert "metadata is updated" in outcome.skipped[0] and not outcome.added
    assert json.loads((corpus / "water.pdf.meta.json").read_text(encoding="utf-8"))["date"] == "2024-12-01"


def test_a_russian_question_finds_a_russian_document(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "doklad.md").write_text(RUSSIAN, encoding="utf-8")
    write_markdown(corpus / "report.md", make_report(pages=2))
    engine = engine_for(corpus, tmp_path / "index")
    assert engine.index.document("doklad").language == "ru" and engine.index.document("report").language == "en"
    answer = engine.ask("жалоба заключенного", k=3)
    top = answer.hits[0]
    assert "жалобы заключённых" in top.chunk.text and top.lexical_rank == 1
    assert top.highlights and "заключённых" in engine.index.text("doklad")[slice(*top.highlights[0])]
    # The question's words are known to the collection and all in the best passage, in Russian stems.
    assert answer.features["known"] == 1.0 and answer.features["coverage"] == 1.0
    assert engine.ask("convicted detainees", k=1).hits[0].chunk.doc_id == "report"


def test_stop_words_and_stems_follow_the_language() -> None:
    assert analyze("и в на жалобы заключённых", "ru") == ["жалоб", "заключен"]
    assert analyze("les plaintes des détenus", "fr") == ["plaint", "detenus"]
    assert analyze("The officers of the convicted", "en") == analyze("The officers of the convicted")


def test_one_report_in_two_formats_is_added_twice_and_grouped(tmp_path: Path) -> None:
    corpus, index, incoming = tmp_path / "corpus", tmp_path / "index", tmp_path / "incoming"
    incoming.mkdir()
    report = make_report(pages=3)
    files = [write_markdown(incoming / "report.md", report), write_pdf(incoming / "report.pdf", report)]
    outcome = add_files(corpus, FolderTexts(index), files, {})
    assert outcome.added == ["report", "report-pdf"] and not outcome.failed
    assert json.loads((corpus / "report.pdf.meta.json").read_text(encoding="utf-8"))["id"] == "report-pdf"
    engine = engine_for(corpus, index)
    assert {doc.doc_id: doc.path for doc in engine.index.manifest.documents} == {
        "report": "report.md", "report-pdf": "report.pdf"}
    hit = engine.ask("free legal aid reached detainees in rural districts", k=3).hits[0]
    assert [twin.chunk.doc_id for twin in hit.also_in] == ["report-pdf" if hit.chunk.doc_id == "report" else "report"]


def test_an_existing_id_never_moves_to_a_newcomer(tmp_path: Path) -> None:
    corpus, texts, incoming = tmp_path / "corpus", FolderTexts(tmp_path / "index"), tmp_path / "incoming"
    incoming.mkdir()
    report = make_report(pages=2)
    assert add_files(corpus, texts, [write_pdf(incoming / "report.pdf", report)], {}).added == ["report"]
    assert add_files(corpus, texts, [write_markdown(incoming / "report.md", report)], {}).added == ["report-md"]
    assert {entry.name: entry.doc_id for entry in scan_corpus(corpus)} == {"report.md": "report-md",
                                                                          "report.pdf": "report"}


@pytest.mark.parametrize(("name", "data"), [("annual.md", b"# Annual report 2024\n"),
                                            ("annual.html", b"<html><body><h1>Annual report 2024</h1></body></html>")])
def test_a_title_only_document_is_searchable_by_its_heading_with_a_warning(
        tmp_path: Path, name: str, data: bytes) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / name).write_bytes(data)
    (corpus / "other.md").write_text("The harbour handled ships in spring.\n", encoding="utf-8")
    report = build_index(corpus, tmp_path / "index", HashingEmbedder())
    assert len(report.warnings) == 1 and report.warnings[0].startswith(f"{name}: holds headings only")
    hit = engine_for(corpus, tmp_path / "index").ask("annual report 2024", k=1).hits[0]
    assert hit.chunk.text == "Annual report 2024" and hit.document.title == "Annual report 2024"
    assert hit.highlights == ((hit.chunk.start, hit.chunk.end),)


def test_plain_text_lines_are_never_headings_or_tables() -> None:
    text = "# of votes: 12\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    chunks = chunk_document("t", text, markup=markup_for("text"))
    assert [c.text for c in chunks] == [text.strip()] or [c.text for c in chunks] == ["# of votes: 12",
                                                                                    "| a | b |\n|---|---|\n| 1 | 2 |"]
    assert all(not c.table_header for c in chunks) and all(c.paragraphs for c in chunks)

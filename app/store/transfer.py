"""Moving a collection between stores without embedding it again (`verbatim index --from SOURCE`).

A built index, in a folder or in PostgreSQL, already holds what is costly to make: each
document's extracted canonical text and the vectors of its passages and sentences. `seed`
hands both to the target store in the form an interrupted build of the target would have
left them: the texts into its text cache (by the file's sha256), each document's vectors into
its partial vectors under the key the build itself computes (`app.store.resume.job_key`: the
model and exactly the texts it embeds), and, when source and target both have the multilingual
ranker, its e5 vectors under the E5 key the target's multilingual build computes. The target's
ordinary build then runs: it finds every document's text and vectors already there, chunks
(cheap), writes passages, vectors and BM25, and commits one generation atomically as it always
does. So the move is as safe as a build: a kill half-way leaves the target's previous
generation serving, the seeded vectors stay for the next try, and the source is only read.

What is checked: the source is loaded as it serves (a folder generation's files against the
manifest's sha256, database rows against their documents), and it must have been built with
the target's model and chunking settings, or every vector would be refused; a document whose
passages come out differently in the target (a newer chunker) is simply embedded, and the
build's report says how many passages were embedded and how many were moved.

Figures: docs/postgres.md ("Moving a collection").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import IndexStateError, UsageError
from app.models.e5 import E5
from app.models.spec import ModelSpec
from app.passages.chunk import ChunkSettings
from app.store.build import texts_to_embed
from app.store.e5index import stale_reason
from app.store.multilingual import e5_job, setting_of, wanted
from app.store.open import FolderStore, is_database_url, open_store
from app.store.postgres.build import DatabasePartial
from app.store.postgres.store import PgStore
from app.store.protocol import IndexStore, LoadedIndex, TextCache, model_mismatch
from app.store.resume import Job, PartialFolder, PartialVectors, Vectors, encode_vectors, job_key

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class SeedReport:
    """What `seed` handed over: documents, passages and sentences whose vectors were copied, and
    passages whose multilingual-e5 vectors (with their sentences') were copied too."""

    documents: int
    passages: int
    sentences: int
    seconds: float
    multilingual: int = 0


def seed(source: LoadedIndex, source_texts: TextCache, target_texts: TextCache, partial: PartialVectors,
         spec: ModelSpec, settings: ChunkSettings, progress: Callable[[int, int], None] | None = None,
         multilingual: bool = False) -> SeedReport:
    """Copy every document's kept text and vectors from a loaded index into a target's text
    cache and partial vectors; with `multilingual`, the source's e5 vectors too where it has them
    (under the E5 spec's key, as the target's multilingual build looks for them). IndexStateError
    when the source was built with another model or other chunking settings, or when a document's
    kept text is missing or damaged in it."""
    import time

    began = time.perf_counter()
    mismatch = model_mismatch(source.manifest, spec, settings)
    if mismatch:
        raise IndexStateError(f"the source index cannot give its vectors to this one: {'; '.join(mismatch)}; "
                              "build the target from the corpus instead: verbatim index")
    ranker: Any = getattr(source, "multilingual", None) if multilingual else None  # e5 vectors, when it has them
    if ranker is not None and stale_reason(source.manifest.multilingual) is not None:
        ranker = None  # another e5 model's vectors: the target embeds its own
    documents = source.manifest.documents
    passages = sentences = 0
    for number, record in enumerate(documents, start=1):
        extracted = source_texts.read(record.sha256, current=False)
        if extracted is None:
            raise IndexStateError(f"the source index's text of {record.doc_id} is missing or damaged; "
                                  "run `verbatim index --rebuild` on the source first")
        target_texts.write(record.sha256, extracted)
        rows = source.rows_by_document.get(record.doc_id, [])
        chunks = [source.chunks[row] for row in rows]
        if not chunks:
            continue
        job = Job(record.doc_id, texts_to_embed(extracted.text, chunks), len(chunks),
                  tuple(len(chunk.sentences) for chunk in chunks))
        vectors = _vectors(source, rows)
        partial.write(job_key(spec, job), encode_vectors(vectors))
        if ranker is not None:
            partial.write(job_key(E5, e5_job(record.doc_id, extracted.text, chunks)),
                          encode_vectors(_vectors(ranker, rows)))
        passages += len(chunks)
        sentences += len(vectors.sentences)
        if progress is not None:
            progress(number, len(documents))
    return SeedReport(len(documents), passages, sentences, time.perf_counter() - began,
                      passages if ranker is not None else 0)


def _vectors(ranker: Any, rows: list[int]) -> Vectors:
    """The passage and sentence vectors of these rows from a dense ranker (MiniLM's index or e5's)."""
    import numpy as np

    by_row = ranker.sentence_vectors_of_rows(rows)
    return Vectors(np.ascontiguousarray(ranker.passage_vectors(rows), dtype=np.float32),
                   np.concatenate([by_row[row] for row in rows]).astype(np.float16))


def take_from(value: str, target: IndexStore, spec: ModelSpec, settings: ChunkSettings,
              multilingual: str | None = None) -> tuple[SeedReport, str]:
    """Seed `target` from the index named by `value` (see `seed`); returns what was taken, and
    from where (the source's location, without a password). `multilingual`: the target's new
    setting (None: its current one); e5 vectors move when the source has them and the target's
    build will want them (app.store.multilingual.wanted over the source's documents)."""
    source = open_source(value, target)
    loaded = source.load()
    if loaded is None:
        raise UsageError(f"--from {value}: no index there")
    setting = multilingual or setting_of(target.read_manifest())
    e5_wanted = wanted(setting, loaded.manifest.documents, len(loaded.chunks))
    partial, release = target_partial(target)
    try:
        return (seed(loaded, source.text_cache(), target.text_cache(), partial, spec, settings,
                     multilingual=e5_wanted), source.location)
    finally:
        release()


def open_source(value: str, target: IndexStore) -> IndexStore:
    """The store named by `--from`: a database URL or an index folder; UsageError when it is the
    target itself or holds no index."""
    source = open_store(value, Path(value)) if is_database_url(value) else open_store(None, Path(value))
    if source.location == target.location:
        raise UsageError(f"--from {value} is the index being built; name another index folder or database URL")
    if source.read_manifest() is None:
        raise UsageError(f"--from {value}: no index there (build one with `verbatim index`, or check the path)")
    return source


def target_partial(store: IndexStore) -> tuple[PartialVectors, Callable[[], None]]:
    """Where the target store's build looks for vectors already made, and how to let go of it."""
    if isinstance(store, FolderStore):
        return PartialFolder(store.folder), lambda: None
    if isinstance(store, PgStore):
        conn = store.connect()
        return DatabasePartial(conn, store.schema), conn.close
    raise UsageError(f"--from cannot fill {store.location}: an unknown kind of store")

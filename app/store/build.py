"""Build the index from the corpus: read -> chunk -> embed -> store, doing only what changed.

Content hashes decide: a file whose hash, metadata, the chunking settings and the model
are unchanged keeps its passages and vectors from the current generation (nothing is
extracted, chunked or embedded again); a new or changed file is extracted, chunked and
embedded; a file gone from the corpus is dropped. A file that cannot be read is reported
and left out, and when an earlier version of it is indexed, that version is kept.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.documents.corpus import CorpusFile, Document, make_document, max_file_bytes, scan_corpus
from app.documents.formats import extract
from app.errors import CorpusError
from app.models.embed import Embedder
from app.models.spec import ModelSpec
from app.passages.chunk import Chunk, ChunkSettings, chunk_document, markup_for, plain_text
from app.store.ann import approximate, probe_texts
from app.store.bm25 import LexicalIndex, count_words, passage_terms
from app.store.e5index import stale_reason as multilingual_stale
from app.store.e5index import write_files as write_multilingual
from app.store.folder import (
    LOCK,
    SCHEMA_VERSION,
    DocumentRecord,
    FolderTexts,
    Manifest,
    StoredIndex,
    commit_manifest,
    load_index,
    read_manifest,
    write_generation,
)
from app.store.multilingual import build_vectors, describe, setting_of, wanted
from app.store.multilingual import changes as multilingual_changes
from app.store.protocol import TextCache
from app.store.resume import Job, PartialFolder, embed_jobs
from app.store.terms import kept_terms

if TYPE_CHECKING:
    import numpy as np

@dataclass(frozen=True)
class BuildReport:
    documents: int
    passages: int
    embedded: int
    reused: int
    seconds: float
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()  # one line per unreadable file: name and reason
    warnings: tuple[str, ...] = ()  # one line per indexed file with little to search: name and why
    written: bool = True  # False when the index already matched the corpus
    resumed: int = 0  # passages whose vectors an interrupted build had saved (counted in `embedded`)


@dataclass
class SyncPlan:
    """What a sync does to each document."""

    keep: list[DocumentRecord] = field(default_factory=list)  # passages and vectors reused
    fresh: list[Document] = field(default_factory=list)  # to chunk and embed
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failures: dict[str, dict[str, str]] = field(default_factory=dict)
    sidecars: dict[str, dict[str, object]] = field(default_factory=dict)  # of the fresh documents

    def changes_nothing(self, previous: Manifest) -> bool:
        """True when the index `previous` describes already holds exactly this plan's outcome."""
        return (not self.fresh and not self.removed and self.keep == previous.documents
                and self.failures == previous.failures)


def meta_sha(meta: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(meta, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def stale_reasons(
    manifest: Manifest | None, files: list[CorpusFile], spec: ModelSpec, settings: ChunkSettings
) -> list[str]:
    """Why the index does not match the corpus, model and settings; empty when it is current."""
    if manifest is None:
        return ["no index has been built yet"]
    reasons = []
    if manifest.model != asdict(spec):
        reasons.append(f"it was built with model {manifest.model.get('name')}, not {spec.name}")
    if manifest.chunking != settings.as_dict():
        reasons.append("the chunking settings changed")
    if (reason := multilingual_stale(manifest.multilingual)) is not None:
        reasons.append(reason)
    indexed = {doc.doc_id: doc for doc in manifest.documents}
    current = {f.doc_id: f for f in files}
    failed = {name: entry.get("sha256") for name, entry in manifest.failures.items()}
    for doc_id in sorted(current.keys() - indexed.keys()):
        if failed.get(current[doc_id].name) != current[doc_id].sha256:
            reasons.append(f"document {doc_id} is new")
    for doc_id in sorted(indexed.keys() - current.keys()):
        reasons.append(f"document {doc_id} was removed from the corpus")
    for doc_id in sorted(current.keys() & indexed.keys()):
        entry, record = current[doc_id], indexed[doc_id]
        if entry.sha256 != record.sha256 and failed.get(entry.name) != entry.sha256:
            reasons.append(f"document {doc_id} changed")
        elif meta_sha(entry.meta) != record.meta_sha256 and entry.sha256 == record.sha256:
            reasons.append(f"the metadata of {doc_id} changed")
    return reasons


def record_for(doc: Document, chunks: int, meta: dict[str, object]) -> DocumentRecord:
    return DocumentRecord(
        doc.doc_id, doc.path, doc.sha256, doc.format, doc.title, doc.date, doc.venue, doc.topic,
        doc.language, doc.source, chunks, doc.source_url, doc.symbol, doc.pages, meta_sha(meta),
    )


def plan_sync(texts: TextCache, files: list[CorpusFile], previous: Manifest | None, reusable: bool) -> SyncPlan:
    """Sort the corpus files into kept, fresh, failed; extract only what is new or changed.

    `texts` keeps extracted texts by file hash (the index folder's texts/, or the database)."""
    plan = SyncPlan()
    before = {doc.doc_id: doc for doc in previous.documents} if previous else {}
    limit = max_file_bytes()
    for entry in files:
        old = before.get(entry.doc_id)
        same_content = old is not None and old.sha256 == entry.sha256 and reusable
        if same_content and old is not None and old.meta_sha256 == meta_sha(entry.meta):
            plan.keep.append(old)  # nothing to read at all
            continue
        try:
            extracted = texts.read(entry.sha256)
            if extracted is None:
                extracted = extract(entry.name, entry.path.read_bytes(), limit)
                texts.write(entry.sha256, extracted)
            doc = make_document(entry.name, entry.sha256, extracted, entry.meta, entry.doc_id)
        except (CorpusError, OSError) as exc:
            reason = str(exc) if isinstance(exc, CorpusError) else f"{entry.name}: cannot be read ({exc})"
            plan.failures[entry.name] = {"sha256": entry.sha256, "reason": reason}
            if old is not None:  # the version indexed before stays searchable
                _keep_indexed_version(texts, plan, old, reusable)
            continue
        if same_content and old is not None:
            plan.keep.append(record_for(doc, old.chunks, entry.meta))
            continue
        plan.fresh.append(doc)
        plan.sidecars[doc.doc_id] = entry.meta
        (plan.changed if old is not None else plan.added).append(doc.doc_id)
    current = {entry.doc_id for entry in files}
    plan.removed = sorted(set(before) - current)
    return plan


def _keep_indexed_version(texts: TextCache, plan: SyncPlan, old: DocumentRecord, reusable: bool) -> None:
    if reusable:
        plan.keep.append(old)
        return
    stored = texts.read(old.sha256, current=False)  # re-embed the indexed version's stored text
    if stored is not None:
        doc = make_document(old.path, old.sha256, stored, {}, old.doc_id)
        kept_meta = ("title", "date", "venue", "topic", "language", "source", "source_url", "symbol")
        plan.fresh.append(replace(doc, **{key: getattr(old, key) for key in kept_meta}))


def texts_to_embed(text: str, chunks: list[Chunk]) -> list[str]:
    """What a build embeds for a document: its passages' texts, then all their sentences, in order."""
    return [chunk.ranking_text for chunk in chunks] + [
        plain_text(text[a:b]) for chunk in chunks for a, b in chunk.sentences]


def embedding_job(doc: Document, chunks: list[Chunk]) -> Job:
    return Job(doc.doc_id, texts_to_embed(doc.text, chunks), len(chunks), tuple(len(c.sentences) for c in chunks))


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    settings: ChunkSettings = ChunkSettings(),
    show_progress: bool = False,
    reuse: bool = True,
    multilingual: str | None = None,
) -> BuildReport:
    """Bring the index in line with the corpus; holds the index lock throughout.

    With `reuse=False` every passage is chunked and embedded again (the current index keeps
    serving until the new one is complete); extracted texts are kept by file hash.
    `multilingual`: the collection's new setting (on, off, auto; app.store.multilingual), None to keep it.
    """
    from filelock import FileLock

    began = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(index_dir / LOCK)):
        files = scan_corpus(corpus_dir)
        previous = _load_previous(index_dir)
        reusable = (reuse and previous is not None and previous.manifest.model == asdict(embedder.spec)
                    and previous.manifest.chunking == settings.as_dict())
        plan = plan_sync(FolderTexts(index_dir), files, previous.manifest if previous else None, reusable)
        failures = tuple(entry["reason"] for entry in plan.failures.values())
        if not plan.keep and not plan.fresh:
            detail = f": {'; '.join(failures)}" if failures else "; add documents with: verbatim add FILE"
            raise CorpusError(f"corpus folder {corpus_dir} holds no readable documents{detail}")
        setting = multilingual or setting_of(previous.manifest if previous else None)
        if (reusable and previous is not None and plan.changes_nothing(previous.manifest)
                and not multilingual_changes(previous.manifest, setting, len(previous.chunks))):
            return BuildReport(len(plan.keep), len(previous.chunks), 0, len(previous.chunks),
                               time.perf_counter() - began, failures=failures, written=False)
        report, warnings = _write(index_dir, plan, previous if reusable else None, embedder, settings, show_progress,
                                  setting)
    return BuildReport(report[0], report[1], report[2], report[3], time.perf_counter() - began,
                       tuple(plan.added), tuple(plan.changed), tuple(plan.removed), failures, warnings,
                       resumed=report[4])


def chunk_fresh(plan: SyncPlan, settings: ChunkSettings) -> tuple[dict[str, list[Chunk]], tuple[str, ...]]:
    """The passages of each fresh document, by id (chunked in its format's markup), and a warning
    line for each one indexed with little or nothing to search (`thin_document_warning`)."""
    chunks = {doc.doc_id: chunk_document(doc.doc_id, doc.text, settings, markup_for(doc.format))
              for doc in plan.fresh}
    warnings = tuple(warning for doc in plan.fresh
                     if (warning := thin_document_warning(doc, chunks[doc.doc_id])) is not None)
    return chunks, warnings


def thin_document_warning(doc: Document, chunks: list[Chunk]) -> str | None:
    """A line naming a document that was indexed with little or nothing to search, or None."""
    if not chunks:
        return (f"{doc.path}: no paragraph or heading was found in it; it is listed, but no passage "
                "of it can be found")
    if not any(chunk.paragraphs for chunk in chunks):
        shown = "; ".join(f"“{chunk.text}”" for chunk in chunks[:3])
        return f"{doc.path}: holds headings only, no paragraph; only its headings can be found ({shown})"
    return None


def _write(
    index_dir: Path, plan: SyncPlan, previous: StoredIndex | None, embedder: Embedder,
    settings: ChunkSettings, show_progress: bool, setting: str = "auto",
) -> tuple[tuple[int, int, int, int, int], tuple[str, ...]]:
    """Chunk and embed the fresh documents, reuse the kept ones, and commit a new generation."""
    import numpy as np

    fresh_chunks, warnings = chunk_fresh(plan, settings)
    jobs = [embedding_job(doc, fresh_chunks[doc.doc_id]) for doc in plan.fresh]
    partial = PartialFolder(index_dir)
    fresh_vectors, resumed = embed_jobs(partial, jobs, embedder, show_progress)
    dimension = embedder.spec.dimension

    old_rows = previous.rows_by_document if previous is not None else {}
    old_vectors = (previous.faiss_index.reconstruct_n(0, previous.faiss_index.ntotal)
                   if previous is not None and previous.faiss_index.ntotal else None)
    records: list[DocumentRecord] = []
    chunks: list[Chunk] = []
    passage_parts: list[np.ndarray] = []
    sentence_parts: list[np.ndarray] = []
    order = sorted([(r.path, r, None) for r in plan.keep] + [(d.path, None, d) for d in plan.fresh],
                   key=lambda item: item[0])
    by_document: list[tuple[str, list[Chunk]]] = []
    sources: list[int | None] = []  # each passage's row in the previous generation (None: new)
    for _, kept, doc in order:
        first_chunk = len(chunks)
        if kept is not None and previous is not None and old_vectors is not None:
            rows = old_rows.get(kept.doc_id, [])  # a document's passages are consecutive rows
            chunks += [previous.chunks[row] for row in rows]
            sources += rows
            passage_parts.append(old_vectors[rows])
            if rows:
                first = previous.sentence_rows[rows[0]]
                last = previous.sentence_rows[rows[-1]] + len(previous.chunks[rows[-1]].sentences)
                sentence_parts.append(np.asarray(previous.sentence_vectors[first:last], dtype=np.float16))
            records.append(kept)
        elif doc is not None:
            doc_chunks = fresh_chunks[doc.doc_id]
            chunks += doc_chunks
            sources += [None] * len(doc_chunks)
            passage_parts.append(fresh_vectors[doc.doc_id].passages)
            sentence_parts.append(fresh_vectors[doc.doc_id].sentences)
            records.append(record_for(doc, len(doc_chunks), plan.sidecars.get(doc.doc_id, {})))
        by_document.append((records[-1].doc_id, chunks[first_chunk:]))
    passages = np.vstack(passage_parts).astype(np.float32) if passage_parts else np.zeros((0, dimension), np.float32)
    sentences = np.vstack(sentence_parts) if sentence_parts else np.zeros((0, dimension), np.float16)
    generation = f"gen-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    languages = {record.doc_id: record.language for record in records}
    lexical = _lexical(chunks, [languages[c.doc_id] for c in chunks], sources, previous)
    multilingual_on = wanted(setting, records, len(chunks))
    if multilingual_on:  # the e5 vectors first: an interrupted e5 embedding leaves no generation folder
        fresh_texts = {doc.doc_id: doc.text for doc in plan.fresh}
        e5_passages, e5_sentences, _ = build_vectors(
            index_dir, by_document, previous,
            lambda doc_id: fresh_texts[doc_id] if doc_id in fresh_texts else _previous_text(previous, doc_id),
            show_progress)
    probe_questions = probe_texts(chunks) if approximate(len(chunks)) else []  # (a graph's efSearch is chosen on them)
    probes = embedder.embed(probe_questions) if probe_questions else None
    files, vector_index = write_generation(index_dir, generation, chunks, passages, lexical,
                                           sentences.reshape(-1, dimension), probes)
    if multilingual_on:
        files = {**files, **write_multilingual(index_dir / generation, e5_passages, e5_sentences)}
    manifest = Manifest(
        schema_version=SCHEMA_VERSION,
        generation=generation,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        model=asdict(embedder.spec),
        chunking=settings.as_dict(),
        documents=records,
        files=files,
        failures=plan.failures,
        vectors=vector_index,
        multilingual=describe(setting, multilingual_on),
    )
    commit_manifest(index_dir, manifest)
    partial.clear()
    fresh = sum(job.passages for job in jobs)
    return (len(records), len(chunks), fresh, len(chunks) - fresh, resumed), warnings


def _lexical(chunks: list[Chunk], languages: list[str | None], sources: list[int | None],
             previous: StoredIndex | None) -> LexicalIndex:
    """The bm25s index of the new generation. A passage the previous generation holds (`sources`:
    its row there) takes the terms that build kept (app.store.terms; a kept document's
    language is its own, or it would have been read again), and the word counts are the previous
    ones less the dropped passages' plus the new ones'; so only new passages are analysed. Without
    kept terms (an index saved before they were, another analysis) every passage is analysed."""
    kept = kept_terms(previous.lexical) if previous is not None else None
    words = previous.lexical.words if previous is not None and kept is not None else None
    if previous is None or kept is None or words is None or len(kept) != len(previous.chunks):
        kept, counts, sources = None, Counter[str](), [None] * len(chunks)
    else:
        counts = Counter(words)
        dropped = set(range(len(previous.chunks))) - {row for row in sources if row is not None}
        counts.subtract(count_words(previous.chunks[row].ranking_text for row in sorted(dropped)))
    terms = []
    for chunk, language, source in zip(chunks, languages, sources):
        if kept is not None and source is not None:
            terms.append(kept.of(source))
        else:
            analysed, found = passage_terms(chunk.ranking_text, language)
            terms.append(analysed)
            counts.update(found)
    return LexicalIndex.from_terms(terms, languages, dict(+counts))


def _previous_text(previous: StoredIndex | None, doc_id: str) -> str:
    if previous is None:
        raise CorpusError(f"no text of {doc_id} to embed")
    return previous.text(doc_id)


def _load_previous(index_dir: Path) -> StoredIndex | None:
    """The current index if it loads cleanly; a corrupt one is simply not reused."""
    from app.errors import IndexStateError

    try:
        manifest = read_manifest(index_dir)
        return load_index(index_dir, manifest) if manifest else None
    except IndexStateError:
        return None

"""Build the index from the corpus: read -> chunk -> embed -> store, embedding only what changed.

Vectors of documents whose content, the chunking settings and the model are all unchanged
are copied from the current generation instead of being embedded again.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.chunk import Chunk, ChunkSettings, chunk_document, plain_text
from app.documents import Document, read_corpus
from app.embed import Embedder, ModelSpec
from app.lexical import LexicalIndex
from app.store import (
    LOCK,
    SCHEMA_VERSION,
    DocumentRecord,
    Manifest,
    StoredIndex,
    commit_manifest,
    load_index,
    read_manifest,
    write_generation,
)

if TYPE_CHECKING:
    import numpy as np

EMBED_BATCH = 64


@dataclass(frozen=True)
class BuildReport:
    documents: int
    passages: int
    embedded: int
    reused: int
    seconds: float


def stale_reasons(
    manifest: Manifest | None, documents: list[Document], spec: ModelSpec, settings: ChunkSettings
) -> list[str]:
    """Why the index does not match the corpus, model and settings; empty when it is current."""
    if manifest is None:
        return ["no index has been built yet"]
    reasons = []
    if manifest.model != asdict(spec):
        reasons.append(f"it was built with model {manifest.model.get('name')}, not {spec.name}")
    if manifest.chunking != settings.as_dict():
        reasons.append("the chunking settings changed")
    indexed = {doc.doc_id: doc.sha256 for doc in manifest.documents}
    current = {doc.doc_id: doc.sha256 for doc in documents}
    for doc_id in sorted(current.keys() - indexed.keys()):
        reasons.append(f"document {doc_id} is new")
    for doc_id in sorted(indexed.keys() - current.keys()):
        reasons.append(f"document {doc_id} was removed from the corpus")
    for doc_id in sorted(current.keys() & indexed.keys()):
        if current[doc_id] != indexed[doc_id]:
            reasons.append(f"document {doc_id} changed")
    return reasons


def _record(doc: Document, chunks: int) -> DocumentRecord:
    return DocumentRecord(
        doc.doc_id, doc.path, doc.sha256, doc.format, doc.title, doc.date,
        doc.venue, doc.topic, doc.language, doc.source, chunks,
    )


Vectors = tuple["np.ndarray", "np.ndarray"]  # a passage's vector and its sentences' vectors


def _reusable_vectors(
    previous: StoredIndex | None, spec: ModelSpec, settings: ChunkSettings
) -> dict[tuple[str, str], Vectors]:
    """Vectors of the previous generation keyed by (document sha256, chunk id)."""
    if previous is None or previous.manifest.model != asdict(spec):
        return {}
    if previous.manifest.chunking != settings.as_dict():
        return {}
    sha = {doc.doc_id: doc.sha256 for doc in previous.manifest.documents}
    vectors = previous.faiss_index.reconstruct_n(0, previous.faiss_index.ntotal)
    sentences, first = previous.sentence_vectors, previous.sentence_rows
    return {
        (sha[c.doc_id], c.chunk_id): (vectors[row], sentences[first[row] : first[row] + len(c.sentences)])
        for row, c in enumerate(previous.chunks)
    }


def _texts_to_embed(chunks: list[Chunk], missing: list[int], text: dict[str, str]) -> list[str]:
    """Each missing passage's text, then the texts of all its sentences, in order."""
    texts = [chunks[i].ranking_text for i in missing]
    for i in missing:
        source = text[chunks[i].doc_id]
        texts += [plain_text(source[a:b]) for a, b in chunks[i].sentences]
    return texts


def embed_missing(
    texts: list[str], embedder: Embedder, show_progress: bool
) -> np.ndarray:
    """Embed in batches with a progress bar on stderr."""
    import numpy as np
    from tqdm import tqdm

    parts = []
    with tqdm(total=len(texts), unit="text", desc="embedding passages and sentences", file=sys.stderr,
              disable=not show_progress or len(texts) < EMBED_BATCH) as bar:
        for begin in range(0, len(texts), EMBED_BATCH):
            batch = texts[begin : begin + EMBED_BATCH]
            parts.append(embedder.embed(batch))
            bar.update(len(batch))
    if not parts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack(parts)


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    settings: ChunkSettings = ChunkSettings(),
    show_progress: bool = False,
    reuse: bool = True,
) -> BuildReport:
    """Bring the index in line with the corpus; holds the index lock throughout.

    With `reuse=False` every passage is embedded again (the current index keeps serving
    until the new one is complete).
    """
    from filelock import FileLock

    began = time.perf_counter()
    documents = read_corpus(corpus_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(index_dir / LOCK)):
        previous = _load_previous(index_dir) if reuse else None
        reusable = _reusable_vectors(previous, embedder.spec, settings)
        chunks: list[Chunk] = []
        records = []
        for doc in documents:
            doc_chunks = chunk_document(doc.doc_id, doc.text, settings)
            chunks.extend(doc_chunks)
            records.append(_record(doc, len(doc_chunks)))
        sha = {doc.doc_id: doc.sha256 for doc in documents}
        keys = [(sha[c.doc_id], c.chunk_id) for c in chunks]
        missing = [i for i, key in enumerate(keys) if key not in reusable]
        texts = {doc.doc_id: doc.text for doc in documents}
        fresh = embed_missing(_texts_to_embed(chunks, missing, texts), embedder, show_progress)
        vectors, sentence_vectors = _assemble(chunks, keys, reusable, missing, fresh,
                                              embedder.spec.dimension)
        generation = f"gen-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        lexical = LexicalIndex.build([c.ranking_text for c in chunks])
        files = write_generation(index_dir, generation, chunks, vectors, lexical, sentence_vectors)
        manifest = Manifest(
            schema_version=SCHEMA_VERSION,
            generation=generation,
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            model=asdict(embedder.spec),
            chunking=settings.as_dict(),
            documents=records,
            files=files,
        )
        commit_manifest(index_dir, manifest)
    return BuildReport(len(documents), len(chunks), len(missing), len(chunks) - len(missing),
                       time.perf_counter() - began)


def _load_previous(index_dir: Path) -> StoredIndex | None:
    """The current index if it loads cleanly; a corrupt one is simply not reused."""
    from app.errors import IndexStateError

    try:
        manifest = read_manifest(index_dir)
        return load_index(index_dir, manifest) if manifest else None
    except IndexStateError:
        return None


def _assemble(
    chunks: list[Chunk],
    keys: list[tuple[str, str]],
    reusable: dict[tuple[str, str], Vectors],
    missing: list[int],
    fresh: np.ndarray,
    dimension: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Passage and sentence vectors in chunk order, reused ones and fresh ones merged."""
    import numpy as np

    passages = np.zeros((len(keys), dimension), dtype=np.float32)
    sentence_parts: list[np.ndarray] = []
    fresh_passage = {row: fresh[n] for n, row in enumerate(missing)}
    cursor = len(missing)  # fresh sentence vectors follow the fresh passage vectors
    fresh_sentences: dict[int, np.ndarray] = {}
    for row in missing:
        count = len(chunks[row].sentences)
        fresh_sentences[row] = fresh[cursor : cursor + count]
        cursor += count
    for row, key in enumerate(keys):
        if row in fresh_passage:
            passages[row] = fresh_passage[row]
            sentence_parts.append(fresh_sentences[row])
        else:
            passages[row], block = reusable[key]
            sentence_parts.append(np.asarray(block, dtype=np.float32))
    sentences = (np.vstack(sentence_parts) if sentence_parts
                 else np.zeros((0, dimension), dtype=np.float32))
    return passages, sentences.reshape(-1, dimension)

"""Store stage: the index folder on disk, written atomically and checked on load.

Layout of the index folder (a person can open it):

    manifest.json         which generation is current, model, chunking, corpus hashes
    gen-<id>/vectors.faiss  FAISS inner-product index over normalised vectors (exact, or HNSW when large)
    gen-<id>/chunks.jsonl   one passage per line, in the FAISS row order
    gen-<id>/bm25/          the lexical (bm25s) index over the same passages
    gen-<id>/sentences.npy  float16 vectors of every passage's sentences, in order (highlighting)
    gen-<id>/e5.faiss, e5-sentences.npy  the multilingual ranker's vectors, when on (app.store.e5index)
    texts/<sha256>.json   each document's canonical text and own metadata, by the file's hash
    self-check.json       the last self-check result of each document (`verbatim eval --self-check`)

A build writes a fresh `gen-<id>/` folder, fsyncs it, then replaces `manifest.json`
in one atomic rename. Until that rename, readers keep the previous generation, so an
interrupted build leaves the old index intact; stray generations are removed later.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.documents.formats import READER_VERSION, Extracted
from app.errors import IndexSchemaError, IndexStateError
from app.models.spec import file_sha256
from app.passages.chunk import Chunk
from app.store.bm25 import LexicalIndex
from app.store.e5index import MultilingualRanker, load_ranker
from app.store.integrity import FileWatch, map_above_bytes
from app.store.terms import save_terms
from app.store.vectors import FaissVectors

if TYPE_CHECKING:
    import numpy as np

SCHEMA_VERSION = 6
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"
LEXICAL = "bm25"
SENTENCES = "sentences.npy"
LOCK = ".lock"
TEXTS = "texts"
SELF_CHECKS = "self-check.json"


@dataclass(frozen=True)
class DocumentRecord:
    """What the index remembers of a document: enough to cite it and to notice a change."""

    doc_id: str
    path: str
    sha256: str
    format: str
    title: str
    date: str | None
    venue: str | None
    topic: str | None
    language: str | None
    source: str | None
    chunks: int
    source_url: str | None = None
    symbol: str | None = None
    pages: int | None = None
    meta_sha256: str = ""  # of the sidecar metadata, so an edited sidecar is noticed


@dataclass(frozen=True)
class Manifest:
    schema_version: int
    generation: str
    built_at: str
    model: dict[str, Any]
    chunking: dict[str, Any]
    documents: list[DocumentRecord]
    files: dict[str, str] = field(default_factory=dict)
    # corpus files that could not be read: name -> {"sha256": ..., "reason": ...}; retried when they change
    failures: dict[str, dict[str, str]] = field(default_factory=dict)
    vectors: dict[str, Any] = field(default_factory=lambda: {"type": "exact"})  # FAISS index type (app.store.ann)
    # the multilingual ranker: {"setting": on|off|auto, "model": the e5 ModelSpec or None} (app.store.multilingual)
    multilingual: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        documents = [DocumentRecord(**doc) for doc in data["documents"]]
        return cls(**{**data, "documents": documents})


class IndexedDocuments:
    """Document lookups shared by the stores' loaded indexes; needs `manifest` and `chunks`."""

    manifest: Manifest
    chunks: list[Chunk]

    @cached_property
    def _documents_by_id(self) -> dict[str, DocumentRecord]:
        return {doc.doc_id: doc for doc in self.manifest.documents}

    @cached_property
    def rows_by_document(self) -> dict[str, list[int]]:
        """Each document's passage rows (consecutive, in document order)."""
        rows: dict[str, list[int]] = {}
        for row, chunk in enumerate(self.chunks):
            rows.setdefault(chunk.doc_id, []).append(row)
        return rows

    def document(self, doc_id: str) -> DocumentRecord:
        """The record of a document; KeyError when the index has none by that id."""
        return self._documents_by_id[doc_id]


@dataclass
class StoredIndex(IndexedDocuments, FaissVectors):
    """A loaded index: manifest, passages in row order, the FAISS and the lexical index."""

    manifest: Manifest
    chunks: list[Chunk]
    faiss_index: Any
    lexical: LexicalIndex
    folder: Path
    sentence_vectors: Any = None  # (sentences, dimension) float16, in memory or memory-mapped
    sentence_rows: list[int] = field(default_factory=list)  # first sentence row of each chunk
    watch: FileWatch | None = None  # the generation's files as verified at load
    in_memory: bool = True  # False: FAISS, BM25 and sentence vectors are memory-mapped from the files
    multilingual: MultilingualRanker | None = None  # the e5 vectors, when the generation has them

    def damage(self) -> str | None:
        """None while the generation's files are as verified at load; else what changed (a stat each)."""
        return self.watch.damage() if self.watch is not None else None

    def text(self, doc_id: str) -> str:
        """The canonical text of an indexed document (the one its offsets point into)."""
        entry = read_text_entry(self.folder, self.document(doc_id).sha256, current=False)
        if entry is None:
            raise IndexStateError(f"the stored text of {doc_id} in {self.folder / TEXTS} is missing or damaged; "
                                  "run: verbatim index --rebuild")
        return entry.text


def chunk_to_json(chunk: Chunk) -> str:
    data = asdict(chunk)
    data["paragraphs"] = list(chunk.paragraphs)
    data["sentences"] = [list(span) for span in chunk.sentences]
    data["labels"] = list(chunk.labels)
    return json.dumps(data, ensure_ascii=False)


def chunk_from_json(line: str) -> Chunk:
    data = json.loads(line)
    data["paragraphs"] = tuple(data["paragraphs"])
    data["sentences"] = tuple(tuple(span) for span in data["sentences"])
    data["labels"] = tuple(data.get("labels", ()))
    return Chunk(**data)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `path` so that it is either absent, the old content or all of `data`: temp, fsync, rename.

    The file gets the usual mode 0644 (a temp file is made 0600, private to its owner)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_path(path.parent)


def write_text_entry(folder: Path, sha256: str, extracted: Extracted) -> None:
    """Keep a document's canonical text and own metadata, named by its file's hash."""
    texts = folder / TEXTS
    texts.mkdir(parents=True, exist_ok=True)
    data = {"format": extracted.format, "meta": extracted.meta, "pages": extracted.pages, "text": extracted.text,
            "reader": READER_VERSION, "text_sha256": text_sha256(extracted.text)}
    write_atomic(texts / f"{sha256}.json", json.dumps(data, ensure_ascii=False).encode("utf-8"))


def read_text_entry(folder: Path, sha256: str, current: bool = True) -> Extracted | None:
    """A kept canonical text; None when there is none, when it no longer hashes to the
    `text_sha256` written with it (damaged: the build reads the file again), or (`current`) when
    today's readers would read the file differently (kept by an older `READER_VERSION`, or
    before texts carried their hash)."""
    path = folder / TEXTS / f"{sha256}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if current and (data.get("reader", 1) != READER_VERSION or "text_sha256" not in data):
            return None
        if not text_intact(data["text"], data.get("text_sha256")):
            return None
        return Extracted(data["format"], data["text"], data["meta"], data["pages"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def text_sha256(text: str) -> str:
    """The hex sha256 of a canonical text's UTF-8 bytes, kept beside it in both stores' text caches."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def text_intact(text: str, expected: str | None) -> bool:
    """Whether a kept text still hashes to the digest written with it (None: kept before texts
    carried one, taken as it is)."""
    return expected is None or text_sha256(text) == expected


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_generation(
    folder: Path, generation: str, chunks: list[Chunk], vectors: np.ndarray, lexical: LexicalIndex,
    sentence_vectors: np.ndarray, probes: np.ndarray | None = None,
) -> tuple[dict[str, str], dict[str, Any]]:
    """Write a new generation's files (not yet current); returns each file's sha256 and the vector index kind.
    `probes`: the query vectors an HNSW graph's efSearch is chosen on (app.store.ann; None: the
    sentence vectors)."""
    import faiss

    from app.store.ann import build_vector_index

    gen_dir = folder / generation
    gen_dir.mkdir(parents=True, exist_ok=False)
    index, description = build_vector_index(vectors, sentence_vectors if probes is None else probes)
    faiss.write_index(index, str(gen_dir / VECTORS))
    with (gen_dir / CHUNKS).open("w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(chunk_to_json(chunk) + "\n")
    lexical.save(gen_dir / LEXICAL)
    save_terms(lexical, gen_dir / LEXICAL)
    import numpy as np

    np.save(gen_dir / SENTENCES, sentence_vectors.astype(np.float16), allow_pickle=False)
    files = sorted(p for p in gen_dir.rglob("*") if p.is_file())
    for path in files:
        _fsync_path(path)
    _fsync_path(gen_dir / LEXICAL)
    _fsync_path(gen_dir)
    return {path.relative_to(gen_dir).as_posix(): file_sha256(path) for path in files}, description


def commit_manifest(folder: Path, manifest: Manifest) -> None:
    """Make `manifest.generation` current with one atomic rename, then drop older generations."""
    write_atomic(folder / MANIFEST, manifest.to_json().encode("utf-8"))
    remove_stale_generations(folder, keep=manifest.generation)
    remove_stale_texts(folder, keep={doc.sha256 for doc in manifest.documents})


def remove_stale_generations(folder: Path, keep: str) -> None:
    for path in folder.glob("gen-*"):
        if path.is_dir() and path.name != keep:
            shutil.rmtree(path, ignore_errors=True)
    for path in folder.glob(".*.tmp"):
        path.unlink(missing_ok=True)


def remove_stale_texts(folder: Path, keep: set[str]) -> None:
    for path in (folder / TEXTS).glob("*"):
        if path.name.endswith(".tmp") or path.name.removesuffix(".json") not in keep:
            path.unlink(missing_ok=True)


def read_manifest(folder: Path) -> Manifest | None:
    """The current manifest, or None when no index was ever built here."""
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema_version") != SCHEMA_VERSION:
            raise IndexSchemaError(
                f"index at {folder} has schema version {data.get('schema_version')!r}, "
                f"this Verbatim reads version {SCHEMA_VERSION}; run: verbatim index"
            )
        return Manifest.from_dict(data)
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise IndexStateError(
            f"index manifest {path} is corrupt ({exc.__class__.__name__}: {exc}); "
            "run: verbatim index --rebuild"
        ) from exc


def load_index(folder: Path, manifest: Manifest) -> StoredIndex:
    """Load the current generation, refusing files that do not match the manifest's hashes; read into
    memory, or memory-mapped when the generation is large (app.store.integrity)."""
    from app.store.ann import read_vector_index

    gen_dir = folder / manifest.generation
    watch = FileWatch.verified(gen_dir, manifest.files)
    mapped = watch.total_bytes >= map_above_bytes()  # else read into memory, out of reach of the disk
    try:
        faiss_index = read_vector_index(str(gen_dir / VECTORS), manifest.vectors, mapped)
        with (gen_dir / CHUNKS).open(encoding="utf-8") as handle:
            chunks = [chunk_from_json(line) for line in handle if line.strip()]
        lexical = LexicalIndex.load(gen_dir / LEXICAL, mapped)
        import numpy as np

        sentence_vectors = np.load(gen_dir / SENTENCES, mmap_mode="r" if mapped else None, allow_pickle=False)
    except (RuntimeError, ValueError, OSError, TypeError) as exc:
        raise IndexStateError(
            f"index at {gen_dir} cannot be read ({exc}); run: verbatim index --rebuild"
        ) from exc
    if faiss_index.ntotal != len(chunks):
        raise IndexStateError(
            f"index at {gen_dir} has {faiss_index.ntotal} vectors for {len(chunks)} passages; "
            "run: verbatim index --rebuild"
        )
    rows, total = [], 0
    for chunk in chunks:
        rows.append(total)
        total += len(chunk.sentences)
    if sentence_vectors.shape[0] != total:
        raise IndexStateError(
            f"index at {gen_dir} has {sentence_vectors.shape[0]} sentence vectors for {total} sentences; "
            "run: verbatim index --rebuild"
        )
    multilingual = load_ranker(gen_dir, manifest.multilingual, chunks, rows, mapped)
    return StoredIndex(manifest, chunks, faiss_index, lexical, folder, sentence_vectors, rows, watch, not mapped,
                       multilingual)


class FolderTexts:
    """The index folder's `texts/<sha256>.json` files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def read(self, sha256: str, current: bool = True) -> Extracted | None:
        return read_text_entry(self.folder, sha256, current)

    def write(self, sha256: str, extracted: Extracted) -> None:
        write_text_entry(self.folder, sha256, extracted)


def read_self_checks(folder: Path) -> dict[str, dict[str, Any]]:
    """The last self-check result of each document, by id (app.evaluation.selfcheck); empty when
    none was run. A file that cannot be read counts as none (the next check rewrites it)."""
    try:
        data = json.loads((folder / SELF_CHECKS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_self_checks(folder: Path, results: dict[str, dict[str, Any]]) -> None:
    """Keep these documents' results, replacing their earlier ones and keeping the others'."""
    kept = read_self_checks(folder) | results
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / SELF_CHECKS, (json.dumps(kept, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))

"""What both stores share: the protocols the engine, the search and the build use, and the
manifest's check against this process's model and chunking settings.

`LoadedIndex` is a loaded generation (rows are positions in `chunks`); `IndexStore` builds,
loads and watches one collection; `TextCache` keeps extracted texts by file sha256. The folder
store (`app.store.open.FolderStore`) and the database store (`app.store.postgres.store.PgStore`)
implement them; nothing here imports either.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.documents.formats import Extracted
from app.models.embed import Embedder
from app.models.spec import ModelSpec
from app.passages.chunk import Chunk, ChunkSettings
from app.store.bm25 import LexicalIndex
from app.store.folder import DocumentRecord, Manifest

if TYPE_CHECKING:
    import numpy as np

    from app.store.build import BuildReport


class DenseRanker(Protocol):
    """A dense ranker over a generation's passage rows: MiniLM's (the LoadedIndex itself) or the
    multilingual one (app.store.e5index.MultilingualRanker). Vectors are unit length, scores cosines."""

    def dense_search(self, vector: np.ndarray, depth: int) -> dict[int, float]: ...

    def dense_scores(self, vector: np.ndarray, rows: list[int]) -> dict[int, float]: ...

    def sentence_vectors_of(self, row: int) -> np.ndarray: ...

    def sentence_vectors_of_rows(self, rows: list[int]) -> dict[int, np.ndarray]: ...


class LoadedIndex(Protocol):
    """A loaded generation of the index, as the search stage uses it.

    Rows are positions in `chunks` (and in the lexical index's scores)."""

    manifest: Manifest
    chunks: list[Chunk]
    lexical: LexicalIndex

    @property
    def rows_by_document(self) -> dict[str, list[int]]: ...

    def document(self, doc_id: str) -> DocumentRecord: ...

    def text(self, doc_id: str) -> str: ...

    def dense_search(self, vector: np.ndarray, depth: int) -> dict[int, float]: ...

    def dense_scores(self, vector: np.ndarray, rows: list[int]) -> dict[int, float]: ...

    def sentence_vectors_of(self, row: int) -> np.ndarray: ...

    def passage_vectors(self, rows: list[int]) -> np.ndarray:
        """The stored passage vectors of the given rows, (len(rows), dimension) float32, in order."""
        ...

    def sentence_vectors_of_rows(self, rows: list[int]) -> dict[int, np.ndarray]: ...

    @property
    def in_memory(self) -> bool:
        """True when answering reads nothing more from the generation's files (damage on disk then
        cannot reach an answer)."""
        ...

    def damage(self) -> str | None:
        """None while the loaded generation's files are as verified; else a message saying which
        changed and what to run. Called before every question: a stat a file, no more."""
        ...


class IndexStore(Protocol):
    """Builds, loads and watches one collection's index."""

    @property
    def location(self) -> str:
        """Where the index is, for messages (a folder, or the database URL without a password)."""
        ...

    def build(self, corpus_dir: Path, embedder: Embedder, settings: ChunkSettings, show_progress: bool,
              reuse: bool, only: frozenset[str] | None = None, multilingual: str | None = None) -> BuildReport:
        """Bring the index in line with the corpus folder; `only`: just these file names (an add);
        `multilingual`: the collection's new multilingual setting (on, off, auto), None to keep it."""
        ...

    def stale_reasons(self, corpus_dir: Path, spec: ModelSpec, settings: ChunkSettings) -> list[str]:
        """Why the index does not match the corpus folder, model and settings; empty when current."""
        ...

    def reasons_to_build(self, corpus_dir: Path, spec: ModelSpec, settings: ChunkSettings) -> list[str]:
        """Why a reading command must build before answering (empty: load as it is)."""
        ...

    def stamp(self) -> object:
        """A cheap marker that changes whenever another generation becomes current."""
        ...

    def read_manifest(self) -> Manifest | None:
        """The current generation's description, or None when nothing was built."""
        ...

    def load(self) -> LoadedIndex | None:
        """The current generation, or None when nothing was built; IndexStateError when unreadable."""
        ...

    def text_cache(self) -> TextCache:
        """Where extracted canonical texts are kept by file hash."""
        ...

    def held_documents(self) -> list[DocumentRecord] | None:
        """Documents the index holds apart from the corpus folder (a shared database's); None
        when the corpus folder alone is the collection."""
        ...

    def self_checks(self) -> dict[str, dict[str, Any]]:
        """The last self-check result of each document (app.evaluation.selfcheck), by id; empty when none."""
        ...

    def keep_self_checks(self, results: dict[str, dict[str, Any]]) -> None:
        """Keep these documents' self-check results with the index, replacing their earlier ones."""
        ...

    def beside(self, folder: Path, name: str) -> IndexStore:
        """A store for another collection (a benchmark's): the folder store in `folder`, the
        database store in the schema `name` of the same database."""
        ...

    def cli_args(self) -> list[str]:
        """The global options that point a child `verbatim` process at this store."""
        ...

    def size_mib(self) -> float:
        """What the index takes on disk: the folder's files, or the collection's tables and indexes."""
        ...

    def discard(self) -> None:
        """Delete the whole index (a benchmark's scratch collection)."""
        ...

    def server_pid(self) -> int | None:
        """The process id of the database server when it runs on this machine (None: no server)."""
        ...


class TextCache(Protocol):
    """Extracted canonical texts by the file's sha256, so a build reads each file once."""

    def read(self, sha256: str, current: bool = True) -> Extracted | None:
        """The kept text; None when there is none, or (`current`) when it was kept by another
        `app.documents.formats.READER_VERSION` than today's readers (they would read the file differently)."""
        ...

    def write(self, sha256: str, extracted: Extracted) -> None: ...


def model_mismatch(manifest: Manifest, spec: ModelSpec, settings: ChunkSettings) -> list[str]:
    """What differs between an index and the model and chunking settings of this process."""
    reasons = []
    if manifest.model != asdict(spec):
        reasons.append(f"it was built with model {manifest.model.get('name')}, not {spec.name}")
    if manifest.chunking != settings.as_dict():
        reasons.append("the chunking settings changed")
    return reasons


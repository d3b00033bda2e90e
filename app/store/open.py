"""Where the index lives: a folder on this machine (the default) or a PostgreSQL database.

`Engine` reads and writes the index only through an `IndexStore`, and searches whatever
`LoadedIndex` the store loads. Two stores exist:

- `FolderStore`: the index folder of `app.store.folder`, written by `app.store.build` (one machine);
- `app.store.postgres.store.PgStore`: PostgreSQL with pgvector (`--store postgresql://...`), for several
  app replicas sharing one collection.

`open_store` picks one from the `--store` value.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.documents.corpus import scan_corpus
from app.documents.formats import Extracted
from app.errors import IndexSchemaError, UsageError
from app.models.embed import Embedder, ModelSpec
from app.passages.chunk import Chunk, ChunkSettings
from app.store.bm25 import LexicalIndex
from app.store.folder import (
    MANIFEST,
    DocumentRecord,
    Manifest,
    StoredIndex,
    load_index,
    read_manifest,
    read_text_entry,
    write_text_entry,
)

if TYPE_CHECKING:
    import numpy as np

    from app.store.build import BuildReport

STORE_SCHEMES = ("postgresql://", "postgres://")


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

    def sentence_vectors_of_rows(self, rows: list[int]) -> dict[int, np.ndarray]: ...


class IndexStore(Protocol):
    """Builds, loads and watches one collection's index."""

    @property
    def location(self) -> str:
        """Where the index is, for messages (a folder, or the database URL without a password)."""
        ...

    def build(self, corpus_dir: Path, embedder: Embedder, settings: ChunkSettings, show_progress: bool,
              reuse: bool, only: frozenset[str] | None = None) -> BuildReport:
        """Bring the index in line with the corpus folder; `only`: just these file names (an add)."""
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


class FolderTexts:
    """The index folder's `texts/<sha256>.json` files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def read(self, sha256: str, current: bool = True) -> Extracted | None:
        return read_text_entry(self.folder, sha256, current)

    def write(self, sha256: str, extracted: Extracted) -> None:
        write_text_entry(self.folder, sha256, extracted)


class FolderStore:
    """The index as a folder on this machine (app.store.folder), synced with the corpus folder on open."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def location(self) -> str:
        return str(self.folder)

    def build(self, corpus_dir: Path, embedder: Embedder, settings: ChunkSettings, show_progress: bool,
              reuse: bool, only: frozenset[str] | None = None) -> BuildReport:
        from app.store.build import build_index

        return build_index(corpus_dir, self.folder, embedder, settings, show_progress, reuse)

    def stale_reasons(self, corpus_dir: Path, spec: ModelSpec, settings: ChunkSettings) -> list[str]:
        from app.store.build import stale_reasons

        files = scan_corpus(corpus_dir)
        try:
            manifest = read_manifest(self.folder)
        except IndexSchemaError:
            return ["it was written in an older format"]
        return stale_reasons(manifest, files, spec, settings)

    def reasons_to_build(self, corpus_dir: Path, spec: ModelSpec, settings: ChunkSettings) -> list[str]:
        return self.stale_reasons(corpus_dir, spec, settings)

    def stamp(self) -> object:
        try:
            info = (self.folder / MANIFEST).stat()
        except OSError:
            return None
        return info.st_mtime_ns, info.st_ino

    def read_manifest(self) -> Manifest | None:
        return read_manifest(self.folder)

    def load(self) -> StoredIndex | None:
        manifest = read_manifest(self.folder)
        return load_index(self.folder, manifest) if manifest is not None else None

    def text_cache(self) -> TextCache:
        return FolderTexts(self.folder)

    def held_documents(self) -> list[DocumentRecord] | None:
        return None

    def beside(self, folder: Path, name: str) -> IndexStore:
        return FolderStore(folder)

    def cli_args(self) -> list[str]:
        return ["--index", str(self.folder), "--store", "folder"]

    def size_mib(self) -> float:
        return round(sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file()) / 2**20, 1)

    def discard(self) -> None:
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)

    def server_pid(self) -> int | None:
        return None


def collection_name(text: str) -> str:
    """A name fit for a PostgreSQL schema (lower-case letters, digits, '_'), from any text."""
    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
    return (name if name[:1].isalpha() else f"c_{name}")[:63]


def is_database_url(value: str) -> bool:
    return value.startswith(STORE_SCHEMES)


def open_store(value: str | None, index_dir: Path) -> IndexStore:
    """The store a `--store` value (or $VERBATIM_STORE) names; the folder store when none is given."""
    value = value if value is not None else os.environ.get("VERBATIM_STORE", "")
    if not value or value == "folder":
        return FolderStore(index_dir)
    if is_database_url(value):
        from app.store.postgres.store import PgStore

        return PgStore(value)
    raise UsageError(f"--store takes a PostgreSQL URL such as postgresql://USER@HOST:5432/DB (or 'folder', "
                     f"the default); got {value!r}")


def model_mismatch(manifest: Manifest, spec: ModelSpec, settings: ChunkSettings) -> list[str]:
    """What differs between an index and the model and chunking settings of this process."""
    reasons = []
    if manifest.model != asdict(spec):
        reasons.append(f"it was built with model {manifest.model.get('name')}, not {spec.name}")
    if manifest.chunking != settings.as_dict():
        reasons.append("the chunking settings changed")
    return reasons


"""Where the index lives: a folder on this machine (the default) or a PostgreSQL database.

`Engine` reads and writes the index only through an `IndexStore` (app.store.protocol), and
searches whatever `LoadedIndex` the store loads. Two stores exist:

- `FolderStore`: the index folder of `app.store.folder`, written by `app.store.build` (one machine);
- `app.store.postgres.store.PgStore`: PostgreSQL with pgvector (`--store postgresql://...`), for several
  app replicas sharing one collection.

`open_store` picks one from the `--store` value.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.documents.corpus import scan_corpus
from app.errors import IndexSchemaError, IndexStateError, UsageError
from app.models.embed import Embedder, backend_of
from app.models.spec import ModelSpec
from app.passages.chunk import ChunkSettings
from app.store.folder import (
    MANIFEST,
    DocumentRecord,
    FolderTexts,
    Manifest,
    StoredIndex,
    load_index,
    read_manifest,
    read_self_checks,
    write_self_checks,
)
from app.store.protocol import IndexStore, LoadedIndex, TextCache, model_mismatch

if TYPE_CHECKING:
    from app.store.build import BuildReport

__all__ = ["STORE_SCHEMES", "FolderStore", "IndexStore", "LoadedIndex", "is_database_url", "open_store"]

STORE_SCHEMES = ("postgresql://", "postgres://")


# Passages a serving process embeds again without being asked when it was started with another model
# or chunking than its index's: about a minute with PyTorch here (34.7 passages/s with sentence
# vectors pooled from the passage pass, docs/performance.md). Above it: IndexStateError.
REEMBED_UNASKED = 2_000


class FolderStore:
    """The index as a folder on this machine (app.store.folder), synced with the corpus folder on open."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def location(self) -> str:
        return str(self.folder)

    def build(self, corpus_dir: Path, embedder: Embedder, settings: ChunkSettings, show_progress: bool,
              reuse: bool, only: frozenset[str] | None = None, multilingual: str | None = None) -> BuildReport:
        from app.store.build import build_index

        if only is not None:  # an add or remove: never the whole collection embedded again on the way
            self._refuse_unasked_reembed(embedder.spec, settings)
        return build_index(corpus_dir, self.folder, embedder, settings, show_progress, reuse, multilingual)

    def stale_reasons(self, corpus_dir: Path, spec: ModelSpec, settings: ChunkSettings) -> list[str]:
        from app.store.build import stale_reasons

        files = scan_corpus(corpus_dir)
        try:
            manifest = read_manifest(self.folder)
        except IndexSchemaError:
            return ["it was written in an older format"]
        return stale_reasons(manifest, files, spec, settings)

    def reasons_to_build(self, corpus_dir: Path, spec: ModelSpec, settings: ChunkSettings) -> list[str]:
        """Why the index is built before it serves (IndexStateError where `_refuse_unasked_reembed` says so)."""
        reasons = self.stale_reasons(corpus_dir, spec, settings)
        if reasons:
            self._refuse_unasked_reembed(spec, settings)
        return reasons

    def _refuse_unasked_reembed(self, spec: ModelSpec, settings: ChunkSettings) -> None:
        """IndexStateError when building now would embed a collection of more than REEMBED_UNASKED
        passages again because this process runs another model or chunking than the index's (a
        forgotten VERBATIM_BACKEND would cost 86 minutes at the whole General Debate): that is
        for `verbatim index --rebuild` to do, asked for; serving and `add`/`remove` refuse."""
        try:
            manifest = read_manifest(self.folder)
        except IndexSchemaError:
            return
        if manifest is None or not (mismatch := model_mismatch(manifest, spec, settings)):
            return
        passages = sum(doc.chunks for doc in manifest.documents)
        if passages <= REEMBED_UNASKED:
            return
        backend = backend_of(manifest.model) if manifest.model != asdict(spec) else None
        hint = f"set VERBATIM_BACKEND={backend} (the backend it was built with), or " if backend else ""
        raise IndexStateError(f"the index in {self.folder} does not fit this process: {'; '.join(mismatch)}; "
                              f"it is not embedded again on the way ({passages:,} passages): {hint}run: "
                              f"verbatim --index {self.folder} index --rebuild")

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

    def self_checks(self) -> dict[str, dict[str, Any]]:
        return read_self_checks(self.folder)

    def keep_self_checks(self, results: dict[str, dict[str, Any]]) -> None:
        write_self_checks(self.folder, results)

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

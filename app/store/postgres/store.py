"""The database store: the whole index in PostgreSQL with pgvector (`--store postgresql://...`).

Several app replicas, on one machine or many, share one collection: each asks the database
for the current generation before every question (one indexed read of one row) and loads a
new one when it changed. Passage vectors are searched in the database through a pgvector
HNSW index; the passages' texts and citation fields, and the bm25s index of the current
generation, are held by each replica (the bm25s files are cached on local disk by
generation, memory-mapped). Sentence vectors for highlighting are read for the returned
passages only. Builds (`index`, `add`, `remove`) are written by `app.store.postgres.build`.

The database, not a folder, is the collection: reading commands never sync it with their
corpus folder (another machine's `add` would otherwise be undone); on an empty database they
build it from the corpus folder first, as the folder store does on first start.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.documents.formats import READER_VERSION, Extracted
from app.errors import IndexStateError
from app.models.embed import Embedder
from app.models.spec import ModelSpec
from app.passages.chunk import Chunk, ChunkSettings
from app.store.bm25 import LexicalIndex
from app.store.e5index import stale_reason
from app.store.folder import DocumentRecord, Manifest, text_intact, text_sha256
from app.store.postgres.e5 import ranker as e5_ranker
from app.store.postgres.index import PgIndex, dense_depth
from app.store.postgres.schema import (
    PASSAGE_COLUMNS,
    chunk_from,
    connect,
    ensure_schema,
    read_state,
    redacted,
    split_url,
)
from app.store.protocol import TextCache, model_mismatch

if TYPE_CHECKING:

    from app.store.build import BuildReport

def cache_key(conninfo: str, schema: str) -> str:
    """A readable, unique folder name for a collection: host-port-database-schema-hash."""
    from urllib.parse import urlsplit

    parts = urlsplit(conninfo)
    readable = "-".join(str(part) for part in (parts.hostname or "local", parts.port or 5432,
                                                 parts.path.strip("/") or "db", schema))
    digest = hashlib.sha256(f"{conninfo}\0{schema}".encode()).hexdigest()[:8]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{readable}-{digest}")


class DatabaseTexts:
    """Extracted canonical texts in the `texts` table, by the file's sha256."""

    def __init__(self, store: PgStore) -> None:
        self.store = store

    def read(self, sha256: str, current: bool = True) -> Extracted | None:
        """The kept text; None when there is none, when it no longer hashes to its `text_sha256`
        (damaged: the build reads the file again), or (`current`) when an older reader extracted it
        or it was kept before texts carried their hash."""
        row = self.store.query(f"SELECT format, text, meta, pages, reader, text_sha256 FROM {self.store.schema}.texts "
                               "WHERE sha256 = %s", (sha256,))
        if not row or (current and (row[0][4] != READER_VERSION or row[0][5] is None)):
            return None
        if not text_intact(row[0][1], row[0][5]):
            return None
        return Extracted(row[0][0], row[0][1], row[0][2], row[0][3])

    def write(self, sha256: str, extracted: Extracted) -> None:
        """Keep a text; one an older reader kept for the same file, or one damaged since, is replaced
        (the build that read the file again re-indexes its document)."""
        from psycopg.types.json import Jsonb

        table = f"{self.store.schema}.texts"
        replaced = ("format", "meta", "pages", "text", "reader", "text_sha256")
        self.store.query(f"INSERT INTO {table} (sha256, {', '.join(replaced)}) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                         "ON CONFLICT (sha256) DO UPDATE SET "
                         + ", ".join(f"{column} = EXCLUDED.{column}" for column in replaced)
                         + f" WHERE {table}.reader <> EXCLUDED.reader OR {table}.text <> EXCLUDED.text "
                         f"OR {table}.text_sha256 IS DISTINCT FROM EXCLUDED.text_sha256",
                         (sha256, extracted.format, Jsonb(extracted.meta), extracted.pages, extracted.text,
                          READER_VERSION, text_sha256(extracted.text)), fetch=False)


_POOLS: dict[str, Any] = {}  # conninfo -> ConnectionPool: a process-wide resource, like the connections it holds
_POOLS_LOCK = threading.Lock()


def _shared_pool(conninfo: str) -> Any:
    import atexit

    from pgvector.psycopg import register_vector
    from psycopg_pool import ConnectionPool

    with _POOLS_LOCK:
        if conninfo not in _POOLS:
            if not _POOLS:
                atexit.register(lambda: [pool.close() for pool in _POOLS.values()])
            _POOLS[conninfo] = ConnectionPool(
                conninfo, min_size=1, max_size=8, open=True, configure=register_vector,
                kwargs={"autocommit": True, "connect_timeout": 10, "application_name": "verbatim"})
        return _POOLS[conninfo]


class PgStore:
    """One collection in a PostgreSQL database (see app.store.postgres.schema for the tables)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conninfo, self.schema = split_url(url)
        self.location = redacted(url)
        self._checked = False
        self._pool: Any = None
        self._lock = threading.Lock()
        self._chunks: dict[int, Chunk] = {}  # passages loaded so far, by id: a new generation fetches only its new ones

    def connect(self) -> Any:
        """A new autocommit connection with the schema checked (created or migrated when needed)."""
        conn = connect(self.conninfo, self.location)
        if not self._checked:
            ensure_schema(conn, self.schema, self.location)
            self._checked = True
        from pgvector.psycopg import register_vector

        register_vector(conn)
        return conn

    @property
    def pool(self) -> Any:
        """Connections shared by the threads of this process (one pool per database, closed at exit)."""
        with self._lock:
            if self._pool is None:
                self.connect().close()  # fails early, with the message, when the database is unreachable
                self._pool = _shared_pool(self.conninfo)
            return self._pool

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Database errors as IndexStateError (503 through the web app), never a traceback: a server
        that does not answer, or a collection whose tables or rows cannot be read (a dropped table,
        a row that no longer fits its column)."""
        import psycopg

        try:
            yield
        except psycopg.OperationalError as exc:
            raise IndexStateError(f"the database {self.location} did not answer ({exc}); "
                                  "check that PostgreSQL runs there") from exc
        except psycopg.Error as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise IndexStateError(f"the index in {self.location} cannot be read ({type(exc).__name__}: {reason}); "
                                  f"run: verbatim --store {self.location} index --rebuild") from exc

    def query(self, sql: str, params: Any = None, fetch: bool = True) -> list[tuple[Any, ...]]:
        with self.reading(), self.pool.connection() as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if fetch else []

    def build(self, corpus_dir: Path, embedder: Embedder, settings: ChunkSettings, show_progress: bool,
              reuse: bool, only: frozenset[str] | None = None, multilingual: str | None = None) -> BuildReport:
        from app.store.postgres.build import sync

        return sync(self, corpus_dir, embedder, settings, show_progress, reuse, only, multilingual)

    def stale_reasons(self, corpus_dir: Path, spec: ModelSpec, settings: ChunkSettings) -> list[str]:
        """Only the models and the chunking: the database, not the corpus folder, is the collection."""
        manifest = self.read_manifest()
        if manifest is None:
            return ["no index has been built yet"]
        e5 = stale_reason(manifest.multilingual)
        return model_mismatch(manifest, spec, settings) + ([e5] if e5 else [])

    def reasons_to_build(self, corpus_dir: Path, spec: ModelSpec, settings: ChunkSettings) -> list[str]:
        manifest = self.read_manifest()
        if manifest is None:
            return ["no index has been built yet"]
        reasons = model_mismatch(manifest, spec, settings)
        if reasons:
            raise IndexStateError(f"the index in {self.location} does not fit this process: {'; '.join(reasons)}; "
                                  f"run: verbatim --store {self.location} index --rebuild (or set "
                                  "VERBATIM_BACKEND to the backend it was built with)")
        e5 = stale_reason(manifest.multilingual)
        if e5 is not None:  # `index` embeds the multilingual vectors again, MiniLM's are kept
            raise IndexStateError(f"the index in {self.location} does not fit this process: {e5}; "
                                  f"run: verbatim --store {self.location} index")
        return []

    def stamp(self) -> object:
        rows = self.query(f"SELECT generation FROM {self.schema}.state")
        return rows[0][0] if rows else None

    def read_manifest(self) -> Manifest | None:
        with self.reading(), self.pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return read_state(conn, self.schema)

    def load(self) -> PgIndex | None:
        """The current generation, read from one snapshot of the database."""
        with self.reading(), self.pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            manifest = read_state(conn, self.schema)
            if manifest is None:
                return None
            folder = self._lexical_folder(conn, manifest.generation)
            import numpy as np

            ids = np.load(folder / "ids.npy", allow_pickle=False)
            self._fetch_chunks(conn, ids, int(manifest.model.get("dimension", 0)))
            chunks = [self._chunks[int(i)] for i in ids]
            multilingual = e5_ranker(self, conn, manifest, ids, chunks, dense_depth(len(ids)))
        self._chunks = {int(i): chunk for i, chunk in zip(ids, chunks)}  # forget removed passages
        return PgIndex(manifest, chunks, LexicalIndex.load(folder), self, ids, multilingual)

    def _fetch_chunks(self, conn: Any, ids: Any, dimension: int) -> None:
        """Read the passages not yet held, each checked before it is ever served (see `_damaged_rows`)."""
        missing = [int(i) for i in ids if int(i) not in self._chunks]
        if not missing:
            return
        where = "" if len(missing) == len(ids) else " WHERE id = ANY(%s)"
        cursor = conn.execute(f"SELECT id, {PASSAGE_COLUMNS} FROM {self.schema}.passages{where}",
                              (missing,) if where else None)
        fetched = {row[0]: chunk_from(row[1:]) for row in cursor}
        absent = [i for i in missing if i not in fetched]
        if absent:
            raise IndexStateError(f"the index in {self.location} lists {len(absent)} passage(s) it does not hold; "
                                  f"run: verbatim --store {self.location} index --rebuild")
        self._check_texts(conn, sorted({chunk.doc_id for chunk in fetched.values()}))
        damaged = self._damaged_rows(conn, missing if where else None, dimension)
        damaged += [i for i, chunk in fetched.items() if not _spans_fit(chunk)]
        if damaged:
            first = fetched[min(damaged)]
            raise IndexStateError(f"{len(damaged)} passage(s) in {self.location} no longer match their document "
                                  f"(first: {first.doc_id}, characters {first.start}-{first.end}); nothing from "
                                  f"them is served; run: verbatim --store {self.location} index --rebuild")
        self._chunks.update(fetched)

    def _check_texts(self, conn: Any, doc_ids: list[str]) -> None:
        """IndexStateError when a document's kept text no longer hashes to its `text_sha256` (the
        database hashes it; only the names of damaged documents travel)."""
        damaged = [row[0] for row in conn.execute(
            f"SELECT d.doc_id FROM {self.schema}.documents d JOIN {self.schema}.texts t ON t.sha256 = d.sha256 "
            "WHERE d.doc_id = ANY(%s) AND t.text_sha256 IS NOT NULL "
            "AND encode(sha256(convert_to(t.text, 'UTF8')), 'hex') <> t.text_sha256", (doc_ids,))]
        if damaged:
            raise IndexStateError(f"the stored text of {len(damaged)} document(s) in {self.location} is damaged "
                                  f"(first: {min(damaged)}); nothing from them is served; "
                                  f"run: verbatim --store {self.location} index --rebuild")

    def _damaged_rows(self, conn: Any, ids: list[int] | None, dimension: int) -> list[int]:
        """Ids of passage rows that are not what the build wrote: a text that is not the exact slice
        of its document's stored text at its offsets, a document whose text is gone, or an embedding
        of another dimension. Compared inside the database (substr counts characters, as Python's
        offsets do), so only the damaged ids travel; `ids` None checks every row."""
        where = "" if ids is None else " AND p.id = ANY(%(ids)s)"
        rows = conn.execute(
            f"SELECT p.id FROM {self.schema}.passages p "
            f"LEFT JOIN {self.schema}.documents d ON d.doc_id = p.doc_id "
            f"LEFT JOIN {self.schema}.texts t ON t.sha256 = d.sha256 "
            "WHERE (t.text IS NULL OR p.start_offset < 0 OR p.end_offset < p.start_offset "
            "OR substr(t.text, p.start_offset + 1, p.end_offset - p.start_offset) IS DISTINCT FROM p.text "
            f"OR (%(dimension)s > 0 AND vector_dims(p.embedding) <> %(dimension)s)){where}",
            {"ids": ids, "dimension": dimension}).fetchall()
        return [int(row[0]) for row in rows]

    def _lexical_folder(self, conn: Any, generation: str) -> Path:
        """The generation's bm25s files, from the local cache or else fetched once from the database."""
        root = self._cache_root()
        folder = root / generation
        if not (folder / "ids.npy").is_file():
            root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=root))
            files = conn.execute(f"SELECT name, data FROM {self.schema}.lexical_files WHERE generation = %s",
                                 (generation,)).fetchall()
            for name, data in files:
                (staging / name).write_bytes(data)
            if not (staging / "ids.npy").is_file():
                shutil.rmtree(staging, ignore_errors=True)
                raise IndexStateError(f"the lexical index of generation {generation} is missing from "
                                      f"{self.location}; run: verbatim --store {self.location} index --rebuild")
            try:
                os.rename(staging, folder)
            except OSError:  # another process of this machine cached it first
                shutil.rmtree(staging, ignore_errors=True)
        for old in root.iterdir():  # earlier generations (a process still mapping one keeps its inode)
            if old.name != generation and not old.name.startswith(".fetch-"):
                shutil.rmtree(old, ignore_errors=True)
        return folder

    def text_cache(self) -> TextCache:
        return DatabaseTexts(self)

    def held_documents(self) -> list[DocumentRecord] | None:
        manifest = self.read_manifest()
        return manifest.documents if manifest is not None else []

    def self_checks(self) -> dict[str, dict[str, Any]]:
        rows = self.query(f"SELECT doc_id, result FROM {self.schema}.self_checks")
        return {str(doc_id): result for doc_id, result in rows}

    def keep_self_checks(self, results: dict[str, dict[str, Any]]) -> None:
        from psycopg.types.json import Jsonb

        with self.reading(), self.pool.connection() as conn, conn.transaction():
            for doc_id, result in results.items():
                conn.execute(f"INSERT INTO {self.schema}.self_checks (doc_id, result) VALUES (%s, %s) "
                             "ON CONFLICT (doc_id) DO UPDATE SET result = excluded.result", (doc_id, Jsonb(result)))

    def cli_args(self) -> list[str]:
        return ["--store", self.url]

    def size_mib(self) -> float:
        rows = self.query("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n "
                          "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')", (self.schema,))
        return round(int(rows[0][0]) / 2**20, 1)

    def discard(self) -> None:
        self.query(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE", fetch=False)
        shutil.rmtree(self._cache_root(), ignore_errors=True)

    def _cache_root(self) -> Path:
        """Where this collection's bm25s files are cached ($VERBATIM_CACHE, default ~/.cache/verbatim)."""
        base = os.environ.get("VERBATIM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "verbatim")
        return Path(base) / "pg" / cache_key(self.conninfo, self.schema)

    def server_pid(self) -> int | None:
        """The PostgreSQL server's main process id when it runs on this machine (for CPU and
        memory figures): the parent of this connection's backend, when that is a postgres process."""
        import psutil

        backend = int(self.query("SELECT pg_backend_pid()")[0][0])
        try:
            parent = psutil.Process(backend).parent()
        except psutil.Error:
            return None
        return parent.pid if parent is not None and "postgres" in parent.name() else None

    def beside(self, folder: Path, name: str) -> PgStore:
        from app.store.postgres.schema import collection_name, with_schema

        return PgStore(with_schema(self.conninfo, collection_name(name)))


def _spans_fit(chunk: Chunk) -> bool:
    """Whether a passage's sentence spans lie, in order, inside the passage."""
    edge = chunk.start
    for start, end in chunk.sentences:
        if not edge <= start <= end <= chunk.end:
            return False
        edge = end
    return True

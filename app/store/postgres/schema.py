"""The database store's connection and schema: created and migrated by the app, versioned.

One collection lives in one PostgreSQL schema (default `verbatim`; `?schema=NAME` on the URL
picks another, so one database can hold several collections):

    schema_version    the version of this layout (SCHEMA_VERSION); migrations run in order
    state             one row: the current generation, model, chunking, unreadable files, vector index,
                      and the multilingual ranker's setting and model (as the folder manifest's entry)
    documents         one row per document: its citation metadata and the sha256 of its file
    texts             each document's canonical text and own metadata, by the file's sha256, with
                      the reader version that extracted it and the text's own sha256
    passages          offsets, section, paragraphs, labels, pages, sentence spans, the text and
                      the passage vector (pgvector, HNSW index); rows kept small (inline, 4 kB)
    sentence_vectors  each passage's sentences' float16 vectors (for highlighting), out of line
    e5_vectors        the multilingual ranker's: each passage's e5 vector and its sentences' (float16),
                      one row per passage while the ranker is on (app.store.postgres.e5)
    lexical_files     the bm25s index files of each generation (replicas cache them locally)
    lexical_terms     each passage's BM25 terms and the analysis that made them (a build analyses
                      only the passages that lack them)
    partial_vectors   vectors of an unfinished build, so that an interrupted build resumes

Connection problems and a missing pgvector extension become `IndexStateError`s that say
what to run.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from app.errors import IndexSchemaError, IndexStateError, UsageError
from app.passages.chunk import Chunk
from app.store.folder import DocumentRecord, Manifest

SCHEMA_VERSION = 6
DEFAULT_SCHEMA = "verbatim"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

MIGRATIONS = {  # version -> statements that bring the previous version to it
    1: """
CREATE TABLE {s}.schema_version (version integer NOT NULL);
CREATE TABLE {s}.state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation text NOT NULL, built_at text NOT NULL, model jsonb NOT NULL, chunking jsonb NOT NULL,
    failures jsonb NOT NULL, vectors jsonb NOT NULL);
CREATE TABLE {s}.texts (
    sha256 text PRIMARY KEY, format text NOT NULL, meta jsonb NOT NULL, pages integer, text text NOT NULL);
CREATE TABLE {s}.documents (
    doc_id text PRIMARY KEY, path text NOT NULL, sha256 text NOT NULL, format text NOT NULL,
    title text NOT NULL, date text, venue text, topic text, language text, source text,
    chunks integer NOT NULL, source_url text, symbol text, pages integer, meta_sha256 text NOT NULL);
CREATE TABLE {s}.passages (
    id bigserial PRIMARY KEY,
    doc_id text NOT NULL REFERENCES {s}.documents (doc_id),
    start_offset integer NOT NULL, end_offset integer NOT NULL, text text NOT NULL,
    section text, section_number integer NOT NULL, paragraphs integer[] NOT NULL, page integer,
    sentences integer[] NOT NULL, heading text, labels text[] NOT NULL,
    embedding vector NOT NULL) WITH (toast_tuple_target = 4080);
CREATE INDEX passages_doc_id ON {s}.passages (doc_id);
CREATE TABLE {s}.sentence_vectors (
    passage_id bigint PRIMARY KEY REFERENCES {s}.passages (id) ON DELETE CASCADE, data bytea NOT NULL);
ALTER TABLE {s}.sentence_vectors ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE {s}.lexical_files (
    generation text NOT NULL, name text NOT NULL, data bytea NOT NULL, PRIMARY KEY (generation, name));
CREATE TABLE {s}.partial_vectors (key text PRIMARY KEY, data bytea NOT NULL);
INSERT INTO {s}.schema_version VALUES (0);
""",
    # 2: a long table's header row repeated for the pieces after its first (Chunk.table_header), and the
    # reader version a kept text was extracted with (app.documents.formats.READER_VERSION; 1 before it was kept).
    2: """
ALTER TABLE {s}.passages ADD COLUMN table_header text NOT NULL DEFAULT '';
ALTER TABLE {s}.texts ADD COLUMN reader integer NOT NULL DEFAULT 1;
""",
    # 3: the sha256 of each kept text (app.store.folder.text_sha256), so that a damaged text is read
    # again from its file by the build and never served (NULL: kept before; the build re-reads it).
    3: """
ALTER TABLE {s}.texts ADD COLUMN text_sha256 text;
""",
    # 4: the last self-check result of each document (`verbatim eval --self-check`, app.evaluation.selfcheck).
    4: """
CREATE TABLE {s}.self_checks (doc_id text PRIMARY KEY, result jsonb NOT NULL);
""",
    # 5: the multilingual ranker (app.store.multilingual): each passage's multilingual-e5-small vector
    # (384 dimensions) and its sentences' float16 e5 vectors in a table of their own (rows only while the
    # ranker is on: turning it on inserts, it never rewrites the passages' rows or MiniLM's graph), and the
    # collection's setting with the e5 model in `state` ({"setting": on|off|auto, "model": ModelSpec or
    # null}). A database from before has no e5 vectors: "auto", off until its next `index`, as an older folder.
    5: """
CREATE TABLE {s}.e5_vectors (
    passage_id bigint PRIMARY KEY REFERENCES {s}.passages (id) ON DELETE CASCADE,
    embedding vector(384) NOT NULL, sentences bytea NOT NULL);
ALTER TABLE {s}.e5_vectors ALTER COLUMN sentences SET STORAGE EXTERNAL;
ALTER TABLE {s}.state ADD COLUMN multilingual jsonb NOT NULL DEFAULT '{{"setting": "auto", "model": null}}';
""",
    # 6: each passage's BM25 terms as the build analysed them (app.store.bm25.passage_terms), with the
    # analysis they came from (app.store.terms.analysis_key), so that a build analyses only its new passages:
    # at the whole General Debate analysis was 75 of the 122 s an `add` spent on BM25. A database from before
    # has no rows here: its next build analyses every passage once and keeps the terms.
    6: """
CREATE TABLE {s}.lexical_terms (
    passage_id bigint PRIMARY KEY REFERENCES {s}.passages (id) ON DELETE CASCADE,
    analysis text NOT NULL, terms text[] NOT NULL);
""",
}


def split_url(url: str) -> tuple[str, str]:
    """The libpq URL without our own `schema` parameter, and the schema it names."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), DEFAULT_SCHEMA)
    if not _NAME.fullmatch(schema):
        raise UsageError(f"schema={schema!r} in the store URL: use lower-case letters, digits and '_'")
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def with_schema(conninfo: str, schema: str) -> str:
    """The URL of another collection (schema) in the same database."""
    parts = urlsplit(conninfo)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "schema"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("schema", schema)])))


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def connect(conninfo: str, location: str) -> Any:
    """An autocommit connection; IndexStateError naming the server when it cannot be reached."""
    import psycopg

    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=10, application_name="verbatim")
    except psycopg.OperationalError as exc:
        detail = " ".join(str(exc).split())[:300]
        raise IndexStateError(
            f"cannot reach the database {location} ({detail}); check that PostgreSQL runs there and "
            "the URL's user, host, port and database are right (for a local server to try: "
            "python -m app.store.postgres.server start DIR --port 5433)") from exc


def ensure_schema(conn: Any, schema: str, location: str) -> None:
    """Create or migrate the collection's tables; refuse a layout newer than this code's."""
    version = _version(conn, schema)
    if version == SCHEMA_VERSION:
        return
    if version is not None and version > SCHEMA_VERSION:
        raise IndexSchemaError(f"the index in {location} has schema version {version}, newer than this "
                               f"Verbatim's {SCHEMA_VERSION}; upgrade Verbatim")
    if _read_only(conn):
        what = "holds no Verbatim index" if version is None else f"has the older schema version {version}"
        raise IndexStateError(f"the database {location} {what} and is read-only (a standby?); run "
                              "`verbatim --store PRIMARY_URL index` against the primary first")
    ensure_extension(conn, location)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"verbatim-schema:{schema}",))
        version = _version(conn, schema)  # another process may have migrated meanwhile
        if version is None:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for step in range((version or 0) + 1, SCHEMA_VERSION + 1):
            conn.execute(MIGRATIONS[step].format(s=schema))
        conn.execute(f"UPDATE {schema}.schema_version SET version = %s", (SCHEMA_VERSION,))


def _version(conn: Any, schema: str) -> int | None:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.schema_version",)).fetchone()
    if not row[0]:
        return None
    found = conn.execute(f"SELECT version FROM {schema}.schema_version").fetchone()
    return int(found[0]) if found else None


def _read_only(conn: Any) -> bool:
    row = conn.execute("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'").fetchone()
    return bool(row[0])


def ensure_extension(conn: Any, location: str) -> None:
    """pgvector in this database, created when the user may; else an error saying what to run."""
    import psycopg

    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        return
    if not conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone():
        raise IndexStateError(
            f"PostgreSQL at {location} has no pgvector extension installed; install pgvector 0.8 on the "
            "database server (e.g. apt install postgresql-18-pgvector, or use a managed PostgreSQL that "
            "offers it), then run in that database as a superuser: CREATE EXTENSION vector;")
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.errors.InsufficientPrivilege as exc:
        raise IndexStateError(
            f"the database {location} lacks the pgvector extension and this user may not create it; "
            "ask its owner to run in that database: CREATE EXTENSION vector;") from exc


def writer_lock_key(schema: str) -> str:
    """The advisory lock a build of this collection holds from planning to commit."""
    return f"verbatim-build:{schema}"


# How rows map to values: a passage's columns (besides id and embedding), a document's fields.
PASSAGE_COLUMNS = ("doc_id, start_offset, end_offset, text, section, section_number, paragraphs, page, "
                   "sentences, heading, labels, table_header")
DOCUMENT_FIELDS = ("doc_id", "path", "sha256", "format", "title", "date", "venue", "topic", "language", "source",
                   "chunks", "source_url", "symbol", "pages", "meta_sha256")


def chunk_values(chunk: Chunk) -> tuple[Any, ...]:
    """A passage as the `passages` columns of PASSAGE_COLUMNS."""
    return (chunk.doc_id, chunk.start, chunk.end, chunk.text, chunk.section, chunk.section_number,
            list(chunk.paragraphs), chunk.page, [offset for span in chunk.sentences for offset in span],
            chunk.heading, list(chunk.labels), chunk.table_header)


def chunk_from(row: tuple[Any, ...]) -> Chunk:
    """The inverse of `chunk_values`."""
    doc_id, start, end, text, section, number, paragraphs, page, sentences, heading, labels, table_header = row
    spans = tuple(zip(sentences[0::2], sentences[1::2]))
    return Chunk(doc_id, start, end, text, section, number, tuple(paragraphs), page, spans, heading, tuple(labels),
                 table_header)


def manifest_from(state: tuple[Any, ...], documents: list[tuple[Any, ...]]) -> Manifest:
    generation, built_at, model, chunking, failures, vectors, multilingual = state
    records = [DocumentRecord(**dict(zip(DOCUMENT_FIELDS, row))) for row in documents]
    return Manifest(SCHEMA_VERSION, generation, built_at, model, chunking, records, {}, failures, vectors,
                    multilingual=multilingual)


def read_state(conn: Any, schema: str) -> Manifest | None:
    """The current generation's description, read in the caller's transaction."""
    state = conn.execute(f"SELECT generation, built_at, model, chunking, failures, vectors, multilingual "
                         f"FROM {schema}.state").fetchone()
    if state is None:
        return None
    documents = conn.execute(f"SELECT {', '.join(DOCUMENT_FIELDS)} FROM {schema}.documents "
                             'ORDER BY path COLLATE "C"').fetchall()
    return manifest_from(state, documents)


def collection_name(text: str) -> str:
    """A name fit for a PostgreSQL schema (lower-case letters, digits, '_'), from any text."""
    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
    return (name if name[:1].isalpha() else f"c_{name}")[:63]

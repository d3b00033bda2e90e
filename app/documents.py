"""Read stage: the corpus folder's files become `Document` values with their metadata.

Reading has two steps so that re-syncing a large corpus stays cheap:

* `scan_corpus` lists the files with their content hash and sidecar metadata (fast:
  bytes are hashed, never parsed);
* `make_document` turns a file's extracted canonical text (see `app.formats`) and its
  metadata into a `Document`; only new or changed files need extracting.

Metadata, strongest first: the sidecar `NAME.meta.json` (a maintainer's corrections,
also written by `verbatim add --title ...`), then the file's own metadata (front matter,
PDF/DOCX/HTML properties), then what the text shows (first heading, a UN document symbol).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from app.errors import CorpusError
from app.formats import DEFAULT_MAX_MB, FORMATS, Extracted, extract

META_SUFFIX = ".meta.json"
META_FIELDS = ("title", "date", "venue", "topic", "language", "source", "source_url", "symbol")
# A UN document symbol such as CAT/C/KAZ/CO/4, A/HRC/52/1 or CAT/C/SR.1990, near the top of a document.
_SYMBOL = re.compile(r"(?<![\w/])[A-Z]{1,6}(?:/[A-Z0-9]+(?:\.[A-Z0-9]+)*){2,}(?![\w/])")
SYMBOL_SEARCH_CHARS = 1500


@dataclass(frozen=True)
class Document:
    """One source document: its canonical text and what we know about it."""

    doc_id: str
    path: str  # file name relative to the corpus folder
    text: str  # canonical text: what the format reader yielded; all offsets point into it
    sha256: str  # of the file's bytes
    format: str
    title: str
    date: str | None = None
    venue: str | None = None
    topic: str | None = None
    language: str | None = None
    source: str | None = None
    source_url: str | None = None
    symbol: str | None = None  # a UN document symbol, e.g. CAT/C/KAZ/CO/4
    pages: int | None = None


@dataclass(frozen=True)
class CorpusFile:
    """A file of the corpus folder as scanned: name, content hash and sidecar metadata."""

    path: Path
    sha256: str
    meta: dict[str, object]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def doc_id(self) -> str:
        return doc_id_for(self.path.name)


def doc_id_for(file_name: str) -> str:
    """A stable, readable id from the file name: lower case, words joined by '-'."""
    stem = file_name
    for suffix in FORMATS:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return slug or "document"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def max_file_bytes() -> int:
    """The size limit for one document: VERBATIM_MAX_FILE_MB, default 50 MB."""
    raw = os.environ.get("VERBATIM_MAX_FILE_MB", "")
    try:
        megabytes = float(raw) if raw else DEFAULT_MAX_MB
    except ValueError:
        raise CorpusError(f"VERBATIM_MAX_FILE_MB must be a number of megabytes; got {raw!r}") from None
    return int(megabytes * 1024 * 1024)


def detect_symbol(text: str) -> str | None:
    match = _SYMBOL.search(text[:SYMBOL_SEARCH_CHARS])
    return match.group() if match else None


def make_document(file_name: str, sha256: str, extracted: Extracted, meta: dict[str, object]) -> Document:
    """Pure core of reading: canonical text and metadata in, a `Document` out."""
    fields: dict[str, str | None] = {}
    for key in META_FIELDS:
        given = _meta_str(file_name, meta, key)
        fields[key] = given if given is not None else (extracted.meta.get(key) or None)
    if fields["symbol"] is None:
        fields["symbol"] = detect_symbol(extracted.text)
    title = fields.pop("title") or Path(file_name).stem
    return Document(
        doc_id=doc_id_for(file_name), path=file_name, text=extracted.text, sha256=sha256,
        format=extracted.format, title=title, pages=extracted.pages, **fields,
    )


def parse_document(file_name: str, data: bytes, meta: dict[str, object], max_bytes: int | None = None) -> Document:
    """Bytes and metadata in, a `Document` out (extracting the text)."""
    return make_document(file_name, sha256_bytes(data), extract(file_name, data, max_bytes), meta)


def _meta_str(file_name: str, meta: dict[str, object], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CorpusError(f"{file_name}{META_SUFFIX}: {key!r} must be a string, got {value!r}")
    return value.strip() or None


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The document files of a corpus folder, sorted by name; sidecars and hidden files skipped."""
    if not corpus_dir.exists():
        raise CorpusError(
            f"corpus folder {corpus_dir} does not exist; pass --corpus DIR "
            "(or set VERBATIM_CORPUS) to a folder of documents"
        )
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus path {corpus_dir} is not a folder")
    return [
        path
        for path in sorted(corpus_dir.iterdir())
        if path.is_file()
        and not path.name.startswith(".")
        and not path.name.endswith(META_SUFFIX)
        and path.name.lower() != "readme.md"
    ]


def read_sidecar(path: Path) -> dict[str, object]:
    """The metadata sidecar of a document file, or {} when there is none."""
    meta_path = path.with_name(path.name + META_SUFFIX)
    if not meta_path.exists():
        return {}
    try:
        loaded = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{meta_path.name}: not valid JSON ({exc})") from exc
    if not isinstance(loaded, dict):
        raise CorpusError(f"{meta_path.name}: must hold a JSON object of metadata fields")
    return loaded


def scan_corpus(corpus_dir: Path) -> list[CorpusFile]:
    """Every document file with its hash and sidecar; fails on two files mapping to one id."""
    scanned = []
    seen: dict[str, str] = {}
    for path in corpus_files(corpus_dir):
        entry = CorpusFile(path, sha256_bytes(path.read_bytes()), read_sidecar(path))
        if entry.doc_id in seen:
            raise CorpusError(
                f"{path.name} and {seen[entry.doc_id]} map to the same document id {entry.doc_id!r}; rename one"
            )
        seen[entry.doc_id] = path.name
        scanned.append(entry)
    return scanned


def read_document(path: Path) -> Document:
    """I/O shell: read a file and its sidecar, then extract and parse."""
    return parse_document(path.name, path.read_bytes(), read_sidecar(path), max_file_bytes())


def read_corpus(corpus_dir: Path) -> list[Document]:
    """Every document of the corpus folder; fails naming the first unreadable file."""
    scan_corpus(corpus_dir)  # refuses id clashes and bad sidecars first
    documents = [read_document(path) for path in corpus_files(corpus_dir)]
    if not documents:
        raise CorpusError(f"corpus folder {corpus_dir} holds no documents; add documents with: verbatim add FILE")
    return documents

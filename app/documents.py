"""Read stage: the corpus folder's files become `Document` values with their metadata.

A document is one text file (`.md`, `.markdown` or `.txt`) in the corpus folder. Its
metadata lives beside it in a sidecar `NAME.meta.json`, so the document itself stays
byte for byte as published. The text is decoded as UTF-8 and never altered: every
offset in the index points into exactly this string.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from app.errors import CorpusError

TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text"}
META_SUFFIX = ".meta.json"
META_FIELDS = ("title", "date", "venue", "topic", "language", "source")


@dataclass(frozen=True)
class Document:
    """One source document: its canonical text and what we know about it."""

    doc_id: str
    path: str  # file name relative to the corpus folder
    text: str
    sha256: str
    format: str
    title: str
    date: str | None = None
    venue: str | None = None
    topic: str | None = None
    language: str | None = None
    source: str | None = None


def doc_id_for(file_name: str) -> str:
    """A stable, readable id from the file name: lower case, words joined by '-'."""
    stem = file_name
    for suffix in TEXT_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return slug or "document"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_document(file_name: str, data: bytes, meta: dict[str, object]) -> Document:
    """Pure core of reading: bytes and metadata in, a `Document` out."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        accepted = ", ".join(sorted(TEXT_SUFFIXES))
        raise CorpusError(f"{file_name}: unsupported file type {suffix!r}; accepted: {accepted}")
    if b"\x00" in data:
        raise CorpusError(f"{file_name}: looks like a binary file (it contains NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{file_name}: not valid UTF-8 (byte {exc.start}); save it as UTF-8 and try again"
        ) from exc
    if not text.strip():
        raise CorpusError(f"{file_name}: the document is empty")
    fields = {key: _meta_str(file_name, meta, key) for key in META_FIELDS}
    title = fields.pop("title") or _title_from_text(text) or Path(file_name).stem
    return Document(
        doc_id=doc_id_for(file_name),
        path=file_name,
        text=text,
        sha256=sha256_bytes(data),
        format=TEXT_SUFFIXES[suffix],
        title=title,
        **fields,
    )


def _meta_str(file_name: str, meta: dict[str, object], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CorpusError(f"{file_name}{META_SUFFIX}: {key!r} must be a string, got {value!r}")
    return value.strip() or None


def _title_from_text(text: str) -> str | None:
    match = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else None


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The document files of a corpus folder, sorted by name; sidecars and hidden files skipped."""
    if not corpus_dir.exists():
        raise CorpusError(
            f"corpus folder {corpus_dir} does not exist; pass --corpus DIR "
            "(or set VERBATIM_CORPUS) to a folder of .md or .txt documents"
        )
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus path {corpus_dir} is not a folder")
    files = [
        path
        for path in sorted(corpus_dir.iterdir())
        if path.is_file()
        and not path.name.startswith(".")
        and not path.name.endswith(META_SUFFIX)
        and path.name.lower() != "readme.md"
    ]
    return files


def read_document(path: Path) -> Document:
    """I/O shell: read a file and its sidecar, then parse."""
    meta_path = path.with_name(path.name + META_SUFFIX)
    meta: dict[str, object] = {}
    if meta_path.exists():
        try:
            loaded = json.loads(meta_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorpusError(f"{meta_path.name}: not valid JSON ({exc})") from exc
        if not isinstance(loaded, dict):
            raise CorpusError(f"{meta_path.name}: must hold a JSON object of metadata fields")
        meta = loaded
    return parse_document(path.name, path.read_bytes(), meta)


def read_corpus(corpus_dir: Path) -> list[Document]:
    """Every document of the corpus folder; fails naming the first unreadable file."""
    documents = [read_document(path) for path in corpus_files(corpus_dir)]
    if not documents:
        raise CorpusError(
            f"corpus folder {corpus_dir} holds no documents; add .md or .txt files to it"
        )
    seen: dict[str, str] = {}
    for doc in documents:
        if doc.doc_id in seen:
            raise CorpusError(
                f"{doc.path} and {seen[doc.doc_id]} map to the same document id {doc.doc_id!r}; rename one"
            )
        seen[doc.doc_id] = doc.path
    return documents

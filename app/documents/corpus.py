"""Read stage: the corpus folder's files become `Document` values with their metadata.

Reading has two steps so that re-syncing a large corpus stays cheap:

* `scan_corpus` lists the files with their content hash and sidecar metadata (fast:
  bytes are hashed, never parsed);
* `make_document` turns a file's extracted canonical text (see `app.documents.formats`) and its
  metadata into a `Document`; only new or changed files need extracting.

Metadata, strongest first: the sidecar `NAME.meta.json` (a maintainer's corrections,
also written by `verbatim add --title ...`), then the file's own metadata (front matter,
PDF/DOCX/HTML properties, producers' placeholders ignored: see `app.documents.metadata`), then what
the text shows: the title from the first heading, else the first line if it reads as a
title, else the file name; the date its header states; a UN document symbol; the
language it is written in (py3langid). Without any of these a document has no date.

A document's id is a slug of its file name ("2023-05-02 CAT Speech.md" -> "2023-05-02-cat-speech").
Files whose names differ only by format ("report.md", "report.pdf") are told apart by
the format of all but the first ("report", "report-pdf"); `verbatim add` records such an
id in the newcomer's sidecar ("id"), so it never moves to another file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from app.documents.formats import DEFAULT_MAX_MB, FORMATS, Extracted, extract
from app.documents.language import document_language
from app.documents.metadata import date_in_text, first_heading, first_line, is_placeholder_title, running_title
from app.documents.text import markup_for
from app.errors import CorpusError

META_SUFFIX = ".meta.json"
META_FIELDS = ("title", "date", "venue", "topic", "language", "source", "source_url", "symbol")
ID_FIELD = "id"  # a sidecar's fixed document id (written by `verbatim add` when names clash)
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
    """A file of the corpus folder as scanned: name, content hash, sidecar metadata and document id."""

    path: Path
    sha256: str
    meta: dict[str, object]
    doc_id: str = ""  # "" until assigned: the slug of the file name

    def __post_init__(self) -> None:
        if not self.doc_id:
            object.__setattr__(self, "doc_id", doc_id_for(self.path.name))

    @property
    def name(self) -> str:
        return self.path.name


def doc_id_for(file_name: str) -> str:
    """A stable, readable id from the file name: lower case, words joined by '-'."""
    stem = file_name
    for suffix in FORMATS:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return slug or "document"


def distinct_id(file_name: str, taken: set[str]) -> str:
    """An id for `file_name` that none of `taken` has: its slug, else the slug and its format
    ("report-pdf"), else that with a counter ("report-pdf-2")."""
    slug = doc_id_for(file_name)
    if slug not in taken:
        return slug
    suffix = Path(file_name).suffix.lower().lstrip(".")
    candidate = f"{slug}-{suffix}" if suffix else slug
    count = 1
    while candidate in taken:
        count += 1
        candidate = f"{slug}-{suffix}-{count}" if suffix else f"{slug}-{count}"
    return candidate


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


def make_document(
    file_name: str, sha256: str, extracted: Extracted, meta: dict[str, object], doc_id: str | None = None
) -> Document:
    """Pure core of reading: canonical text and metadata in, a `Document` out."""
    fields: dict[str, str | None] = {}
    for key in META_FIELDS:
        given = _meta_str(file_name, meta, key)
        fields[key] = given if given is not None else (extracted.meta.get(key) or None)
    text = extracted.text
    if fields["symbol"] is None:
        fields["symbol"] = detect_symbol(text) or detect_symbol(extracted.meta.get("running_heads", ""))
    if fields["date"] is None:
        fields["date"] = date_in_text(text)
    if fields["language"] is None:
        fields["language"] = document_language(text)
    given_title = _meta_str(file_name, meta, "title")
    title = given_title or _title(file_name, fields.pop("title"), extracted)
    fields.pop("title", None)
    return Document(
        doc_id=doc_id or _meta_str(file_name, meta, ID_FIELD) or doc_id_for(file_name), path=file_name,
        text=text, sha256=sha256, format=extracted.format, title=title, pages=extracted.pages, **fields,
    )


def _title(file_name: str, found: str | None, extracted: Extracted) -> str:
    """The file's own title unless it is a placeholder, else the first heading (in a PDF, the first
    page's largest text), else the first line when it reads as a title, else a running head
    without a number, else the file name."""
    heading = first_heading(extracted.text) if markup_for(extracted.format) != "plain" else None
    running = running_title(extracted.meta.get("running_heads", ""))
    for candidate in (found, heading, extracted.meta.get("first_heading"), first_line(extracted.text), running):
        if candidate and not is_placeholder_title(candidate, file_name):
            return " ".join(candidate.split())
    return Path(file_name).stem


def parse_document(file_name: str, data: bytes, meta: dict[str, object], max_bytes: int | None = None) -> Document:
    """Bytes and metadata in, a `Document` out (extracting the text)."""
    return make_document(file_name, sha256_bytes(data), extract(file_name, data, max_bytes), meta)


def iso_date(value: str) -> str:
    """`value` when it is an ISO 8601 calendar date (2023-05-02, or 2023-05 or 2023 when only that is
    known); ValueError naming the expected form otherwise ("next tuesday", "5/4/2021")."""
    import datetime

    text = value.strip()
    forms = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d"}
    try:
        datetime.datetime.strptime(text, forms[len(text)])
    except (KeyError, ValueError):
        raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD (e.g. 2023-05-02), "
                         "or YYYY-MM or YYYY when only that is known") from None
    return text


def _meta_str(file_name: str, meta: dict[str, object], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CorpusError(f"{file_name}{META_SUFFIX}: {key!r} must be a string, got {value!r}")
    if key == "date" and value.strip():
        try:
            return iso_date(value)
        except ValueError as exc:
            raise CorpusError(f"{file_name}{META_SUFFIX}: 'date': {exc}") from None
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
    """Every document file with its hash, sidecar and id. Ids fixed in sidecars are kept; the
    other files take their slug in name order, a later file whose slug is taken its format too."""
    paths = corpus_files(corpus_dir)
    sidecars = {path: read_sidecar(path) for path in paths}
    fixed: dict[str, str] = {}
    for path, meta in sidecars.items():
        given = _meta_str(path.name, meta, ID_FIELD)
        if given is None:
            continue
        if given in fixed:
            raise CorpusError(f"{path.name}{META_SUFFIX} and {fixed[given]}{META_SUFFIX} both fix the document "
                              f"id {given!r}; change one")
        fixed[given] = path.name
    taken = set(fixed)
    scanned = []
    for path in paths:
        doc_id = _meta_str(path.name, sidecars[path], ID_FIELD) or distinct_id(path.name, taken)
        taken.add(doc_id)
        scanned.append(CorpusFile(path, sha256_bytes(path.read_bytes()), sidecars[path], doc_id))
    return scanned


def read_document(path: Path, doc_id: str | None = None) -> Document:
    """I/O shell: read a file and its sidecar, then extract and parse."""
    data = path.read_bytes()
    return make_document(path.name, sha256_bytes(data), extract(path.name, data, max_file_bytes()),
                         read_sidecar(path), doc_id)


def read_corpus(corpus_dir: Path) -> list[Document]:
    """Every document of the corpus folder; fails naming the first unreadable file."""
    entries = scan_corpus(corpus_dir)  # refuses bad sidecars first
    documents = [read_document(entry.path, entry.doc_id) for entry in entries]
    if not documents:
        raise CorpusError(f"corpus folder {corpus_dir} holds no documents; add documents with: verbatim add FILE")
    return documents

"""Maintainers' operations on the collection: add documents to the corpus, take them out.

`add_files` checks every file before anything is copied: a file that cannot be read
(wrong format, no text layer, encrypted, too large, ...) is reported and never enters
`corpus/`, while the other files of the same call go in. Copies are atomic (temp file,
fsync, rename), so a killed `add` leaves either no file or the whole file. The index is
then brought in line by the ordinary incremental build, which embeds only what is new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.documents import (
    META_FIELDS,
    META_SUFFIX,
    doc_id_for,
    max_file_bytes,
    read_sidecar,
    scan_corpus,
    sha256_bytes,
)
from app.errors import CorpusError, UsageError
from app.formats import FORMATS, extract
from app.store import DocumentRecord, write_atomic
from app.stores import TextCache


@dataclass
class AddOutcome:
    added: list[str] = field(default_factory=list)  # document ids copied into the corpus
    skipped: list[str] = field(default_factory=list)  # messages: already there
    failed: list[str] = field(default_factory=list)  # messages: file and reason


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given; a folder stands for its supported files (not recursive)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FORMATS
                            and not p.name.startswith("."))
        else:
            files.append(path)
    return files


def add_files(
    corpus_dir: Path, texts: TextCache, paths: list[Path], meta: dict[str, str], replace: bool = False,
    indexed: list[DocumentRecord] | None = None,
) -> AddOutcome:
    """Check and copy documents into the corpus folder (the caller then syncs the index).

    `texts` keeps each file's extracted text so that the build does not read it again;
    `indexed`: documents the index holds besides the corpus folder's (a shared database's),
    which a file must not duplicate or silently replace either."""
    unknown = sorted(set(meta) - set(META_FIELDS))
    if unknown:
        raise UsageError(f"unknown metadata field {unknown[0]!r}; accepted: {', '.join(META_FIELDS)}")
    files = expand_paths(paths)
    if not files:
        raise UsageError("no files to add; give document files (.md, .txt, .pdf, .html, .docx) or folders")
    if "title" in meta and len(files) > 1:
        raise UsageError(f"--title names one document but {len(files)} files were given; add them one at a time")
    corpus_dir.mkdir(parents=True, exist_ok=True)
    existing = {doc.sha256: _Held(doc.doc_id, doc.path) for doc in indexed or []}
    existing |= {entry.sha256: _Held(entry.doc_id, entry.name) for entry in scan_corpus(corpus_dir)}
    by_id = {held.doc_id: held for held in existing.values()}
    outcome = AddOutcome()
    limit = max_file_bytes()
    for path in files:
        try:
            data = _read(path)
            digest = sha256_bytes(data)
            if digest in existing:
                outcome.skipped.append(f"{path}: already in the corpus as {existing[digest].doc_id}; skipped")
                continue
            doc_id = doc_id_for(path.name)
            clash = by_id.get(doc_id)
            if clash is not None and not (replace and clash.name == path.name):
                what = "a different version of it" if clash.name == path.name else clash.name
                raise CorpusError(
                    f"{path.name}: the corpus already holds {what} as document {doc_id}; "
                    + ("pass --replace to update it" if clash.name == path.name else "rename the file")
                )
            extracted = extract(path.name, data, limit)  # refuses unreadable documents before copying
        except CorpusError as exc:
            outcome.failed.append(str(exc))
            continue
        texts.write(digest, extracted)  # so the build does not extract it again
        if meta:
            sidecar = corpus_dir / (path.name + META_SUFFIX)
            write_atomic(sidecar, _json({**read_sidecar(corpus_dir / path.name), **meta}))
        write_atomic(corpus_dir / path.name, data)
        existing[digest] = by_id[doc_id] = _Held(doc_id, path.name)
        outcome.added.append(doc_id)
    return outcome


@dataclass(frozen=True)
class _Held:
    """A document already in the collection: its id and file name."""

    doc_id: str
    name: str


def _read(path: Path) -> bytes:
    if not path.exists():
        raise CorpusError(f"{path}: no such file")
    if not path.is_file():
        raise CorpusError(f"{path}: not a regular file")
    limit = max_file_bytes()
    size = path.stat().st_size
    if size > limit:
        raise CorpusError(
            f"{path.name}: {size / 1048576:.1f} MB is over the size limit of {limit / 1048576:.0f} MB "
            "(set VERBATIM_MAX_FILE_MB to raise it)"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def _json(data: dict[str, object]) -> bytes:
    import json

    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def remove_document(corpus_dir: Path, doc_id: str, indexed: list[DocumentRecord] | None = None) -> str | None:
    """Delete a document's file and sidecar from the corpus folder; returns the file name.

    `indexed`: documents the index holds besides the folder's (a shared database's); one of
    those that is not in this folder is accepted, and None is returned."""
    entries = {entry.doc_id: entry for entry in scan_corpus(corpus_dir)}
    entry = entries.get(doc_id)
    if entry is None:
        held = {doc.doc_id for doc in indexed or []}
        if doc_id in held:
            return None
        known = ", ".join(sorted(held | entries.keys())) or "(none)"
        where = "the collection" if indexed is not None else str(corpus_dir)
        raise UsageError(f"no document {doc_id!r} in {where}; documents: {known}")
    entry.path.with_name(entry.name + META_SUFFIX).unlink(missing_ok=True)
    entry.path.unlink()
    return entry.name

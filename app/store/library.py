"""Maintainers' operations on the collection: add documents to the corpus, take them out.

`add_files` checks every file before anything is copied: a file that cannot be read
(wrong format, no text layer, encrypted, too large, ...) is reported and never enters
`corpus/`, while the other files of the same call go in. Copies are atomic (temp file,
fsync, rename), so a killed `add` leaves either no file or the whole file. The index is
then brought in line by the ordinary incremental build, which embeds only what is new.

A file whose name differs from a document's only by its format ("report.pdf" beside
"report.md") is added under an id with its format ("report-pdf", fixed in its sidecar);
the document already there keeps its id. Adding a file the corpus holds already with
metadata flags (`--date`, `--title`, ...) updates that document's sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.documents.corpus import (
    ID_FIELD,
    META_FIELDS,
    META_SUFFIX,
    distinct_id,
    doc_id_for,
    make_document,
    max_file_bytes,
    read_sidecar,
    scan_corpus,
    sha256_bytes,
)
from app.documents.formats import FORMATS, extract
from app.errors import CorpusError, UsageError
from app.store.folder import DocumentRecord, write_atomic
from app.store.protocol import TextCache


@dataclass
class AddOutcome:
    added: list[str] = field(default_factory=list)  # document ids copied into the corpus
    copied: list[str] = field(default_factory=list)  # messages: each added file, what it became
    skipped: list[str] = field(default_factory=list)  # messages: already there (metadata updated, if given)
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
    existing = {doc.sha256: _Held(doc.doc_id, doc.path, doc.sha256) for doc in indexed or []}
    existing |= {entry.sha256: _Held(entry.doc_id, entry.name, entry.sha256, entry.path)
                 for entry in scan_corpus(corpus_dir)}
    by_name = {held.name: held for held in existing.values()}
    outcome = AddOutcome()
    limit = max_file_bytes()
    for path in files:
        try:
            data = _read(path)
            digest = sha256_bytes(data)
            if digest in existing:
                outcome.skipped.append(_already_there(existing[digest], path, meta))
                continue
            same = by_name.get(path.name)
            if same is not None and not replace:
                raise CorpusError(f"{path.name}: the corpus already holds a different version of it as document "
                                  f"{same.doc_id}; pass --replace to update it")
            extracted = extract(path.name, data, limit)  # refuses unreadable documents before copying
            carried = _carried_metadata(path, corpus_dir)
            kept = read_sidecar(corpus_dir / path.name) if same is not None else {}
            make_document(path.name, digest, extracted, {**kept, **carried, **meta})  # refuses a bad date or field
        except CorpusError as exc:
            outcome.failed.append(str(exc))
            continue
        taken = {held.doc_id for held in existing.values() if held.name != path.name}
        doc_id = same.doc_id if same is not None else distinct_id(path.name, taken)
        texts.write(digest, extracted)  # so the build does not extract it again
        sidecar_meta: dict[str, object] = {**carried, **meta,
                                           **({ID_FIELD: doc_id} if doc_id != doc_id_for(path.name) else {})}
        if sidecar_meta:
            sidecar = corpus_dir / (path.name + META_SUFFIX)
            write_atomic(sidecar, _json({**read_sidecar(corpus_dir / path.name), **sidecar_meta}))
        write_atomic(corpus_dir / path.name, data)
        if same is not None:
            existing.pop(same.sha256, None)
        existing[digest] = by_name[path.name] = _Held(doc_id, path.name, digest, corpus_dir / path.name)
        outcome.added.append(doc_id)
        verb = f"replaced document {doc_id} with" if same is not None else "added"
        outcome.copied.append(f"{verb} {path.name} in {corpus_dir}" + ("" if same else f" as document {doc_id}"))
    return outcome


def _carried_metadata(path: Path, corpus_dir: Path) -> dict[str, object]:
    """The metadata fields (META_FIELDS) of the sidecar beside the file being added
    (`NAME.meta.json`), so a document comes with its date and title; flags given to `add` win
    over them. Not its id (ids belong to the collection). CorpusError for a sidecar that is not a
    JSON object."""
    if path.parent.resolve() == corpus_dir.resolve():
        return {}  # already the corpus's own sidecar
    return {key: value for key, value in read_sidecar(path).items() if key in META_FIELDS}


@dataclass(frozen=True)
class _Held:
    """A document already in the collection: its id, file name and hash, and its file in the
    corpus folder (None: held by a shared database only)."""

    doc_id: str
    name: str
    sha256: str
    path: Path | None = None


def _already_there(held: _Held, path: Path, meta: dict[str, str]) -> str:
    """The message for a file the collection holds already; given metadata goes into its sidecar."""
    if not meta:
        return f"{path}: already in the corpus as {held.doc_id}; skipped"
    if held.path is None:
        return (f"{path}: already in the collection as {held.doc_id}, but not in this corpus folder, so its "
                "metadata cannot be changed from here; run the add where the corpus folder holds it")
    current = read_sidecar(held.path)
    if all(current.get(key) == value for key, value in meta.items()):
        return f"{path}: already in the corpus as {held.doc_id} with this metadata; skipped"
    write_atomic(held.path.with_name(held.name + META_SUFFIX), _json({**current, **meta}))
    return f"{path}: already in the corpus as {held.doc_id}; its metadata is updated ({', '.join(sorted(meta))})"


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

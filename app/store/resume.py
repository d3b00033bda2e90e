"""Resumable embedding: a document's vectors are kept on disk as soon as they exist.

A build embeds the new documents a group at a time and writes each document's vectors to
`index/partial/<key>.npz` (temp file, fsync, rename), or to the database's partial_vectors
table (one committed row), before going on. When the build is
interrupted (killed, Ctrl-C, a full disk), the next build finds those files and embeds only
the rest. The key is the sha256 of the model and of exactly the texts embedded, so a
changed document, chunking or model never reuses stale vectors. A committed build clears
the folder.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.models.embed import Embedder
from app.models.pooling import embed_passages
from app.models.spec import ModelSpec
from app.store.folder import write_atomic

if TYPE_CHECKING:
    import numpy as np

PARTIAL = "partial"
GROUP_PASSAGES = 2048  # passages per model call: batches are sorted by token count inside it, so they pad little
VECTORS = "sentences pooled from their passage"  # how the vectors were made (part of each file's key)


@dataclass(frozen=True)
class Job:
    """One document to embed: its passages' texts first, then its sentences' texts."""

    doc_id: str
    texts: list[str]
    passages: int
    sentence_counts: tuple[int, ...]  # how many of the sentences belong to each passage, in order

    def pieces(self) -> tuple[list[str], list[list[str]]]:
        """The passages' texts, and each passage's sentences."""
        groups, cursor = [], self.passages
        for count in self.sentence_counts:
            groups.append(self.texts[cursor : cursor + count])
            cursor += count
        return self.texts[: self.passages], groups


@dataclass(frozen=True)
class Vectors:
    passages: np.ndarray  # float32, one row per passage
    sentences: np.ndarray  # float16, one row per sentence, in passage order


class PartialVectors(Protocol):
    """Where an unfinished build keeps each document's vectors, by key, as .npz bytes."""

    def read(self, key: str) -> bytes | None: ...

    def write(self, key: str, data: bytes) -> None: ...

    def clear(self) -> None: ...


class PartialFolder:
    """The index folder's `partial/<key>.npz` files."""

    def __init__(self, index_dir: Path) -> None:
        self.folder = index_dir / PARTIAL

    def read(self, key: str) -> bytes | None:
        try:
            return (self.folder / f"{key}.npz").read_bytes()
        except OSError:
            return None

    def write(self, key: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.folder / f"{key}.npz", data)

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def job_key(spec: ModelSpec, job: Job) -> str:
    digest = hashlib.sha256(f"{spec.name}\0{spec.weights_sha256}\0{VECTORS}\0{job.sentence_counts}".encode())
    for text in job.texts:
        digest.update(b"\0" + text.encode("utf-8"))
    return digest.hexdigest()


def _load(saved: bytes, job: Job, dimension: int) -> Vectors | None:
    import numpy as np

    try:
        with np.load(io.BytesIO(saved), allow_pickle=False) as data:
            passages, sentences = data["passages"], data["sentences"]
    except (OSError, ValueError, KeyError):
        return None  # a torn or foreign file is embedded again
    if passages.shape != (job.passages, dimension) or sentences.shape != (len(job.texts) - job.passages, dimension):
        return None
    return Vectors(passages.astype(np.float32), sentences.astype(np.float16))


def encode_vectors(vectors: Vectors) -> bytes:
    """A document's vectors as the .npz bytes a partial-vectors entry holds."""
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, passages=vectors.passages, sentences=vectors.sentences)
    return buffer.getvalue()


def embed_jobs(
    partial: PartialVectors, jobs: list[Job], embedder: Embedder, show_progress: bool
) -> tuple[dict[str, Vectors], int]:
    """Every job's vectors, and how many passages came from an interrupted build's files.

    The progress bar counts passages still to embed, so its rate (passages/s) and the time
    left are those of this run.
    """
    from tqdm import tqdm

    dimension = embedder.spec.dimension
    done: dict[str, Vectors] = {}
    todo: list[tuple[Job, str]] = []
    for job in jobs:
        key = job_key(embedder.spec, job)
        data = partial.read(key)
        saved = _load(data, job, dimension) if data is not None else None
        if saved is not None:
            done[job.doc_id] = saved
        else:
            todo.append((job, key))
    resumed = sum(job.passages for job in jobs if job.doc_id in done)
    if done and show_progress:
        print(f"resuming: {len(done)} document(s) ({resumed} passages) already embedded by an interrupted build",
              file=sys.stderr)
    remaining = sum(job.passages for job, _ in todo)
    with tqdm(total=remaining, unit="passage", desc="embedding", file=sys.stderr, smoothing=0.1,
              disable=not show_progress or not todo) as bar:
        for group in _groups(todo):
            done.update(_embed_group(group, embedder, partial))
            bar.update(sum(job.passages for job, _ in group))
    return done, resumed


def _groups(todo: list[tuple[Job, str]]) -> Iterable[list[tuple[Job, str]]]:
    group: list[tuple[Job, str]] = []
    size = 0
    for item in todo:
        group.append(item)
        size += item[0].passages
        if size >= GROUP_PASSAGES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _embed_group(group: list[tuple[Job, str]], embedder: Embedder, partial: PartialVectors) -> dict[str, Vectors]:
    import numpy as np

    passages: list[str] = []
    sentences: list[list[str]] = []
    for job, _ in group:
        texts, groups = job.pieces()
        passages += texts
        sentences += groups
    passage_vectors, sentence_vectors = embed_passages(embedder, passages, sentences)
    out: dict[str, Vectors] = {}
    rows = sentence_rows = 0
    for job, key in group:
        count = len(job.texts) - job.passages
        out[job.doc_id] = Vectors(
            np.ascontiguousarray(passage_vectors[rows : rows + job.passages], dtype=np.float32),
            sentence_vectors[sentence_rows : sentence_rows + count].astype(np.float16))
        rows += job.passages
        sentence_rows += count
        partial.write(key, encode_vectors(out[job.doc_id]))
    return out

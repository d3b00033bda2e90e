"""Resumable embedding: a document's vectors are kept on disk as soon as they exist.

A build embeds the new documents a group at a time and writes each document's vectors to
`index/partial/<key>.npz` (temp file, fsync, rename) before going on. When the build is
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
from typing import TYPE_CHECKING

from app.embed import Embedder, ModelSpec
from app.pooling import embed_passages
from app.store import write_atomic

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


def job_key(spec: ModelSpec, job: Job) -> str:
    digest = hashlib.sha256(f"{spec.name}\0{spec.weights_sha256}\0{VECTORS}\0{job.sentence_counts}".encode())
    for text in job.texts:
        digest.update(b"\0" + text.encode("utf-8"))
    return digest.hexdigest()


def _load(path: Path, job: Job, dimension: int) -> Vectors | None:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            passages, sentences = data["passages"], data["sentences"]
    except (OSError, ValueError, KeyError):
        return None  # a torn or foreign file is embedded again
    if passages.shape != (job.passages, dimension) or sentences.shape != (len(job.texts) - job.passages, dimension):
        return None
    return Vectors(passages.astype(np.float32), sentences.astype(np.float16))


def _save(path: Path, vectors: Vectors) -> None:
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, passages=vectors.passages, sentences=vectors.sentences)
    write_atomic(path, buffer.getvalue())


def embed_jobs(
    index_dir: Path, jobs: list[Job], embedder: Embedder, show_progress: bool
) -> tuple[dict[str, Vectors], int]:
    """Every job's vectors, and how many passages came from an interrupted build's files.

    The progress bar counts passages still to embed, so its rate (passages/s) and the time
    left are those of this run.
    """
    from tqdm import tqdm

    folder = index_dir / PARTIAL
    dimension = embedder.spec.dimension
    done: dict[str, Vectors] = {}
    todo: list[tuple[Job, Path]] = []
    for job in jobs:
        path = folder / f"{job_key(embedder.spec, job)}.npz"
        saved = _load(path, job, dimension) if path.is_file() else None
        if saved is not None:
            done[job.doc_id] = saved
        else:
            todo.append((job, path))
    resumed = sum(job.passages for job in jobs if job.doc_id in done)
    if done and show_progress:
        print(f"resuming: {len(done)} document(s) ({resumed} passages) already embedded by an interrupted build",
              file=sys.stderr)
    if todo:
        folder.mkdir(parents=True, exist_ok=True)
    remaining = sum(job.passages for job, _ in todo)
    with tqdm(total=remaining, unit="passage", desc="embedding", file=sys.stderr, smoothing=0.1,
              disable=not show_progress or not todo) as bar:
        for group in _groups(todo):
            done.update(_embed_group(group, embedder))
            bar.update(sum(job.passages for job, _ in group))
    return done, resumed


def _groups(todo: list[tuple[Job, Path]]) -> Iterable[list[tuple[Job, Path]]]:
    group: list[tuple[Job, Path]] = []
    size = 0
    for item in todo:
        group.append(item)
        size += item[0].passages
        if size >= GROUP_PASSAGES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _embed_group(group: list[tuple[Job, Path]], embedder: Embedder) -> dict[str, Vectors]:
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
    for job, path in group:
        count = len(job.texts) - job.passages
        out[job.doc_id] = Vectors(
            np.ascontiguousarray(passage_vectors[rows : rows + job.passages], dtype=np.float32),
            sentence_vectors[sentence_rows : sentence_rows + count].astype(np.float16))
        rows += job.passages
        sentence_rows += count
        _save(path, out[job.doc_id])
    return out


def clear(index_dir: Path) -> None:
    """Drop the interrupted build's files once a build has been committed."""
    shutil.rmtree(index_dir / PARTIAL, ignore_errors=True)

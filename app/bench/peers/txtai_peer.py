"""txtai as its documentation sets up hybrid search: `Embeddings(path=MODEL, content=True,
hybrid=True)`, a dense index and a BM25 keyword index whose normalised scores are combined.

Configurations: "default" indexes each document whole, as txtai's examples index their
records; "600" first splits documents with txtai's Segmentation pipeline and a Chonkie
sentence chunker of 600 characters (which also cleans whitespace, so its chunks are not
always exact slices of the source).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.bench.peers.common import Job, K, Piece, locate

PACKAGES = ("txtai", "chonkie", "faiss-cpu", "sentence-transformers", "torch")


def load_model(job: Job) -> Any:
    from txtai import Embeddings

    return Embeddings(path=job.model, content=True, hybrid=True)


def _records(job: Job, documents: list[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(doc_id, text, start in the source) of each record txtai indexes."""
    if job.config == "default":
        return [(doc_id, text, 0) for doc_id, text in documents]
    from txtai.pipeline import Segmentation

    segment = Segmentation(chunker="sentence", chunk_size=600)
    records = []
    for doc_id, text in documents:
        cursor = 0
        for chunk in segment(text):
            at = locate(text, chunk[:40], cursor)
            cursor = at if at >= 0 else cursor
            records.append((doc_id, chunk, cursor))
    return records


def _searcher(embeddings: Any) -> Any:
    def search(question: str) -> list[tuple[str, str]]:
        return [(hit["id"].rsplit("#", 1)[0], hit["text"]) for hit in embeddings.search(question, K)]

    return search


def build(job: Job, model: Any, documents: list[tuple[str, str]]) -> tuple[Any, list[Piece]]:
    records = _records(job, documents)
    model.index([(f"{doc_id}#{number}", text, None) for number, (doc_id, text, _) in enumerate(records)])
    model.save(str(Path(job.workdir) / "txtai"))
    return _searcher(model), [Piece(doc_id, start, start + len(text), text) for doc_id, text, start in records]


def open_saved(job: Job) -> Any:
    from txtai import Embeddings

    embeddings = Embeddings()
    embeddings.load(str(Path(job.workdir) / "txtai"))  # the model named in its saved configuration
    return _searcher(embeddings)

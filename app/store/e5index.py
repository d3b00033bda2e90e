"""The multilingual-e5 files of an index generation, and the ranker that searches them.

    gen-<id>/e5.faiss          exact inner-product FAISS index of the passages' e5 vectors (FAISS row = passage row)
    gen-<id>/e5-sentences.npy  float16 e5 vectors of every passage's sentences, in order (highlights across languages)

The manifest's `multilingual` entry names the model (name, weights sha256, dimension) when the files
exist; a generation made by another model is refused at load (IndexStateError, with what to run).
Which collections get them and how they are built: app.store.multilingual.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import IndexStateError
from app.models.e5 import E5
from app.passages.chunk import Chunk
from app.store.vectors import FaissVectors

if TYPE_CHECKING:
    import numpy as np

E5_VECTORS = "e5.faiss"
E5_SENTENCES = "e5-sentences.npy"


def stale_reason(entry: dict[str, Any]) -> str | None:
    """Why a generation's multilingual files (its manifest's `multilingual` entry) do not fit this
    process's model; None when they do, or when there are none."""
    model = entry.get("model")
    if model and model != asdict(E5):
        return f"its multilingual vectors were made by {model.get('name')}, not {E5.name}"
    return None


@dataclass
class MultilingualRanker(FaissVectors):
    """The e5 side of a loaded generation: searched like the MiniLM index, with the same rows.

    Vectors are 384-dimensional and unit length; scores are cosine similarities."""

    faiss_index: Any
    sentence_vectors: Any  # (sentences, 384) float16
    sentence_rows: list[int]  # first sentence row of each passage (as MiniLM's)
    chunks: list[Chunk]


def load_ranker(gen_dir: Path, entry: dict[str, Any], chunks: list[Chunk], sentence_rows: list[int],
                mapped: bool) -> MultilingualRanker | None:
    """The generation's e5 ranker, None when it has none; IndexStateError when it cannot be used."""
    if not entry.get("model"):
        return None
    reason = stale_reason(entry)
    if reason is not None:
        raise IndexStateError(f"index at {gen_dir}: {reason}; run: verbatim index --rebuild")
    import faiss
    import numpy as np

    try:
        flags = getattr(faiss, "IO_FLAG_MMAP_IFC", 0) if mapped else 0  # as app.store.ann reads MiniLM's
        index = faiss.read_index(str(gen_dir / E5_VECTORS), flags)
        sentences = np.load(gen_dir / E5_SENTENCES, mmap_mode="r" if mapped else None, allow_pickle=False)
    except (RuntimeError, ValueError, OSError) as exc:
        raise IndexStateError(f"index at {gen_dir}: the multilingual vectors cannot be read ({exc}); "
                              "run: verbatim index --rebuild") from exc
    total = sum(len(chunk.sentences) for chunk in chunks)
    if index.ntotal != len(chunks) or sentences.shape != (total, E5.dimension):
        raise IndexStateError(f"index at {gen_dir} has {index.ntotal} multilingual vectors for {len(chunks)} "
                              f"passages; run: verbatim index --rebuild")
    return MultilingualRanker(index, sentences, sentence_rows, chunks)


def write_files(gen_dir: Path, passages: np.ndarray, sentences: np.ndarray) -> dict[str, str]:
    """Write the e5 files into a generation folder (fsynced); their sha256 by file name, for the manifest."""
    import faiss
    import numpy as np

    from app.models.spec import file_sha256

    index = faiss.IndexFlatIP(E5.dimension)
    if len(passages):
        index.add(np.ascontiguousarray(passages, dtype=np.float32))
    faiss.write_index(index, str(gen_dir / E5_VECTORS))
    np.save(gen_dir / E5_SENTENCES, sentences.astype(np.float16), allow_pickle=False)
    hashes = {}
    for name in (E5_VECTORS, E5_SENTENCES):
        fd = os.open(gen_dir / name, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        hashes[name] = file_sha256(gen_dir / name)
    return hashes

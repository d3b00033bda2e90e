"""Search over a generation's vectors held in FAISS, shared by the MiniLM index and the e5 ranker.

`FaissVectors` is the dense side of `app.store.protocol.LoadedIndex` for anything that keeps its
passage vectors in a FAISS index (row = passage row) and its sentence vectors in one float16
array (passage `row`'s sentences start at `sentence_rows[row]`). Vectors are unit length, so the
inner products FAISS returns are cosines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from app.passages.chunk import Chunk


class FaissVectors:
    """Dense search and vector reads; the class using it provides the four attributes below."""

    faiss_index: Any
    sentence_vectors: Any  # (sentences, dimension) float16, in memory or memory-mapped
    sentence_rows: list[int]  # first sentence row of each passage
    chunks: list[Chunk]

    def dense_search(self, vector: np.ndarray, depth: int) -> dict[int, float]:
        """The `depth` passages nearest to a normalised (dimension,) query: {row: cosine}."""
        import numpy as np

        scores, rows = self.faiss_index.search(np.asarray(vector, np.float32).reshape(1, -1), depth)
        return {int(r): float(s) for s, r in zip(scores[0], rows[0]) if r >= 0}

    def passage_vectors(self, rows: list[int]) -> np.ndarray:
        """The rows' vectors as FAISS holds them (flat and HNSW indexes both keep them whole)."""
        import numpy as np

        return np.asarray(self.faiss_index.reconstruct_batch(np.asarray(rows, dtype=np.int64)), dtype=np.float32)

    def dense_scores(self, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
        """The exact cosine of the query to each given passage row, read from the vector index (any type)."""
        import numpy as np

        if not rows:
            return {}
        vectors = self.passage_vectors(rows)
        return {row: float(score) for row, score in zip(rows, (vectors @ np.asarray(vector, np.float32)).tolist())}

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        """The (sentences, dimension) float16 vectors of one passage's sentences, in order."""
        first = self.sentence_rows[row]
        return self.sentence_vectors[first : first + len(self.chunks[row].sentences)]

    def sentence_vectors_of_rows(self, rows: list[int]) -> dict[int, np.ndarray]:
        """`sentence_vectors_of` for several passages at once: {row: (sentences, dimension) float16}."""
        return {row: self.sentence_vectors_of(row) for row in rows}

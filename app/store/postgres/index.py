"""A loaded generation of the database store, as the search stage uses it (app.store.protocol.LoadedIndex).

Passage texts and citation fields and the bm25s index are held in this process; dense search
runs in the database through the pgvector HNSW index (app.store.postgres.vectors), and the
sentence vectors of a passage are read when it is highlighted. The multilingual ranker's vectors,
when the generation has them, are searched the same way (`multilingual`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.errors import IndexStateError
from app.passages.chunk import Chunk
from app.store.bm25 import LexicalIndex
from app.store.folder import IndexedDocuments, Manifest, text_intact
from app.store.postgres.vectors import PgVectors

if TYPE_CHECKING:
    import numpy as np

    from app.store.postgres.store import PgStore

# Passages the HNSW index returns per question (VERBATIM_PG_DENSE_DEPTH): the folder store's candidate
# depth (RankingSettings.depth), so both stores fuse the same candidates. At 100, SciFact test lost
# 1.4 points of Recall@100 (0.948 against 0.962) and 0.6 of nDCG@10; see docs/postgres.md.
DENSE_DEPTH = 1000
# Above LARGE_COLLECTION passages the default is DENSE_DEPTH_LARGE: at the whole General Debate
# (383,584 passages) pgvector's HNSW scan at ef_search 1,000 takes 27 of a question's 51 ms (p50),
# at 200 5.8 ms (p50 26.5 ms, recall@10 0.96 against exact search on 200 queries, the same
# eval/ungdc300.jsonl figures as the folder store); at 1,000 statements (36,402 passages)
# depth 1,000 answers in 26.5 ms. Sizes in between are not measured; the line is drawn nearer the
# smaller one so that a collection past it stays within the 30 ms p50 target.
LARGE_COLLECTION = 100_000
DENSE_DEPTH_LARGE = 200


def dense_depth(passages: int) -> int:
    """How many passages a question takes from the HNSW index of a collection of `passages`:
    VERBATIM_PG_DENSE_DEPTH (1-1000) when set, else DENSE_DEPTH, or DENSE_DEPTH_LARGE above
    LARGE_COLLECTION passages."""
    value = os.environ.get("VERBATIM_PG_DENSE_DEPTH", "")
    if value.strip().isdigit():
        return max(1, min(int(value), 1000))
    return DENSE_DEPTH_LARGE if passages > LARGE_COLLECTION else DENSE_DEPTH


@dataclass
class PgIndex(IndexedDocuments):
    """A loaded generation of the database store (app.store.protocol.LoadedIndex)."""

    manifest: Manifest
    chunks: list[Chunk]
    lexical: LexicalIndex
    store: PgStore
    ids: Any  # (passages,) int64: the database id of each row
    multilingual: PgVectors | None = None  # the e5 vectors, when the generation has them (app.store.postgres.e5)

    in_memory = False  # passages, vectors and texts are read from the database at each question

    def damage(self) -> str | None:
        """Always None: the database checks its own pages, and a dropped table or an unreadable row
        fails the query that meets it with IndexStateError (503 through the web app)."""
        return None

    def text(self, doc_id: str) -> str:
        """The canonical text of an indexed document, as it was when this generation was loaded."""
        sha256 = self.document(doc_id).sha256
        rows = self.store.query(f"SELECT text, text_sha256 FROM {self.store.schema}.texts WHERE sha256 = %s", (sha256,))
        if not rows:
            raise IndexStateError(f"the stored text of {doc_id} is no longer in {self.store.location} "
                                  "(the document changed meanwhile); ask again")
        if not text_intact(rows[0][0], rows[0][1]):
            raise IndexStateError(f"the stored text of {doc_id} in {self.store.location} is damaged; "
                                  f"run: verbatim --store {self.store.location} index --rebuild")
        return str(rows[0][0])

    @cached_property
    def minilm(self) -> PgVectors:
        """MiniLM's passage vectors (`embedding`, HNSW) and sentence vectors (`data`)."""
        return PgVectors(self.store, self.ids, self.chunks, "passages", "id", "embedding", "sentence_vectors", "data",
                         int(self.manifest.model.get("dimension", 0)),
                         int(self.manifest.vectors.get("ef_search", 40)), dense_depth(len(self.ids)))

    def dense_search(self, vector: np.ndarray, depth: int) -> dict[int, float]:
        """The nearest passages through the HNSW index: the best min(depth, dense depth), {row: cosine}."""
        return self.minilm.dense_search(vector, depth)

    def dense_scores(self, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
        """The exact cosine of the query to each given row's passage."""
        return self.minilm.dense_scores(vector, rows)

    def passage_vectors(self, rows: list[int]) -> np.ndarray:
        """The rows' vectors as pgvector holds them, (len(rows), dimension) float32, in order."""
        return self.minilm.passage_vectors(rows)

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        """One passage's sentence vectors, (sentences, dimension) float16."""
        return self.minilm.sentence_vectors_of(row)

    def sentence_vectors_of_rows(self, rows: list[int]) -> dict[int, np.ndarray]:
        """Several passages' sentence vectors in one query: {row: (sentences, dimension) float16}."""
        return self.minilm.sentence_vectors_of_rows(rows)

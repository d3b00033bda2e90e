"""A loaded generation of the database store, as the search stage uses it (app.store.protocol.LoadedIndex).

Passage texts and citation fields and the bm25s index are held in this process; dense search
runs in the database through the pgvector HNSW index, and the sentence vectors of a passage
are read when it is highlighted.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.errors import IndexStateError
from app.passages.chunk import Chunk
from app.store.bm25 import LexicalIndex
from app.store.folder import IndexedDocuments, Manifest, text_intact

if TYPE_CHECKING:
    import numpy as np

    from app.store.postgres.store import PgStore

# Passages the HNSW index returns per question (VERBATIM_PG_DENSE_DEPTH): the folder store's candidate
# depth (RankingSettings.depth), so both stores fuse the same candidates. At 100, SciFact test lost
# 1.4 points of Recall@100 (0.948 against 0.962) and 0.6 of nDCG@10; see docs/postgres.md.
DENSE_DEPTH = 1000


def dense_depth() -> int:
    """How many passages a question takes from the HNSW index (1-1000; VERBATIM_PG_DENSE_DEPTH)."""
    value = os.environ.get("VERBATIM_PG_DENSE_DEPTH", "")
    return max(1, min(int(value), 1000)) if value.strip().isdigit() else DENSE_DEPTH


@dataclass
class PgIndex(IndexedDocuments):
    """A loaded generation of the database store (app.store.protocol.LoadedIndex)."""

    manifest: Manifest
    chunks: list[Chunk]
    lexical: LexicalIndex
    store: PgStore
    ids: Any  # (passages,) int64: the database id of each row
    _ef: weakref.WeakKeyDictionary[Any, int] = field(default_factory=weakref.WeakKeyDictionary)
    # hnsw.ef_search as last set on each pooled connection (a connection the pool replaces starts afresh)

    in_memory = False  # passages, vectors and texts are read from the database at each question

    def damage(self) -> str | None:
        """Always None: the database checks its own pages, and a dropped table or an unreadable row
        fails the query that meets it with IndexStateError (503 through the web app)."""
        return None

    @cached_property
    def row_of(self) -> dict[int, int]:
        return {int(passage_id): row for row, passage_id in enumerate(self.ids)}

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

    def dense_search(self, vector: np.ndarray, depth: int) -> dict[int, float]:
        """The nearest passages through the HNSW index: the best min(depth, dense depth), {row: cosine}."""
        import numpy as np

        limit = min(depth, dense_depth())
        ef = min(max(int(self.manifest.vectors.get("ef_search", 40)), limit), 1000)  # pgvector's maximum
        query = np.asarray(vector, dtype=np.float32)
        with self.store.reading(), self.store.pool.connection() as conn:
            if self._ef.get(conn) != ef:
                conn.execute(f"SET hnsw.ef_search = {ef}")
                self._ef[conn] = ef
            found = conn.execute(f"SELECT id, -(embedding <#> %b) FROM {self.store.schema}.passages "
                                 "ORDER BY embedding <#> %b LIMIT %s", (query, query, limit)).fetchall()
        return {self.row_of[i]: float(score) for i, score in found if i in self.row_of}

    def dense_scores(self, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
        """The exact cosine of the query to each given row's passage."""
        import numpy as np

        if not rows:
            return {}
        query = np.asarray(vector, dtype=np.float32)
        found = self.store.query(f"SELECT id, -(embedding <#> %b) FROM {self.store.schema}.passages "
                                 "WHERE id = ANY(%s)", (query, [int(self.ids[row]) for row in rows]))
        return {self.row_of[i]: float(score) for i, score in found if i in self.row_of}

    def passage_vectors(self, rows: list[int]) -> np.ndarray:
        """The rows' vectors as pgvector holds them, (len(rows), dimension) float32, in order."""
        import numpy as np

        found = dict(self.store.query(f"SELECT id, embedding FROM {self.store.schema}.passages WHERE id = ANY(%s)",
                                      ([int(self.ids[row]) for row in rows],)))
        missing = [row for row in rows if int(self.ids[row]) not in found]
        if missing:
            raise IndexStateError(f"{len(missing)} passage(s) of this generation are gone from {self.store.location} "
                                  "(a newer build removed them); try again")
        vectors = [found[int(self.ids[row])] for row in rows]  # pgvector's Vector (binary) or an array (text)
        return np.asarray([getattr(v, "to_numpy", lambda v=v: v)() for v in vectors], dtype=np.float32).reshape(
            len(rows), -1)

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        """One passage's sentence vectors, (sentences, dimension) float16."""
        return self.sentence_vectors_of_rows([row])[row]

    def sentence_vectors_of_rows(self, rows: list[int]) -> dict[int, np.ndarray]:
        """Several passages' sentence vectors in one query: {row: (sentences, dimension) float16}. A
        passage a newer generation removed since this one was loaded gets zeros (scored by words only)."""
        import numpy as np

        if not rows:
            return {}
        dimension = int(self.manifest.model.get("dimension", 0))
        found = dict(self.store.query(f"SELECT passage_id, data FROM {self.store.schema}.sentence_vectors "
                                      "WHERE passage_id = ANY(%s)", ([int(self.ids[row]) for row in rows],)))
        vectors = {}
        for row in rows:
            count, data = len(self.chunks[row].sentences), found.get(int(self.ids[row]))
            vectors[row] = (np.frombuffer(data, dtype=np.float16).reshape(count, dimension) if data is not None
                            else np.zeros((count, dimension), dtype=np.float16))
        return vectors

"""Dense search over vectors held in the database, shared by MiniLM's and the multilingual ranker's.

`PgVectors` is the dense side of `app.store.protocol.DenseRanker` for one set of vectors: a
passage vector column (pgvector, unit-length vectors, so `<#>`, the negative inner product,
orders by cosine) and a bytea column of float16 sentence vectors, each in a table keyed by the
passage id. MiniLM's are `passages.embedding` (key `id`) and `sentence_vectors.data`;
multilingual-e5's `e5_vectors.embedding` and `e5_vectors.sentences` (app.store.postgres.e5).
Rows are positions in the loaded generation's `ids`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.errors import IndexStateError
from app.passages.chunk import Chunk

if TYPE_CHECKING:
    import numpy as np

    from app.store.postgres.store import PgStore

PGVECTOR_MAX_EF = 1000  # pgvector's largest hnsw.ef_search


@dataclass
class PgVectors:
    """One vector column pair of a loaded generation, searched in the database.

    `ef_search`: the HNSW index's measured ef_search floor, or None when the column has no HNSW
    index and is searched by an exact scan (the multilingual ranker of a small collection)."""

    store: PgStore
    ids: Any  # (passages,) int64: the database id of each row
    chunks: list[Chunk]
    table: str  # holding the passage vectors (`passages` or `e5_vectors`) ...
    key: str  # ... by this column, the passage id
    column: str  # the passage vector column
    sentence_table: str  # holding the sentence vectors by `passage_id`
    sentence_column: str
    dimension: int
    ef_search: int | None
    depth: int  # most passages a question takes (app.store.postgres.index.dense_depth)
    _ef: weakref.WeakKeyDictionary[Any, int] = field(default_factory=weakref.WeakKeyDictionary)
    # hnsw.ef_search as last set on each pooled connection (a connection the pool replaces starts afresh)

    @cached_property
    def row_of(self) -> dict[int, int]:
        return {int(passage_id): row for row, passage_id in enumerate(self.ids)}

    def dense_search(self, vector: np.ndarray, depth: int) -> dict[int, float]:
        """The best min(depth, self.depth) passages for a unit (dimension,) query: {row: cosine}.
        Through the HNSW index with ef_search at least that many, or by an exact scan."""
        import numpy as np

        limit = min(depth, self.depth)
        query = np.asarray(vector, dtype=np.float32)
        table = f"{self.store.schema}.{self.table}"
        with self.store.reading(), self.store.pool.connection() as conn:
            if self.ef_search is not None:
                ef = min(max(self.ef_search, limit), PGVECTOR_MAX_EF)
                if self._ef.get(conn) != ef:
                    conn.execute(f"SET hnsw.ef_search = {ef}")
                    self._ef[conn] = ef
            found = conn.execute(f"SELECT {self.key}, -({self.column} <#> %b) FROM {table} "
                                 f"ORDER BY {self.column} <#> %b LIMIT %s", (query, query, limit)).fetchall()
        return {self.row_of[i]: float(score) for i, score in found if i in self.row_of}

    def dense_scores(self, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
        """The exact cosine of the query to each given row's passage."""
        import numpy as np

        if not rows:
            return {}
        query = np.asarray(vector, dtype=np.float32)
        found = self.store.query(f"SELECT {self.key}, -({self.column} <#> %b) FROM {self.store.schema}.{self.table} "
                                 f"WHERE {self.key} = ANY(%s)",
                                 (query, [int(self.ids[row]) for row in rows]))
        return {self.row_of[i]: float(score) for i, score in found if i in self.row_of}

    def passage_vectors(self, rows: list[int]) -> np.ndarray:
        """The rows' vectors as pgvector holds them, (len(rows), dimension) float32, in order;
        IndexStateError when a row is gone (a newer build removed it) or has no vector."""
        import numpy as np

        found = dict(self.store.query(f"SELECT {self.key}, {self.column} FROM {self.store.schema}.{self.table} "
                                      f"WHERE {self.key} = ANY(%s)",
                                      ([int(self.ids[row]) for row in rows],)))
        missing = [row for row in rows if int(self.ids[row]) not in found]
        if missing:
            raise IndexStateError(f"{len(missing)} passage vector(s) of this generation are gone from "
                                  f"{self.store.location} (a newer build replaced them); try again")
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
        found = dict(self.store.query(f"SELECT passage_id, {self.sentence_column} FROM "
                                      f"{self.store.schema}.{self.sentence_table} WHERE passage_id = ANY(%s)",
                                      ([int(self.ids[row]) for row in rows],)))
        vectors = {}
        for row in rows:
            count, data = len(self.chunks[row].sentences), found.get(int(self.ids[row]))
            vectors[row] = (np.frombuffer(data, dtype=np.float16).reshape(count, self.dimension) if data is not None
                            else np.zeros((count, self.dimension), dtype=np.float16))
        return vectors

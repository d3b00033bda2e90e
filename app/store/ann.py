"""Which FAISS index holds the passage vectors, chosen by the collection's size.

Exact inner-product search (IndexFlatIP) reads every vector: about 0.13 microseconds
each on this 2-core machine, so 50,000 passages cost ~7 ms a question and the whole UN
General Debate (~300,000) ~40 ms. From `APPROXIMATE_FROM` passages on, an HNSW graph
is built instead, and its recall@10 against exact search is measured at build time on
probe questions: `PROBES` of the collection's sentences (`probe_texts`), short texts that, like
questions, are not themselves passages, embedded on their own as a question is. efSearch is
raised until that recall is at least `TARGET_RECALL`; the figures go into the manifest and
`verbatim bench` prints them.

The probes are embedded on their own, not taken from the sentence vectors the build pools from
the passage pass for highlighting: those carry their passage's context and sit close to it, so
the graph finds their neighbours more easily than a question's. At the whole General Debate
(383,584 passages) efSearch 128 reached recall@10 0.970 on 500 such pooled vectors, but 0.920
on 500 standalone probes, 0.923 on the 150 self-check sentences of `bench --compare-stores`
and 0.976 on its 50 real questions. The standalone probes reach 0.948 at 256 and 0.963 at 384,
which is chosen: 0.964 on those sentences, 0.996 on the questions, at 1.9 instead of 0.8 ms a
search of 1,000 candidates. eval/reports/ungdc-all-stores.json, `folder_ef_search`.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

    from app.passages.chunk import Chunk

APPROXIMATE_FROM = 50_000  # passages; VERBATIM_APPROXIMATE_FROM overrides (0 = never)
HNSW_M = 32
EF_CONSTRUCTION = 80
EF_SEARCH = (64, 128, 256, 384, 512)  # tried in turn until the measured recall is reached
TARGET_RECALL = 0.95
PROBES = 500
PROBE_WORDS = 6  # words a probe sentence has at least (`probe_texts`)
_WORDS = re.compile(r"\w+")
RECALL_K = 10


def approximate_from() -> int:
    value = os.environ.get("VERBATIM_APPROXIMATE_FROM", "")
    return int(value) if value.strip().isdigit() else APPROXIMATE_FROM


def approximate(passages: int, threshold: int | None = None) -> bool:
    """Whether a collection of `passages` gets an HNSW graph (`threshold`: as in `build_vector_index`)."""
    threshold = approximate_from() if threshold is None else threshold
    return bool(threshold) and passages >= threshold


def probe_texts(chunks: Sequence[Chunk], count: int = PROBES) -> list[str]:
    """Up to `count` of the passages' sentences as plain text, drawn evenly over all of them
    (seeded: the same collection gives the same probes), to be embedded as questions are. Only
    sentences of at least `PROBE_WORDS` words: a question says what it asks, while "Thank you."
    has hundreds of equally near passages, and which ten a search returns says nothing of recall."""
    import numpy as np

    from app.passages.chunk import plain_text

    # Sentences numbered in passage order; a drawn number is found in its passage by the running
    # total, without listing the millions of sentences of a large collection.
    ends = np.cumsum(np.fromiter((len(chunk.sentences) for chunk in chunks), dtype=np.int64, count=len(chunks)))
    total = int(ends[-1]) if len(ends) else 0
    rows = np.random.default_rng(0).choice(total, size=min(4 * count, total), replace=False)
    texts = []
    for row in rows.tolist():
        at = int(np.searchsorted(ends, row, side="right"))
        chunk = chunks[at]
        start, end = chunk.sentences[row - (int(ends[at]) - len(chunk.sentences))]
        texts.append(plain_text(chunk.text[start - chunk.start : end - chunk.start]).strip())
    return [text for text in texts if len(_WORDS.findall(text)) >= PROBE_WORDS][:count]


def build_vector_index(
    vectors: np.ndarray, probes: np.ndarray, threshold: int | None = None
) -> tuple[Any, dict[str, Any]]:
    """The FAISS index for these normalised vectors, and a description for the manifest.

    `probes`: (n, dimension) query vectors efSearch is chosen on (`probe_texts` embedded; at most
    `PROBES` of them are used; empty: a sample of `vectors`). `threshold`: passages from which a
    graph is built (default: the setting; 1 forces one)."""
    import faiss
    import numpy as np

    dimension = int(vectors.shape[1])
    exact = faiss.IndexFlatIP(dimension)
    exact.add(vectors)
    if not approximate(len(vectors), threshold):
        return exact, {"type": "exact"}
    graph = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = EF_CONSTRUCTION
    graph.add(vectors)
    queries = _sample(probes if len(probes) else vectors, PROBES)
    _, truth = exact.search(queries, RECALL_K)
    recall = 0.0
    for ef in EF_SEARCH:
        graph.hnsw.efSearch = ef
        _, found = graph.search(queries, RECALL_K)
        recall = float(np.mean([len(set(a) & set(b)) / RECALL_K for a, b in zip(truth.tolist(), found.tolist())]))
        if recall >= TARGET_RECALL:
            break
    return graph, {"type": "hnsw", "m": HNSW_M, "ef_construction": EF_CONSTRUCTION, "ef_search": graph.hnsw.efSearch,
                   f"recall@{RECALL_K}": round(recall, 4), "probe_queries": len(queries)}


def _sample(vectors: np.ndarray, count: int) -> np.ndarray:
    import numpy as np

    rows = np.random.default_rng(0).choice(len(vectors), size=min(count, len(vectors)), replace=False)
    return np.ascontiguousarray(np.asarray(vectors[np.sort(rows)], dtype=np.float32))


def read_vector_index(path: str, description: dict[str, Any], mapped: bool = True) -> Any:
    """Load an index; `mapped`: memory-map its vectors so the page cache, not the process, holds them
    (a large collection's), else read them into memory (out of reach of later damage on disk)."""
    import faiss

    index: Any = faiss.read_index(path, getattr(faiss, "IO_FLAG_MMAP_IFC", 0) if mapped else 0)
    # A loaded index answers one question at a time, which one OpenMP thread does best: on two,
    # FAISS's threads wait on each other whenever another process holds a core (measured on
    # 10,930 vectors, top 1,000: 0.64 ms on one thread, 5.6 ms on two beside other work), the
    # same stall as PyTorch's (see app.models.embed). Builds write their indexes before any is loaded.
    faiss.omp_set_num_threads(1)
    if description.get("type") == "hnsw":
        index.hnsw.efSearch = int(description.get("ef_search", EF_SEARCH[-1]))
    return index

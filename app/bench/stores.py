"""`verbatim --store URL bench --compare-stores DIR`: one collection in both stores, side by side.

The folder index DIR and the PostgreSQL collection named by `--store` must hold the same
collection (moved with `verbatim --store URL index --from DIR`, so the same vectors). For each
store, in processes of their own so each one's memory is its own:

- cold start: a new `verbatim ask` process, from start to its first answer (loading included);
- serving: warm `Engine.ask` p50/p95 and the latency of each stage over the question set, twice
  over, and the serving process's peak memory (and the database server's, for PostgreSQL);
- quality: `verbatim eval --set SET`'s metrics (the two must agree within noise: same vectors,
  same BM25, only the approximate nearest-neighbour search differs).

And for each store's approximate search, recall@10 against exact search on `recall_questions`
queries embedded by the model as questions are (not the build's probes): the set's questions,
topped up with known-item queries, sentences of evenly spaced documents as the self-check
samples them (app.evaluation.selfcheck), where the set holds fewer. PostgreSQL's HNSW index
searched as a question is (app.store.postgres.index, its ef_search) against a sequential scan
with index scans switched off; the folder's FAISS index searched as a question is against
an exact inner product over all its vectors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from app.answer.engine import Engine
from app.bench.scale import cold_start as one_cold_start
from app.bench.scale import json_of
from app.evaluation.metrics import load_items

K = 10


def compare_stores(engine: Engine, folder: Path, set_path: Path, recall_questions: int = 200) -> dict[str, Any]:
    """{"folder": {...}, "postgresql": {...}} for `engine` (whose store is the database) and the folder
    index `folder`; UsageError when the engine's store is not a database or DIR is not an index."""
    from app.errors import UsageError
    from app.store.open import FolderStore

    if isinstance(engine.store, FolderStore):
        raise UsageError("--compare-stores compares a database with a folder index: pass --store postgresql://...")
    if FolderStore(folder).read_manifest() is None:
        raise UsageError(f"--compare-stores: {folder} is not an index folder; build it or move one there with "
                         "`verbatim --index DIR index --from URL`")
    questions = [item.question for item in load_items(set_path)]
    stores = {"folder": ["--index", str(folder), "--store", "folder"], "postgresql": engine.store.cli_args()}
    figures: dict[str, Any] = {"set": str(set_path), "questions": len(questions)}
    for name, store_args in stores.items():
        figures[name] = {
            "cold_start_s": _cold_start(engine.corpus_dir, store_args, questions[0]),
            **_child(engine.corpus_dir, store_args, ["bench", "--serving", "--set", str(set_path)]),
            "eval": _child(engine.corpus_dir, store_args, ["eval", "--set", str(set_path), "--json"])["metrics"],
        }
    queries = recall_queries(engine.index, questions, recall_questions)
    vectors = engine.embedder.embed(queries)
    taken = min(len(questions), recall_questions)
    sampled = {"from_set": taken, "sampled_sentences": len(queries) - taken}
    figures["postgresql"]["ann_recall@10_questions"] = {**_database_recall(engine, vectors), **sampled}
    figures["folder"]["ann_recall@10_questions"] = {**_folder_recall(engine, folder, vectors), **sampled}
    return figures


def recall_queries(index: Any, questions: list[str], total: int) -> list[str]:
    """`total` queries (fewer when the collection has too few sentences): the first of `questions`,
    then self-check sentences (app.evaluation.selfcheck.sample, deterministic per document id),
    as many from each document as spread the rest over all of them (one each at the whole General
    Debate), from evenly spaced documents in id order first, and more from each (twice as many a
    round) while documents with too few sentences leave the total short."""
    import math

    from app.evaluation.selfcheck import candidate_sentences, sample

    queries = list(questions[:total])
    documents = sorted(index.manifest.documents, key=lambda doc: doc.doc_id)
    wanted = total - len(queries)
    if wanted <= 0 or not documents:
        return queries
    step, each = max(len(documents) // wanted, 1), math.ceil(wanted / len(documents))
    order = documents[::step] + [doc for number, doc in enumerate(documents) if number % step]
    candidates: dict[str, list[Any]] = {}  # each document's sentences, found once over the rounds

    def sentences(doc: Any) -> list[Any]:
        if doc.doc_id not in candidates:
            chunks = [index.chunks[row] for row in index.rows_by_document.get(doc.doc_id, [])]
            candidates[doc.doc_id] = candidate_sentences(index.text(doc.doc_id), chunks, doc.format)
        return candidates[doc.doc_id]

    while len(queries) < total:  # more from each document while some have too few sentences
        found = len(queries)
        for doc in order:
            if len(queries) == total:
                break
            picked = sample(sentences(doc), doc.doc_id, each)
            queries.extend([probe.query for probe in picked if probe.query not in queries][:total - len(queries)])
        if len(queries) == found:  # every sentence taken
            break
        each *= 2
    return queries


def _child(corpus: Path, store_args: list[str], command: list[str]) -> dict[str, Any]:
    """The JSON a `verbatim` child process prints for `command` on this store."""
    return json_of([sys.executable, "-m", "app", "-q", "--corpus", str(corpus), *store_args, *command],
                    f"`verbatim {' '.join(command)}`")


def _cold_start(corpus: Path, store_args: list[str], question: str) -> float:
    """Seconds from a new process's start to its first answer printed (the better of two)."""
    return round(min(one_cold_start(corpus, store_args, question) for _ in range(2)), 2)


def _recall(found: list[list[int]], truth: list[list[int]]) -> float:
    return round(sum(len(set(a[:K]) & set(b[:K])) for a, b in zip(found, truth)) / (K * len(truth)), 4)


def _ranked(scores: dict[int, float]) -> list[int]:
    return sorted(scores, key=lambda row: -scores[row])[:K]


def _database_recall(engine: Engine, vectors: Any) -> dict[str, Any]:
    """The HNSW index as questions use it against a sequential scan, over the same rows."""
    index: Any = engine.index
    depth = engine.ranking.depth
    found = [_ranked(index.dense_search(vector, depth)) for vector in vectors]
    store = index.store
    truth = []
    with store.pool.connection() as conn, conn.transaction():
        conn.execute("SET LOCAL enable_indexscan = off")
        for vector in vectors:
            rows = conn.execute(f"SELECT id FROM {store.schema}.passages ORDER BY embedding <#> %b LIMIT %s",
                                (vector, K)).fetchall()
            truth.append([index.minilm.row_of[i] for (i,) in rows if i in index.minilm.row_of])
    served = min(depth, index.minilm.depth)  # VERBATIM_PG_DENSE_DEPTH caps what a question takes
    floor = index.manifest.vectors.get("ef_search")
    return {"recall@10": _recall(found, truth), "questions": len(truth), "depth": served,
            "ef_search": max(floor, served) if floor is not None else None}


def _folder_recall(engine: Engine, folder: Path, vectors: Any) -> dict[str, Any]:
    """The folder index's FAISS search as questions use it against an exact inner product."""
    import numpy as np

    from app.store.open import FolderStore

    index: Any = FolderStore(folder).load()
    depth = engine.ranking.depth
    found = [_ranked(index.dense_search(vector, depth)) for vector in vectors]
    every = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
    truth = [list(np.argsort(-(every @ vector))[:K]) for vector in vectors]
    return {"recall@10": _recall(found, [[int(row) for row in rows] for rows in truth]), "questions": len(truth),
            "type": index.manifest.vectors.get("type"), "ef_search": index.manifest.vectors.get("ef_search")}

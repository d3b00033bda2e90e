"""How well the database store's HNSW index finds the exact nearest passages.

As for the folder store's FAISS graph (app.store.ann): probe queries are a seeded sample of the
collection's own sentence vectors (short texts that, like questions, are not passages; the
passage vectors themselves when sentences were not split), the truth is an exact scan of
every passage vector (the index switched off), and `hnsw.ef_search` is raised until the
recall@10 reaches TARGET_RECALL. Questions search with max(that ef_search, the passages they
ask for), as FAISS's HNSW search does with efSearch and k.
Run inside the build's transaction, so it measures the graph about to become current.
"""

from __future__ import annotations

from typing import Any

from app.store.ann import RECALL_K, TARGET_RECALL

PROBES = 200
EF_SEARCH = (40, 64, 100, 200, 400, 1000)  # pgvector's default first; 1000 is its maximum
MIN_PASSAGES = 1000  # below this the graph is as good as exact, and the sample too small


def measure_recall(conn: Any, schema: str, count: int) -> dict[str, Any]:
    """{"ef_search", "recall@10", "probe_queries", "measured_at_passages"}: the smallest ef_search
    of EF_SEARCH whose top 10 reach TARGET_RECALL (a question asking for more passages searches
    with an ef_search of at least that many, so its top 10 are found at least as well)."""
    figures: dict[str, Any] = {"ef_search": EF_SEARCH[0], f"recall@{RECALL_K}": None, "measured_at_passages": count}
    if count < MIN_PASSAGES:
        return figures
    probes = _probes(conn, schema)
    conn.execute("SET LOCAL enable_indexscan = off")
    truth = [_top(conn, schema, probe) for probe in probes]
    conn.execute("SET LOCAL enable_indexscan = on")
    recall = 0.0
    for ef in EF_SEARCH:
        conn.execute(f"SET LOCAL hnsw.ef_search = {ef}")
        found = [_top(conn, schema, probe) for probe in probes]
        recall = sum(len(set(a) & set(b)) for a, b in zip(truth, found)) / (RECALL_K * len(probes))
        figures["ef_search"] = ef
        if recall >= TARGET_RECALL:
            break
    figures.update({f"recall@{RECALL_K}": round(recall, 4), "probe_queries": len(probes)})
    return figures


def _top(conn: Any, schema: str, probe: Any) -> list[int]:
    rows = conn.execute(f"SELECT id FROM {schema}.passages ORDER BY embedding <#> %b LIMIT %s", (probe, RECALL_K))
    return [row[0] for row in rows.fetchall()]


def _probes(conn: Any, schema: str) -> list[Any]:
    """A seeded sample of first-sentence vectors (or passage vectors), float32, normalised."""
    import numpy as np

    ids = np.asarray([row[0] for row in conn.execute(f"SELECT id FROM {schema}.passages ORDER BY id").fetchall()])
    chosen = np.sort(np.random.default_rng(0).choice(ids, size=min(PROBES, len(ids)), replace=False)).tolist()
    dimension = conn.execute(f"SELECT vector_dims(embedding) FROM {schema}.passages LIMIT 1").fetchone()[0]
    rows = conn.execute(f"SELECT p.id, s.data, p.embedding FROM {schema}.passages p JOIN {schema}.sentence_vectors s "
                        "ON s.passage_id = p.id WHERE p.id = ANY(%s) ORDER BY p.id", (chosen,)).fetchall()
    probes = []
    for _, data, embedding in rows:
        sentence = np.frombuffer(data, dtype=np.float16)[:dimension].astype(np.float32)
        vector = sentence if len(sentence) == dimension else np.asarray(embedding.to_numpy(), dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        probes.append(vector / norm if norm else vector)
    return probes

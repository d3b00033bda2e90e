"""Is PostgreSQL's own full-text ranking good enough to replace bm25s as the lexical ranker?

Usage (a collection already indexed in the database store):

    .venv/bin/python -m app.evaluation.fulltext --store URL --set eval/speech.jsonl
    .venv/bin/python -m app.evaluation.fulltext --store URL?schema=beir_... --beir ../shared/datasets/beir/scifact

For every question (a follow-up joined to its earlier question) it ranks the collection's
passages three ways: bm25s (the app's BM25 over folded, stemmed tokens), PostgreSQL's ts_rank
and ts_rank_cd (over to_tsvector('english', ...) of the same heading and text, a GIN index, the
question's lexemes OR-ed), each alone and each fused with the same dense candidates in the
same way (0.6 x cosine + 0.4 x score / the question's best score: ts_rank has no attainable
score, so the app's qnorm fusion, also shown for bm25s, cannot be applied to it).
It prints nDCG@10, MRR@10 and Recall@100 per ranking (pytrec_eval; for a BEIR set a document
scores as its best passage). The scratch table with the tsvectors is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.answer.engine import Engine
from app.evaluation.beir import _read_jsonl, load_qrels, materialize, score_run
from app.evaluation.metrics import load_items, relevant_chunks
from app.models.embed import configured_backend
from app.paths import BEIR_CACHE
from app.search.followup import contextualize
from app.search.fusion import qnorm_fusion, scaled_fusion
from app.search.ranking import RankingSettings, top_candidates
from app.store.bm25 import analyze
from app.store.postgres.index import PgIndex
from app.store.postgres.store import PgStore

DEPTH = 1000
RANKINGS = ("bm25s", "ts_rank", "ts_rank_cd")


def questions_and_qrels(args: argparse.Namespace, chunks: list) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    """{query_id: text searched}, qrels, and each row's unit of judgement (passage or document)."""
    if args.beir:
        qrels = load_qrels(args.beir, "test")
        queries = {str(q["_id"]): q["text"] for q in _read_jsonl(args.beir / "queries.jsonl") if str(q["_id"]) in qrels}
        _, mapping = materialize(args.beir, BEIR_CACHE)
        return queries, qrels, {row: mapping[c.doc_id] for row, c in enumerate(chunks)}
    items = [item for item in load_items(args.set) if item.answerable]
    queries = {item.id: contextualize(item.question, list(item.history)).searched_as for item in items}
    qrels = {item.id: {cid: 1 for cid in relevant_chunks(item, chunks)} for item in items}
    return queries, qrels, {row: c.chunk_id for row, c in enumerate(chunks)}


def fulltext(store: PgStore, row_of: dict[int, int], query: str, function: str) -> dict[int, float]:
    sql = (f"SELECT f.id, {function}(f.document, q) FROM {store.schema}.fts_experiment f, "
           "to_tsquery('english', replace(plainto_tsquery('english', %s)::text, ' & ', ' | ')) q "
           "WHERE q::text <> '' AND f.document @@ q ORDER BY 2 DESC LIMIT %s")
    return {row_of[i]: float(score) for i, score in store.query(sql, (query, DEPTH)) if i in row_of}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--set", type=Path, default=Path("eval/speech.jsonl"))
    parser.add_argument("--beir", type=Path)
    args = parser.parse_args()
    spec, make = configured_backend()
    store = PgStore(args.store)
    engine = Engine(Path("corpus"), Path("unused"), make_embedder=make, spec=spec, store=store, log=lambda m: None)
    index = engine.index
    if not isinstance(index, PgIndex):
        raise SystemExit(f"{args.store} is not a database store")
    row_of = {int(i): row for row, i in enumerate(index.ids)}
    store.query(f"DROP TABLE IF EXISTS {store.schema}.fts_experiment", fetch=False)
    store.query(f"CREATE TABLE {store.schema}.fts_experiment AS SELECT id, to_tsvector('english', "
                f"coalesce(heading, '') || ' ' || text) AS document FROM {store.schema}.passages", fetch=False)
    store.query(f"CREATE INDEX ON {store.schema}.fts_experiment USING gin (document)", fetch=False)
    queries, qrels, unit = questions_and_qrels(args, index.chunks)
    weight = RankingSettings().dense_weight
    runs: dict[str, dict[str, dict[str, float]]] = {}
    try:
        for number, (query_id, text) in enumerate(queries.items()):
            dense = index.dense_search(engine.embedder.embed([text])[0], DEPTH)
            lexical = {"bm25s": {r: v for r, v in top_candidates(index.lexical.scores(text), DEPTH).items() if v > 0}}
            for function in RANKINGS[1:]:
                lexical[function] = fulltext(store, row_of, text, function)
            attainable = index.lexical.attainable(analyze(text))
            fused = {"dense + bm25s, qnorm (the app)": qnorm_fusion(dense, lexical["bm25s"], weight, attainable)}
            for name, scores in lexical.items():
                fused |= {name: scores, f"dense + {name}": scaled_fusion(dense, scores, weight)}
            for label, ranked in fused.items():
                best: dict[str, float] = {}
                for row, value in ranked.items():
                    best[unit[row]] = max(value, best.get(unit[row], float("-inf")))
                runs.setdefault(label, {})[query_id] = best
            print(f"\r{number + 1}/{len(queries)}", end="", file=sys.stderr)
    finally:
        store.query(f"DROP TABLE IF EXISTS {store.schema}.fts_experiment", fetch=False)
    print(file=sys.stderr)
    results = {name: {k: round(v, 4) for k, v in score_run(qrels, run).items()} for name, run in runs.items()}
    print(json.dumps({"collection": str(args.beir or args.set), "queries": len(queries), "rankings": results},
                     indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

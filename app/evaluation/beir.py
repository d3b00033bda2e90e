"""BEIR-layout benchmarks run through the app's own pipeline.

The corpus is written out as one Markdown document per entry (`# title`, then text) in a
cache folder and indexed by `build_index`, so it is chunked, embedded and stored exactly
as the app's documents are; a rerun reuses that index. Each query is ranked with the
app's dense and lexical rankers and fusion; a document scores as its best passage.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.answer.engine import Engine
from app.errors import UsageError
from app.search.followup import Query
from app.search.fusion import rrf_fusion
from app.search.ranking import RankingSettings, fuse_candidates, fuse_with_sentences, lexical_scores, top_candidates

DEPTH = 1000  # passages taken from each ranker per query (the app's default depth too)
RANKERS = ("dense", "lexical", "qnorm", "scaled", "minmax", "rrf")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise UsageError(f"{path} is missing; a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_qrels(folder: Path, split: str) -> dict[str, dict[str, int]]:
    path = folder / "qrels" / f"{split}.tsv"
    if not path.is_file():
        available = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
        raise UsageError(f"no split {split!r} in {folder}/qrels; available: {', '.join(available) or 'none'}")
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        query_id, doc_id, score = line.split("\t")[:3]
        if int(score) > 0:
            qrels.setdefault(query_id, {})[doc_id] = int(score)
    return qrels


def materialize(folder: Path, cache: Path) -> tuple[Path, dict[str, str]]:
    """Write the corpus as documents under `cache` (once); returns the folder and doc_id -> BEIR id."""
    corpus_file = folder / "corpus.jsonl"
    digest = hashlib.sha256(corpus_file.read_bytes()).hexdigest()[:12]
    root = cache / f"{folder.name}-{digest}-md"
    docs_dir, mapping_file = root / "corpus", root / "ids.json"
    if mapping_file.is_file():
        return root, json.loads(mapping_file.read_text(encoding="utf-8"))
    docs_dir.mkdir(parents=True, exist_ok=True)
    mapping: dict[str, str] = {}
    for number, entry in enumerate(_read_jsonl(corpus_file)):
        name = f"d{number:07d}"
        title = " ".join((entry.get("title") or "").split())
        text = (entry.get("text") or "").strip()
        body = f"# {title}\n\n{text}\n" if title else f"{text}\n"
        if text:
            (docs_dir / f"{name}.md").write_text(body, encoding="utf-8")
            mapping[name] = str(entry["_id"])
    mapping_file.write_text(json.dumps(mapping), encoding="utf-8")
    return root, mapping


def rank_documents(
    engine: Engine, queries: dict[str, str], mapping: dict[str, str], settings: RankingSettings,
    progress: Callable[[int], None] = lambda done: None,
) -> tuple[dict[str, dict[str, dict[str, float]]], int]:
    """Runs per ranker, {ranker: {query_id: {beir_doc_id: score}}}, a document scoring as its best
    passage; and how many queries the engine's abstention rule (if any) would abstain on.

    Queries are searched as the app searches questions: misspelt words corrected against the
    collection's vocabulary first (app.search.spelling)."""

    from app.search.spelling import correct

    index = engine.index
    ids = list(queries)
    vocabulary = engine.lexicon(index).vocabulary
    searched = {q: correct(queries[q], vocabulary)[0] for q in ids}
    vectors = engine.embedder.embed([searched[q] for q in ids])
    depth = min(DEPTH, len(index.chunks))
    doc_of = [mapping[chunk.doc_id] for chunk in index.chunks]
    runs: dict[str, dict[str, dict[str, float]]] = {name: {} for name in RANKERS}
    abstained = 0
    for i, query_id in enumerate(ids):
        dense = index.dense_search(vectors[i], depth)
        all_lexical, attainable = lexical_scores(index, Query(searched[query_id]))
        lexical = {r: v for r, v in top_candidates(all_lexical, depth).items() if v > 0}
        fused = {
            "dense": dense,
            "lexical": lexical,
            "qnorm": fuse_with_sentences(index, vectors[i], dense, lexical, replace(settings, fusion="qnorm"),
                                         attainable)[0],
            "scaled": fuse_candidates(dense, lexical, replace(settings, fusion="scaled")),
            "minmax": fuse_candidates(dense, lexical, replace(settings, fusion="minmax")),
            "rrf": rrf_fusion(dense, lexical),
        }
        if engine.abstention is not None:  # the app's whole answer, as a user would get it
            abstained += _abstains(engine, queries[query_id])
        for name, passage_scores in fused.items():
            best: dict[str, float] = {}
            for row, value in passage_scores.items():
                doc = doc_of[row]
                if value > best.get(doc, float("-inf")):
                    best[doc] = value
            runs[name][query_id] = best
        progress(i + 1)
    return runs, abstained


def score_run(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    """nDCG@10, Recall@100 and MRR@10 with pytrec_eval, averaged over the judged queries."""
    import pytrec_eval

    judged = {q: run.get(q, {}) for q in qrels}
    top10 = {q: dict(sorted(docs.items(), key=lambda kv: -kv[1])[:10]) for q, docs in judged.items()}
    full = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(judged)
    mrr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top10)
    count = len(qrels)
    return {
        "ndcg@10": sum(q["ndcg_cut_10"] for q in full.values()) / count,
        "recall@100": sum(q["recall_100"] for q in full.values()) / count,
        "mrr@10": sum(q["recip_rank"] for q in mrr.values()) / count,
    }


def evaluate_beir(folder: Path, split: str, cache: Path, make_engine: Callable[[Path, Path], Engine],
                  show_progress: bool = False) -> dict[str, Any]:
    """The app's ranking on a BEIR dataset; top-level metrics are those of the app's fusion."""
    from tqdm import tqdm

    qrels = load_qrels(folder, split)
    queries = {str(q["_id"]): q["text"] for q in _read_jsonl(folder / "queries.jsonl")
               if str(q["_id"]) in qrels}
    missing = set(qrels) - set(queries)
    if missing:
        raise UsageError(f"{len(missing)} judged queries are missing from queries.jsonl")
    root, mapping = materialize(folder, cache)
    engine = make_engine(root / "corpus", root / "index")
    engine.load()  # builds (or refreshes) the cached index, embedding only what is new
    with tqdm(total=len(queries), desc="queries", file=sys.stderr, disable=not show_progress) as bar:
        runs, abstained = rank_documents(engine, queries, mapping, engine.ranking,
                                         progress=lambda done: bar.update(done - bar.n))
    rankers = {name: score_run(qrels, run) for name, run in runs.items()}
    used = engine.ranking.fusion
    return {
        "dataset": str(folder), "split": split, "queries": len(queries),
        "documents": len(mapping), "passages": len(engine.index.chunks),
        "fusion": used, "dense_weight": engine.ranking.dense_weight,
        **rankers[used],
        "rankers": rankers,
        # Every judged query has an answer, so each abstention here is a false one.
        "false_abstention_rate": None if engine.abstention is None else abstained / len(queries),
    }


def _abstains(engine: Engine, query: str) -> bool:
    """Whether the app's answer to a query abstains (a query it refuses to search counts as one)."""
    try:
        return engine.ask(query[:1000], 10).abstained
    except UsageError:
        return True

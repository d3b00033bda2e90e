"""Fusion of the dense and lexical rankings: pure functions over candidate scores.

- scaled: cosine similarity as it is (already on a fixed scale) plus BM25 divided by
  the best BM25 score of the query, weighted; the app's choice (see docs/how-it-works.md, Choosing the fusion);
- min-max: each ranker's candidate scores rescaled to [0, 1], then weighted;
- reciprocal-rank fusion (RRF): the sum of 1 / (k + rank);
- qnorm: cosine plus BM25 divided by the query's attainable score (the score of an average-
  length passage holding each query term once: the sum of the terms' IDF, a term the
  collection lacks counting with the IDF of an unseen term), weighted; the app's choice.
  Dividing by the best BM25 of the candidates (scaled) gives full lexical weight to the best
  lexical match however little of the question it matches, which let BM25 pull passages
  sharing one word above the meaning match of a paraphrase; here a passage matching a third
  of the question's information gets about a third.
All are kept so that `verbatim eval --beir` can compare them.
"""

from __future__ import annotations

from collections.abc import Mapping

RRF_K = 60


def minmax(scores: Mapping[int, float]) -> dict[int, float]:
    """Scores rescaled to [0, 1]; all equal -> all 1."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = high - low
    return {key: (value - low) / span if span > 0 else 1.0 for key, value in scores.items()}


def minmax_fusion(
    dense: Mapping[int, float], lexical: Mapping[int, float], dense_weight: float
) -> dict[int, float]:
    """Weighted sum of min-max normalised scores; a candidate missing from a ranker scores 0 there."""
    a, b = minmax(dense), minmax({k: v for k, v in lexical.items() if v > 0})
    keys = a.keys() | b.keys()
    return {k: dense_weight * a.get(k, 0.0) + (1 - dense_weight) * b.get(k, 0.0) for k in keys}


def scaled_fusion(
    dense: Mapping[int, float], lexical: Mapping[int, float], dense_weight: float
) -> dict[int, float]:
    """Weighted sum of the cosine and of BM25 over its maximum; a missing candidate scores 0 there."""
    top = max(lexical.values(), default=0.0)
    scaled = {k: v / top for k, v in lexical.items() if v > 0} if top > 0 else {}
    keys = dense.keys() | scaled.keys()
    return {k: dense_weight * dense.get(k, 0.0) + (1 - dense_weight) * scaled.get(k, 0.0) for k in keys}


def qnorm_fusion(
    dense: Mapping[int, float], lexical: Mapping[int, float], dense_weight: float, attainable: float
) -> dict[int, float]:
    """Weighted sum of the cosine and of min(BM25 / attainable, 1); a missing candidate scores 0 there."""
    scaled = {k: min(v / attainable, 1.0) for k, v in lexical.items() if v > 0} if attainable > 0 else {}
    keys = dense.keys() | scaled.keys()
    return {k: dense_weight * dense.get(k, 0.0) + (1 - dense_weight) * scaled.get(k, 0.0) for k in keys}


def ranks(scores: Mapping[int, float]) -> dict[int, int]:
    """1-based rank of each candidate, best first (ties broken by key for determinism)."""
    order = sorted(scores, key=lambda key: (-scores[key], key))
    return {key: position + 1 for position, key in enumerate(order)}


def rrf_fusion(
    dense: Mapping[int, float], lexical: Mapping[int, float], k: int = RRF_K
) -> dict[int, float]:
    """Reciprocal-rank fusion of the two rankings (lexical zeros are not a ranking)."""
    fused: dict[int, float] = {}
    for ranking in (ranks(dense), ranks({key: v for key, v in lexical.items() if v > 0})):
        for key, rank in ranking.items():
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused

"""Fusion of the dense and lexical rankings: pure functions over candidate scores.

Min-max fusion rescales each ranker's candidate scores to [0, 1] and takes a weighted
sum; reciprocal-rank fusion (RRF) sums 1 / (k + rank). Both are kept so that
`verbatim eval` can compare them; the app uses the one chosen by measurement.
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

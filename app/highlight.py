"""Answer highlighting: which sentences of a passage best answer the question.

Each sentence is scored by the cosine similarity of its (build-time) vector to the
question's, plus the share of the question's words it contains (folded, so "1,273"
matches "1 273"). Highlights are (start, end) offsets of whole sentences: markup
goes around slices of the passage, never into them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.lexical import analyze

if TYPE_CHECKING:
    pass

LEXICAL_WEIGHT = 0.3
RUNNER_UP = 0.9  # a second sentence is marked when it scores at least this share of the best
MAX_MARKED = 2


def sentence_scores(cosines: Sequence[float], query_terms: set[str], texts: Sequence[str]) -> list[float]:
    """Each sentence's score: its cosine to the question plus LEXICAL_WEIGHT times the share of the
    question's terms it holds."""
    scores = []
    for similarity, text in zip(cosines, texts):
        overlap = len(query_terms & set(analyze(text))) / len(query_terms) if query_terms else 0.0
        scores.append(similarity + LEXICAL_WEIGHT * overlap)
    return scores


def pick_highlights(
    spans: Sequence[tuple[int, int]], scores: Sequence[float]
) -> tuple[tuple[int, int], ...]:
    """The best sentence, and a close runner-up, in document order."""
    if not spans:
        return ()
    order = sorted(range(len(spans)), key=lambda i: -scores[i])
    best = scores[order[0]]
    chosen = [order[0]] + [i for i in order[1:MAX_MARKED] if scores[i] >= RUNNER_UP * best > 0]
    return tuple(spans[i] for i in sorted(chosen))

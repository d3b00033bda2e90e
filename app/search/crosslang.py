"""Questions in another language than the documents': which ranker answers them, when to abstain,
and the notice that says the passages are quoted in their own language.

A question py3langid and wordfreq place in a language none of the collection's documents are in
(app.documents.language.foreign_language) is searched by the multilingual ranker in MiniLM's
place, when the collection has one (app.store.e5index), fused with BM25 as an English question
is (qnorm, dense weight 0.5): BM25 matches the question's names and numbers. On
eval/crosslang-dev.jsonl that lifted MRR@10 from 0.875 (e5 alone) to 0.925, Recall@5 0.971
either way (docs/languages.md). MiniLM is not asked. Passages are never translated: a hit is the
document's own text, its highlights its sentences nearest the question in the multilingual model.

Abstention: a question is answered when the best passage's e5 cosine reaches MIN_COSINE, else
"Nothing relevant found" with the closest passage. MIN_COSINE was fitted on eval/crosslang-dev.jsonl
with the off-topic questions of eval/crosslang-dev-offtopic.jsonl (docs/languages.md, Abstention).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.search.followup import Query
from app.search.ranking import Filters, Ranking, RankingSettings, rank_passages
from app.store.protocol import DenseRanker, LoadedIndex

CROSS_SETTINGS = RankingSettings()  # the product's fusion, e5 as its dense ranker
MIN_COSINE = 0.79  # best passage's e5 cosine; below it, nothing relevant (docs/languages.md, Abstention)


def multilingual_ranker(index: LoadedIndex) -> DenseRanker | None:
    """The loaded generation's multilingual ranker; None when the collection has none (setting off,
    or the database store, which has none yet)."""
    ranker: Any = getattr(index, "multilingual", None)
    return ranker


def rank_across(index: LoadedIndex, ranker: DenseRanker, question: str, vector: Any, k: int,
                filters: Filters = Filters()) -> Ranking:
    """The k best passages for a question in another language: the multilingual ranker and BM25, fused.

    `vector`: the question's e5 query vector, (384,) float32, unit length."""
    return rank_passages(index, question, vector, k, CROSS_SETTINGS, filters, ranker)


def mixed(languages: frozenset[str]) -> bool:
    """Whether a collection's documents are in a language other than English (its ISO 639-1 codes)."""
    return bool(languages - {"en"})


def rank_mixed(index: LoadedIndex, ranker: DenseRanker, query: Query, vector: Any, e5_vector: Any, k: int,
               settings: RankingSettings, filters: Filters = Filters()) -> Ranking:
    """A question in one of the collection's languages when the collection holds more than English:
    today's ranking (MiniLM and BM25, fused) merged by reciprocal rank fusion (Cormack et al. 2009)
    with the multilingual ranker's candidates, so that an English question finds a Russian passage
    and a Russian question an English one. `vector`: MiniLM's (384,), `e5_vector`: e5's (384,)."""
    import numpy as np

    depth = min(len(index.chunks), settings.depth)
    vector_e5 = np.asarray(e5_vector, dtype=np.float32)
    also = (ranker.dense_scores(vector_e5, _admitted(index, filters)) if filters.docs
            else ranker.dense_search(vector_e5, depth))
    return rank_passages(index, query, vector, k, settings, filters, None, also)


def _admitted(index: LoadedIndex, filters: Filters) -> list[int]:
    return [row for doc in sorted(filters.docs) for row in index.rows_by_document.get(doc, [])]


def answered(ranking: Ranking) -> bool:
    """Whether the documents answer: the best passage's e5 cosine reaches MIN_COSINE."""
    return ranking.confidence >= MIN_COSINE


def notice(question_language: str, collection: str, quoted: Sequence[str]) -> str:
    """"Your question is in Russian; the documents are in English, so the passages are quoted in English."

    `question_language`, `collection` and `quoted` are English language names (the quoted
    passages' languages, in rank order, repeats allowed)."""
    names = list(dict.fromkeys(quoted)) or [collection]
    shown = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (f"Your question is in {question_language}; the documents are in {collection}, "
            f"so the passages are quoted in {shown}.")

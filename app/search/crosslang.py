"""Questions in another language than the documents': which ranker answers them, when to abstain,
and the notice that says the passages are quoted in their own language.

A question py3langid and wordfreq place in a language none of the collection's documents are in
(app.documents.language.foreign_language) is searched by the multilingual ranker in MiniLM's
place, when the collection has one (app.store.e5index), fused with BM25 as an English question
is (qnorm, dense weight 0.5): BM25 matches the question's names and numbers. On
eval/crosslang-dev.jsonl that lifted MRR@10 from 0.875 (e5 alone) to 0.925, Recall@5 0.971
either way (docs/languages.md). MiniLM is not asked. Passages are never translated: a hit is the
document's own text, its highlights its sentences nearest the question in the multilingual model.

Abstention: a question is answered when the best passage's e5 cosine reaches its language's cut
(LANGUAGE_CUTS; MIN_COSINE for any other language, and for a question in a language of the
documents), else "Nothing relevant found" with the closest passage. e5's cosines run higher for
some languages (Kazakh) than others, hence a cut each; all were fitted by app.evaluation.crosscut
on the fitting sets named there (docs/languages.md, Abstention).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.search.followup import Query
from app.search.ranking import Filters, Ranking, RankingSettings, rank_passages
from app.store.protocol import DenseRanker, LoadedIndex

CROSS_SETTINGS = RankingSettings()  # the product's fusion, e5 as its dense ranker
MIN_COSINE = 0.7794  # best passage's e5 cosine; below it, nothing relevant (app.evaluation.crosscut)
LANGUAGE_CUTS = {"de": 0.7638, "es": 0.7733, "fr": 0.8072, "kk": 0.8011, "ru": 0.7712}  # the same, per language


def multilingual_ranker(index: LoadedIndex) -> DenseRanker | None:
    """The loaded generation's multilingual ranker (either store); None when the collection has none
    (its setting is off, or auto decided off)."""
    ranker: Any = getattr(index, "multilingual", None)
    return ranker


def rank_across(index: LoadedIndex, ranker: DenseRanker, question: Query | str, vector: Any, k: int,
                filters: Filters = Filters()) -> Ranking:
    """The k best passages for a question in another language, or for any question in a collection
    whose documents are not all English: the multilingual ranker and BM25, fused.

    `vector`: the question's e5 query vector, (384,) float32, unit length."""
    return rank_passages(index, question, vector, k, CROSS_SETTINGS, filters, ranker)


def mixed(languages: frozenset[str]) -> bool:
    """Whether a collection's documents are in a language other than English (its ISO 639-1 codes):
    then every question is ranked by `rank_across` (MiniLM's passage and sentence vectors do not
    cross languages, so an English question would miss a Russian passage, and its highlights)."""
    return bool(languages - {"en"})


def cut(language: str | None) -> float:
    """The e5 cosine a question in `language` (ISO 639-1; None: one of the documents' languages) must
    reach to be answered."""
    return LANGUAGE_CUTS.get(language or "", MIN_COSINE)


def answered(ranking: Ranking, language: str | None = None) -> bool:
    """Whether the documents answer a question in `language` (None: in a language of the documents):
    the best passage's e5 cosine reaches that language's cut."""
    return ranking.confidence >= cut(language)


def notice(question_language: str, collection: str, quoted: Sequence[str]) -> str:
    """"Your question is in Russian; the documents are in English, so the passages are quoted in English."

    `question_language`, `collection` and `quoted` are English language names (the quoted
    passages' languages, in rank order, repeats allowed)."""
    names = list(dict.fromkeys(quoted)) or [collection]
    shown = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (f"Your question is in {question_language}; the documents are in {collection}, "
            f"so the passages are quoted in {shown}.")

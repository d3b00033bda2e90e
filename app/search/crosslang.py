"""Questions in another language than the documents': which ranker answers them, when to abstain,
and the notice that says the passages are quoted in their own language.

A question py3langid and wordfreq place in a language none of the collection's documents are in
(app.documents.language.foreign_language) is searched by the multilingual ranker in MiniLM's
place, when the collection has one (app.store.e5index), fused with BM25 as an English question
is (qnorm, dense weight 0.5): BM25 matches the question's names and numbers. On
eval/crosslang-dev.jsonl that lifted MRR@10 from 0.875 (e5 alone) to 0.925, Recall@5 0.971
either way (docs/languages.md). MiniLM is not asked. Passages are never translated: a hit is the
document's own text, its highlights its sentences nearest the question in the multilingual model.

Abstention: a question in another language is answered when its score, the best passage's e5
cosine plus how well the documents' words cover the question's (app.search.coverage), reaches its
language's cut (LANGUAGE_CUTS; OTHER_LANGUAGE_CUT for a language without fitting data), else
"Nothing relevant found" with the closest passage. e5's cosines run higher for some languages
(Kazakh) than others, hence a cut each; all were fitted by app.evaluation.crosscut on the fitting
sets named there (docs/languages.md, Abstention). A question in a language of the documents, in a
collection not all English, is answered when the best e5 cosine reaches MIN_COSINE.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.search.coverage import Coverage
from app.search.followup import Query
from app.search.ranking import Filters, Ranking, RankingSettings, rank_passages
from app.store.protocol import DenseRanker, LoadedIndex

CROSS_SETTINGS = RankingSettings()  # the product's fusion, e5 as its dense ranker
MIN_COSINE = 0.7794  # best passage's e5 cosine, a question in a documents' language (app.evaluation.crosscut)
OTHER_LANGUAGE_CUT = 1.2276  # Coverage.score of a question in a language without its own cut (fitted)
LANGUAGE_CUTS = {"de": 1.2244, "es": 1.2277, "fr": 1.2455, "kk": 1.2482, "ru": 1.2103}  # the same, per language


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


def cut(language: str) -> float:
    """The score (Coverage.score) a question in `language` (ISO 639-1), none of the documents', must
    reach to be answered."""
    return LANGUAGE_CUTS.get(language, OTHER_LANGUAGE_CUT)


def answered(ranking: Ranking, language: str | None = None, coverage: Coverage | None = None) -> bool:
    """Whether the documents answer a question: in `language`, none of the documents', when its
    score (the best passage's e5 cosine and the `coverage` of its words) reaches that language's
    cut; in a language of the documents (None), when the best e5 cosine reaches MIN_COSINE."""
    if language is None:
        return ranking.confidence >= MIN_COSINE
    if coverage is None:
        raise ValueError(f"a question in another language ({language}) is judged with its words' coverage")
    return coverage.score(ranking.confidence) >= cut(language)


def notice(question_language: str, collection: str, quoted: Sequence[str]) -> str:
    """"Your question is in Russian; the documents are in English, so the passages are quoted in English."

    `question_language`, `collection` and `quoted` are English language names (the quoted
    passages' languages, in rank order, repeats allowed)."""
    names = list(dict.fromkeys(quoted)) or [collection]
    shown = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (f"Your question is in {question_language}; the documents are in {collection}, "
            f"so the passages are quoted in {shown}.")

"""Query-term coverage across languages: are the question's words the documents' words, once
multilingual-e5 has carried them into the documents' language?

The abstention signal of a question in another language was the best passage's e5 cosine alone.
Its cosines are compressed and pooled over the whole passage, so an off-topic Kazakh question
("how is beshbarmak cooked?") scored as high as an answerable one. Embedded one word at a time,
e5 places a word near its translation (weather ~ погода, football ~ футболу: bilingual lexicon
induction, as Conneau et al. 2018, "Word translation without parallel data", did with word
vectors), which gives two per-question predictors:

- `nearness`: the mean, over the question's words, of each word's best cosine to a word of the
  documents. High when every word has a counterpart in the documents.
- `shortfall`: the mean of min(0, that cosine less the word's best cosine to a general word of
  the documents' languages, the BACKGROUND most frequent words in wordfreq's lists). Zero when
  the documents hold the word's best translation; negative when a common word they do not use
  is nearer (погода: weather 0.94 in the background, time 0.89 in the speech).

`Coverage.score(best)` adds both, weighted, to the best passage cosine; the abstention cuts
(app.search.crosslang) are fitted on that score. The weights and the background's size were
chosen on the fitting sets by leaving questions out (docs/languages.md, Abstention): against the
best cosine alone, errors fell from 24 to 8 of 325 questions (each left out of its language's
cut) and from 43 to 31 (each language left out); on two held-out sets, off-topic questions
abstained 87 of 100 times instead of 75, and answerable ones 8 of 200 instead of 3 (6 of the 8
with their answer outside the top 10).

Cost: each question word is one e5 call (about 3.5 ms, batched); the collection's words and the
background are embedded once per loaded generation (app.answer.engine warms them at load).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

BACKGROUND = 3000  # most frequent words of each document language (wordfreq), letters only, >= MIN_LETTERS
MIN_LETTERS = 3  # shorter words (particles, prepositions) carry no topic
MAX_QUESTION_WORDS = 12  # a question's first 12 distinct words are looked at (each costs an e5 call)
MAX_COLLECTION_WORDS = 20_000  # a larger collection keeps its most frequent words
NEARNESS_WEIGHT = 0.5  # chosen with the background's size on the fitting sets (module docstring)
SHORTFALL_WEIGHT = 0.5

_WORD = re.compile(rf"[^\W\d_]{{{MIN_LETTERS},}}")


def _tokens(text: str) -> Iterator[str]:
    """Every word of `text` of at least MIN_LETTERS letters, lower-cased, repeats included."""
    return (match.group(0).lower() for match in _WORD.finditer(text))


def words_of(text: str) -> list[str]:
    """The distinct words of `text` of at least MIN_LETTERS letters, lower-cased, in order of first
    appearance. A script without spaces (Chinese) yields its runs of letters as words."""
    return list(dict.fromkeys(_tokens(text)))


def question_words(text: str) -> list[str]:
    """The words of a question that are compared: its first MAX_QUESTION_WORDS words, or the whole
    question when it has none (a question of numbers and short words)."""
    return words_of(text)[:MAX_QUESTION_WORDS] or [text]


def collection_words(texts: Iterable[str], limit: int = MAX_COLLECTION_WORDS) -> list[str]:
    """The `limit` most frequent words of the collection's passages (ties: alphabetical)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_tokens(text))
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return [word for word, _ in ranked[:limit]]


def background_words(languages: Iterable[str], size: int = BACKGROUND) -> list[str]:
    """The `size` most frequent words (letters only, at least MIN_LETTERS) of each language that
    wordfreq has a list for (ISO 639-1 codes; English when none has one)."""
    import wordfreq

    known = [code for code in sorted(set(languages)) if code in wordfreq.available_languages()] or ["en"]
    chosen: list[str] = []
    for code in known:
        words = [w for w in wordfreq.top_n_list(code, size * 3) if _WORD.fullmatch(w)]
        chosen.extend(words[:size])
    return list(dict.fromkeys(chosen))


@dataclass(frozen=True)
class Coverage:
    """How well the documents' words cover a question's (module docstring). Cosines: e5, in [-1, 1]."""

    nearness: float
    shortfall: float  # <= 0

    def score(self, best: float) -> float:
        """The abstention score: the best passage's e5 cosine plus the weighted coverage."""
        return best + NEARNESS_WEIGHT * self.nearness + SHORTFALL_WEIGHT * self.shortfall


@dataclass(frozen=True)
class Alignment:
    """e5 query vectors of the collection's words, (n, 384), and of the background's, (m, 384),
    float32 unit rows."""

    documents: np.ndarray
    background: np.ndarray

    def coverage(self, words: np.ndarray) -> Coverage:
        """`words`: the question's word vectors, (w, 384) with w >= 1.

        The products run on one BLAS thread: OpenBLAS's threads, left spinning after a product this
        size, were counted as busy by the next question's e5 call (app.models.e5.idle_cpus), which
        then took one thread instead of two (ask p50 21 against 16 ms, docs/languages.md, Speed)."""
        import numpy as np

        with _one_blas_thread():
            near_documents = (words @ self.documents.T).max(axis=1) if len(self.documents) else np.zeros(len(words))
            near_background = (words @ self.background.T).max(axis=1)
        shortfall = near_documents - np.maximum(near_documents, near_background)
        return Coverage(float(near_documents.mean()), float(shortfall.mean()))


@cache
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread() -> Any:
    """A context in which numpy's BLAS runs on the calling thread only (threadpoolctl)."""
    return _blas().limit(limits=1, user_api="blas")


_BACKGROUNDS: dict[tuple[str, ...], np.ndarray] = {}  # languages -> background vectors, for the process
_BACKGROUNDS_LOCK = threading.Lock()


def align(texts: Sequence[str], languages: Iterable[str], embed_words: Callable[[list[str]], np.ndarray]) -> Alignment:
    """The alignment tables of a collection: its passages' `texts`, its documents' languages, and
    `embed_words(words) -> (len(words), 384)` (e5 query vectors; one model per process, so the
    background of a set of languages is embedded once per process)."""
    key = tuple(sorted(set(languages)))
    with _BACKGROUNDS_LOCK:
        if key not in _BACKGROUNDS:
            _BACKGROUNDS[key] = embed_words(background_words(key))
        background = _BACKGROUNDS[key]
    return Alignment(embed_words(collection_words(texts)), background)

"""Lexical ranker: BM25 (bm25s) over folded, number-normalised, stemmed tokens.

Matching folds case and diacritics and writes numbers one way, so a question with
"1,273" or "1273" finds the speech's "1 273", and "22,000" finds "22 thousand".
Folding is for matching only; displayed text is always the source's own.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.chunk import plain_text

if TYPE_CHECKING:
    import numpy as np

# Digit groups split by a space, comma, dot or thin space: "1 273", "3,500", "1.000.000".
_GROUPED_NUMBER = re.compile(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u202f,.]\d{3})+(?![\d]|[.,]\d)")
_MAGNITUDE = re.compile(r"(?<![\d.,])(\d+)\s+(thousand|million|billion)\b")
_ZEROS = {"thousand": "000", "million": "000000", "billion": "000000000"}
_WORD = re.compile(r"\w+")
K1, B = 0.9, 0.4  # Anserini's defaults; chosen on SciFact train and eval/dev.jsonl


def fold_for_matching(text: str) -> str:
    """Lower case without diacritics or markup, grouped numbers joined ("1 273" -> "1273")."""
    text = plain_text(text)
    if not text.isascii():  # (ASCII has no diacritics to drop)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower()
    text = _GROUPED_NUMBER.sub(lambda m: re.sub(r"\D", "", m.group()), text)
    return _MAGNITUDE.sub(lambda m: f"{m.group(0)} {m.group(1)}{_ZEROS[m.group(2)]}", text)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """The words BM25 ignores (bm25s's English list)."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def analyze(text: str) -> list[str]:
    """The tokens BM25 sees: folded words, stop words dropped, Snowball-stemmed."""
    words = [w for w in _WORD.findall(fold_for_matching(text)) if w not in stopwords()]
    return list(_stemmer().stemWords(words))


class LexicalIndex:
    """A bm25s index over passages, saved as plain .npy and JSON files (never pickled)."""

    def __init__(self, retriever: Any) -> None:
        self._retriever = retriever

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25(k1=K1, b=B)
        retriever.index([analyze(t) or [""] for t in texts], show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), mmap=True, show_progress=False, verbosity=0))

    @cached_property
    def idf(self) -> dict[str, float]:
        """Each indexed term's inverse document frequency (BM25's formula)."""
        import numpy as np

        indptr = np.asarray(self._retriever.scores["indptr"])
        count = int(self._retriever.scores["num_docs"])
        frequency = {term: int(indptr[i + 1] - indptr[i])
                     for term, i in self._retriever.vocab_dict.items() if i + 1 < len(indptr) and term}
        return {term: math.log(1 + (count - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}

    @property
    def unseen_idf(self) -> float:
        """The IDF of a term that occurs in no passage."""
        count = int(self._retriever.scores["num_docs"])
        return math.log(1 + (count + 0.5) / 0.5)

    def attainable(self, tokens: list[str]) -> float:
        """BM25 of an average-length passage holding each distinct token once: the sum of their IDF
        (a token the collection lacks counts with `unseen_idf`)."""
        return sum(self.idf.get(token, self.unseen_idf) for token in set(tokens))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros where no term matches)."""
        vocab = self._retriever.vocab_dict
        tokens = [t for t in analyze(query) if t in vocab]
        if not tokens:
            import numpy as np

            return np.zeros(self._retriever.scores["num_docs"], dtype=np.float32)
        return self._retriever.get_scores(tokens)

"""Typo correction: a question's misspelt words replaced by the collection's own words.

Only words that are neither in the collection nor words of the question's language are
touched ("firarms", "Taldykorgn"), and only by a collection word within one edit (two for
words of seven letters or more), counting a swap of neighbouring letters as one edit
(optimal string alignment distance, computed by rapidfuzz). Among equally close words the
collection's most frequent wins. A real word the collection lacks ("France") is left as it
is: that it is missing is itself a sign that the documents do not answer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from app.lexical import fold_for_matching

MIN_LENGTH = 4  # shorter words are too ambiguous to correct ("wat": what? was? war?)
LONG_WORD = 7  # from this length on, two edits are allowed
REAL_WORD_ZIPF = 3.0  # wordfreq Zipf frequency of a word of the language (once per million words)
_LETTERS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Correction:
    """One replaced word: as typed, and the collection's word searched instead."""

    typed: str
    searched: str


@dataclass(frozen=True)
class Vocabulary:
    """The collection's words (folded: lower case, no diacritics) and how often each occurs."""

    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(_LETTERS.findall(fold_for_matching(text)))
        return cls(dict(counts))

    def __contains__(self, word: object) -> bool:
        return word in self.counts

    @cached_property
    def by_length(self) -> dict[int, list[str]]:
        groups: dict[int, list[str]] = {}
        for word in self.counts:
            groups.setdefault(len(word), []).append(word)
        return groups

    def nearest(self, word: str) -> str | None:
        """The collection word closest to `word` within the allowed edits, or None."""
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        limit = 2 if len(word) >= LONG_WORD else 1
        best: tuple[int, int, str] | None = None
        for length in range(len(word) - limit, len(word) + limit + 1):
            found = process.extract(word, self.by_length.get(length, []), scorer=OSA.distance,
                                    score_cutoff=limit, limit=None)
            for candidate, distance, _ in found:
                key = (int(distance), -self.counts[candidate], candidate)
                if best is None or key < best:
                    best = key
        return best[2] if best is not None else None


def correct(question: str, vocabulary: Vocabulary, language: str = "en") -> tuple[str, tuple[Correction, ...]]:
    """The question with misspelt words replaced, and what was replaced (empty: unchanged)."""
    from wordfreq import zipf_frequency

    parts, corrections, cursor = [], [], 0
    for match in _LETTERS.finditer(question):
        typed = match.group()
        word = fold_for_matching(typed)
        if len(word) < MIN_LENGTH or word in vocabulary or zipf_frequency(word, language) >= REAL_WORD_ZIPF:
            continue
        found = vocabulary.nearest(word)
        if found is None:
            continue
        searched = found.upper() if typed.isupper() else found.capitalize() if typed[0].isupper() else found
        parts += [question[cursor : match.start()], searched]
        cursor = match.end()
        corrections.append(Correction(typed, searched))
    if not corrections:
        return question, ()
    return "".join(parts) + question[cursor:], tuple(corrections)

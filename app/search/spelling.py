"""Typo correction: a question's misspelt words replaced by the collection's own words.

Only words the collection lacks are touched ("firarms", "Taldykorgn"), and only by a
collection word within one edit (two for words of seven letters or more), counting a swap
of neighbouring letters as one edit (optimal string alignment distance, computed by
rapidfuzz). Among equally close words the collection's most frequent wins. Left as typed:

- a real word of the question's language. A word is taken for a misspelling when wordfreq
  has never seen it, or when the collection word is at least 100 times as frequent in
  general language (2 on the Zipf scale; the noisy-channel idea that a typo is much rarer
  than what was meant): "goverment" (Zipf 2.7) becomes "government" (5.6), but
  "deactivating" (2.3) is not turned into "reactivating" (2.1), nor "mosquitos" (2.8)
  into "mosquito" (3.6). A real word the collection lacks ("France") stays: that it is
  missing is itself a sign that the documents do not answer;
- identifiers: a word with a capital after its first letter ("OmpF", "cRCT"), or all in
  capitals ("LRBA") in a question that is not.

The thresholds were chosen on the misspelt questions of the calibration sets and
SciFact's training claims (where the first rule set changed 82 of 809 correctly spelt
claims); SciFact's test split was not looked at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from app.store.bm25 import count_words, fold_for_matching

MIN_LENGTH = 4  # shorter words are too ambiguous to correct ("wat": what? was? war?)
LONG_WORD = 7  # from this length on, two edits are allowed
REAL_WORD_ZIPF = 3.0  # wordfreq Zipf frequency of a word of the language (once per million words)
TYPO_GAP = 2.0  # Zipf points by which what was meant outnumbers a misspelling of it (100 times)
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
        return cls(count_words(texts))

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


def correct(question: str, vocabulary: Vocabulary, languages: Sequence[str] = ("en",),
            spelled: Callable[[str], str] = str) -> tuple[str, tuple[Correction, ...]]:
    """The question with misspelt words replaced, and what was replaced (empty: unchanged).

    `languages`: ISO 639-1 codes of the collection's languages, for wordfreq's frequencies: a word
    is as real as in the language that knows it best ("помощь" is a Russian word, not an English typo).
    `spelled`: how the documents spell a vocabulary word, which is folded ("медицинскои" ->
    "медицинской", "almaty" -> "Almaty"; see `app.search.lexicon.spelled_as`); a replacement is
    that form, in capitals when the typed word was, with a capital first letter when it had one."""
    parts, corrections, cursor = [], [], 0
    shouting = question.isupper()
    for match in _LETTERS.finditer(question):
        typed = match.group()
        word = fold_for_matching(typed)
        if len(word) < MIN_LENGTH or word in vocabulary or _identifier(typed, shouting):
            continue
        typed_zipf = _zipf(word, languages)
        if typed_zipf >= REAL_WORD_ZIPF:  # a common real word: no search of the vocabulary
            continue
        found = vocabulary.nearest(word)
        if found is None or not (typed_zipf == 0 or _zipf(found, languages) - typed_zipf >= TYPO_GAP):
            continue
        searched = _cased(spelled(found), typed)
        parts += [question[cursor : match.start()], searched]
        cursor = match.end()
        corrections.append(Correction(typed, searched))
    if not corrections:
        return question, ()
    return "".join(parts) + question[cursor:], tuple(corrections)


def _cased(form: str, typed: str) -> str:
    """The documents' `form` of a word, in capitals when `typed` is ("FIRARMS" -> "FIREARMS"), with
    its first letter raised when `typed` starts with a capital; otherwise as the documents spell it."""
    if typed.isupper() and len(typed) > 1:
        return form.upper()
    return form[:1].upper() + form[1:] if typed[0].isupper() else form


def _identifier(typed: str, shouting: bool) -> bool:
    """A gene, protein or acronym rather than a word: "OmpF", "cRCT", or "LRBA" among lower case."""
    return not shouting and any(ch.isupper() for ch in typed[1:])


def _zipf(word: str, languages: Sequence[str]) -> float:
    """wordfreq's Zipf frequency of `word` in whichever of `languages` uses it most."""
    from wordfreq import zipf_frequency

    return max(zipf_frequency(word, language) for language in languages)

"""Each passage's BM25 terms, kept from one build to the next, so that a build analyses only its new passages.

Analysing passages (folding, stemming, identifiers: app.store.bm25.analyze) was most of what an
add to a large collection spent on BM25: at the whole General Debate (383,584 passages) 75 of the
122 s of an add to the database store, under a sampling profiler. bm25s itself has no
incremental update (each score depends on the whole collection's document frequencies and mean
length), so its index is still built over every passage, but from the kept terms.

Where they are kept: the folder store writes them beside its bm25s files (`save_terms`: term ids
into bm25s's vocabulary, and where each passage's start), and the next build takes a kept
passage's terms by its row (`kept_terms`); the database store keeps them in its `lexical_terms`
table with the `analysis_key` they were made under (app.store.postgres.build). Word counts for
typo correction are carried the same way (`kept_word_counts`): the previous counts, less the
dropped passages', plus the new ones'. Terms or counts made under another `ANALYSIS_VERSION`
(or, for terms, another PyStemmer) are not carried: the build analyses every passage again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from app.store import bm25
from app.store.bm25 import LANGUAGES_FILE, LexicalIndex, analysis_for, stemmer_version

if TYPE_CHECKING:
    import numpy as np

TERMS_FILE = "terms.npy"  # each passage's terms as ids into bm25s's vocabulary, one after another (int32)
TERM_OFFSETS_FILE = "term_offsets.npy"  # where each passage's terms start in TERMS_FILE, and the end (int64)


def analysis_key(language: str | None) -> str:
    """What a passage's stored terms depend on besides its text: the analysis its language gets,
    `ANALYSIS_VERSION` and PyStemmer's version ("russian/1/3.0.0"). Terms stored under another
    key are analysed again (see app.store.postgres.build)."""
    return f"{analysis_for(language)}/{bm25.ANALYSIS_VERSION}/{stemmer_version()}"


def kept_word_counts(languages_file: bytes | None, words_file: bytes | None) -> dict[str, int] | None:
    """The word counts an earlier build saved (the contents of its `LANGUAGES_FILE` and
    `WORDS_FILE`), or None where they cannot be carried on: either file missing or unreadable,
    or counted under another `ANALYSIS_VERSION`."""
    if languages_file is None or words_file is None:
        return None
    try:
        if json.loads(languages_file).get("version") != bm25.ANALYSIS_VERSION:
            return None
        words = json.loads(words_file)
    except (ValueError, AttributeError):
        return None
    if not isinstance(words, dict) or not all(isinstance(count, int) for count in words.values()):
        return None
    return words


class KeptTerms:
    """Each passage's terms as an earlier build analysed them, by its row in that build."""

    def __init__(self, flat: np.ndarray, offsets: np.ndarray, vocabulary: list[str]) -> None:
        """`flat`: (terms,) int32 ids into `vocabulary`; `offsets`: (passages + 1,) int64, where each
        passage's ids start in `flat` and, last, their end."""
        self._flat, self._offsets, self._vocabulary = flat, offsets, vocabulary

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def of(self, row: int) -> list[str]:
        """The terms of the passage at `row` of the build that kept them, in text order."""
        vocabulary = self._vocabulary
        return [vocabulary[number] for number in self._flat[self._offsets[row]:self._offsets[row + 1]].tolist()]


def save_terms(lexical: LexicalIndex, folder: Path) -> None:
    """Write `lexical`'s passages' terms into `folder`, beside its bm25s files (nothing when it was
    not built from terms in this process)."""
    import numpy as np

    terms = lexical.terms
    if terms is None:
        return
    vocabulary = lexical.vocabulary
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(passage) for passage in terms])
    flat = np.fromiter((vocabulary[term] for passage in terms for term in passage), dtype=np.int32,
                       count=int(offsets[-1]))
    np.save(folder / TERMS_FILE, flat, allow_pickle=False)
    np.save(folder / TERM_OFFSETS_FILE, offsets, allow_pickle=False)


def kept_terms(lexical: LexicalIndex) -> KeptTerms | None:
    """The terms the build that saved `lexical` analysed for each of its passages, or None where
    it kept none or analysed them otherwise than this code would (another `ANALYSIS_VERSION` or
    PyStemmer): the next build then analyses every passage."""
    import numpy as np

    folder = lexical.folder
    if folder is None or not (folder / TERMS_FILE).is_file() or not (folder / TERM_OFFSETS_FILE).is_file():
        return None
    described = json.loads((folder / LANGUAGES_FILE).read_text(encoding="utf-8"))
    if described.get("version") != bm25.ANALYSIS_VERSION or described.get("stemmer") != stemmer_version():
        return None
    by_id = lexical.vocabulary
    vocabulary = [""] * len(by_id)
    for term, number in by_id.items():
        vocabulary[number] = term
    return KeptTerms(np.load(folder / TERMS_FILE, mmap_mode="r", allow_pickle=False),
                     np.load(folder / TERM_OFFSETS_FILE, allow_pickle=False), vocabulary)

"""What a loaded collection is written in: its words (for typo correction) and its languages.

Both are derived from the index's passages when first needed and kept for the generation:
words as the lexical index counted them at build time (an index built before counted
them: from every passage), languages from the documents' declared `language` plus those
py3langid finds in at least 5% of an even sample of passages, scripts from the same sample.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from app.documents.language import CollectionLanguages, document_language, script_of
from app.passages.chunk import Chunk
from app.search.spelling import Vocabulary
from app.store.bm25 import fold_for_matching

if TYPE_CHECKING:
    from app.store.protocol import LoadedIndex

SAMPLE = 300  # passages sampled for languages and scripts
MIN_SHARE = 0.05  # a language found in fewer sampled passages is taken for a misidentified one
SPELLING_PASSAGES = 20  # passages read to find how the documents spell a word


@dataclass(frozen=True)
class Lexicon:
    vocabulary: Vocabulary
    languages: CollectionLanguages

    @classmethod
    def of(cls, chunks: Sequence[Chunk], declared: Sequence[str | None],
           words: dict[str, int] | None = None) -> Lexicon:
        """From a collection's passages and its documents' declared languages ("en", "en-GB", None);
        `words`: the passages' word counts when the index kept them (else counted here)."""
        step = max(1, len(chunks) // SAMPLE)
        sample = [chunk.text for chunk in chunks[::step]]
        codes = {code.split("-")[0].split("_")[0].lower() for code in declared if code}
        detected = Counter(code for code in map(document_language, sample) if code)
        codes |= {code for code, count in detected.items() if count >= MIN_SHARE * len(sample)}
        scripts = {script for script in map(script_of, sample) if script}
        vocabulary = Vocabulary(words) if words is not None else Vocabulary.from_texts(c.text for c in chunks)
        return cls(vocabulary, CollectionLanguages(
            frozenset(codes), frozenset(scripts)))


def spelled_as(index: LoadedIndex, word: str) -> str:
    """How the documents spell `word`, a vocabulary word (folded: lower case, no diacritics):
    "медицинскои" -> "медицинской", "almaty" -> "Almaty". The commonest form that folds to it
    among the passages BM25 ranks highest for the word (up to SPELLING_PASSAGES), else among the
    first passages of the collection that hold such a form (the lexical analysis may keep the
    diacritics that folding drops); a lower-case form first when there is one (a capital may only
    start a sentence); the word as given when no passage holds it."""
    import numpy as np

    pattern = _spellings_of(word)
    scores = index.lexical.scores(word)
    top = min(SPELLING_PASSAGES, len(scores))
    rows = [int(row) for row in np.argpartition(-scores, top - 1)[:top] if scores[row] > 0] if top else []
    forms = _forms(pattern, word, (index.chunks[row].text for row in rows))
    if not forms:
        forms = _forms(pattern, word, (chunk.text for chunk in index.chunks), SPELLING_PASSAGES)
    lower = [(count, form) for form, count in forms.items() if form == form.lower()]
    ranked = lower or [(count, form) for form, count in forms.items()]
    return max(ranked)[1] if ranked else word


def _forms(pattern: re.Pattern[str], word: str, texts: Iterable[str], enough: int = 0) -> Counter[str]:
    """The forms of `word` (folded) in `texts`, counted; with `enough`, stop once that many are found."""
    forms: Counter[str] = Counter()
    for text in texts:
        forms.update(token for token in pattern.findall(text) if fold_for_matching(token) == word)
        if enough and forms.total() >= enough:
            break
    return forms


def _spellings_of(word: str) -> re.Pattern[str]:
    """A whole word whose every letter folds to `word`'s letter there, in either case ("и" also
    matches "й" and "Й"; "e" also "é")."""
    letters = "".join(f"[{re.escape(''.join(_folding_to().get(ch, ch)))}]" for ch in word)
    return re.compile(rf"(?<![^\W\d_]){letters}(?![^\W\d_])", re.IGNORECASE)


@lru_cache(maxsize=1)
def _folding_to() -> dict[str, str]:
    """Each letter of the Basic Multilingual Plane under the lower-case letter it folds to, without
    diacritics (as `app.store.bm25.fold_for_matching` folds): {"и": "ий", "e": "eèéêë...", ...}."""
    import unicodedata

    groups: dict[str, list[str]] = {}
    for code in range(0x10000):
        char = chr(code)
        if not char.isalpha():
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)).lower()
        if len(base) == 1:
            groups.setdefault(base, []).append(char.lower())
    return {base: "".join(dict.fromkeys([base, *chars])) for base, chars in groups.items()}

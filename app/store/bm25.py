"""Lexical ranker: BM25 (bm25s) over folded, number-normalised, stemmed tokens.

Matching folds case and diacritics and writes numbers one way, so a question with
"1,273" or "1273" finds the speech's "1 273", and "22,000" finds "22 thousand".
Folding is for matching only; displayed text is always the source's own.

Each passage is analysed in its document's language: that language's Snowball stemmer
(PyStemmer) and stop words (bm25s's lists), so "жалоба заключенного" and "жалобы
заключённых" share the stems "жалоб" and "заключен". Documents without a language, and
English ones, keep the English analysis. A question is analysed with every language
the collection holds and the terms are pooled (`LexicalIndex.query_terms`): a short
question's own language cannot be told reliably, and a term of the wrong analysis
finds nothing, so pooling costs little and never misses the right one.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.passages.chunk import plain_text

if TYPE_CHECKING:
    import numpy as np

# Digit groups split by a space, comma, dot or thin space: "1 273", "3,500", "1.000.000".
_GROUPED_NUMBER = re.compile(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u202f,.]\d{3})+(?![\d]|[.,]\d)")
_MAGNITUDE = re.compile(r"(?<![\d.,])(\d+)\s+(thousand|million|billion)\b")
_ZEROS = {"thousand": "000", "million": "000000", "billion": "000000000"}
_WORD = re.compile(r"\w+")
K1, B = 0.9, 0.4  # Anserini's defaults; chosen on SciFact train and eval/dev.jsonl
ENGLISH = "english"
LANGUAGES_FILE = "languages.json"  # beside bm25s's files: the analyses the index was built with
WORDS_FILE = "words.json"  # beside them: the passages' words and counts, for typo correction
_LETTERS = re.compile(r"[^\W\d_]+")
# A word, then a number or code on the same line: "Region 14", "Form 7-B", "Article 3(2)".
_IDENTIFIER = re.compile(r"\b([^\W\d_]{2,})[ \t]+(\d{1,6}(?:[-./]?[0-9a-z]{1,4}\b)*)(?![\w.,]\d)")
# ISO 639-1 codes of the languages Snowball stems (PyStemmer's algorithm names).
SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": ENGLISH, "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
    "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "nn": "norwegian", "fa": "persian", "pl": "polish", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "st": "sesotho", "es": "spanish", "sv": "swedish", "ta": "tamil",
    "tr": "turkish", "yi": "yiddish",
}
# bm25s's stop-word lists, by Snowball name.
STOPWORD_LISTS = {
    ENGLISH: "STOPWORDS_EN", "russian": "STOPWORDS_RUSSIAN", "french": "STOPWORDS_FRENCH",
    "german": "STOPWORDS_GERMAN", "spanish": "STOPWORDS_SPANISH", "italian": "STOPWORDS_ITALIAN",
    "portuguese": "STOPWORDS_PORTUGUESE", "dutch": "STOPWORDS_DUTCH", "danish": "STOPWORDS_DANISH",
    "swedish": "STOPWORDS_SWEDISH", "norwegian": "STOPWORDS_NORWEGIAN", "turkish": "STOPWORDS_TURKISH",
}
NO_STEMMER = "none"  # a known language Snowball has no stemmer for: words are folded, not stemmed
_LETTER_FOLDS = {"russian": str.maketrans("ё", "е")}  # spelling variants folded before stemming
# Raise whenever `analyze` or `count_words` would give another result for some text (a new rule, a
# new stop-word list, another fold): terms and word counts kept from an earlier build are then
# made again instead of being mixed with new ones.
ANALYSIS_VERSION = 1


@cache
def _combining_marks() -> dict[int, None]:
    """Every code point `unicodedata.combining` calls combining, mapped to None for `str.translate`
    (built once, about 0.1 s: the same characters a per-character test drops, at C speed)."""
    import sys

    return {point: None for point in range(sys.maxunicode + 1) if unicodedata.combining(chr(point))}


def _strip_marks(text: str) -> str:
    if text.isascii():  # (ASCII has no diacritics to drop)
        return text
    return unicodedata.normalize("NFKD", text).translate(_combining_marks())


def _numbers(text: str) -> str:
    text = _GROUPED_NUMBER.sub(lambda m: re.sub(r"\D", "", m.group()), text)
    return _MAGNITUDE.sub(lambda m: f"{m.group(0)} {m.group(1)}{_ZEROS[m.group(2)]}", text)


def fold_for_matching(text: str) -> str:
    """Lower case without diacritics or markup, grouped numbers joined ("1 273" -> "1273")."""
    return _numbers(_strip_marks(plain_text(text)).lower())


def analysis_for(language: str | None) -> str:
    """The analysis a language gets: its Snowball stemmer's name, English for a document without
    a language (or an unknown code), `NO_STEMMER` for a known language Snowball lacks.

    `language`: an ISO 639-1 code, optionally with a region ("ru", "pt-BR", "en_GB")."""
    if not language:
        return ENGLISH
    code = re.split(r"[-_]", language.strip().lower())[0]
    if code in SNOWBALL:
        return SNOWBALL[code]
    return NO_STEMMER if re.fullmatch(r"[a-z]{2,3}", code) else ENGLISH


@cache
def _stemmer(algorithm: str = ENGLISH) -> Any:
    import Stemmer

    return Stemmer.Stemmer(algorithm)


@cache
def _stopwords(algorithm: str = ENGLISH) -> frozenset[str]:
    import bm25s.stopwords

    words = getattr(bm25s.stopwords, STOPWORD_LISTS.get(algorithm, ""), ())
    fold = _LETTER_FOLDS.get(algorithm)
    return frozenset(word.lower().translate(fold) if fold else word.lower() for word in words)


def stopwords(language: str | None = None) -> frozenset[str]:
    """The words BM25 ignores in `language` (bm25s's lists; None: English), folded as analysed."""
    return _stopwords(analysis_for(language))


def identifiers(folded: str, stop: frozenset[str]) -> list[tuple[int, str]]:
    """Identifiers in folded text as single terms, with the offset where each ends: a word (not a
    stop word) followed by a number or code, "region 14" -> "region14", "form 7-b" -> "form7b",
    "article 3" -> "article3". A word and a number are each common in a table ("Region" on every
    row, "14" in any column); the pair names one row, so a question naming it matches that row's
    passage as a phrase would."""
    return [(match.end(), f"{match.group(1)}{re.sub(r'[^0-9a-z]', '', match.group(2))}")
            for match in _IDENTIFIER.finditer(folded) if match.group(1) not in stop]


def _in_order(words: list[tuple[int, str]], found: list[tuple[int, str]]) -> list[str]:
    """Terms (offset, term) of both lists merged in text order: each identifier after its words."""
    if not found:
        return [term for _, term in words]
    return [term for _, term in sorted(words + found, key=lambda item: item[0])]


def analyze(text: str, language: str | None = None, folded: str | None = None) -> list[str]:
    """The tokens BM25 sees, in text order: folded words, stop words dropped, Snowball-stemmed in
    `language` (an ISO 639-1 code; None: English, as for every document before languages were
    told), each of the text's `identifiers` after its words. `folded`: `fold_for_matching(text)`
    where the caller has it already (the English analysis starts from it)."""
    algorithm = analysis_for(language)
    if algorithm == ENGLISH:
        return _analyze_english(fold_for_matching(text) if folded is None else folded)
    # Other languages are stemmed with their diacritics (Snowball expects "й", "ä", "é"), then folded.
    folded = _numbers(unicodedata.normalize("NFC", plain_text(text)).lower())
    fold = _LETTER_FOLDS.get(algorithm)
    if fold:
        folded = folded.translate(fold)
    stop = _stopwords(algorithm)
    kept = [(m.start(), m.group()) for m in _WORD.finditer(folded) if m.group() not in stop]
    words = [word for _, word in kept]
    if algorithm != NO_STEMMER:
        words = _stemmer(algorithm).stemWords(words)
    found = [(at, _strip_marks(term)) for at, term in identifiers(folded, stop)]
    return _in_order([(at, _strip_marks(word)) for (at, _), word in zip(kept, words)], found)


def _analyze_english(folded: str) -> list[str]:
    """`analyze` in English of text already folded by `fold_for_matching`."""
    stop = _stopwords()
    kept = [(m.start(), m.group()) for m in _WORD.finditer(folded) if m.group() not in stop]
    stems = _stemmer().stemWords([word for _, word in kept])
    return _in_order([(at, stem) for (at, _), stem in zip(kept, stems)], identifiers(folded, stop))


def analyze_pooled(text: str, languages: Sequence[str | None]) -> list[str]:
    """`text` analysed in each of `languages`, the terms pooled: the first analysis whole, then
    each other analysis's terms that the earlier ones did not yield (one analysis: exactly it)."""
    algorithms = list(dict.fromkeys(analysis_for(language) for language in languages)) or [ENGLISH]
    terms = analyze(text, _code(algorithms[0]))
    seen = set(terms)
    for algorithm in algorithms[1:]:
        for term in analyze(text, _code(algorithm)):
            if term not in seen:
                seen.add(term)
                terms.append(term)
    return terms


def _code(algorithm: str) -> str | None:
    """A language code that selects `algorithm` (inverse of `analysis_for`)."""
    if algorithm == NO_STEMMER:
        return "und"
    return next((code for code, name in SNOWBALL.items() if name == algorithm), None)


def count_words(texts: Iterable[str]) -> dict[str, int]:
    """How often each word occurs in `texts`: runs of letters after `fold_for_matching`, unstemmed
    (the words a typed question is corrected to; see app.search.spelling)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_LETTERS.findall(fold_for_matching(text)))
    return dict(counts)


def passage_terms(text: str, language: str | None) -> tuple[list[str], list[str]]:
    """A passage's BM25 terms (`analyze` in its `language`; `[""]` for a passage without any, as
    bm25s wants a token for every passage) and its words (as `count_words` counts them), from
    one fold of the text."""
    folded = fold_for_matching(text)
    return analyze(text, language, folded) or [""], _LETTERS.findall(folded)


@cache
def stemmer_version() -> str:
    """PyStemmer's version: stems, and so kept terms, may differ between its versions."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("PyStemmer")
    except PackageNotFoundError:
        return "unknown"


class LexicalIndex:
    """A bm25s index over passages, saved as plain .npy and JSON files (never pickled), with the
    passages' word counts (`words`), counted once at build time: 382,000 General Debate
    passages take about 50 s to count, too long to do at a server's first question."""

    def __init__(self, retriever: Any, analyses: Sequence[str] = (ENGLISH,),
                 words: dict[str, int] | None = None, folder: Path | None = None,
                 terms: list[list[str]] | None = None) -> None:
        """`analyses`: the analyses (Snowball names, see `analysis_for`) its passages were indexed with;
        `words`: the passages' word counts, or None to read them from `folder` when first needed;
        `terms`: each passage's terms, kept so that the next build analyses only its new passages
        (app.store.terms)."""
        self._retriever = retriever
        self.analyses = tuple(analyses) or (ENGLISH,)
        self._words = words
        self._folder = folder
        self._terms = terms

    @classmethod
    def build(cls, texts: list[str], languages: Sequence[str | None] | None = None) -> LexicalIndex:
        """Index `texts`, each analysed in its language (`languages[i]`; None: English)."""
        codes = list(languages) if languages is not None else [None] * len(texts)
        terms, words = [], Counter[str]()
        for text, code in zip(texts, codes):  # each text folded once, for its terms and its words
            passage, found = passage_terms(text, code)
            terms.append(passage)
            words.update(found)
        return cls.from_terms(terms, codes, dict(words))

    @classmethod
    def from_terms(cls, terms: list[list[str]], languages: Sequence[str | None],
                   words: dict[str, int]) -> LexicalIndex:
        """Index passages already analysed: `terms[i]` is `passage_terms(text_i, languages[i])[0]`,
        `words` the word counts of all of them (`count_words`). Both stores keep each passage's
        terms (the folder beside these files, the database in a table: app.store.terms), so a build
        analyses only its new passages; bm25s's own indexing (about 16-22 s for the 383,584
        passages of the whole General Debate) remains."""
        import bm25s

        retriever = bm25s.BM25(k1=K1, b=B)
        retriever.index(terms, show_progress=False)
        analyses = sorted({analysis_for(code) for code in languages}, key=lambda name: (name != ENGLISH, name))
        return cls(retriever, analyses or [ENGLISH], words, terms=terms)

    def save(self, folder: Path) -> None:
        """Write the index's files into `folder` (each passage's terms: app.store.terms.save_terms)."""
        import json

        self._retriever.save(str(folder), show_progress=False)
        described = {"analyses": list(self.analyses), "version": ANALYSIS_VERSION, "stemmer": stemmer_version()}
        (folder / LANGUAGES_FILE).write_text(json.dumps(described) + "\n", encoding="utf-8")
        if self._words is not None:
            (folder / WORDS_FILE).write_text(json.dumps(self._words, ensure_ascii=False), encoding="utf-8")

    @property
    def terms(self) -> list[list[str]] | None:
        """Each passage's terms when this index was built from them here, else None."""
        return self._terms

    @property
    def vocabulary(self) -> Mapping[str, int]:
        """bm25s's term ids (its own dictionary, read-only)."""
        from types import MappingProxyType

        return MappingProxyType(self._retriever.vocab_dict)

    @property
    def folder(self) -> Path | None:
        """Where the index was loaded from (None: built in this process)."""
        return self._folder

    @property
    def words(self) -> dict[str, int] | None:
        """The passages' word counts (`count_words`), or None for an index saved before they were
        kept (the caller counts them from the passages)."""
        if self._words is None and self._folder is not None and (self._folder / WORDS_FILE).exists():
            import json

            self._words = json.loads((self._folder / WORDS_FILE).read_text(encoding="utf-8"))
        return self._words

    @classmethod
    def load(cls, folder: Path, mapped: bool = True) -> LexicalIndex:
        """The index saved in `folder`; `mapped`: its score arrays memory-mapped, else read into memory."""
        import json

        import bm25s

        retriever = bm25s.BM25.load(str(folder), mmap=mapped, show_progress=False, verbosity=0)
        path = folder / LANGUAGES_FILE
        analyses = json.loads(path.read_text(encoding="utf-8"))["analyses"] if path.exists() else [ENGLISH]
        return cls(retriever, analyses, folder=folder)

    @property
    def languages(self) -> tuple[str | None, ...]:
        """Language codes selecting each of the index's analyses, for `analyze`."""
        return tuple(_code(name) for name in self.analyses)

    def query_terms(self, text: str) -> list[str]:
        """A question's terms: analysed in every language the index holds, pooled."""
        return analyze_pooled(text, self.languages)

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

    def query_attainable(self, text: str) -> float:
        """`attainable` of a question's terms in the analysis that suits it best: the least over the
        collection's languages (the question's own language finds its terms; another would leave
        them unseen and inflate it). One language: `attainable(analyze(text))`."""
        return min(self.attainable(analyze(text, language)) for language in self.languages)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros where no term matches)."""
        vocab = self._retriever.vocab_dict
        tokens = [t for t in self.query_terms(query) if t in vocab]
        if not tokens:
            import numpy as np

            return np.zeros(self._retriever.scores["num_docs"], dtype=np.float32)
        return self._retriever.get_scores(tokens)

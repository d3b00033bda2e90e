"""Language of a text: which language a document is written in (ISO 639-1 code).

py3langid (a maintained fork of langid.py, Lui & Baldwin 2012: a naive Bayes classifier
over byte n-grams, 97 languages, model shipped in the package) identifies the language
of a document's text. It is reliable on a paragraph or more; on a few words it often is
not ("Who is Bitayev?" comes out as Somali), so short texts need more evidence than its
guess before anything acts on it.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SAMPLE_CHARS = 20_000  # a long document is identified from its first characters
MIN_PROBABILITY = 0.9


@dataclass(frozen=True)
class Identified:
    """A language guess: ISO 639-1 code and py3langid's normalised probability (0-1)."""

    code: str
    probability: float


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identify(text: str) -> Identified:
    """py3langid's most likely language for `text` and its probability."""
    code, probability = _identifier().classify(text[:SAMPLE_CHARS])
    return Identified(str(code), float(probability))


def document_language(text: str) -> str | None:
    """The language a document is written in, or None when the text is too short or mixed to tell."""
    letters = sum(ch.isalpha() for ch in text[:SAMPLE_CHARS])
    if letters < 40:
        return None
    found = identify(text)
    return found.code if found.probability >= MIN_PROBABILITY else None


def script_of(text: str) -> str | None:
    """The writing system most of the text's letters belong to ("LATIN", "CYRILLIC", "CJK", ...),
    from the Unicode character names; None for a text without letters."""
    import unicodedata

    counts: dict[str, int] = {}
    for ch in text[:SAMPLE_CHARS]:
        if ch.isalpha():
            script = unicodedata.name(ch, "UNKNOWN").split(" ")[0]
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda name: counts[name]) if counts else None


def language_name(code: str) -> str:
    """English name of a language code ("ru" -> "Russian"), from Babel's CLDR data; the code if unknown."""
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(code).get_display_name("en"))
    except (ValueError, UnknownLocaleError):
        return code


@dataclass(frozen=True)
class CollectionLanguages:
    """The languages a collection's documents are written in, and their scripts."""

    codes: frozenset[str]
    scripts: frozenset[str]

    @property
    def names(self) -> str:
        """"English", "English and Russian", "English, French and Russian"."""
        names = sorted(language_name(code) for code in self.codes)
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


KNOWN_WORD_ZIPF = 3.0  # wordfreq's Zipf scale: 3 = once per million words, a word of the language
CLEAR_MARGIN = 1.0  # a word belongs to one language when it is 10x more frequent there than in the other


def foreign_language(question: str, collection: CollectionLanguages,
                     vocabulary: Container[str] = frozenset()) -> str | None:
    """The language code of `question` when it is clearly none of the collection's, else None.

    Foreign means: its letters are in a script no document uses; or py3langid's best guess L
    is another language and more of the question's words are words of L than of any collection
    language, by wordfreq's frequencies (a word counts for the language where it is at least 10x
    more frequent and common: Zipf >= 3; a word of the collection's own `vocabulary`, lower
    case, counts for the collection, as "coup d'état" does in an English speech). Short
    questions are where identifiers fail ("Who is Bitayev?" comes out Somali), and names
    count for no language, so a misspelt English question ("Wat happend in Taldykorgn?") is
    never told it is Dutch.
    """
    if not collection.codes:
        return None
    script = script_of(question)
    if script is None:
        return None
    found = identify(question)
    if script not in collection.scripts:
        return found.code if found.code not in collection.codes else _script_language(script)
    if found.code in collection.codes:
        return None
    words = [w for w in re.findall(r"[^\W\d_]+", question.lower()) if len(w) > 1]
    own = sum(1 for w in words if w in vocabulary)
    theirs, ours = _word_votes([w for w in words if w not in vocabulary], found.code, collection.codes)
    ours += own
    return found.code if theirs >= 2 and theirs > ours else None


def _word_votes(words: list[str], other: str, codes: frozenset[str]) -> tuple[int, int]:
    """How many words are clearly of language `other`, and how many clearly of one of `codes`
    (languages without a wordfreq list get no votes: wordfreq would answer for a "nearest" one)."""
    from wordfreq import zipf_frequency

    listed = _wordfreq_languages()
    ours_listed = [code for code in codes if code in listed]
    if other not in listed or not ours_listed:
        return 0, 0
    theirs = ours = 0
    for word in words:
        there = zipf_frequency(word, other)
        here = max(zipf_frequency(word, code) for code in ours_listed)
        if there >= KNOWN_WORD_ZIPF and there >= here + CLEAR_MARGIN:
            theirs += 1
        elif here >= KNOWN_WORD_ZIPF and here >= there + CLEAR_MARGIN:
            ours += 1
    return theirs, ours


@lru_cache(maxsize=1)
def _wordfreq_languages() -> frozenset[str]:
    from wordfreq import available_languages

    return frozenset(available_languages())


def _script_language(script: str) -> str:
    """A language name for a script when the identifier's guess is a collection language anyway."""
    return {"CYRILLIC": "ru", "GREEK": "el", "ARABIC": "ar", "HEBREW": "he", "CJK": "zh", "HANGUL": "ko",
            "HIRAGANA": "ja", "KATAKANA": "ja", "DEVANAGARI": "hi", "THAI": "th"}.get(script, script.lower())

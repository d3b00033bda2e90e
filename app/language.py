"""Language of a text: which language a document is written in (ISO 639-1 code).

py3langid (a maintained fork of langid.py, Lui & Baldwin 2012: a naive Bayes classifier
over byte n-grams, 97 languages, model shipped in the package) identifies the language
of a document's text. It is reliable on a paragraph or more; on a few words it often is
not ("Who is Bitayev?" comes out as Somali), so short texts need more evidence than its
guess before anything acts on it.
"""

from __future__ import annotations

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

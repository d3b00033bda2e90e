"""What a loaded collection is written in: its words (for typo correction) and its languages.

Both are derived from the index's passages when first needed and kept for the generation:
words as the lexical index counted them at build time (an index built before counted
them: from every passage), languages from the documents' declared `language` plus those
py3langid finds in at least 5% of an even sample of passages, scripts from the same sample.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from app.documents.language import CollectionLanguages, document_language, script_of
from app.passages.chunk import Chunk
from app.search.spelling import Vocabulary

SAMPLE = 300  # passages sampled for languages and scripts
MIN_SHARE = 0.05  # a language found in fewer sampled passages is taken for a misidentified one


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

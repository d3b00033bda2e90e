"""Answer highlighting: which sentences of a passage best answer the question.

Each sentence is scored by the cosine similarity of its (build-time) vector to the
question's, plus the share of the question's words it contains (folded, so "1,273"
matches "1 273"), plus IDENTIFIER_BONUS when it names an identifier of the question
("Region 14") or is the one table row holding a word of the question ("Oban"): the answering
row. Highlights are (start, end) offsets of whole sentences: markup goes around slices of the
passage, never into them.

A sentence with no words of its own answers nothing and is never highlighted: a line
that is only a link ("([Tokarev, Klebanov](#))"), a bare number, a URL, a document
symbol or a page footer ("Page 3 of 12", "GE.23-08215").
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import cache

from app.store.bm25 import analyze

LEXICAL_WEIGHT = 0.3
# A sentence (a table row) naming an identifier of the question ("Region 14", "Form 7-B": one
# term each, see app.store.bm25.identifiers) is the one that answers it: cosines barely tell
# "Region 14" from "Region 4", so the named row is preferred by a margin above their spread.
IDENTIFIER_BONUS = 0.3
_IDENTIFIER_TERM = re.compile(r"[^\W\d_]{2,}\d")
RUNNER_UP = 0.9  # a second sentence is marked when it scores at least this share of the best
MAX_MARKED = 2
NO_WORDS = -math.inf  # the score of a sentence with no words of its own

# Text that is not the sentence's own words: Markdown links and images (their text
# included), autolinks and bare URLs.
_NOT_OWN = re.compile(r"!?\[[^\]]*\]\([^)]*\)|<[A-Za-z][\w+.-]*:[^>\s]*>|\b(?:https?://|www\.)\S+")
_EDGE = "*_~`()[]{}<>\"'“”‘’«».,;:!?…–—-/|#"
_WORD = re.compile(r"[^\W\d_]{2,}(?:['’-][^\W\d_]+)*")  # two letters or more; no digits, dots or slashes
_FURNITURE = frozenset({"page", "pp", "of"})  # the words of a page footer ("Page 3 of 12")


def has_own_words(sentence: str) -> bool:
    """True when `sentence` holds at least one word outside links, URLs, numbers and codes.

    A word is a run of two or more letters (apostrophes and hyphens inside allowed);
    "GE.23-08215", "CAT/C/KAZ/CO/4", "1 273" and "(E)" are not words, and a line whose
    only words are "page" and "of" is a page footer."""
    for token in _NOT_OWN.sub(" ", sentence).split():
        core = token.strip(_EDGE)
        if _WORD.fullmatch(core) and core.casefold() not in _FURNITURE:
            return True
    return False


def sentence_scores(
    cosines: Sequence[float], query_terms: set[str], texts: Sequence[str], language: str | None = None
) -> list[float]:
    """Each sentence's score: its cosine to the question plus LEXICAL_WEIGHT times the share of the
    question's terms it holds (`texts` analysed in their document's `language`, as BM25 does), plus
    IDENTIFIER_BONUS when one is an identifier of the question; NO_WORDS (-inf) for a sentence with
    no words of its own."""
    scores = []
    all_terms = terms_of_each(texts, language) if query_terms else [set()] * len(texts)
    named = {term for term in query_terms if _IDENTIFIER_TERM.match(term)}
    rows = named_rows(query_terms, texts, all_terms)
    for number, (similarity, text, terms) in enumerate(zip(cosines, texts, all_terms)):
        if not has_own_words(text):
            scores.append(NO_WORDS)
            continue
        overlap = len(query_terms & terms) / len(query_terms) if query_terms else 0.0
        bonus = IDENTIFIER_BONUS if named & terms or number in rows else 0.0
        scores.append(similarity + LEXICAL_WEIGHT * overlap + bonus)
    return scores


_TABLE_SEPARATOR = re.compile(r"[\s:|-]*\|[\s:|-]*-[\s:|-]*$")  # a header's |---|:--:| line


def named_rows(query_terms: set[str], texts: Sequence[str], all_terms: Sequence[set[str]]) -> set[int]:
    """The table rows among `texts` (sentences starting with "|") that alone hold a term of the
    question: the row a question names by its key ("Oban", "Lisakovsk", "Region 14"), which
    sentence cosines barely tell from its neighbours. A table's header row (the one above its
    |---| line) names columns, not a row, and is left out."""
    rows = [i for i, text in enumerate(texts) if text.lstrip().startswith("|")]
    if len(rows) < 2 or not query_terms:
        return set()
    header = {row for row, after in zip(rows, rows[1:]) if _TABLE_SEPARATOR.match(texts[after])}
    holders: dict[str, list[int]] = {}
    for row in rows:
        if row not in header:
            for term in query_terms & all_terms[row]:
                holders.setdefault(term, []).append(row)
    return {found[0] for found in holders.values() if len(found) == 1}


BREAK_WORD = "zqxsentencebreakxqz"  # a word no sentence holds, which analysis keeps as one token


@cache
def _break_token(language: str | None = None) -> str | None:
    tokens = analyze(BREAK_WORD, language)
    return tokens[0] if len(tokens) == 1 else None


def terms_of_each(texts: Sequence[str], language: str | None = None) -> list[set[str]]:
    """`set(analyze(text, language))` for each text, from one call of `analyze` over all of them, each on
    its own line between lines holding BREAK_WORD: a passage's sentences cost one analysis
    instead of one each (~30 µs a call). Falls back to one call a text if the result could
    differ: a text holding the word or a "[" (a Markdown link's text may run on into the next
    sentence, and stripping the link would then swallow the break), or an analysis that splits
    the word. (Markup inside one line, such as an HTML tag, cannot reach across the breaks.)"""
    marker = _break_token(language)
    if marker is None or len(texts) < 2 or any("[" in text or BREAK_WORD in text.lower() for text in texts):
        return [set(analyze(text, language)) for text in texts]
    groups: list[set[str]] = [set()]
    for token in analyze(f"\n{BREAK_WORD}\n".join(texts), language):
        if token == marker:
            groups.append(set())
        elif not token.startswith(BREAK_WORD):  # (the break word before a number reads as an identifier)
            groups[-1].add(token)
    return groups if len(groups) == len(texts) else [set(analyze(text, language)) for text in texts]


def pick_highlights(
    spans: Sequence[tuple[int, int]], scores: Sequence[float]
) -> tuple[tuple[int, int], ...]:
    """The best sentence, and a close runner-up, in document order; never a NO_WORDS one
    (a passage of only such sentences gets no highlight)."""
    order = sorted((i for i in range(len(spans)) if scores[i] != NO_WORDS), key=lambda i: -scores[i])
    if not order:
        return ()
    best = scores[order[0]]
    chosen = [order[0]] + [i for i in order[1:MAX_MARKED] if scores[i] >= RUNNER_UP * best > 0]
    return tuple(spans[i] for i in sorted(chosen))

"""Follow-up questions: searched in the context of the conversation, without generating text.

A question is a follow-up only when it refers back: it opens with "and", "but", "what
about" and the like, holds a pronoun ("he", "they", "it", "that"), or is too bare to
stand alone (one content word, no name or number: "And convicted?"). Its context is the
last earlier question that stood alone. Nothing is rewritten: the search keeps the new
question's own words apart from the context's, so that they decide the ranking and the
context only breaks ties (see `app.search.ranking.rank_passages`). Questions in different
languages are never joined.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_OPENERS = re.compile(r"^\s*(and|but|also|so|then|what about|how about|what of|and what about|as for)\b", re.I)
_REFERRING = {"he", "him", "his", "she", "her", "hers", "they", "them", "their", "it", "its",
              "this", "that", "these", "those", "there", "then", "such"}
_FUNCTION = {"how", "many", "much", "what", "who", "whom", "which", "when", "where", "why", "was",
             "were", "is", "are", "did", "do", "does", "the", "a", "an", "of", "to", "in", "on",
             "for", "by", "with", "at", "from", "be", "been", "has", "have", "had", "happened",
             "happen", "else", "more", "any", "about", "and", "or", "so", "also", "after"}
_SHORT = 1  # a question with at most this many content words leans on what came before


@dataclass(frozen=True)
class Query:
    """What is searched: the question's own words and, for a follow-up, the earlier question it
    refers back to."""

    text: str
    context: str = ""

    @property
    def searched_as(self) -> str:
        """The two joined, as shown to the user ("searched with the earlier question")."""
        return f"{self.context} {self.text}" if self.context else self.text


def is_follow_up(question: str) -> bool:
    """True when the question refers back (pronoun, "and ...") or is too bare to stand alone."""
    if _OPENERS.match(question):
        return True
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*|\d[\d ,.]*", question)
    lowered = [w.lower() for w in words]
    if any(w in _REFERRING for w in lowered):
        return True
    if not words:  # no word in Latin letters: the rules above do not apply to its language
        return False
    content = [w for w, low in zip(words, lowered) if low not in _FUNCTION]
    named = any(w[0].isupper() or w[0].isdigit() for w in content)  # "Taldykorgan", "1 273"
    return len(content) <= _SHORT and not named


def contextualize(question: str, history: Sequence[str],
                  same_language: Callable[[str, str], bool] = lambda a, b: True) -> Query:
    """The question alone, or with the last earlier question that stood alone as its context.

    `same_language(a, b)` tells whether two questions are in one language; a follow-up is
    never joined to a question in another.
    """
    earlier = [h.strip() for h in history if h.strip()]
    if not earlier or not is_follow_up(question):
        return Query(question)
    anchor = next((h for h in reversed(earlier) if not is_follow_up(h)), earlier[0])
    if not same_language(question, anchor):
        return Query(question)
    return Query(question, anchor)

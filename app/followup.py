"""Follow-up questions: searched in the context of the conversation, without generating text.

"And how many were convicted?" after "How many citizens were killed?" is searched as the
earlier standalone question followed by the new one. Nothing is rewritten: the search
text is the user's own words, joined.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_OPENERS = re.compile(r"^\s*(and|but|also|so|then|what about|how about|what of|and what about)\b", re.I)
_REFERRING = {"he", "him", "his", "she", "her", "hers", "they", "them", "their", "it", "its",
              "this", "that", "these", "those", "there", "then", "such"}
_FUNCTION = {"how", "many", "much", "what", "who", "whom", "which", "when", "where", "why", "was",
             "were", "is", "are", "did", "do", "does", "the", "a", "an", "of", "to", "in", "on",
             "for", "by", "with", "at", "from", "be", "been", "has", "have", "had", "happened",
             "happen", "else", "more", "any", "about", "and", "or", "so", "also", "after"}
_SHORT = 1  # a question with at most this many content words leans on what came before


def is_follow_up(question: str) -> bool:
    """True when the question refers back (pronoun, "and ...") or is too bare to stand alone."""
    if _OPENERS.match(question):
        return True
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*|\d[\d ,.]*", question)
    lowered = [w.lower() for w in words]
    if any(w in _REFERRING for w in lowered):
        return True
    content = [w for w, low in zip(words, lowered) if low not in _FUNCTION]
    named = any(w[0].isupper() or w[0].isdigit() for w in content)  # "Taldykorgan", "1 273"
    return len(content) <= _SHORT and not named


def contextualize(question: str, history: Sequence[str]) -> str:
    """The text to search: the question alone, or the last standalone question plus it."""
    earlier = [h.strip() for h in history if h.strip()]
    if not earlier or not is_follow_up(question):
        return question
    anchor = next((h for h in reversed(earlier) if not is_follow_up(h)), earlier[0])
    return f"{anchor} {question}"

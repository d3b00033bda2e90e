"""Query performance prediction (QPP): how likely the ranking holds an answer, from signals
available without a reader model.

Pre-retrieval predictors look at the question and the collection alone:
- `known`: the share of the question's information, by general-language rarity, carried by
  terms that occur in the collection at all (a rare word the documents never use, such as
  "opposition" in a speech that has none, points away from an answer);
Post-retrieval predictors look at the ranking:
- `cosine`: the best passage's cosine similarity to the question (dense retrieval);
- `nqc` (Shtok et al. 2012, normalised query commitment): the spread of the top dense scores
  relative to the candidates' mean; `wig` (Zhou & Croft 2007, weighted information gain):
  the top-5 mean above the candidates' mean;
- `coverage`: the share of the question's information found in the best passage;
- `names_known`: the share of the names the question mentions (its capitalised words:
  "Belarus", "NATO", "Bitayev") that the collection uses: a question about an entity the
  documents never name cannot be answered by them (a misspelt name is corrected before);
- `agreement`: how many of the dense ranker's top 5 the lexical ranker also puts in its top 5;
- `answer_type`: a quantity question ("how many", "how much", "what percentage") needs a
  number in a best-passage sentence that holds one of its content terms; a "when" question
  a date or year. Other questions pass;
- `sentence`: the best cosine of any sentence of the top passages; `answer_sentence`: the
  best cosine of a sentence holding an answer of the asked form that the question does not
  hold already (a number for "how many", a date for "when", a proper name for "who" or "what
  is the name"); with the form itself (`quantity`, `time`, `person`), so that the model can
  weigh each form apart. A passage about the right thing without the asked-for kind of
  answer is the commonest way a near-topic question looks answered.

Rarity is the general-language information content of a word, 9 - Zipf frequency (Speer's
wordfreq; Zipf 9 = once per word, so "the" weighs 1.3 and an unknown name 8).
"""

from __future__ import annotations

import math
import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from app.store.bm25 import analyze, fold_for_matching

FEATURES = ("cosine", "sentence", "answer_sentence", "coverage", "known", "names_known", "nqc", "wig", "agreement",
            "answer_type", "quantity", "time", "person", "entity")
NQC_CAP = 3.0  # NQC divides by the candidates' mean cosine, which is near 0 for off-topic questions
NAME_ZIPF = 3.5  # a capitalised word rarer than this in general English is taken for a name
UNKNOWN_WORD_ZIPF = 2.0  # rarer than this, a word is no word of the language (a name, or a typo)
MAX_RARITY = 8.0
_WORDS = re.compile(r"[^\W_]+")
_QUESTION_WORDS = frozenset({
    "how", "many", "much", "what", "which", "who", "whom", "whose", "when", "where", "why", "did", "does", "do",
    "was", "were", "is", "are", "has", "have", "had", "happened", "happen", "according", "tell", "me", "please",
    "there"})
_FUNCTION_WORDS = frozenset({"i", "a", "an", "the", "and", "or", "but", "of", "in", "on", "at", "to", "for", "from",
                            "with", "by", "about", "as", "if"})
_QUANTITY = re.compile(r"\b(how\s+(many|much|long|often|old|large|big|far)|what\s+(number|percentage|share|"
                       r"proportion|amount|sum|total)|number\s+of|percentage|per\s*cent)\b", re.I)
_PERSON = re.compile(r"^\s*(who|whom|whose)\b|\bname[sd]?\b|\bwhich\s+(person|people|official|officials|officer|"
                     r"minister|judge|prosecutor|leader|leaders|man|woman)\b", re.I)
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z]+\b")
_WHICH = re.compile(r"^\s*which\s+(?!(is|was|were|are|did|do|does|has|have|had|happened|kind|type|sort)\b)"
                    r"[a-z'-]+(\s+[a-z'-]+)?\s+(were|was|are|is|did|do|does|have|has|had)\b", re.I)
_WHEN = re.compile(r"^\s*(when|what\s+(date|day|year|month|time))\b", re.I)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
                     r"fifty|hundred|thousand|million|billion|dozens?|half|all|none)\b", re.I)
_DATE = re.compile(r"\b(1[89]\d\d|20\d\d)\b|\b(january|february|march|april|may|june|july|august|september|"
                   r"october|november|december)\b", re.I)


@dataclass(frozen=True)
class Term:
    """A content word of the question: as typed (folded), its stem, its general-language rarity."""

    word: str
    stem: str
    rarity: float
    stems: frozenset[str] = frozenset()  # its stem in each language of the collection (with `stem`)

    def found_in(self, present: Container[str]) -> bool:
        return self.stem in present or any(stem in present for stem in self.stems)


@lru_cache(maxsize=4096)
def rarity(word: str, language: str = "en") -> float:
    """9 - Zipf frequency of `word` in general `language` (wordfreq), capped at 8; numbers 8."""
    if word.isdigit():
        return MAX_RARITY
    from wordfreq import zipf_frequency

    return min(9.0 - zipf_frequency(word, language), MAX_RARITY)


def content_terms(question: str, language: str = "en", languages: Sequence[str | None] = (None,)) -> list[Term]:
    """The question's words that carry its content: not stop words or question words; stemmed in
    each of the collection's `languages` (as the lexical index analyses them)."""
    from app.store.bm25 import analyze_pooled, stopwords

    terms, seen = [], set()
    for word in _WORDS.findall(fold_for_matching(question)):
        if word in _QUESTION_WORDS or word in stopwords() or word in seen:
            continue
        seen.add(word)
        stems = analyze_pooled(word, languages) if len(languages) > 1 else analyze(word, languages[0])
        if stems:
            terms.append(Term(word, stems[0], rarity(word, language), frozenset(stems)))
    return terms


def question_names(question: str) -> list[str]:
    """The names a question mentions, folded: its capitalised words ("Belarus", "NATO", "Taldykorgan"),
    but not question or function words. The first word is capitalised by grammar, so it counts
    only as an acronym ("NATO ...") or a word no dictionary knows ("Taldykorgan ..."; not "What",
    "Police" or a misspelt "Wat")."""
    from wordfreq import zipf_frequency

    names = []
    for match in _CAPITALISED.finditer(question):
        word = fold_for_matching(match.group())
        first = not question[: match.start()].strip(" \"'“¿¡*")
        if word in _QUESTION_WORDS or word in _FUNCTION_WORDS:
            continue
        if first and not match.group().isupper() and zipf_frequency(word, "en") >= UNKNOWN_WORD_ZIPF:
            continue
        names.append(word)
    return names


def has_content(question: str) -> bool:
    """Whether the question has a word to search for ("?", "the and of", "*" have none)."""
    return bool(content_terms(question))


def share(terms: Sequence[Term], present: Container[str]) -> float:
    """Rarity-weighted share of `terms` whose stem is in `present` (1.0 without terms)."""
    total = sum(t.rarity for t in terms)
    return sum(t.rarity for t in terms if t.found_in(present)) / total if total else 1.0


def dispersion(scores: Sequence[float], top: Sequence[float]) -> tuple[float, float]:
    """NQC and WIG of a dense ranking: `scores` all candidates' cosines, `top` the best ones, sorted."""
    if not scores or not top:
        return 0.0, 0.0
    mean = sum(scores) / len(scores)
    head = top[:10]
    spread = math.sqrt(sum((s - sum(head) / len(head)) ** 2 for s in head) / len(head))
    wig = sum(top[:5]) / len(top[:5]) - mean
    return min(spread / abs(mean), NQC_CAP) if mean else NQC_CAP, wig


def answer_type_ok(question: str, passage: str, terms: Sequence[Term]) -> float:
    """1.0 when the best passage can hold the kind of answer asked for, 0.0 when it cannot."""
    want = _NUMBER if _QUANTITY.search(question) else _DATE if _WHEN.match(question) else None
    if want is None:
        return 1.0
    from app.passages.chunk import sentence_spans

    stems = {t.stem for t in terms}
    for start, end in sentence_spans(passage) or [(0, len(passage))]:
        sentence = passage[start:end]
        if want.search(sentence) and (not stems or stems & set(analyze(sentence))):
            return 1.0
    return 0.0


def agreement(dense: Mapping[int, float], lexical: Mapping[int, float], depth: int = 5) -> float:
    """Share of the dense ranker's top `depth` that the lexical ranker also ranks in its top `depth`."""
    top_dense = sorted(dense, key=lambda row: -dense[row])[:depth]
    top_lexical = set(sorted(lexical, key=lambda row: -lexical[row])[:depth])
    return len(set(top_dense) & top_lexical) / depth if top_dense else 0.0


def question_form(question: str) -> str:
    """The kind of answer asked for: "quantity", "time", "person", "entity" ("which ...?") or "other"."""
    if _QUANTITY.search(question):
        return "quantity"
    if _WHEN.match(question):
        return "time"
    if _PERSON.search(question):
        return "person"
    if _WHICH.match(question):
        return "entity"
    return "other"


def carries_answer(form: str, sentence: str, question: str) -> bool:
    """Whether a sentence holds an answer of the asked form that the question does not already hold:
    a number for a quantity, a date or year for a time, a proper name for a person."""
    if form == "quantity":
        return bool(_numbers(sentence) - _numbers(question))
    if form == "time":
        return bool(_dates(sentence) - _dates(question))
    if form == "person":
        return bool(proper_names(sentence) - set(_WORDS.findall(question)))
    if form == "entity":  # "which airports?": the answer names them
        return bool(proper_names(sentence, any_frequency=True) - set(_WORDS.findall(question)))
    return True


def _numbers(text: str) -> set[str]:
    return {match.group().lower() for match in _NUMBER.finditer(fold_for_matching(text))}


def _dates(text: str) -> set[str]:
    return {match.group().lower() for match in _DATE.finditer(text)}


def proper_names(sentence: str, any_frequency: bool = False) -> set[str]:
    """Capitalised words inside a sentence (not its first word) that are not common words of English
    ("Bitayev", "Almaty"; not "President" or "Committee", unless `any_frequency`)."""
    from wordfreq import zipf_frequency

    opening = len(sentence) - len(sentence.lstrip("*_\"'“ "))  # a sentence's first word is capitalised anyway
    return {m.group() for m in _CAPITALISED.finditer(sentence)
            if m.start() > opening and (any_frequency or zipf_frequency(m.group().lower(), "en") < NAME_ZIPF)}


def predictors(question: str, top: Sequence[tuple[str, Sequence[tuple[str, float]]]],
               dense: Mapping[int, float], lexical: Mapping[int, float],
               collection_terms: Container[str], collection_words: Container[str],
               language: str = "en", languages: Sequence[str | None] = (None,)) -> dict[str, float]:
    """Every predictor of FEATURES for a searched question.

    `top`: the best passages, best first, each with its sentences and their cosines to the question;
    `dense`/`lexical`: candidate row -> cosine / BM25 (> 0); `collection_terms`: the stems the
    collection holds (the lexical index's vocabulary); `collection_words`: its words, folded;
    `languages`: the collection's analyses (`LexicalIndex.languages`), question and passage are
    stemmed in each.
    """
    from app.store.bm25 import analyze_pooled

    names = question_names(question)
    terms = content_terms(question, language, languages)
    ordered = sorted(dense.values(), reverse=True)
    nqc, wig = dispersion(list(dense.values()), ordered)
    best = top[0][0] if top else None
    present = set(analyze_pooled(best, languages) if len(languages) > 1 else analyze(best, languages[0])) \
        if best else set()
    form = question_form(question)
    sentences = [pair for _, pairs in top for pair in pairs]
    typed = [cosine for sentence, cosine in sentences if carries_answer(form, sentence, question)]
    return {
        "cosine": ordered[0] if ordered else 0.0,
        "sentence": max((cosine for _, cosine in sentences), default=0.0),
        "answer_sentence": max(typed, default=0.0),
        "coverage": share(terms, present),
        "known": share(terms, collection_terms),
        "names_known": sum(name in collection_words for name in names) / len(names) if names else 1.0,
        "nqc": nqc,
        "wig": wig,
        "agreement": agreement(dense, lexical),
        "answer_type": answer_type_ok(question, best, terms) if best else 0.0,
        "quantity": float(form == "quantity"),
        "time": float(form == "time"),
        "person": float(form == "person"),
        "entity": float(form == "entity"),
    }

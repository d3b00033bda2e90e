"""Known-item self-check: can each document's own sentences find their own passages?

Known-item search (a query made from one document, which alone is its right answer) is the
field's way of testing retrieval without written questions: Azzopardi, de Rijke & Balog,
"Building simulated queries for known-item topics" (SIGIR 2007); TREC's Confusion track
(1995-96) used it on OCR-degraded text. Here each document gives up to `SAMPLE` of its own
sentences, drawn deterministically (seeded by the document id), and each is asked through
the engine as a user would ask it; a sentence succeeds when a passage containing it (its
"own" passage) is ranked first, or in the top 5. See docs/evaluation.md, The self-check.

Pure core: sentences in, figures out; the engine is a callable and the stored results a dict.
"""

from __future__ import annotations

import hashlib
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from app.errors import UsageError
from app.evaluation.metrics import fold
from app.passages.chunk import Chunk, is_heading, markup_for, plain_text
from app.passages.sentences import sentence_spans
from app.search.ranking import Answer
from app.search.validation import MAX_QUESTION_CHARS
from app.store.protocol import LoadedIndex

SAMPLE = 20  # sentences asked per document
TOP = 5  # "in the top 5": the passages `ask` shows by default
MIN_WORDS = 5  # words of two or more letters a sentence needs to stand as a query
# Flagging (docs/evaluation.md, The self-check): a document is flagged when its top-5 share is
# under FLOOR whatever the others score, or far below the collection's median: more than
# MAD_CUTOFF scaled median absolute deviations under it (the robust outlier rule of Leys et al.,
# J. Exp. Soc. Psychology 2013, who recommend 2.5-3), and never by less than MIN_MARGIN, since
# 20 sentences give shares in steps of 0.05 and a collection of clean documents has a MAD of 0.
FLOOR = 0.5
MAD_SCALE = 1.4826  # MAD x 1.4826 estimates the standard deviation of normally distributed data
MAD_CUTOFF = 3.0
MIN_MARGIN = 0.25
MIN_POPULATION = 3  # fewer documents than this: only the floor applies
# A text layer whose words are not words (a font with a scrambled encoding) finds itself as well as
# clean text does, so the words are checked too: the share of the sampled sentences' words that
# wordfreq lists in the document's language. Measured: clean English 0.97-0.995, the same text
# through a scrambled encoding 0.22-0.29 (docs/evaluation.md, The self-check).
WORDS_FLOOR = 0.5
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Probe:
    """A sampled sentence: its offsets in the document, the query text, and its own passages' ids."""

    start: int
    end: int
    query: str
    own: frozenset[str]


@dataclass
class DocumentCheck:
    """One document's self-check. `at1`/`at5`: share of its sampled sentences whose own passage
    ranks first / in the top 5 (None with no sentence to ask); `misses`: sentences not in the top 5,
    with the rank of their own passage (None: not shown at all) and the passage ranked first."""

    doc_id: str
    sha256: str
    sentences: int
    at1: float | None
    at5: float | None
    candidates: int = 0  # sentences that could have been sampled
    words_known: float | None = None  # share of the sampled words wordfreq lists in the document's language
    languages: list[str] = field(default_factory=list)  # the languages those words were looked up in
    misses: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""  # why the document could not be checked (a file that was not indexed)
    flag: str = ""  # why it is flagged; empty when it is not
    checked_at: str = ""
    seconds: float = 0.0

    @property
    def flagged(self) -> bool:
        return bool(self.flag)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flagged": self.flagged}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentCheck:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})


def candidate_sentences(text: str, chunks: Sequence[Chunk], fmt: str) -> list[Probe]:
    """Sentences of `text` (the project's splitter, app.passages.sentences) that can stand as a
    known-item query, in document order.

    Skipped: headings and table rows (where the format marks them), section titles, sentences
    found more than once in the document (running heads and feet, boilerplate: a repeated
    sentence has no single own passage), sentences with fewer than MIN_WORDS words of letters
    (numbers-only lines, page numbers, short labels), longer than a question may be, or in no
    passage."""
    markup = markup_for(fmt)
    spans = sentence_spans(text)
    folded = [fold(text[a:b]) for a, b in spans]
    counts = Counter(folded)
    titles = {fold(chunk.section) for chunk in chunks if chunk.section}
    ordered = sorted(chunks, key=lambda chunk: chunk.start)
    probes = []
    for (start, end), key in zip(spans, folded):
        piece = text[start:end]
        if markup != "plain" and (is_heading(piece) or piece.lstrip().startswith("|")):
            continue
        query = " ".join(plain_text(piece).split())
        if counts[key] > 1 or key in titles or len(_WORD.findall(query)) < MIN_WORDS:
            continue
        if len(query) > MAX_QUESTION_CHARS:
            continue
        own = _own_passages(ordered, start, end)
        if own:
            probes.append(Probe(start, end, query, own))
    return probes


def _own_passages(chunks: Sequence[Chunk], start: int, end: int) -> frozenset[str]:
    """Ids of the passages holding the sentence whole; for a sentence a passage boundary cuts
    (a long paragraph split), those it overlaps."""
    holding = [c.chunk_id for c in chunks if c.start <= start and end <= c.end]
    if holding:
        return frozenset(holding)
    return frozenset(c.chunk_id for c in chunks if c.start < end and start < c.end)


def sample(probes: Sequence[Probe], doc_id: str, size: int = SAMPLE) -> list[Probe]:
    """`size` probes drawn without replacement, the same for the same document id and sentences in
    any order (Python's Mersenne Twister seeded with the first 8 bytes of sha256(doc_id), drawing from
    the sentences in document order), returned in document order."""
    seed = int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:8], "big")
    ordered = sorted(probes, key=lambda probe: (probe.start, probe.end))
    picked = random.Random(seed).sample(ordered, min(size, len(ordered)))
    return sorted(picked, key=lambda probe: probe.start)


def own_rank(probe: Probe, answer: Answer) -> int | None:
    """Rank (1-based) of the probe's own passage among the answer's passages, or None. A passage
    shown once for near-identical passages of several documents counts for each of them."""
    for rank, hit in enumerate(answer.hits, start=1):
        if any(shown.chunk.chunk_id in probe.own for shown in (hit, *hit.also_in)):
            return rank
    return None


def check_document(doc_id: str, sha256: str, probes: Sequence[Probe], candidates: int,
                   ask: Callable[[str], Answer], languages: Sequence[str] = ()) -> DocumentCheck:
    """Ask every probe through `ask` (a question -> its top-TOP answer) and score the ranks; look
    the probes' words up in `languages` (see `known_word_share`).

    A probe the engine refuses (UsageError: e.g. no word it can search for) counts as a miss."""
    ranks: list[int | None] = []
    misses = []
    for probe in probes:
        try:
            answer = ask(probe.query)
        except UsageError:
            answer = Answer(probe.query, True)
        rank = own_rank(probe, answer)
        ranks.append(rank)
        if rank is None or rank > TOP:
            top = answer.hits[0].chunk if answer.hits else None
            misses.append({"sentence": probe.query[:300], "start": probe.start, "end": probe.end, "rank": rank,
                           "top_passage": f"{top.doc_id}:{top.start}-{top.end}" if top else None})
    if not ranks:
        return DocumentCheck(doc_id, sha256, 0, None, None, candidates)
    at1 = sum(rank == 1 for rank in ranks) / len(ranks)
    at5 = sum(rank is not None and rank <= TOP for rank in ranks) / len(ranks)
    listed = wordfreq_languages(languages)
    return DocumentCheck(doc_id, sha256, len(ranks), at1, at5, candidates,
                         known_word_share([probe.query for probe in probes], listed), listed, misses)


def wordfreq_languages(codes: Sequence[str]) -> list[str]:
    """The language codes ("en", "en-GB") among `codes` that wordfreq has a word list for."""
    from wordfreq import available_languages

    listed = set(available_languages())
    bases = (code.split("-")[0].split("_")[0].lower() for code in codes if code)
    return sorted({code for code in bases if code in listed})


def known_word_share(queries: Sequence[str], languages: Sequence[str]) -> float | None:
    """Share of the words (two or more letters, lower-cased) of `queries` that wordfreq lists in
    any of `languages` (Zipf frequency above 0); None without a language or a word."""
    from wordfreq import zipf_frequency

    words = [word.lower() for query in queries for word in _WORD.findall(query)]
    if not languages or not words:
        return None
    return sum(any(zipf_frequency(word, code) > 0 for code in languages) for word in words) / len(words)


def cut_off(population: Sequence[DocumentCheck]) -> tuple[float, float] | None:
    """(median, cut) of the top-5 shares of the checked documents: a share under `cut` is far
    below the rest. None when fewer than MIN_POPULATION documents have a share."""
    shares = [check.at5 for check in population if check.at5 is not None]
    if len(shares) < MIN_POPULATION:
        return None
    median = statistics.median(shares)
    mad = statistics.median(abs(share - median) for share in shares)
    return median, median - max(MAD_CUTOFF * MAD_SCALE * mad, MIN_MARGIN)


def flag(checks: Sequence[DocumentCheck], population: Sequence[DocumentCheck]) -> None:
    """Set each check's `flag`: with no sentence to ask, under FLOOR, far below `population` (the
    collection's current results, these checks among them; see `cut_off`), or with fewer than
    WORDS_FLOOR of its words known to wordfreq."""
    bounds = cut_off(population)
    for check in checks:
        if check.at5 is None:
            check.flag = check.note or (f"no text to search for: none of its sentences can stand as a query "
                                        f"({MIN_WORDS}+ words, not a heading or a repeated line)")
        elif check.at5 < FLOOR:
            check.flag = (f"only {check.at5:.0%} of its sentences find their own passage in the top {TOP} "
                          f"(floor {FLOOR:.0%})")
        elif bounds is not None and check.at5 < bounds[1]:
            check.flag = (f"top-{TOP} share {check.at5:.2f} is far below the collection's median {bounds[0]:.2f} "
                          f"(cut {bounds[1]:.2f})")
        elif check.words_known is not None and check.words_known < WORDS_FLOOR:
            check.flag = (f"only {check.words_known:.0%} of its words are words of {', '.join(check.languages)} "
                          f"(floor {WORDS_FLOOR:.0%}): a garbled text layer, e.g. a font with a broken encoding?")
        else:
            check.flag = ""


def self_check(index: LoadedIndex, ask: Callable[[str], Answer], doc_ids: Sequence[str] = (),
               stored: dict[str, DocumentCheck] | None = None, show_progress: bool = False) -> list[DocumentCheck]:
    """Check `doc_ids` (empty: every indexed document, and every corpus file that could not be
    indexed, reported as "no text"), then flag them against the collection: these results plus
    the `stored` ones still current (same document, same sha256). `show_progress`: a bar on stderr.

    Raises UsageError for an id that is neither an indexed document nor a file that failed."""
    from datetime import UTC, datetime

    documents = {doc.doc_id: doc for doc in index.manifest.documents}
    failures = index.manifest.failures
    unknown = [doc_id for doc_id in doc_ids if doc_id not in documents and doc_id not in failures]
    if unknown:
        raise UsageError(f"no document {unknown[0]!r} in the index; documents: {', '.join(documents) or '(none)'}")
    chosen = list(dict.fromkeys(doc_ids)) or [*documents, *sorted(failures)]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    collection_languages = sorted({doc.language for doc in documents.values()
                                   if doc.language and doc.language not in NO_LANGUAGE})
    checks = []
    from tqdm import tqdm

    for doc_id in tqdm(chosen, desc="self-check", unit="doc", file=sys.stderr, disable=not show_progress):
        began = time.perf_counter()
        if doc_id not in documents:  # a file the build could not read: nothing of it can be found
            failure = failures[doc_id]
            check = DocumentCheck(doc_id, failure.get("sha256", ""), 0, None, None,
                                  note=f"not indexed, no text: 0 sentences ({failure.get('reason', '')})")
        else:
            doc = documents[doc_id]
            chunks = [index.chunks[row] for row in index.rows_by_document.get(doc_id, [])]
            probes = candidate_sentences(index.text(doc_id), chunks, doc.format)
            check = check_document(doc_id, doc.sha256, sample(probes, doc_id), len(probes), ask,
                                   _languages(doc.language, collection_languages))
        check.checked_at, check.seconds = now, round(time.perf_counter() - began, 3)
        checks.append(check)
    flag(checks, population(index, stored or {}, checks))
    return checks


NO_LANGUAGE = ("zxx", "und")  # py3langid's and ISO 639-2's "no linguistic content" and "undetermined"


def _languages(language: str | None, collection: Sequence[str]) -> list[str]:
    """The languages to look a document's words up in: its own; without one (none found, or py3langid's
    "zxx": no linguistic content, what it says of a scrambled text layer), the collection's. A language
    wordfreq has no list for gives none (its words are not checked)."""
    return [language] if language and language not in NO_LANGUAGE else list(collection)


def population(index: LoadedIndex, stored: dict[str, DocumentCheck], checks: Sequence[DocumentCheck]
               ) -> list[DocumentCheck]:
    """The collection's current results: `checks`, and the `stored` ones of indexed documents
    unchanged since (the same sha256), which a flag is judged against."""
    hashes = {doc.doc_id: doc.sha256 for doc in index.manifest.documents}
    current = {doc_id: check for doc_id, check in stored.items() if hashes.get(doc_id) == check.sha256}
    current |= {check.doc_id: check for check in checks if check.doc_id in hashes}
    return list(current.values())

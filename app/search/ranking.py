"""Search stage: a question becomes ranked, non-overlapping passages with citations.

The dense and lexical rankers' candidates, their fusion (with the best sentences' bonus),
de-duplication and highlights; `app.answer.engine.Engine` asks through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.errors import UsageError
from app.passages.chunk import Chunk
from app.search.followup import Query
from app.search.fusion import minmax_fusion, qnorm_fusion, ranks, rrf_fusion, scaled_fusion
from app.search.highlight import pick_highlights, sentence_scores
from app.search.spelling import Correction
from app.store.bm25 import fold_for_matching
from app.store.folder import DocumentRecord
from app.store.protocol import DenseRanker, LoadedIndex

FUSION_METHODS = ("qnorm", "scaled", "minmax", "rrf", "dense", "lexical")


@dataclass(frozen=True)
class RankingSettings:
    """How the two rankers are combined and when the search abstains.

    The values are chosen on eval/dev.jsonl, never on the reported eval/speech.jsonl.
    """

    fusion: str = "qnorm"
    dense_weight: float = 0.5  # docs/how-it-works.md, Choosing the fusion
    depth: int = 1000  # candidates taken from each ranker before fusion
    # Without a fitted abstention rule, abstain when no passage reaches this cosine
    # similarity: on eval/dev.jsonl, the highest cut abstaining on <= 3% of answerable items.
    min_score: float = 0.19

    def __post_init__(self) -> None:
        if self.fusion not in FUSION_METHODS:
            raise UsageError(f"fusion {self.fusion!r} is not one of {', '.join(FUSION_METHODS)}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise UsageError(f"dense_weight must be between 0 and 1; got {self.dense_weight}")


@dataclass(frozen=True)
class Hit:
    """One returned passage with its rank, score and the document it comes from."""

    rank: int
    score: float  # the fused score the ranking used
    chunk: Chunk
    document: DocumentRecord
    dense_score: float | None = None  # cosine similarity to the question
    lexical_score: float | None = None  # BM25
    dense_rank: int | None = None  # rank among the dense candidates
    lexical_rank: int | None = None  # rank among the lexical candidates (None: no term matched)
    highlights: tuple[tuple[int, int], ...] = ()  # answering sentences, in document offsets
    also_in: tuple[Hit, ...] = ()  # near-identical passages of other documents, grouped under this one
    sentence_cosines: tuple[float, ...] = ()  # each sentence's cosine similarity to the question

    @property
    def sentences(self) -> list[tuple[str, float]]:
        """Each sentence's text and cosine similarity to the question."""
        chunk = self.chunk
        return [(chunk.text[a - chunk.start : b - chunk.start], cosine)
                for (a, b), cosine in zip(chunk.sentences, self.sentence_cosines)]

    @property
    def paragraph_numbering(self) -> str:
        """Which numbering the citation's paragraph numbers are: "document" (the document's own
        "12." or "12(a)" numbers) or "counted" (1, 2, 3, ... from the document's start)."""
        return "document" if self.chunk.labels else "counted"

    @property
    def cited_paragraphs(self) -> tuple[str, ...]:
        """The paragraph numbers the citation shows: the document's own when it has them, else
        counted ones; as text, since the document's own may be "12(a)"."""
        return self.chunk.labels or tuple(str(number) for number in self.chunk.paragraphs)

    @property
    def paragraph_label(self) -> str:
        """"para. 9" or "paras. 9–11": the document's own paragraph numbers when it has them, else counted ones."""
        numbers, own = self.cited_paragraphs, self.chunk.labels
        if not numbers:
            return ""
        if own and own[0].startswith("table "):
            return own[0]  # a table of a document with its own numbers: "table 2", not a paragraph's number
        if len(numbers) == 1:
            return f"para. {numbers[0]}"
        return f"paras. {numbers[0]}–{numbers[-1]}"

    @property
    def page_label(self) -> str:
        first, last = self.chunk.page, self.chunk.last_page
        if first is None:
            return ""
        return f"p. {first}" if first == last else f"pp. {first}–{last}"

    @property
    def section_label(self) -> str:
        title = f" “{self.chunk.section}”" if self.chunk.section else ""
        if self.chunk.section_number == 1 and not title:
            return ""  # a document without sections
        return f"sec. {self.chunk.section_number}{title}"

    @property
    def citation(self) -> str:
        """A citation a student can paste: title, symbol, venue, date, page, section, paragraphs.

        A document's own units win: "CAT/C/KAZ/CO/4, p. 7, para. 12" rather than counted paragraphs.
        """
        doc = self.document
        parts = [doc.title] + [part for part in (doc.symbol, doc.venue, doc.date) if part]
        section = self.section_label if self.chunk.section != doc.title else ""
        parts += [self.page_label, section, self.paragraph_label]
        return ", ".join(part for part in parts if part)


LEVELS = ("answered", "related", "none")


@dataclass(frozen=True)
class Answer:
    """A question's passages and how far the documents answer it.

    `level`: "answered" (the top passage answers), "related" (related passages, no direct
    answer) or "none" (nothing relevant; at most the single closest passage is listed).
    `abstained` is True for the last two.
    """

    question: str
    abstained: bool
    hits: list[Hit] = field(default_factory=list)
    confidence: float = 0.0  # best cosine similarity of any passage
    searched_as: str = ""  # the text searched: the question, or an earlier one joined to it
    answerable: float | None = None  # the abstention rule's probability that the documents answer
    level: str = ""  # one of LEVELS; empty: derived from `abstained`
    notice: str = ""  # why the documents were not searched as asked (another language)
    language: str | None = None  # the question's language, when it is not one of the collection's
    corrections: tuple[Correction, ...] = ()  # misspelt words searched as the collection's words
    features: dict[str, float] = field(default_factory=dict)  # query-performance predictors (app.search.qpp)

    def __post_init__(self) -> None:
        if not self.level:
            object.__setattr__(self, "level", "related" if self.abstained else "answered")
        if self.level not in LEVELS:
            raise ValueError(f"level {self.level!r} is not one of {LEVELS}")


def _overlaps(chunk: Chunk, kept: list[Chunk]) -> bool:
    return any(c.doc_id == chunk.doc_id and c.start < chunk.end and chunk.start < c.end for c in kept)


def top_candidates(scores: object, depth: int) -> dict[int, float]:
    """The `depth` best rows of a score array, as {row: score}."""
    import numpy as np

    values = np.asarray(scores)
    depth = min(depth, len(values))
    if not depth:
        return {}
    rows = np.argpartition(-values, depth - 1)[:depth]
    return {int(row): float(values[row]) for row in rows}


@dataclass(frozen=True)
class Filters:
    """Restrictions a researcher can put on a search."""

    docs: frozenset[str] = frozenset()  # only these documents (empty: all)
    phrase: bool = False  # only passages containing the query as a phrase (folded)

    def admits(self, chunk: Chunk, phrase: str) -> bool:
        if self.docs and chunk.doc_id not in self.docs:
            return False
        return not self.phrase or phrase in fold_for_matching(chunk.text)


@dataclass(frozen=True)
class Ranking:
    """One search's outcome: the kept passages and every candidate's scores (for QPP)."""

    hits: list[Hit]
    dense: dict[int, float]  # candidate row -> cosine similarity
    lexical: dict[int, float]  # candidate row -> BM25 (> 0)

    @property
    def confidence(self) -> float:
        """The best cosine similarity of any candidate passage."""
        return max(self.dense.values(), default=0.0)


TOP_SENTENCES = 3  # passages whose sentences the answer-type predictors read
SENTENCE_DEPTH = 20  # best fused passages whose sentences are scored (sentence_bonus, highlights)
SENTENCE_WEIGHT = 0.2  # chosen on the calibration sets and SciFact train (docs/how-it-works.md, Choosing the fusion)
CONTEXT_WEIGHT = 0.3  # a follow-up's earlier question, against 1.0 for its own words (chosen on eval/dev.jsonl)


def query_vector(vectors: object, context: bool) -> object:
    """The vector searched: the question's own, or for a follow-up its own plus CONTEXT_WEIGHT
    times that of the joined text (cosine is linear in the query, so the ranking is the
    weighted sum of the two cosines), normalised."""
    import numpy as np

    rows = np.asarray(vectors, dtype=np.float32).reshape(-1, np.asarray(vectors).shape[-1])
    vector = rows[0] + CONTEXT_WEIGHT * rows[1] if context and len(rows) > 1 else rows[0]
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def lexical_scores(index: LoadedIndex, query: Query) -> tuple[Any, float]:
    """BM25 of every passage: the question's own terms, plus its context's other terms at
    CONTEXT_WEIGHT; and the query's attainable score (app.search.fusion.qnorm_fusion) on the same terms."""
    terms = index.lexical.query_terms(query.text)  # in each language of the collection
    own, attainable = index.lexical.scores(query.text), index.lexical.query_attainable(query.text)
    extra = [t for t in index.lexical.query_terms(query.context) if t not in set(terms)] if query.context else []
    if not extra:
        return own, attainable
    return (own + CONTEXT_WEIGHT * index.lexical.scores(" ".join(extra)),
            attainable + CONTEXT_WEIGHT * index.lexical.attainable(extra))


def rank_passages(
    index: LoadedIndex, query: Query | str, query_vector: object, k: int, settings: RankingSettings,
    filters: Filters = Filters(), ranker: DenseRanker | None = None,
) -> Ranking:
    """Top-k passages, dense and lexical rankings fused, dropping any that overlap a better one.

    `ranker`: the dense ranker `query_vector` belongs to (default: the index's own, MiniLM; the
    multilingual one for app.search.crosslang); its sentence vectors choose the highlights."""
    import numpy as np

    dense_ranker: DenseRanker = ranker or index
    query = Query(query) if isinstance(query, str) else query
    vector = np.asarray(query_vector, dtype=np.float32).reshape(1, -1)
    depth = min(len(index.chunks), settings.depth)
    all_lexical, attainable = (lexical_scores(index, query) if settings.fusion != "dense" or filters.phrase
                               else (None, 0.0))
    if filters.docs or filters.phrase:  # a filter may leave few candidates: score all it admits, exactly
        admitted = _admitted_rows(index, query.text, filters, all_lexical)
        dense = dense_ranker.dense_scores(vector[0], admitted)
        lexical = {row: float(all_lexical[row]) for row in admitted} if all_lexical is not None else {}
    else:
        dense = dense_ranker.dense_search(vector[0], depth)
        lexical = top_candidates(all_lexical, depth) if all_lexical is not None else {}
    if settings.fusion == "dense":
        lexical = {}
    lexical = {row: value for row, value in lexical.items() if value > 0}
    fused, cosines = fuse_with_sentences(dense_ranker, vector[0], dense, lexical, settings, attainable)
    dense_ranks, lexical_ranks = ranks(dense), ranks(lexical)
    kept: list[Chunk] = []
    found: list[tuple[int, list[int]]] = []  # (row, rows of near-identical passages elsewhere)
    words: dict[int, set[str]] = {}
    for row in sorted(fused, key=lambda key: (-fused[key], key)):
        if len(found) == k:
            break
        chunk = index.chunks[row]
        if _overlaps(chunk, kept):
            continue
        twin = next((entry for entry in found if _near_identical(index, entry[0], row, words)), None)
        if twin is not None:
            if all(index.chunks[r].doc_id != chunk.doc_id for r in [twin[0], *twin[1]]):
                twin[1].append(row)
            continue
        kept.append(chunk)
        found.append((row, []))
    terms = set(index.lexical.query_terms(query.text))

    def hit(rank: int, row: int, also: tuple[Hit, ...] = ()) -> Hit:
        chunk = index.chunks[row]
        if row not in cosines:
            cosines[row] = _sentence_cosines(dense_ranker, row, vector[0])
        texts = [chunk.text[a - chunk.start : b - chunk.start] for a, b in chunk.sentences]
        language = index.document(chunk.doc_id).language
        marks = pick_highlights(chunk.sentences, sentence_scores(cosines[row], terms, texts, language))
        return Hit(rank, fused[row], chunk, index.document(chunk.doc_id), dense_score=dense.get(row),
                   lexical_score=lexical.get(row), dense_rank=dense_ranks.get(row),
                   lexical_rank=lexical_ranks.get(row), highlights=marks, also_in=also,
                   sentence_cosines=tuple(cosines[row]))

    hits = [hit(rank, row, tuple(hit(rank, other) for other in others))
            for rank, (row, others) in enumerate(found, start=1)]
    return Ranking(hits, dense, lexical)


def _admitted_rows(index: LoadedIndex, question: str, filters: Filters, lexical: object) -> list[int]:
    """The rows a filter lets through: a phrase's passages contain all its indexed words."""
    import numpy as np

    rows: Sequence[int] = range(len(index.chunks))
    if filters.docs:
        rows = [row for doc in sorted(filters.docs) for row in index.rows_by_document.get(doc, [])]
    if filters.phrase:
        values = np.asarray(lexical)
        if values.any():
            rows = [row for row in rows if values[row] > 0]
        phrase = fold_for_matching(question)
        rows = [row for row in rows if filters.admits(index.chunks[row], phrase)]
    return list(rows)


NEAR_IDENTICAL = 0.8  # share of the shorter passage's word trigrams found in the other


def _shingles(index: LoadedIndex, row: int, cache: dict[int, set[str]]) -> set[str]:
    if row not in cache:
        tokens = fold_for_matching(index.chunks[row].text).split()
        tokens = ["".join(ch for ch in token if ch.isalnum()) for token in tokens]
        tokens = [token for token in tokens if token]
        cache[row] = {" ".join(tokens[i : i + 3]) for i in range(max(len(tokens) - 2, 1))}
    return cache[row]


def _near_identical(index: LoadedIndex, a: int, b: int, cache: dict[int, set[str]]) -> bool:
    """Passages of two different documents that say the same (a press release quoting a speech)."""
    if index.chunks[a].doc_id == index.chunks[b].doc_id:
        return False
    first, second = _shingles(index, a, cache), _shingles(index, b, cache)
    smaller = min(len(first), len(second))
    return smaller > 0 and len(first & second) / smaller >= NEAR_IDENTICAL


def fuse_with_sentences(
    index: DenseRanker, vector: Any, dense: dict[int, float], lexical: dict[int, float], settings: RankingSettings,
    attainable: float,
) -> tuple[dict[int, float], dict[int, list[float]]]:
    """The fused scores (fuse_candidates, then sentence_bonus over the SENTENCE_DEPTH best), and the
    sentence cosines computed on the way, by row."""
    import numpy as np

    fused = fuse_candidates(dense, lexical, settings, attainable)
    best = sorted(fused, key=lambda key: (-fused[key], key))[:SENTENCE_DEPTH]
    query = np.asarray(vector, dtype=np.float32)
    cosines = {row: (np.asarray(vectors, dtype=np.float32) @ query).tolist()
               for row, vectors in index.sentence_vectors_of_rows(best).items()}
    if settings.fusion not in ("qnorm", "scaled", "minmax"):  # a single ranker stays itself, and RRF's
        return fused, cosines  # scores (about 1/60) are on another scale than a cosine
    return sentence_bonus(fused, dense, cosines), cosines


def sentence_bonus(fused: dict[int, float], dense: dict[int, float], cosines: dict[int, list[float]]
                   ) -> dict[int, float]:
    """Fused scores with SENTENCE_WEIGHT times how far a passage's best sentence beats the passage
    itself in cosine, for the passages whose sentences were scored.

    A passage vector averages over its sentences, so the one sentence that answers is diluted by
    the others; scoring a passage by its best part is MaxP (Dai & Callan 2019) at sentence level.
    On eval/tuning.jsonl, dev.jsonl and heldout-v1.jsonl (240 answerable questions) it lifts
    MRR@10 from 0.906 to 0.918; on SciFact train nDCG@10 from 0.739 to 0.744 (see docs/how-it-works.md)."""
    bonus = {row: max(max(values, default=0.0) - dense.get(row, 0.0), 0.0) for row, values in cosines.items()}
    return {row: score + SENTENCE_WEIGHT * bonus.get(row, 0.0) for row, score in fused.items()}


def _sentence_cosines(index: DenseRanker, row: int, query: Any) -> list[float]:
    """Cosine of the question to each sentence of a passage (build-time sentence vectors)."""
    import numpy as np

    vectors = index.sentence_vectors_of(row)
    return (np.asarray(vectors, dtype=np.float32) @ np.asarray(query, dtype=np.float32)).tolist()


def fuse_candidates(
    dense: dict[int, float], lexical: dict[int, float], settings: RankingSettings, attainable: float = 0.0
) -> dict[int, float]:
    """The two rankers' candidate scores combined by the settings' fusion method (`attainable`: the
    query's attainable BM25, for qnorm)."""
    if settings.fusion == "qnorm":
        return qnorm_fusion(dense, lexical, settings.dense_weight, attainable)
    if settings.fusion == "dense":
        return dict(dense)
    if settings.fusion == "lexical":
        return dict(lexical) or dict(dense)
    if settings.fusion == "rrf":
        return rrf_fusion(dense, lexical)
    if settings.fusion == "minmax":
        return minmax_fusion(dense, lexical, settings.dense_weight)
    return scaled_fusion(dense, lexical, settings.dense_weight)

"""Evaluation: question sets with verbatim gold quotes, scored with pytrec_eval.

A question set is JSON Lines: {"id", "question", "quotes": [str], "kind"} with optional
"history" (earlier questions of a conversation), "doc" (gold only in that document) and
"language" (the question's ISO 639-1 code; default "en", or for an "other-language" item
py3langid's guess). Recall and MRR are also reported per question language. A retrieved
passage is relevant when, after folding (case, whitespace, Markdown emphasis, typographic
quotes, diacritics), it contains any of the item's quotes. Labels point at text, never at
chunk ids, so re-chunking never invalidates a set.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import UsageError
from app.passages.chunk import Chunk
from app.search.ranking import Answer

# "other-language": a question the documents answer, asked in a language they are not written in
# (answered by the multilingual ranker, app.search.crosslang; before it, such items expected no answer).
ANSWERABLE_KINDS = ("factoid", "paraphrase", "keyword", "typo", "other-language")
# Questions the documents do not answer: about something else entirely, about the same events
# but a fact the documents do not give, or unspecified.
NO_ANSWER_KINDS = ("off-topic", "near-topic", "no-answer")
KINDS = ANSWERABLE_KINDS + NO_ANSWER_KINDS
DEPTH = 10
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "`": "'"})


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    quotes: tuple[str, ...]
    kind: str
    history: tuple[str, ...] = ()
    doc: str | None = None  # only passages of this document count as gold (a collection repeats itself)
    language: str = "en"  # the question's language (ISO 639-1)

    @property
    def answerable(self) -> bool:
        return bool(self.quotes)


@dataclass
class EvalResult:
    metrics: dict[str, float]
    counts: dict[str, int]
    misses: list[dict[str, Any]] = field(default_factory=list)
    label_errors: list[str] = field(default_factory=list)
    per_question: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "counts": self.counts,
            "misses": self.misses,
            "label_errors": self.label_errors,
            "per_question": self.per_question,
        }


def fold(text: str) -> str:
    """Lower-cased, emphasis and diacritics removed, quotes straightened, whitespace collapsed."""
    text = text.translate(_QUOTES)
    text = re.sub(r"\*\*|__|\\(?=[*_])|(?<![\w*])\*|\*(?![\w*])", "", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip().lower()


def parse_items(lines: Sequence[str], source: str) -> list[EvalItem]:
    """Validate and parse a question set; errors name the line and the field."""
    items: list[EvalItem] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{source}, line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise UsageError(f"{where}: each line must be a JSON object")
        item = _item_from(data, where)
        if item.id in seen:
            raise UsageError(f"{where}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise UsageError(f"{source}: the question set is empty")
    return items


def _item_from(data: dict[str, Any], where: str) -> EvalItem:
    for key, kind in (("id", str), ("question", str), ("quotes", list), ("kind", str)):
        if not isinstance(data.get(key), kind):
            raise UsageError(f"{where}: field {key!r} must be a {kind.__name__}")
    if data["kind"] not in KINDS:
        raise UsageError(f"{where}: kind {data['kind']!r} is not one of {', '.join(KINDS)}")
    quotes = data["quotes"]
    if not all(isinstance(q, str) and q.strip() for q in quotes):
        raise UsageError(f"{where}: every quote must be a non-empty string")
    if (data["kind"] in NO_ANSWER_KINDS) != (not quotes):
        raise UsageError(f"{where}: no-answer items ({', '.join(NO_ANSWER_KINDS)}), and only they, "
                         "have an empty quotes list")
    history = data.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise UsageError(f"{where}: 'history' must be a list of earlier questions")
    doc = data.get("doc")
    if doc is not None and not (isinstance(doc, str) and doc):
        raise UsageError(f"{where}: 'doc' must be a document id such as `verbatim docs` lists")
    language = data.get("language")
    if language is not None and not (isinstance(language, str) and language.isalpha() and 2 <= len(language) <= 3):
        raise UsageError(f"{where}: 'language' must be an ISO 639-1 code such as \"ru\"; got {language!r}")
    if language is None:
        from app.documents.language import identify

        language = identify(data["question"]).code if data["kind"] == "other-language" else "en"
    return EvalItem(data["id"], data["question"], tuple(quotes), data["kind"], tuple(history), doc, language)


def load_items(path: Path) -> list[EvalItem]:
    if not path.is_file():
        raise UsageError(f"question set {path} does not exist; pass --set eval/FILE.jsonl")
    return parse_items(path.read_text(encoding="utf-8").splitlines(), str(path))


def relevant_chunks(item: EvalItem, chunks: list[Chunk]) -> set[str]:
    folded = [fold(q) for q in item.quotes]
    return {c.chunk_id for c in chunks
            if (item.doc is None or c.doc_id == item.doc) and any(q in fold(c.text) for q in folded)}


def label_errors(items: list[EvalItem], texts: list[str], chunks: list[Chunk]) -> list[str]:
    """Quotes found in no document (a label error) or split across passages (a chunking limit)."""
    folded_docs = [fold(t) for t in texts]
    problems = []
    for item in items:
        for quote in item.quotes:
            if not any(fold(quote) in doc for doc in folded_docs):
                problems.append(f"{item.id}: quote {quote!r} occurs in no document")
        if item.answerable and not relevant_chunks(item, chunks):
            problems.append(f"{item.id}: no single passage contains any of its quotes")
    return problems


def evaluate(
    items: list[EvalItem],
    answer: Callable[[EvalItem], Answer],
    chunks: list[Chunk],
) -> EvalResult:
    """Run every item through `answer` and score the rankings with pytrec_eval."""
    import pytrec_eval

    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    abstained: dict[str, bool] = {}
    per_question: list[dict[str, Any]] = []
    misses = []
    highlighted: list[bool] = []
    for item in items:
        try:
            result = answer(item)
        except UsageError as refusal:  # refused as the app refuses it ("?"): an abstention without passages
            result = Answer(item.question, True, [], 0.0, item.question, level="none", notice=str(refusal))
        abstained[item.id] = result.abstained
        gold = relevant_chunks(item, chunks) if item.answerable else set()
        # A passage shown once for several documents (near-identical twins) counts for any of them.
        ranking = [next((t.chunk.chunk_id for t in (hit, *hit.also_in) if t.chunk.chunk_id in gold),
                        hit.chunk.chunk_id) for hit in result.hits[:DEPTH]]
        first = next((i + 1 for i, cid in enumerate(ranking) if cid in gold), None)
        per_question.append({"id": item.id, "kind": item.kind, "question": item.question,
                             "follow_up": bool(item.history), "language": item.language,
                             "abstained": result.abstained, "level": result.level, "gold_rank": first,
                             "confidence": result.confidence, "answerable": result.answerable})
        if not item.answerable:
            continue
        if first is not None and first <= 5:
            highlighted.append(_highlight_holds_quote(result.hits[first - 1], item))
            per_question[-1]["highlight_holds_quote"] = highlighted[-1]
        qrels[item.id] = {cid: 1 for cid in gold} or {"(no passage holds the quote)": 1}
        run[item.id] = {cid: float(DEPTH - rank) for rank, cid in enumerate(ranking)}
        if first is None or first > 5:
            top = result.hits[0].chunk.text[:160] if result.hits else ""
            misses.append({"id": item.id, "question": item.question, "quotes": list(item.quotes),
                           "gold_rank": first, "top_passage": top})
    metrics, per_query = _ranking_metrics(pytrec_eval, qrels, run)
    for row in per_question:
        row.update(per_query.get(str(row["id"]), {}))
    answerable = [i for i in items if i.answerable]
    unanswerable = [i for i in items if not i.answerable]
    if unanswerable:
        metrics["abstention_accuracy"] = sum(abstained[i.id] for i in unanswerable) / len(unanswerable)
    metrics.update(by_language(per_question, abstained, items))
    for kind in NO_ANSWER_KINDS[:-1]:  # off-topic, near-topic, when the set has them
        of_kind = [i for i in unanswerable if i.kind == kind]
        if of_kind:
            metrics[f"abstention@{kind}"] = sum(abstained[i.id] for i in of_kind) / len(of_kind)
    if highlighted:
        metrics["highlight_accuracy"] = sum(highlighted) / len(highlighted)
    if answerable:
        metrics["false_abstention_rate"] = sum(abstained[i.id] for i in answerable) / len(answerable)
    counts = {"questions": len(items), "answerable": len(answerable), "no_answer": len(unanswerable)}
    return EvalResult(metrics, counts, misses, [], per_question)


def by_language(per_question: list[dict[str, Any]], abstained: dict[str, bool], items: list[EvalItem]
                ) -> dict[str, float]:
    """Recall@5 and MRR@10 of the answerable questions in each language other than English
    ("recall@5@ru"), and the share abstained of the unanswerable ones ("abstention@ru"), for the
    languages the set has. English is the set's overall figure."""
    metrics: dict[str, float] = {}
    languages = sorted({item.language for item in items} - {"en"})
    for language in languages:
        rows = [row for row, item in zip(per_question, items) if item.language == language and item.answerable]
        if rows:
            for name in ("recall@5", "mrr@10"):
                metrics[f"{name}@{language}"] = sum(float(row.get(name, 0.0)) for row in rows) / len(rows)
        others = [item for item in items if item.language == language and not item.answerable]
        if others:
            metrics[f"abstention@{language}"] = sum(abstained[item.id] for item in others) / len(others)
    return metrics


def language_metrics(items: list[EvalItem], answer: Callable[[EvalItem], Answer], chunks: list[Chunk]
                     ) -> dict[str, float]:
    """`by_language` of a set run through `answer` (the gate adds those of the cross-language sets)."""
    if not items:
        return {}
    result = evaluate(items, answer, chunks)
    return by_language(result.per_question, {row["id"]: row["abstained"] for row in result.per_question}, items)


RANKING_METRICS = {"success_1": "recall@1", "success_5": "recall@5", "recip_rank": "mrr@10",
                   "ndcg_cut_10": "ndcg@10"}


def _highlight_holds_quote(hit: Any, item: EvalItem) -> bool:
    """Whether the sentences marked in the first relevant passage contain a gold quote."""
    chunk = hit.chunk
    marked = fold(" ".join(chunk.text[a - chunk.start : b - chunk.start] for a, b in hit.highlights))
    return any(fold(quote) in marked for quote in item.quotes)


def _ranking_metrics(
    pytrec_eval: Any, qrels: dict, run: dict
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Mean metrics over the answerable items, and each item's own (the run holds the top 10,
    so reciprocal rank is MRR@10)."""
    if not qrels:
        return {}, {}
    measures = {"success.1,5,10", "recip_rank", "ndcg_cut.10"}
    scores = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    per_query = {qid: {label: per[name] for name, label in RANKING_METRICS.items()}
                 for qid, per in scores.items()}
    means = {label: sum(q[label] for q in per_query.values()) / len(qrels)
             for label in RANKING_METRICS.values()}
    return means, per_query

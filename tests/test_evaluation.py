from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import UsageError
from app.evaluation.metrics import (
    EvalItem,
    evaluate,
    fold,
    label_errors,
    load_items,
    parse_items,
    relevant_chunks,
)
from app.passages.chunk import ChunkSettings, chunk_document
from app.search.ranking import Answer, Hit
from app.store.folder import DocumentRecord

EVAL = Path(__file__).resolve().parent.parent / "eval"


def test_fold_ignores_emphasis_quotes_case_space_and_accents() -> None:
    assert fold('**Over  3 500**\n officers “January events” d’État') == \
        "over 3 500 officers \"january events\" d'etat"


@pytest.mark.parametrize("name", ["speech.jsonl", "dev.jsonl", "tuning.jsonl", "heldout-v1.jsonl", "final.jsonl"])
def test_shipped_sets_are_valid_and_every_quote_is_in_one_passage(name: str, speech_text: str) -> None:
    items = load_items(EVAL / name)
    chunks = chunk_document("speech", speech_text)
    assert label_errors(items, [speech_text], chunks) == []


def test_speech_set_meets_its_brief() -> None:
    items = load_items(EVAL / "speech.jsonl")
    assert len(items) >= 60
    assert sum(not i.answerable for i in items) >= 10


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "line 1: not valid JSON"),
    ('{"id": "a", "question": "q", "quotes": [], "kind": "factoid"}',
     r"no-answer items \(off-topic, near-topic, no-answer\), and only they"),
    ('{"id": "a", "question": "q", "quotes": ["x"], "kind": "trivia"}', "kind 'trivia' is not one of"),
    ('{"id": "a", "question": 3, "quotes": ["x"], "kind": "factoid"}', "field 'question' must be a str"),
])
def test_bad_question_sets_name_the_line(line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_items([line], "set.jsonl")


def test_quote_split_across_passages_is_reported() -> None:
    text = "Alpha beta.\n\nGamma delta."
    chunks = chunk_document("d", text, ChunkSettings(target_chars=5))  # one paragraph a passage
    item = EvalItem("q1", "?", ("beta. gamma",), "factoid")
    assert relevant_chunks(item, chunks) == set()
    assert label_errors([item], [text], chunks) == ["q1: no single passage contains any of its quotes"]


def test_a_question_the_app_refuses_counts_as_an_abstention_without_passages() -> None:
    chunks = chunk_document("d", "One apple.")
    items = [EvalItem("a", "apple?", ("one apple",), "factoid"), EvalItem("b", "?", (), "off-topic")]

    def answer(item: EvalItem) -> Answer:
        raise UsageError(f"the question {item.question!r} has no word to search for")

    result = evaluate(items, answer, chunks)
    assert result.metrics["false_abstention_rate"] == 1.0 and result.metrics["abstention@off-topic"] == 1.0
    assert [row["level"] for row in result.per_question] == ["none", "none"]


def test_metrics_by_hand() -> None:
    text = "One apple.\n\n---\n\nTwo pears.\n\n---\n\nThree plums."
    chunks = chunk_document("d", text)
    doc = DocumentRecord("d", "d.md", "0", "markdown", "D", None, None, None, None, None, 3)
    items = [EvalItem("a", "apple?", ("one apple",), "factoid"),  # gold at rank 2 -> RR 0.5
             EvalItem("b", "pear?", ("two pears",), "factoid"),  # gold at rank 1 -> RR 1
             EvalItem("c", "kiwi?", (), "no-answer")]
    order = {"a": [1, 0, 2], "b": [1, 0, 2], "c": [2, 1, 0]}

    def answer(item: EvalItem) -> Answer:
        hits = [Hit(r + 1, 1.0 - r / 10, chunks[i], doc) for r, i in enumerate(order[item.id])]
        return Answer(item.question, item.id == "c", hits, 0.5)

    result = evaluate(items, answer, chunks)
    assert result.metrics["recall@1"] == pytest.approx(0.5)
    assert result.metrics["recall@5"] == pytest.approx(1.0)
    assert result.metrics["mrr@10"] == pytest.approx(0.75)
    assert result.metrics["abstention_accuracy"] == 1.0
    assert result.metrics["false_abstention_rate"] == 0.0

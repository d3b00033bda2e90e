from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.highlight import pick_highlights, sentence_scores

from .conftest import REPO, run_cli


def test_best_sentence_and_close_runner_up_in_document_order() -> None:
    spans = [(0, 10), (11, 20), (21, 30)]
    assert pick_highlights(spans, [0.2, 0.8, 0.75]) == ((11, 20), (21, 30))  # 0.75 >= 0.9 * 0.8
    assert pick_highlights(spans, [0.2, 0.8, 0.5]) == ((11, 20),)
    assert pick_highlights([], []) == ()


def test_words_in_common_count_with_numbers_folded() -> None:
    cosines = [0.0, 0.0]  # equal cosine: only the words decide
    scores = sentence_scores(cosines, {"1273", "convict"},
                             ["A total of **1 273** people were convicted.", "Others were pardoned."])
    assert scores == pytest.approx([0.3, 0.0])


@pytest.mark.slow
def test_highlights_are_exact_slices_for_every_eval_question(built_index: tuple[Path, Path]) -> None:
    corpus, index = built_index
    questions = []
    for name in ("speech.jsonl", "dev.jsonl"):
        questions += [json.loads(line)["question"] for line in (REPO / "eval" / name).open()]
    result = run_cli("--corpus", str(corpus), "--index", str(index), "ask", "--json", "-k", "5", "-",
                     stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(questions)
    for answer in answers:
        for passage in answer["passages"]:
            source = (corpus / f"{passage['doc_id']}.md").read_text(encoding="utf-8")
            assert passage["highlights"], answer["question"]
            for start, end in passage["highlights"]:
                assert passage["start"] <= start < end <= passage["end"]
                inner = passage["text"][start - passage["start"] : end - passage["start"]]
                assert inner == source[start:end] and inner.strip() == inner

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.evaluation.gate import baseline_from, by_kind, compare, write_report

from .conftest import run_cli


def run_data(recall5: float, ranks: dict[str, int | None], fa: float = 0.0) -> dict:
    rows = [{"id": qid, "kind": "factoid", "question": f"question {qid}?", "gold_rank": rank,
             "abstained": False, "follow_up": False,
             "recall@5": 1.0 if rank and rank <= 5 else 0.0,
             "mrr@10": 1 / rank if rank and rank <= 10 else 0.0} for qid, rank in ranks.items()]
    return {"set": "eval/x.jsonl", "metrics": {"recall@5": recall5, "false_abstention_rate": fa},
            "per_question": rows}


def test_unchanged_run_passes() -> None:
    data = run_data(1.0, {"a": 1, "b": 2})
    assert compare(baseline_from(data), data) == []


def test_drop_beyond_tolerance_fails_and_names_the_question() -> None:
    baseline = baseline_from(run_data(1.0, {"a": 1, "b": 2}))
    problems = compare(baseline, run_data(0.5, {"a": 1, "b": None}))
    assert problems == ["recall@5: 1.000 -> 0.500 (tolerance 0.020)",
                        "b lost its gold passage (rank 2 -> not in the top 10): question b?"]


def test_small_drop_within_tolerance_passes_but_a_rise_in_false_abstentions_fails() -> None:
    baseline = baseline_from(run_data(1.0, {"a": 1}))
    assert compare(baseline, run_data(0.99, {"a": 1})) == []
    assert compare(baseline, run_data(1.0, {"a": 1}, fa=0.05)) == [
        "false_abstention_rate: 0.000 -> 0.050 (tolerance 0.020)"]


def test_report_has_table_and_chart(tmp_path: Path) -> None:
    data = run_data(1.0, {"a": 1, "b": 3})
    report = write_report(baseline_from(data), data, tmp_path)
    text = report.read_text()
    assert "| factoid | mrr@10 | 0.667 | 0.667 |" in text and "![" in text
    assert (tmp_path / "x.png").read_bytes()[:4] == b"\x89PNG"
    assert by_kind(data["per_question"]) == {"factoid": {"recall@5": 1.0, "mrr@10": pytest.approx(2 / 3)}}


@pytest.mark.slow
def test_shipped_baseline_gate_passes(built_index: tuple[Path, Path]) -> None:
    corpus, index = built_index
    result = run_cli("--corpus", str(corpus), "--index", str(index), "eval", "--check")
    assert result.returncode == 0, result.stderr
    assert "gate: passed" in result.stderr


@pytest.mark.slow
def test_gate_fails_against_an_impossible_baseline(built_index: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, index = built_index
    shipped = json.loads((Path(__file__).parent.parent / "eval" / "baseline.json").read_text())
    shipped["metrics"]["recall@1"] = 1.0
    (tmp_path / "baseline.json").write_text(json.dumps(shipped))
    result = run_cli("--corpus", str(corpus), "--index", str(index), "eval", "--check",
                     "--baseline", str(tmp_path / "baseline.json"))
    assert result.returncode == 1
    assert "recall@1: 1.000 ->" in result.stderr and "gate: FAILED" in result.stderr


def test_the_gate_covers_abstention_per_kind_and_false_abstentions() -> None:
    rows = [{"id": "n1", "kind": "near-topic", "question": "q?", "gold_rank": None, "abstained": True,
             "follow_up": False},
            {"id": "o1", "kind": "off-topic", "question": "q?", "gold_rank": None, "abstained": True,
             "follow_up": False}]
    before = {"set": "eval/x.jsonl", "per_question": rows,
              "metrics": {"abstention@near-topic": 0.6, "abstention@off-topic": 1.0, "false_abstention_rate": 0.01}}
    after = {**before, "metrics": {"abstention@near-topic": 0.5, "abstention@off-topic": 1.0,
                                   "false_abstention_rate": 0.05}}
    assert compare(baseline_from(before), after) == [
        "abstention@near-topic: 0.600 -> 0.500 (tolerance 0.020)",
        "false_abstention_rate: 0.010 -> 0.050 (tolerance 0.020)"]
    assert by_kind(rows) == {"near-topic": {"abstained": 1.0}, "off-topic": {"abstained": 1.0}}

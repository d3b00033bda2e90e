"""End to end with the real model and index, through the `verbatim` command (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.models.spec import MODEL_SHA256, file_sha256, model_dir

from .conftest import run_cli

pytestmark = pytest.mark.slow
KILLED = "How many citizens were killed?"


def test_installed_model_weights_match_the_pinned_hash() -> None:
    assert file_sha256(model_dir() / "model.safetensors") == MODEL_SHA256


def test_ask_json_returns_238_citizens_first_as_exact_slices(built_index: tuple[Path, Path]) -> None:
    corpus, index = built_index
    result = run_cli("--corpus", str(corpus), "--index", str(index), "ask", "--json", KILLED)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["question"] == KILLED and answer["abstained"] is False
    assert "238 citizens" in answer["passages"][0]["text"]
    assert [p["rank"] for p in answer["passages"]] == [1, 2, 3, 4, 5]
    for passage in answer["passages"]:
        source = (corpus / f"{passage['doc_id']}.md").read_text(encoding="utf-8")
        assert source[passage["start"] : passage["end"]] == passage["text"]
        assert passage["citation"].startswith(passage["title"])
        assert set(passage) >= {"rank", "doc_id", "title", "section", "paragraphs", "start", "end",
                                "score", "text", "citation", "highlights"}


def test_ask_stdin_answers_each_line_as_json_lines(built_index: tuple[Path, Path]) -> None:
    corpus, index = built_index
    questions = f"{KILLED}\n\nWho was shot dead in Almaty?\n{'x' * 5000}\n"
    result = run_cli("--corpus", str(corpus), "--index", str(index), "ask", "--json", "-k", "3", "-",
                     stdin=questions)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3  # the blank line is skipped
    assert "238 citizens" in lines[0]["passages"][0]["text"]
    assert "Bitayev" in " ".join(p["text"] for p in lines[1]["passages"])
    assert "limit is 1,000" in lines[2]["error"]
    assert result.returncode == 1  # one question failed


def test_plain_text_answer_quotes_and_cites(built_index: tuple[Path, Path]) -> None:
    corpus, index = built_index
    result = run_cli("--corpus", str(corpus), "--index", str(index), "ask", "-k", "1", KILLED)
    assert result.returncode == 0
    assert "[1] Speech on the investigation" in result.stdout and "238 citizens" in result.stdout


def test_unrelated_question_abstains_but_lists_passages(built_index: tuple[Path, Path]) -> None:
    corpus, index = built_index
    result = run_cli("--corpus", str(corpus), "--index", str(index), "ask", "--json",
                     "How do I bake sourdough bread?")
    answer = json.loads(result.stdout)
    assert answer["abstained"] is True and answer["passages"]


def test_eval_meets_targets_on_the_speech_set(built_index: tuple[Path, Path]) -> None:
    corpus, index = built_index
    result = run_cli("--corpus", str(corpus), "--index", str(index), "eval", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"]["answerable"] >= 50
    assert report["metrics"]["recall@5"] >= 0.95, report["misses"]
    assert report["metrics"]["mrr@10"] >= 0.85, report["misses"]
    assert report["label_errors"] == []


def test_corrupt_index_gets_a_message_not_a_traceback(built_index: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    import shutil

    corpus, index = built_index
    broken = tmp_path / "index"
    shutil.copytree(index, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    (broken / manifest["generation"] / "chunks.jsonl").write_text("garbage", encoding="utf-8")
    result = run_cli("--corpus", str(corpus), "--index", str(broken), "ask", KILLED)
    assert result.returncode == 1
    assert "corrupt" in result.stderr and "verbatim index --rebuild" in result.stderr
    assert "Traceback" not in result.stderr
    rebuilt = run_cli("--corpus", str(corpus), "--index", str(broken), "index", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    again = run_cli("--corpus", str(corpus), "--index", str(broken), "ask", "-k", "1", KILLED)
    assert "238 citizens" in again.stdout


def test_changed_corpus_is_reindexed_on_ask(built_index: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    corpus, index = built_index
    own_corpus, own_index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(corpus, own_corpus)
    shutil.copytree(index, own_index)
    (own_corpus / "note.md").write_text("The harbour of Aktau froze in February.\n", encoding="utf-8")
    result = run_cli("--corpus", str(own_corpus), "--index", str(own_index), "ask", "--json", "-k", "1",
                     "Which harbour froze?")
    assert "document note is new" in result.stderr
    assert "1 embedded" in result.stderr  # the speech's passages were reused
    assert json.loads(result.stdout)["passages"][0]["doc_id"] == "note"

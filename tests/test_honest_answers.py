"""The questions of the "honest answers" issue, each with the right value, through the real CLI and model (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import REPO, run_cli

pytestmark = pytest.mark.slow


def ask(index: tuple[Path, Path], *lines: str, k: int = 5) -> list[dict]:
    """`verbatim ask --json -` over stdin lines (plain questions or JSON objects with a history)."""
    corpus, folder = index
    result = run_cli("--corpus", str(corpus), "--index", str(folder), "ask", "--json", "-k", str(k), "-",
                     stdin="".join(line + "\n" for line in lines))
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_an_off_topic_question_gets_none_and_one_labelled_passage(built_index: tuple[Path, Path]) -> None:
    [answer] = ask(built_index, "What is the capital of France?")
    assert answer["level"] == "none" and answer["abstained"] is True
    assert len(answer["passages"]) == 1  # at most the single closest passage
    result = run_cli("--corpus", str(built_index[0]), "--index", str(built_index[1]), "ask", "-k", "3",
                     "What is the capital of France?")
    assert "Nothing in the documents seems relevant" in result.stdout


@pytest.mark.parametrize("question", ["*", "AND", "(((", "?", "the and of"])
def test_a_question_without_a_content_word_is_refused(built_index: tuple[Path, Path], question: str) -> None:
    corpus, index = built_index
    result = run_cli("--corpus", str(corpus), "--index", str(index), "ask", question)
    assert result.returncode == 2
    assert "has no word to search for" in result.stderr and "such as:" in result.stderr


@pytest.mark.parametrize(("question", "searched", "quote"), [
    ("How many firarms were stolen?", "How many firearms were stolen?", "firearms have been stolen"),
    ("Wat happend in Taldykorgn?", "Wat happend in Taldykorgan?", "detainees in Taldykorgan"),
    ("How many soliders died in Kyzylroda?", "How many soldiers died in Kyzylorda?", "one died on the spot"),
])
def test_a_misspelt_question_finds_its_passage_and_says_what_it_searched(
        built_index: tuple[Path, Path], question: str, searched: str, quote: str) -> None:
    [answer] = ask(built_index, question)
    assert answer["searched_as"] == searched and answer["corrections"]
    assert quote in answer["passages"][0]["text"]
    assert answer["level"] == "answered"


def test_a_follow_up_is_ranked_by_its_own_words(built_index: tuple[Path, Path]) -> None:
    line = json.dumps({"question": "And how many were convicted?", "history": ["How many citizens were killed?"]})
    [answer] = ask(built_index, line)
    assert "were convicted" in answer["passages"][0]["text"]  # not the killed passage again
    assert answer["searched_as"] == "How many citizens were killed? And how many were convicted?"


def test_a_follow_up_of_only_small_words_is_searched_with_its_conversation(built_index: tuple[Path, Path]) -> None:
    history = ["How many citizens were killed?"]
    [why] = ask(built_index, json.dumps({"question": "Why?", "history": history}))
    assert why["searched_as"] == "How many citizens were killed? Why?" and why["passages"]
    corpus, folder = built_index  # without a letter it is still refused, conversation or not
    result = run_cli("--corpus", str(corpus), "--index", str(folder), "ask", "--json", "-",
                     stdin=json.dumps({"question": "?", "history": history}) + "\n")
    assert "has no word to search for" in result.stderr


def test_a_question_in_another_language_says_which_language_the_documents_are_in(
        built_index: tuple[Path, Path]) -> None:
    alone, after_english = ask(built_index, "Сколько граждан было убито?", json.dumps(
        {"question": "Сколько граждан было убито?", "history": ["What is the capital of France?"]}))
    for answer in (alone, after_english):  # answered by the multilingual ranker, quoted in English
        assert answer["level"] == "answered" and answer["language"] == "ru"
        assert answer["notice"] == ("Your question is in Russian; the documents are in English, "
                                    "so the passages are quoted in English.")
        assert any("238 citizens" in passage["plain_text"] for passage in answer["passages"][:3])
    assert after_english["searched_as"] == "Сколько граждан было убито?"  # never glued to the English one


def test_bad_json_lines_name_the_line(built_index: tuple[Path, Path]) -> None:
    corpus, index = built_index
    result = run_cli("--corpus", str(corpus), "--index", str(index), "ask", "--json", "-",
                     stdin='{"question": 3}\n{"question": "Who was Bitayev?", "history": "x"}\n')
    assert result.returncode == 1
    assert 'line 1: a JSON line needs "question" as a string' in result.stderr
    assert 'line 2: "history" must be a list' in result.stderr


@pytest.mark.parametrize(("question", "quote"), [
    ("How many police officers were hurt?", "law enforcement officers were injured"),  # law enforcement officers
    ("How many cops got hurt?", "law enforcement officers were injured"),
    ("What did the authorities do about gas prices?", "The government satisfied the demand"),  # the government
    ("How did the state respond to the demand for cheaper gas?", "The government satisfied the demand"),
    ("What was the final objective of these actions?", "The ultimate goal of these actions"),  # ultimate goal
    ("What was the end goal of the rioters?", "The ultimate goal of these actions"),
    ("What were the attackers ultimately trying to achieve?", "The ultimate goal of these actions"),
])
def test_paraphrases_keep_their_meaning_match(built_index: tuple[Path, Path], question: str, quote: str) -> None:
    """Worded differently from the speech: the passage is found, and BM25 never pushes a passage of the
    dense ranker's top 3 out of the fused top 5."""
    [answer] = ask(built_index, question, k=10)
    gold = next(p for p in answer["passages"] if quote in p["text"])
    if gold["dense_rank"] <= 3:
        assert gold["rank"] <= 5
    assert gold["rank"] <= gold["dense_rank"] + 2


def test_no_passage_in_the_dense_top_3_falls_out_of_the_fused_top_5(built_index: tuple[Path, Path]) -> None:
    """Over every answerable question of the shipped sets, the gold passage keeps a fused rank of 5 or
    better whenever dense retrieval alone puts it in its top 3 (with k = 10, to see both ranks)."""
    from app.evaluation.metrics import fold, load_items

    names = ("speech", "dev", "tuning", "heldout-v1")
    items = [i for name in names for i in load_items(REPO / "eval" / f"{name}.jsonl") if i.answerable]
    lines = (json.dumps({"question": i.question, "history": list(i.history)}) for i in items)
    answers = ask(built_index, *lines, k=10)
    lost = []
    for item, answer in zip(items, answers):
        for passage in answer["passages"]:
            if any(fold(q) in fold(passage["text"]) for q in item.quotes):
                if passage["dense_rank"] is not None and passage["dense_rank"] <= 3 and passage["rank"] > 5:
                    lost.append((item.id, passage["dense_rank"], passage["rank"]))
                break
    assert lost == []


NEAR_TOPIC_LIMIT = ("near-topic questions whose words the documents use are answered: without a reader model no "
                    "predictor tells them from paraphrases (docs/evaluation.md, How the abstention rule was chosen)")


@pytest.mark.xfail(strict=True, reason=NEAR_TOPIC_LIMIT)
@pytest.mark.parametrize("question", ["Which opposition figures were arrested?",
                                      "How many foreign nationals were detained?"])
def test_near_topic_examples_of_the_issue_abstain(built_index: tuple[Path, Path], question: str) -> None:
    [answer] = ask(built_index, question)
    assert answer["abstained"] is True


def test_calibration_writes_a_rule_and_reports_each_kind(built_index: tuple[Path, Path], tmp_path: Path) -> None:
    from app.answer.abstention import AbstentionRule

    corpus, index = built_index
    rule = tmp_path / "rule.json"
    result = run_cli("--corpus", str(corpus), "--index", str(index), "eval", "--calibrate", "--rule", str(rule),
                     "--set", str(REPO / "eval" / "dev.jsonl"), "--off-topic", str(tmp_path / "none"))
    assert result.returncode == 0, result.stderr
    assert "calibrating without real off-topic queries" in result.stderr
    assert "factoid" in result.stdout and "abstained" in result.stdout
    fitted = AbstentionRule.load(rule)
    assert fitted.fitted_on == "eval/dev.jsonl" and "cosine" in fitted.none_floors

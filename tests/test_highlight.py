from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.search.highlight import NO_WORDS, has_own_words, pick_highlights, sentence_scores

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


@pytest.mark.parametrize("line", [
    "([Tokarev, Klebanov](#))",  # a link-only line: its words are the link's, not its own
    "[See the annex](https://example.org/annex)", "![chart](figure-3.png)", "<https://example.org/report>",
    "https://example.org/report?id=7", "www.example.org", "12", "1 273", "(b)", "- 7 -", "3/12", "p. 3",
    "Page 3 of 12", "PAGE 14", "GE.23-08215 (E)", "CAT/C/KAZ/CO/4", "A/78/PV.5", "* * *", "", "  ",
])
def test_lines_without_words_of_their_own(line: str) -> None:
    assert not has_own_words(line)


@pytest.mark.parametrize("line", [
    "**Thank you for your attention!**", "See [the report](https://example.org/r).", "Annex", "de-monopolisation",
    "Комиссия рассмотрела жалобы.", "Ships: 1 200.", "Kazakhstan's reply (para. 4)",
])
def test_lines_with_words_of_their_own(line: str) -> None:
    assert has_own_words(line)


def test_a_line_without_words_is_never_the_highlight_even_when_it_scores_best() -> None:
    texts = ["Journalists were threatened.", "([Tokarev, Klebanov](#))", "Page 2 of 9"]
    scores = sentence_scores([0.2, 1.0, 1.0], {"journalist"}, texts)  # the wordless lines are closest
    assert scores[1] == scores[2] == NO_WORDS
    assert pick_highlights([(0, 28), (29, 53), (54, 65)], scores) == ((0, 28),)
    assert pick_highlights([(0, 24)], sentence_scores([1.0], set(), ["42"])) == ()


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
                assert has_own_words(inner), f"{answer['question']!r} highlights a line without words: {inner!r}"


TRICKY = ["A < b. Then", "c > d.", "It was 22", "thousand people.", "**Bold start.", "Bold end.**", "1 273",
          "273 people", "[A link", "runs on](http://x.org) here.", "Été à Genève.", "# Heading", "snake_case_ b", "",
          "The zqxsentencebreakxqz word itself."]


def test_one_analysis_for_all_sentences_gives_each_sentences_own_terms() -> None:
    from app.search.highlight import terms_of_each
    from app.store.bm25 import analyze

    for group in (TRICKY, TRICKY[:8], TRICKY[10:14], ["one"], []):
        assert terms_of_each(group) == [set(analyze(text)) for text in group]


@given(st.lists(st.text(alphabet="ab1 2,.*_<>[]()#\\\n éx", max_size=30), max_size=6))
def test_one_analysis_for_all_sentences_matches_one_per_sentence_on_made_up_text(texts: list[str]) -> None:
    from app.search.highlight import terms_of_each
    from app.store.bm25 import analyze

    assert terms_of_each(texts) == [set(analyze(text)) for text in texts]


@pytest.mark.parametrize(("question", "row"), [
    ("How many cases were filed in Oban?", 3), ("Lisakovsk cases", 2), ("How many cases in Region 14?", 4)])
def test_the_row_a_question_names_is_the_highlight_even_when_cosines_prefer_another(question: str,
                                                                                      row: int) -> None:
    from app.store.bm25 import analyze

    texts = ["| Town | Cases filed |", "|---|---|", "| Lisakovsk | 186 |", "| Oban | 12 |",
             "| Region 14 | 7 |", "| Stepnogorsk | 179 |"]
    cosines = [0.80, 0.0, 0.80, 0.80, 0.80, 0.95]  # the model prefers Stepnogorsk's row
    scores = sentence_scores(cosines, set(analyze(question)), texts)
    assert max(range(len(texts)), key=lambda i: scores[i]) == row
    assert scores[0] < scores[row]  # the header, which holds "cases" and "filed", is not a named row

from __future__ import annotations

from pathlib import Path

import pytest

from app.search.followup import Query, contextualize, is_follow_up

from .test_store_search import make_engine


@pytest.mark.parametrize(("question", "expected"), [
    ("And how many were convicted?", True),  # opens with "and"
    ("What happened to him?", True),  # refers back
    ("How many were convicted?", True),  # one content word: too bare to stand alone
    ("What about the injured?", True),
    ("How many citizens were killed?", False),
    ("Who is Bitayev?", False),  # a name stands on its own
    ("Taldykorgan", False),
    ("What measures prevent torture?", False),
])
def test_is_follow_up(question: str, expected: bool) -> None:
    assert is_follow_up(question) is expected


def test_follow_up_keeps_its_own_words_apart_from_the_last_standalone_question() -> None:
    history = ["How many citizens were killed?", "And how many were arrested?"]
    query = contextualize("And convicted?", history)
    assert query == Query("And convicted?", "How many citizens were killed?")
    assert query.searched_as == "How many citizens were killed? And convicted?"
    assert contextualize("Who is Bitayev?", history) == Query("Who is Bitayev?")
    assert contextualize("And convicted?", []) == Query("And convicted?")


def test_questions_in_different_languages_are_never_joined() -> None:
    # A Russian question has no English words to refer back with, and the language check says no.
    assert contextualize("Сколько было убито?", ["What is the capital of France?"]) == Query("Сколько было убито?")
    assert contextualize("And them?", ["Сколько было убито?"], lambda a, b: False) == Query("And them?")


def test_engine_searches_follow_ups_in_context(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index", min_score=0.0)
    # Alone, "What about the ships?" has one word of a document; after the harbour question
    # its context breaks the tie and it finds the harbour passage.
    answer = engine.ask("What about it?", history=["How many ships did the harbour handle?"])
    assert answer.searched_as == "How many ships did the harbour handle? What about it?"
    assert answer.question == "What about it?"
    assert "harbour" in answer.hits[0].chunk.text

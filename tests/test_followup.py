from __future__ import annotations

from pathlib import Path

import pytest

from app.followup import contextualize, is_follow_up

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


def test_follow_up_is_joined_to_the_last_standalone_question() -> None:
    history = ["How many citizens were killed?", "And how many were arrested?"]
    assert contextualize("And convicted?", history) == "How many citizens were killed? And convicted?"
    assert contextualize("Who is Bitayev?", history) == "Who is Bitayev?"
    assert contextualize("And convicted?", []) == "And convicted?"


def test_engine_searches_follow_ups_in_context(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index", min_score=0.0)
    # Alone, "What about it?" shares no word with any document; after the harbour
    # question it is searched together with it and finds the harbour passage.
    answer = engine.ask("What about it?", history=["How many ships did the harbour handle?"])
    assert answer.searched_as == "How many ships did the harbour handle? What about it?"
    assert answer.question == "What about it?"
    assert "harbour" in answer.hits[0].chunk.text

"""Query-term coverage across languages (app.search.coverage): the words compared, the tables, the score."""

from __future__ import annotations

import numpy as np
import pytest

from app.search.coverage import (
    BACKGROUND,
    MAX_QUESTION_WORDS,
    NEARNESS_WEIGHT,
    SHORTFALL_WEIGHT,
    Alignment,
    Coverage,
    align,
    background_words,
    collection_words,
    question_words,
    words_of,
)


def test_words_are_letters_only_lower_cased_distinct_and_at_least_three_long() -> None:
    assert words_of("Сколько ДОМОВ сожгли в 2022 году? Сколько!") == ["сколько", "домов", "сожгли", "году"]
    assert words_of("Қанша көлік өртелді?") == ["қанша", "көлік", "өртелді"]
    assert words_of("snake_case x1y2 ok no") == ["snake", "case"]  # digits and underscores split words


def test_a_question_without_a_long_word_is_compared_whole_and_a_long_one_is_capped() -> None:
    assert question_words("238 ли?") == ["238 ли?"]
    many = " ".join(f"word{chr(97 + i)}x" for i in range(20))
    assert len(question_words(many.replace("word", "wor"))) == MAX_QUESTION_WORDS


def test_the_collection_keeps_its_most_frequent_words() -> None:
    texts = ["beta alpha beta", "gamma beta alpha", "delta"]
    assert collection_words(texts) == ["beta", "alpha", "delta", "gamma"]  # ties alphabetical
    assert collection_words(texts, limit=2) == ["beta", "alpha"]


def test_the_background_is_the_documents_languages_most_frequent_words() -> None:
    english = background_words(["en"])
    assert len(english) == BACKGROUND and "weather" in english and "the" in english
    assert all(len(word) >= 3 and word.isalpha() for word in english)
    assert background_words(["kk"]) == english  # no wordfreq list for Kazakh: English stands in
    both = background_words(["en", "ru"])
    assert "время" in both and "weather" in both and len(both) > BACKGROUND


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_a_word_the_documents_hold_falls_short_of_nothing_and_one_the_background_explains_better_does() -> None:
    documents = np.stack([unit(1, 0, 0), unit(0, 1, 0)])
    background = np.stack([unit(1, 0, 0), unit(0, 0, 1)])  # "the" (shared) and a word the documents lack
    tables = Alignment(documents, background)
    held = tables.coverage(np.stack([unit(1, 0.1, 0)]))
    assert held.shortfall == 0.0 and held.nearness == pytest.approx(float(unit(1, 0.1, 0)[0]))
    foreign = tables.coverage(np.stack([unit(0, 0.2, 1)]))
    near_documents, near_background = float(unit(0, 0.2, 1)[1]), float(unit(0, 0.2, 1)[2])
    assert foreign.shortfall == pytest.approx(near_documents - near_background) and foreign.shortfall < 0
    both = tables.coverage(np.stack([unit(1, 0.1, 0), unit(0, 0.2, 1)]))
    assert both.nearness == pytest.approx((held.nearness + foreign.nearness) / 2)
    assert both.shortfall == pytest.approx(foreign.shortfall / 2)


def test_the_score_adds_the_weighted_coverage_to_the_best_cosine() -> None:
    assert Coverage(0.9, -0.02).score(0.8) == pytest.approx(0.8 + NEARNESS_WEIGHT * 0.9 - SHORTFALL_WEIGHT * 0.02)


def test_the_background_of_a_set_of_languages_is_embedded_once_per_process() -> None:
    calls: list[int] = []

    def embed(words: list[str]) -> np.ndarray:
        calls.append(len(words))
        return np.ones((len(words), 3), dtype=np.float32) / np.sqrt(3)

    first = align(["alpha beta"], ["fi"], embed)  # a language no other test asks for
    second = align(["gamma delta epsilon"], ["fi"], embed)
    assert calls == [BACKGROUND, 2, 3]
    assert first.background is second.background and second.documents.shape == (3, 3)

"""Query-performance predictors, each checked by hand on small inputs."""

from __future__ import annotations

import pytest

from app.search.qpp import (
    agreement,
    answer_type_ok,
    carries_answer,
    content_terms,
    dispersion,
    has_content,
    predictors,
    question_form,
    question_names,
    share,
)


@pytest.mark.parametrize("question", ["?", "*", "AND", "(((", "the and of", "  ...  ", "How many?", "Who is it?"])
def test_a_question_without_a_word_to_search_for(question: str) -> None:
    assert not has_content(question)


@pytest.mark.parametrize("question", ["Bitayev", "2022", "How many citizens were killed?", "fire"])
def test_a_question_with_something_to_search_for(question: str) -> None:
    assert has_content(question)


def test_content_terms_and_their_rarity() -> None:
    terms = content_terms("How many citizens were killed in Taldykorgan?")
    assert [(t.word, t.stem) for t in terms] == [("citizens", "citizen"), ("killed", "kill"),
                                                 ("taldykorgan", "taldykorgan")]
    rarity = {t.word: t.rarity for t in terms}
    assert rarity["taldykorgan"] == 8.0  # in no word list: the most specific
    assert rarity["killed"] < rarity["citizens"] < 8.0  # "killed" is the commoner English word


def test_share_is_rarity_weighted() -> None:
    terms = content_terms("citizens Taldykorgan")
    assert share(terms, {"taldykorgan"}) == pytest.approx(8.0 / (8.0 + terms[0].rarity))
    assert share([], set()) == 1.0


def test_dispersion_by_hand() -> None:
    scores = [0.5, 0.3, 0.1, 0.1]  # mean 0.25
    nqc, wig = dispersion(scores, sorted(scores, reverse=True))
    top = [0.5, 0.3, 0.1, 0.1]  # (fewer than 10: all); mean 0.25, std 0.1658
    assert nqc == pytest.approx(0.16583 / 0.25, rel=1e-3)
    assert wig == pytest.approx(sum(top) / 4 - 0.25)


def test_agreement_of_the_two_top_fives() -> None:
    dense = {i: 1.0 - i / 10 for i in range(8)}  # top 5: 0-4
    lexical = {0: 9.0, 2: 8.0, 7: 7.0, 6: 6.0, 5: 5.0}  # top 5: 0, 2, 7, 6, 5
    assert agreement(dense, lexical) == pytest.approx(2 / 5)


@pytest.mark.parametrize(("question", "form"), [
    ("How many citizens were killed?", "quantity"), ("What percentage were police?", "quantity"),
    ("When did Rakhmetov die?", "time"), ("What year was the Act passed?", "time"),
    ("Who was Bitayev?", "person"), ("What is the name of the officer?", "person"),
    ("Which airports did the rioters attack?", "entity"), ("What happened in Almaty?", "other"),
])
def test_question_forms(question: str, form: str) -> None:
    assert question_form(question) == form


def test_an_answer_of_the_asked_form_that_the_question_does_not_already_hold() -> None:
    assert carries_answer("quantity", "A total of 238 citizens were killed.", "How many citizens were killed?")
    assert not carries_answer("quantity", "A total of 238 citizens were killed.", "How many of the 238 died here?")
    assert carries_answer("time", "He died on January 7.", "When did he die?")
    assert not carries_answer("time", "He died in custody.", "When did he die?")
    assert carries_answer("person", "A well-known musician, Bitayev, was shot dead.", "Who was shot dead?")
    assert not carries_answer("person", "The President spoke to the Committee.", "Who spoke?")
    assert carries_answer("entity", "They attacked the Almaty airport.", "Which airports were attacked?")
    assert not carries_answer("entity", "They attacked airports.", "Which airports were attacked?")


def test_answer_type_needs_the_number_near_the_question_words() -> None:
    terms = content_terms("How many vehicles were burned?")
    assert answer_type_ok("How many vehicles were burned?", "765 vehicles were burned.", terms) == 1.0
    assert answer_type_ok("How many vehicles were burned?", "Vehicles were burned at night. Later, 765 people came.",
                          terms) == 0.0


def test_question_names() -> None:
    assert question_names("How many people died in the 2020 Belarus protests?") == ["belarus"]
    assert question_names("Who is the Secretary-General of NATO?") == ["secretary", "general", "nato"]
    assert question_names("Wat happend in Taldykorgan?") == ["taldykorgan"]  # a misspelt first word is no name
    assert question_names("What did the police do?") == []


def test_predictors_of_a_small_ranking() -> None:
    top = [("In Almaty, a musician, Bitayev, was shot dead.",
            [("In Almaty, a musician, Bitayev, was shot dead.", 0.7)])]
    found = predictors("Who shot the musician Bitayev in Almaty?", top, {0: 0.6, 1: 0.2}, {0: 3.0},
                       {"almati", "bitayev", "musician", "shot"}, {"almaty", "bitayev"})
    assert found["cosine"] == 0.6 and found["sentence"] == 0.7
    assert found["answer_sentence"] == 0.0  # its only names are the question's own: no new name
    assert found["coverage"] == 1.0 and found["known"] == 1.0 and found["names_known"] == 1.0
    assert found["person"] == 1.0 and found["quantity"] == 0.0

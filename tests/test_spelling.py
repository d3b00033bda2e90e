"""Typo correction against the collection's own words."""

from __future__ import annotations

import pytest

from app.search.spelling import Correction, Vocabulary, correct

VOCABULARY = Vocabulary.from_texts([
    "Around three thousand firearms have been stolen. In Taldykorgan, 5 police officials were convicted.",
    "In Kyzylorda soldiers were run over. The musician Bitayev was shot dead in Almaty.",
    "The firearms were recovered; firearms again.",
    "The government told its officers.",
])


@pytest.mark.parametrize(("typed", "searched"), [
    ("How many firarms were stolen?", "How many firearms were stolen?"),  # a letter missing
    ("Wat happend in Taldykorgn?", "Wat happend in Taldykorgan?"),  # the name; "Wat" is too short to touch
    ("How many soliders died in Kyzylroda?", "How many soldiers died in Kyzylorda?"),  # swapped letters
    ("Who was Bitaev?", "Who was Bitayev?"),
    ("what happened in almtay", "what happened in almaty"),  # lower case stays lower case
    ("CONVCITED POLICE", "CONVICTED POLICE"),  # a question all in capitals is still corrected
    ("Was the goverment told?", "Was the government told?"),  # on the web, but 100 times rarer
    ("How many offcers were convicted?", "How many officers were convicted?"),
])
def test_misspelt_words_become_the_collection_words(typed: str, searched: str) -> None:
    assert correct(typed, VOCABULARY)[0] == searched


def test_real_words_and_unknown_long_words_are_left_alone() -> None:
    for question in ("What is the capital of France?", "pembrolizumab efficacy", "How are the doctors?"):
        assert correct(question, VOCABULARY) == (question, ())


@pytest.mark.parametrize("question", [
    "Are mosquitos vectors?",  # a real word: "mosquito" is not 100 times as common
    "Does deactivating kinases help?",  # "reactivating" is rarer than what was typed
    "Is the officer convicted?",  # another form of a collection word, and a real one
    "Does OmpF bind the ions?",  # identifiers: a capital inside the word
    "Is LRBA expressed in cRCT?",  # or all capitals in a question that is not
])
def test_real_words_and_identifiers_are_not_taken_for_typos(question: str) -> None:
    vocabulary = Vocabulary.from_texts(["Mosquito officials deactivate and reactivating LRB Omp Ompj crc stolen."])
    assert correct(question, vocabulary) == (question, ())


def test_corrections_say_what_was_replaced() -> None:
    assert correct("firarms in Taldykorgn", VOCABULARY)[1] == (
        Correction("firarms", "firearms"), Correction("Taldykorgn", "Taldykorgan"))


def test_equally_close_words_prefer_the_collections_commonest() -> None:
    vocabulary = Vocabulary({"farms": 1, "firearms": 5})
    assert vocabulary.nearest("firarms") == "firearms"  # both one edit away


def test_words_of_the_collections_own_language_are_not_taken_for_english_typos() -> None:
    vocabulary = Vocabulary.from_texts(["Жалобы осуждённых о плохом питании и отсутствии медицинской помощи."])
    question = "Где медицинская помощь осужденным?"
    assert correct(question, vocabulary, ["ru"]) == (question, ())
    assert correct("Где жалбоы о питанеи?", vocabulary, ["ru"])[1] == (
        Correction("жалбоы", "жалобы"), Correction("питанеи", "питании"))

"""Document language identification (py3langid): long texts are identified, short ones are not guessed."""

import pytest

from app.documents.language import CollectionLanguages, document_language, foreign_language, script_of


def test_documents_are_identified_by_their_text() -> None:
    english = "The Committee considered the report of Kazakhstan at its meetings and adopted the following. " * 3
    russian = "Комиссия рассмотрела сорок две жалобы заключённых и направила свои рекомендации в министерство. " * 2
    assert document_language(english) == "en"
    assert document_language(russian) == "ru"


def test_too_short_a_text_has_no_language() -> None:
    assert document_language("Annual report 2024") is None  # 16 letters: not enough to tell
    assert document_language("1 273 — 2022") is None


ENGLISH = CollectionLanguages(frozenset({"en"}), frozenset({"LATIN"}))


@pytest.mark.parametrize(("question", "language"), [
    ("Сколько граждан было убито?", "ru"),  # another script
    ("Combien de personnes ont été tuées ?", "fr"),
    ("Wie viele Menschen wurden getötet?", "de"),
    ("¿Qué le pasó al músico Bitayev en Almaty?", "es"),
    ("有多少人死亡？", "zh"),
])
def test_questions_in_other_languages_are_told_apart(question: str, language: str) -> None:
    assert foreign_language(question, ENGLISH) == language


@pytest.mark.parametrize("question", [
    "How many citizens were killed?", "Who is Bitayev?", "Wat happend in Taldykorgn?", "Bitayev musician",
    "steam iron police convicted", "Almaty", "Kazakhstan", "CSTO troops",
])
def test_english_questions_however_short_or_misspelt_are_not_foreign(question: str) -> None:
    assert foreign_language(question, ENGLISH) is None


def test_the_collections_own_words_count_for_its_language() -> None:
    assert foreign_language("coup d etat", ENGLISH) == "fr"  # without the collection, French-looking
    assert foreign_language("coup d etat", ENGLISH, {"coup", "etat"}) is None  # the speech says "coup d'état"


def test_a_collection_in_two_languages_matches_both() -> None:
    both = CollectionLanguages(frozenset({"en", "ru"}), frozenset({"LATIN", "CYRILLIC"}))
    assert foreign_language("Сколько граждан было убито?", both) is None
    assert both.names == "English and Russian"


def test_script_of() -> None:
    assert script_of("Almaty, 2022") == "LATIN" and script_of("Алматы") == "CYRILLIC" and script_of("2022") is None

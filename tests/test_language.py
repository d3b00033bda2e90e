"""Document language identification (py3langid): long texts are identified, short ones are not guessed."""

from app.language import document_language


def test_documents_are_identified_by_their_text() -> None:
    english = "The Committee considered the report of Kazakhstan at its meetings and adopted the following. " * 3
    russian = "Комиссия рассмотрела сорок две жалобы заключённых и направила свои рекомендации в министерство. " * 2
    assert document_language(english) == "en"
    assert document_language(russian) == "ru"


def test_too_short_a_text_has_no_language() -> None:
    assert document_language("Annual report 2024") is None  # 16 letters: not enough to tell
    assert document_language("1 273 — 2022") is None

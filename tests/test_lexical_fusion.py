from __future__ import annotations

from pathlib import Path

import pytest

from app.search.fusion import minmax, minmax_fusion, ranks, rrf_fusion
from app.store.bm25 import LexicalIndex, analyze, fold_for_matching


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**1 273** people", "1273 people"),
        ("1,273 and 1273", "1273 and 1273"),
        ("Over 3 500 officers", "over 3500 officers"),
        ("over 22 thousand cameras", "over 22 thousand 22000 cameras"),
        ("1.5 billion US dollars", "1.5 billion us dollars"),  # decimals keep their point
        ("On January 3, 4 and 5", "on january 3, 4 and 5"),  # a list, not a grouped number
        ("coup d'État", "coup d'etat"),
    ],
)
def test_folding_for_matching(text: str, expected: str) -> None:
    assert fold_for_matching(text) == expected


def test_marks_are_stripped_exactly_as_a_test_of_each_character_would() -> None:
    """The translate table (built once) drops what `unicodedata.combining` calls combining, no more:
    Latin, Cyrillic (й, ё keep their letters, lose the marks), Greek, Devanagari, Arabic, random code points."""
    import random
    import unicodedata

    from app.store.bm25 import _strip_marks

    def by_character(text: str) -> str:
        return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))

    draw = random.Random(7)
    texts = ["Café naïve Zürich ﬁ ǅ x\u0301y", "жалобы заключённых, й", "Қанша көлік өртелді?", "ἀρχή",
             "हिन्दी", "مُشَكَّل", *("".join(chr(draw.randrange(0x20, 0x30000)) for _ in range(300)) for _ in range(300))]
    assert [_strip_marks(text) for text in texts] == [by_character(text) for text in texts]
    assert _strip_marks("coup d'État") == "coup d'Etat"


def test_one_fold_per_passage_gives_the_same_terms_and_word_counts_as_analysing_each() -> None:
    from app.store.bm25 import count_words

    texts = ["A total of **1 237** people were arrested in Région 14.", "Жалобы заключённых рассмотрены.",
             "Über 3 500 Beamte wurden verletzt.", "Over 22 thousand cameras, Form 7-B."]
    codes = [None, "ru", "de", "en"]
    index = LexicalIndex.build(texts, codes)
    assert index.words == count_words(texts)
    assert index.analyses == ("english", "german", "russian")
    for text, code in zip(texts, codes):  # every term of each passage is in the index's vocabulary
        assert set(analyze(text, code)) <= set(index._retriever.vocab_dict)


def test_numbers_written_differently_find_the_same_passage() -> None:
    texts = ["A total of **1 237** people were arrested.",
             "A total of **1 273** people were convicted.",
             "Over 3 500 officers were injured."]
    index = LexicalIndex.build(texts)
    for query, best in [("1,273", 1), ("1273 convicted", 1), ("3500", 2), ("1 237", 0)]:
        scores = index.scores(query)
        assert int(scores.argmax()) == best, query
    assert not index.scores("zebra").any()


def test_analyze_drops_stop_words_and_stems() -> None:
    assert analyze("The officers of the convicted") == ["offic", "convict"]  # Lucene stop list


def test_minmax_by_hand() -> None:
    assert minmax({1: 2.0, 2: 4.0, 3: 3.0}) == {1: 0.0, 2: 1.0, 3: 0.5}
    assert minmax({1: 5.0}) == {1: 1.0}


def test_minmax_fusion_by_hand() -> None:
    dense = {1: 0.9, 2: 0.5, 3: 0.7}  # -> 1.0, 0.0, 0.5
    lexical = {2: 10.0, 3: 5.0, 4: 0.0}  # zero scores are no match -> 2: 1.0, 3: 0.0
    fused = minmax_fusion(dense, lexical, dense_weight=0.7)
    assert fused == pytest.approx({1: 0.7, 2: 0.3, 3: 0.35})


def test_rrf_by_hand() -> None:
    fused = rrf_fusion({1: 0.9, 2: 0.8}, {2: 3.0, 1: 1.0}, k=60)
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[2] == pytest.approx(1 / 62 + 1 / 61)
    assert ranks({7: 1.0, 8: 3.0}) == {8: 1, 7: 2}


def test_word_counts_are_kept_with_the_index_and_read_back(tmp_path: Path) -> None:
    texts = ["Firearms were stolen in Taldykorgan.", "The firearms were recovered; 3 273 of them."]
    LexicalIndex.build(texts).save(tmp_path)
    words = LexicalIndex.load(tmp_path).words
    assert words == {"firearms": 2, "were": 2, "stolen": 1, "in": 1, "taldykorgan": 1, "the": 1,
                     "recovered": 1, "of": 1, "them": 1}


def test_an_index_saved_before_word_counts_says_it_has_none(tmp_path: Path) -> None:
    LexicalIndex.build(["Firearms were stolen."]).save(tmp_path)
    (tmp_path / "words.json").unlink()
    assert LexicalIndex.load(tmp_path).words is None

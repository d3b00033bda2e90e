"""The self-check's core without a model: which sentences are asked, how they are drawn, how a
rank is read off an answer, and when a document is flagged. The real engine's run over good,
garbled and scanned documents is in test_selfcheck_real.py."""

from __future__ import annotations

from app.evaluation.selfcheck import (
    FLOOR,
    DocumentCheck,
    Probe,
    candidate_sentences,
    check_document,
    cut_off,
    flag,
    own_rank,
    sample,
)
from app.passages.chunk import ChunkSettings, chunk_document
from app.search.ranking import Answer, Hit
from app.store.folder import DocumentRecord

TEXT = (
    "# Annual report of the harbour\n\n"  # a heading: skipped
    "The harbour handled twelve hundred ships in the spring season.\n\n"
    "Page 3\n\n"  # too short
    "2024 - 17 - 35\n\n"  # numbers only
    "Harbour Authority internal bulletin for all staff members\n\n"  # repeated below: a running head
    "Fishing boats return at dawn with mackerel and herring from the northern banks. "
    "The lighthouse keeper retired in June after forty years of service on the rock.\n\n"
    "Harbour Authority internal bulletin for all staff members\n\n"
    "| quay | ships | boats | cranes | tugs |\n| --- | --- | --- | --- | --- |\n| east | 1 | 2 | 3 | 4 |\n"
)
RECORD = DocumentRecord("harbour", "harbour.md", "abc", "markdown", "Harbour", None, None, None, "en", None, 2)


def test_only_sentences_that_can_stand_as_a_query_are_asked() -> None:
    chunks = chunk_document("harbour", TEXT, ChunkSettings(target_chars=120))
    probes = candidate_sentences(TEXT, chunks, "markdown")
    assert [p.query for p in probes] == [
        "The harbour handled twelve hundred ships in the spring season.",
        "Fishing boats return at dawn with mackerel and herring from the northern banks.",
        "The lighthouse keeper retired in June after forty years of service on the rock."]
    for probe in probes:  # each knows the passages holding it, by their ids
        assert probe.own and all(TEXT[probe.start:probe.end] in c.text for c in chunks if c.chunk_id in probe.own)


def test_plain_text_keeps_a_line_that_only_markdown_would_call_a_heading() -> None:
    text = "# 5 incidents were reported to the police in the first week\n\nShort one.\n"
    chunks = chunk_document("d", text, markup="plain")
    assert [p.query for p in candidate_sentences(text, chunks, "txt")] == [
        "5 incidents were reported to the police in the first week"]  # asked as the rankers read it
    assert candidate_sentences(text, chunk_document("d", text), "markdown") == []


def test_the_sample_is_the_same_for_the_same_document_and_differs_between_documents() -> None:
    probes = [Probe(i * 10, i * 10 + 5, f"sentence {i}", frozenset({f"d:{i}"})) for i in range(100)]
    first = sample(probes, "report")
    assert first == sample(probes, "report") == sample(list(reversed(probes)), "report") and len(first) == 20
    assert [p.start for p in first] == sorted(p.start for p in first)
    assert first != sample(probes, "another-report")
    assert sample(probes[:7], "report") == probes[:7]  # fewer than 20: all of them


def _hit(rank: int, doc_id: str, start: int, end: int, also: tuple[Hit, ...] = ()) -> Hit:
    chunks = chunk_document(doc_id, "x" * end)
    chunk = chunks[0].__class__(doc_id, start, end, "x" * (end - start), None, 1, (1,))
    return Hit(rank, 1.0 / rank, chunk, RECORD, also_in=also)


def test_the_own_passage_counts_where_it_is_shown_even_grouped_under_a_twin() -> None:
    probe = Probe(5, 10, "q", frozenset({"harbour:0-20"}))
    assert own_rank(probe, Answer("q", False, [_hit(1, "other", 0, 20), _hit(2, "harbour", 0, 20)])) == 2
    twin = _hit(1, "press", 0, 20, also=(_hit(1, "harbour", 0, 20),))
    assert own_rank(probe, Answer("q", False, [twin])) == 1
    assert own_rank(probe, Answer("q", True, [_hit(1, "harbour", 20, 40)])) is None


def test_a_document_is_scored_by_its_sentences_and_a_refused_one_is_a_miss() -> None:
    from app.errors import UsageError

    probes = [Probe(0, 5, "first", frozenset({"harbour:0-20"})), Probe(30, 35, "second", frozenset({"harbour:20-40"})),
              Probe(50, 55, "?", frozenset({"harbour:40-60"}))]

    def ask(question: str) -> Answer:  # first: own passage 1st; second: 3rd; "?": refused
        if question == "?":
            raise UsageError("no word to search for")
        own = _hit(1 if question == "first" else 3, "harbour", 0 if question == "first" else 20,
                   20 if question == "first" else 40)
        others = [_hit(r, "other", 0, 20) for r in (1, 2)]
        return Answer(question, False, [own] if question == "first" else [*others, own])

    check = check_document("harbour", "abc", probes, 3, ask)
    assert (check.sentences, check.at1, check.at5) == (3, 1 / 3, 2 / 3)
    assert [m["sentence"] for m in check.misses] == ["?"] and check.misses[0]["rank"] is None


def _check(doc_id: str, at5: float | None) -> DocumentCheck:
    return DocumentCheck(doc_id, "sha", 0 if at5 is None else 20, at5, at5)


def test_flags_far_below_the_median_under_the_floor_or_without_text() -> None:
    good = [_check(f"good{i}", share) for i, share in enumerate((1.0, 0.95, 1.0, 0.9, 1.0, 0.95))]
    low, poor, empty, fine = _check("low", 0.6), _check("poor", 0.2), _check("scan", None), _check("fine", 0.85)
    everyone = [*good, low, poor, empty, fine]
    median, cut = cut_off(everyone) or (0, 0)
    assert median == 0.95 and cut == 0.95 - 0.25  # the MAD (0.05) x 3 x 1.4826 is under the minimum margin
    flag(everyone, everyone)
    assert [c.doc_id for c in everyone if c.flagged] == ["low", "poor", "scan"]
    assert "far below the collection's median 0.95" in low.flag
    assert f"floor {FLOOR:.0%}" in poor.flag and "no text to search for" in empty.flag


def test_with_too_few_documents_only_the_floor_applies() -> None:
    pair = [_check("a", 1.0), _check("b", 0.55)]
    assert cut_off(pair) is None
    flag(pair, pair)
    assert not any(c.flagged for c in pair)
    alone = [_check("c", 0.45)]
    flag(alone, alone)
    assert alone[0].flagged


def test_a_check_survives_its_json_round_trip() -> None:
    check = _check("a", 0.5)
    check.flag = "why"
    data = check.to_dict()
    assert data["flagged"] is True and DocumentCheck.from_dict(data) == check


def test_words_a_language_does_not_have_are_counted_and_flag_a_garbled_text() -> None:
    from app.evaluation.selfcheck import WORDS_FLOOR, known_word_share, wordfreq_languages
    from tests.documents_factory import scrambled

    clean = ["The lighthouse keeper retired in June after forty years of service on the rock."]
    assert known_word_share(clean, ["en"]) == 1.0
    assert known_word_share([scrambled(clean[0])], ["en"]) < WORDS_FLOOR  # the same text through a scrambled font
    assert known_word_share(clean, []) is None and known_word_share(["12 34"], ["en"]) is None
    assert wordfreq_languages(["en-GB", "xx", "de", None]) == ["de", "en"]  # type: ignore[list-item]
    garbled = DocumentCheck("garbled", "sha", 20, 1.0, 1.0, words_known=0.2, languages=["en"])
    flag([garbled], [garbled])
    assert "only 20% of its words are words of en" in garbled.flag


def test_the_folder_keeps_each_documents_last_result_and_shrugs_off_a_damaged_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.store.folder import SELF_CHECKS, read_self_checks, write_self_checks

    assert read_self_checks(tmp_path) == {}
    write_self_checks(tmp_path, {"a": _check("a", 1.0).to_dict(), "b": _check("b", 0.5).to_dict()})
    write_self_checks(tmp_path, {"b": _check("b", 0.9).to_dict()})  # b replaced, a kept
    kept = read_self_checks(tmp_path)
    assert kept["a"]["at5"] == 1.0 and kept["b"]["at5"] == 0.9
    (tmp_path / SELF_CHECKS).write_text("{not json", encoding="utf-8")
    assert read_self_checks(tmp_path) == {}  # the next check writes it anew


def test_a_text_without_a_language_is_looked_up_in_the_collections() -> None:
    from app.evaluation.selfcheck import _languages

    assert _languages("zxx", ["en"]) == ["en"]  # py3langid: no linguistic content (a scrambled layer)
    assert _languages(None, ["en", "ru"]) == ["en", "ru"]
    assert _languages("kk", ["en"]) == ["kk"]  # its own language, even one wordfreq has no list for

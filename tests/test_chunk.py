"""The verbatim invariant and the speech's structure."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.passages.chunk import ChunkSettings, chunk_document, parse_structure, plain_text


def assert_exact_slices(text: str, chunks: list) -> None:
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
    for before, after in zip(chunks, chunks[1:]):
        assert before.end <= after.start, "passages must not overlap"


def assert_sentences_inside(chunk) -> None:  # type: ignore[no-untyped-def]
    cursor = chunk.start
    for start, end in chunk.sentences:
        assert cursor <= start < end <= chunk.end, "sentences are ordered, inside the passage"
        sentence = chunk.text[start - chunk.start : end - chunk.start]
        assert sentence == sentence.strip() and "\n\n" not in sentence
        cursor = end


def test_every_speech_passage_is_an_exact_slice(speech_text: str) -> None:
    chunks = chunk_document("speech", speech_text)
    assert len(chunks) > 10
    assert_exact_slices(speech_text, chunks)
    for chunk in chunks:
        assert chunk.sentences
        assert_sentences_inside(chunk)


def test_speech_sentences_are_split_at_sentence_ends(speech_text: str) -> None:
    chunk = next(c for c in chunk_document("s", speech_text) if "238 citizens" in c.text)
    sentences = [speech_text[a:b] for a, b in chunk.sentences]
    assert "The death toll is **accurate** and cross-checked during investigations." in sentences
    assert "These figures are shown on the slide." in sentences


def test_speech_sections_follow_headings_and_separators(speech_text: str) -> None:
    sections, _ = parse_structure(speech_text)
    # "# SPEECH", then *****, ###, *****, ### open four more sections.
    assert [s.number for s in sections] == [1, 2, 3, 4, 5]
    assert sections[0].title == "SPEECH"
    assert sections[2].title == "Dear ladies and gentlemen!"
    assert sections[3].title is None  # opened by ***** and no bold salutation


def test_paragraph_broken_across_a_blank_line_stays_whole(speech_text: str) -> None:
    chunks = chunk_document("speech", speech_text)
    holding = [c for c in chunks if "Eighty-four people are" in c.text]
    assert len(holding) == 1 and "acknowledged victims." in holding[0].text
    _, paragraphs = parse_structure(speech_text)
    joined = [p for p in paragraphs if "Eighty-four" in speech_text[p.start : p.end]]
    assert "acknowledged victims" in speech_text[joined[0].start : joined[0].end]
    decree = [p for p in paragraphs if "special commission" in speech_text[p.start : p.end]]
    assert "Presidential Decree" in speech_text[decree[0].start : decree[0].end]


def test_headings_and_separators_are_not_numbered_paragraphs() -> None:
    text = "# Title\n\nFirst.\n\n*****\n\n## Part two\n\nSecond.\n"
    sections, paragraphs = parse_structure(text)
    assert [text[p.start : p.end] for p in paragraphs] == ["First.", "Second."]
    assert [p.number for p in paragraphs] == [1, 2]
    assert [(s.number, s.title) for s in sections] == [(1, "Title"), (2, "Part two")]


def test_passages_never_cross_sections() -> None:
    text = "Alpha one.\n\nAlpha two.\n\n---\n\nBeta one.\n"
    chunks = chunk_document("d", text)
    assert [c.text for c in chunks] == ["Alpha one.\n\nAlpha two.", "Beta one."]
    assert [c.paragraphs for c in chunks] == [(1, 2), (3,)]


def test_long_paragraph_is_split_between_sentences() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(100))
    chunks = chunk_document("d", text, ChunkSettings(target_chars=200, max_chars=300))
    assert len(chunks) > 1
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(c.text.endswith(".") for c in chunks)
    assert_exact_slices(text, chunks)


def test_plain_text_strips_markup_only() -> None:
    assert plain_text("at the 76<sup>th</sup> **session** \\*\\*") == "at the 76th session **"
    assert plain_text("([Tokarev, Klebanov](#))") == "(Tokarev, Klebanov)"


def test_chunk_id_is_document_plus_span() -> None:
    chunk = chunk_document("doc", "Hello there.")[0]
    assert chunk.chunk_id == "doc:0-12"


_line = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=120)
_block = st.one_of(
    _line,
    st.just("*****"), st.just("\\*\\*\\*\\*\\*"), st.just("---"),
    _line.map(lambda s: "## " + s),
    _line.map(lambda s: "**" + s + "**"),
)
_separator = st.sampled_from(["\n", "\n\n", "\n \n", "\r\n\r\n", "\n\n\n", "  \n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_block, _separator), max_size=40),
       st.integers(min_value=20, max_value=800))
def test_generated_documents_keep_the_invariant(parts: list[tuple[str, str]], target: int) -> None:
    text = "".join(block + sep for block, sep in parts)
    chunks = chunk_document("gen", text, ChunkSettings(target_chars=target, max_chars=target + 200))
    assert_exact_slices(text, chunks)
    for chunk in chunks:
        assert chunk.text.strip(), "no empty passages"
        assert len(chunk.text) <= target + 200
        assert_sentences_inside(chunk)
    # Every non-blank, non-structural line is inside some passage.
    _, paragraphs = parse_structure(text)
    covered = "".join(text[c.start : c.end] for c in chunks)
    for p in paragraphs:
        assert text[p.start : p.end].split()[0] in covered


_prose = st.text(alphabet=st.sampled_from(list("ab Z. ! ? : é ü 日本 😀 — “ ” \u00a0\t\n12,*_[]()<>\\#")), max_size=200)


@settings(max_examples=300, deadline=None)
@given(_prose)
def test_sentence_offsets_match_blingfires_own_wrapper(text: str) -> None:
    """Our byte-to-character mapping gives what blingfire's slower Python wrapper gives."""
    import blingfire

    from app.passages.chunk import _sentence_offsets

    block = text.strip()
    if block:
        assert _sentence_offsets(block) == blingfire.text_to_sentences_and_offsets(block)[1]


@settings(max_examples=300, deadline=None)
@given(_prose)
def test_plain_text_shortcut_changes_nothing(text: str) -> None:
    """Text without markup characters skips the markup rules; the result is the same as through them."""
    import re

    from app.documents import text as primitives
    fast = plain_text(text)
    saved = primitives._MARKUP
    primitives._MARKUP = re.compile("")  # every text "has markup": the full path
    try:
        assert plain_text(text) == fast
    finally:
        primitives._MARKUP = saved

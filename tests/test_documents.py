from __future__ import annotations

from pathlib import Path

import pytest

from app.documents.corpus import doc_id_for, iso_date, parse_document, read_corpus
from app.errors import CorpusError


def test_shipped_speech_is_read_with_its_sidecar_metadata() -> None:
    [doc] = read_corpus(Path(__file__).parent.parent / "corpus")
    assert doc.date == "2023-05-02"
    assert "Committee against Torture" in (doc.venue or "")
    assert doc.format == "markdown"


def test_doc_id_is_a_slug_of_the_file_name() -> None:
    assert doc_id_for("2023-05-02 CAT Speech.md") == "2023-05-02-cat-speech"


def test_title_falls_back_to_first_heading_then_file_name() -> None:
    assert parse_document("a.md", b"# My heading\n\nText.", {}).title == "My heading"
    assert parse_document("notes.txt", b"Text.", {}).title == "notes"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("a.md", b"", "empty"),
        ("a.md", b" \n\t\n", "empty"),
        ("a.md", b"\xff\xfe\x00b", "binary"),
        ("a.md", b"caf\xe9", "not valid UTF-8"),
        ("a.pdf", b"%PDF-1.4", "corrupt"),
        ("a.pdf", b"hello", "not a PDF"),
        ("a.xlsx", b"PK", "unsupported file type"),
        ("notes", b"text", "no extension"),
    ],
)
def test_bad_documents_are_refused_with_the_reason(name: str, data: bytes, message: str) -> None:
    with pytest.raises(CorpusError, match=message) as info:
        parse_document(name, data, {})
    assert name in str(info.value)


def test_missing_corpus_folder_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist.*--corpus"):
        read_corpus(tmp_path / "nowhere")


def test_empty_corpus_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="holds no documents"):
        read_corpus(tmp_path)


def test_bad_sidecar_is_named(tiny_corpus: Path) -> None:
    (tiny_corpus / "orchard.txt.meta.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CorpusError, match="orchard.txt.meta.json"):
        read_corpus(tiny_corpus)


@pytest.mark.parametrize("value", ["2023-05-02", "2023-05", "2023"])
def test_a_date_is_kept_as_written_when_it_is_an_iso_date(value: str) -> None:
    assert iso_date(value) == value


@pytest.mark.parametrize("value", ["next tuesday", "5/4/2021", "2023-13-01", "2023-02-30", "banana", "20230502"])
def test_anything_else_given_as_a_date_is_refused_with_the_form_to_write(value: str) -> None:
    with pytest.raises(ValueError, match="is not a date; write it as YYYY-MM-DD"):
        iso_date(value)


def test_a_sidecar_date_that_is_not_a_date_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "boiler.txt").write_text("Boilers were inspected.", encoding="utf-8")
    (tmp_path / "boiler.txt.meta.json").write_text('{"date": "next tuesday"}', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"boiler\.txt\.meta\.json: 'date': 'next tuesday' is not a date"):
        read_corpus(tmp_path)

"""Format readers and native citation units, on documents the tests write themselves (no model)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from app.documents.corpus import parse_document
from app.documents.formats import extract
from app.errors import CorpusError
from app.passages.chunk import chunk_document, page_at, page_starts
from tests.documents_factory import NEEDLE, WRITERS, make_report, write_pdf


@pytest.fixture(scope="module")
def report_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("formats")
    report = make_report()
    return {fmt: write(folder / f"report.{fmt}", report) for fmt, write in WRITERS.items()}


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html", "md"])
def test_every_format_yields_numbered_paragraphs_as_passages_with_the_symbol(
        report_files: dict[str, Path], fmt: str) -> None:
    path = report_files[fmt]
    doc = parse_document(path.name, path.read_bytes(), {})
    assert doc.symbol == "CAT/C/XYZ/CO/4"
    assert doc.title.startswith("Concluding observations")
    chunks = chunk_document(doc.doc_id, doc.text)
    [needle] = [c for c in chunks if "Ridder" in c.text]
    assert needle.labels == ("41",)  # the document's own number, not a counted one
    assert doc.text[needle.start : needle.end] == needle.text
    numbered = [c for c in chunks if c.labels]
    assert [c.labels[0] for c in numbered] == [str(n) for n in range(1, 61)]


def test_pdf_keeps_pages_and_cites_the_needle_on_page_14(report_files: dict[str, Path]) -> None:
    path = report_files["pdf"]
    doc = parse_document(path.name, path.read_bytes(), {})
    assert doc.format == "pdf" and doc.pages == 20
    assert doc.date is None  # the PDF's CreationDate is the export day, not the document's date
    chunks = chunk_document(doc.doc_id, doc.text)
    [needle] = [c for c in chunks if "Ridder" in c.text]
    assert needle.page == 14 and needle.last_page == 14
    assert NEEDLE in " ".join(needle.text.split())
    assert all("\f" not in c.text for c in chunks)  # passages never cross a page here
    starts = page_starts(doc.text)
    assert len(starts) == 19 and page_at(starts, needle.start) == 14


def test_html_loses_navigation_and_footer(report_files: dict[str, Path]) -> None:
    text = extract("r.html", report_files["html"].read_bytes())
    assert "newsletter" not in text.text and "Home" not in text.text
    assert text.meta["date"] == "2023-05-12" and text.meta["language"] == "en"
    assert "41. The Committee is alarmed" in text.text  # numbers stay numbers, not escaped list markers


def test_docx_headings_become_sections(report_files: dict[str, Path]) -> None:
    text = extract("r.docx", report_files["docx"].read_bytes()).text
    assert "# Concluding observations on the fourth periodic report of Xyzland" in text


def test_sidecar_metadata_wins_over_the_files_own(report_files: dict[str, Path]) -> None:
    path = report_files["pdf"]
    doc = parse_document(path.name, path.read_bytes(), {"title": "Corrected title", "symbol": "CAT/C/XYZ/CO/5"})
    assert (doc.title, doc.symbol) == ("Corrected title", "CAT/C/XYZ/CO/5")


def test_markdown_front_matter_is_metadata_not_text() -> None:
    doc = parse_document("a.md", b"---\ntitle: Press release\ndate: 2023-05-03\n---\nThe Committee met.\n", {})
    assert (doc.title, doc.date, doc.text) == ("Press release", "2023-05-03", "The Committee met.\n")


def test_a_speech_without_own_numbers_keeps_counted_paragraphs(speech_text: str) -> None:
    chunks = chunk_document("speech", speech_text)
    assert all(not c.labels and c.page is None for c in chunks)


def test_lettered_subparagraphs_belong_to_their_number() -> None:
    text = ("1. The Committee recommends that the State party:\n\n(a) Investigate promptly;\n\n"
            "(b) Prosecute the perpetrators;\n\n2. The State party should report.\n\n3. Done.\n")
    chunks = chunk_document("d", text)
    assert [c.labels for c in chunks] == [("1", "1(a)", "1(b)"), ("2",), ("3",)]


def _blank_pdf(pages: int = 2, **kwargs: object) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, **kwargs)  # type: ignore[arg-type]
    for _ in range(pages):
        pdf.rect(100, 100, 300, 400, fill=1)  # a "scanned" page: pictures, no text
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _encrypted_pdf() -> bytes:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    pdf.drawString(100, 700, "Confidential text.")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (30 * 1024 * 1024))
    return out.getvalue()


def _truncated_pdf(tmp_path: Path) -> bytes:
    data = write_pdf(tmp_path / "whole.pdf", make_report(pages=3)).read_bytes()
    return data[: len(data) // 3]


BAD_DOCUMENTS = {
    "empty PDF (no pages)": ("empty.pdf", lambda tmp: _blank_pdf(pages=0), "no text layer|corrupt"),
    "scanned PDF": ("scan.pdf", lambda tmp: _blank_pdf(), "no text layer"),
    "encrypted PDF": ("locked.pdf", lambda tmp: _encrypted_pdf(), "encrypted"),
    "corrupt PDF": ("broken.pdf", _truncated_pdf, "corrupt|no text layer"),
    "binary with a text extension": ("photo.txt", lambda tmp: b"\x89PNG\r\n\x1a\n\0\0\0IHDR", "binary"),
    "unknown format": ("sheet.xlsx", lambda tmp: b"PK\x03\x04", "unsupported file type"),
    "unreadable encoding": ("latin1.md", lambda tmp: "Déclaration".encode("latin-1"), "not valid UTF-8"),
    "compression bomb": ("bomb.docx", lambda tmp: _zip_bomb(), "compression bomb"),
    "not a DOCX": ("fake.docx", lambda tmp: b"just text", "not a valid DOCX"),
    "empty text": ("blank.txt", lambda tmp: b"\n \n", "empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_bad_documents_are_refused_naming_file_and_reason(case: str, tmp_path: Path) -> None:
    name, make, reason = BAD_DOCUMENTS[case]
    with pytest.raises(CorpusError, match=reason) as info:
        extract(name, make(tmp_path))
    assert str(info.value).startswith(name)
    assert "\n" not in str(info.value)


def test_files_over_the_size_limit_are_refused_before_parsing() -> None:
    with pytest.raises(CorpusError, match=r"over the size limit of 1 MB.*VERBATIM_MAX_FILE_MB"):
        extract("big.txt", b"a" * (2 * 1024 * 1024), max_bytes=1024 * 1024)

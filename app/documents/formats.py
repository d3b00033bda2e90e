"""Format readers: a file's bytes become the document's canonical text and its own metadata.

One function per format, each pure (bytes in, `Extracted` out) and each importing its
parser lazily:

* Markdown and plain text are decoded as UTF-8 and kept exactly as they are;
* PDF uses pdfminer.six's layout analysis: its text lines are grouped into paragraphs by
  their geometry and running heads and feet are left out (see `app.documents.pdf`); pages
  are separated by a form feed on a line of its own, so a page number is the count of
  form feeds before an offset, plus one;
* HTML uses trafilatura to keep the main text (no navigation, footers, cookie banners),
  as Markdown so headings and tables survive (its backslash escapes undone);
* DOCX uses python-docx: one paragraph per Word paragraph with the number Word shows,
  Word headings as Markdown headings, tables as pipe tables (see `app.documents.word`).

Whatever text a reader yields is stored in the index as the document's canonical text;
offsets, highlights and verbatim checks refer to it, never to the original bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import CorpusError

FORMATS = {
    ".md": "markdown", ".markdown": "markdown", ".txt": "text",
    ".pdf": "pdf", ".html": "html", ".htm": "html", ".docx": "docx",
}
PAGE_BREAK = "\n\f\n"  # between the pages of a paged document
READER_VERSION = 5  # raised when a reader's output changes, so kept texts are read again (5: PDF title block, notes)
DEFAULT_MAX_MB = 50.0
PYTHON_DOCX_TEMPLATE_DATE = "2013-12-23T23:15"  # python-docx's blank template: not a real date
ZIP_MAX_RATIO = 100  # a DOCX whose parts expand more than this is refused (a zip bomb)


@dataclass(frozen=True)
class Extracted:
    """What a format reader yields: the canonical text and the file's own metadata."""

    format: str
    text: str
    meta: dict[str, str] = field(default_factory=dict)  # title, date, language, ... as found
    pages: int | None = None


def format_for(file_name: str) -> str:
    """The format of a file by its extension; CorpusError naming the accepted ones otherwise."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in FORMATS:
        accepted = ", ".join(sorted(FORMATS))
        shown = repr(suffix) if suffix else "(no extension)"
        raise CorpusError(f"{file_name}: unsupported file type {shown}; accepted: {accepted}")
    return FORMATS[suffix]


def extract(file_name: str, data: bytes, max_bytes: int | None = None) -> Extracted:
    """Read any supported format; CorpusError naming the file and the reason on failure."""
    limit = max_bytes if max_bytes is not None else int(DEFAULT_MAX_MB * 1024 * 1024)
    fmt = format_for(file_name)
    if len(data) > limit:
        raise CorpusError(
            f"{file_name}: {len(data) / 1048576:.1f} MB is over the size limit of {limit / 1048576:.0f} MB "
            "(set VERBATIM_MAX_FILE_MB to raise it)"
        )
    reader: Callable[[str, bytes, int], Extracted] = _READERS[fmt]
    extracted = reader(file_name, data, limit)
    if not extracted.text.strip():
        raise CorpusError(f"{file_name}: the document is empty (no text found)")
    return extracted


def decode_text(file_name: str, data: bytes) -> str:
    if b"\x00" in data:
        raise CorpusError(f"{file_name}: looks like a binary file (it contains NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{file_name}: not valid UTF-8 (byte {exc.start}); save it as UTF-8 and try again"
        ) from exc
    return text.removeprefix("\ufeff")


def _front_matter(file_name: str, text: str) -> tuple[dict[str, str], str]:
    """YAML front matter (`---` ... `---` at the very top) as metadata, and the text after it."""
    match = re.match(r"---[ \t]*\n(.*?)\n---[ \t]*\n", text, flags=re.DOTALL)
    if not match:
        return {}, text
    import yaml

    try:
        loaded = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise CorpusError(f"{file_name}: its front matter is not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(loaded, dict):
        return {}, text
    meta = {str(k).replace("-", "_"): str(v).strip() for k, v in loaded.items() if v is not None}
    return meta, text[match.end() :]


def _read_text(file_name: str, data: bytes, limit: int) -> Extracted:
    text = decode_text(file_name, data)
    fmt = format_for(file_name)
    meta: dict[str, str] = {}
    if fmt == "markdown":
        meta, text = _front_matter(file_name, text)
        match = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
        if match and "title" not in meta:
            meta["title"] = match.group(1).strip()
    pages = text.count("\f") + 1 if "\f" in text else None
    return Extracted(fmt, text, meta, pages)


def _read_pdf(file_name: str, data: bytes, limit: int) -> Extracted:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    from app.documents.pdf import lay_out, page_lines

    if not data.lstrip()[:5] == b"%PDF-":
        raise CorpusError(f"{file_name}: not a PDF file (it does not start with %PDF-)")
    try:
        layout = lay_out(page_lines(extract_pages(io.BytesIO(data), laparams=LAParams())))
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise CorpusError(
            f"{file_name}: the PDF is encrypted ({exc.__class__.__name__}); add an unencrypted copy"
        ) from exc
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorpusError(f"{file_name}: the PDF is corrupt or unreadable ({exc.__class__.__name__}: {exc})") from exc
    pages = ["\n\n".join(paragraphs) for paragraphs in layout.pages]
    if not any(page.strip() for page in pages):
        raise CorpusError(
            f"{file_name}: the PDF has no text layer ({len(pages)} page(s) of images, e.g. a scan); "
            "run OCR on it first (for example with ocrmypdf) and add the result"
        )
    meta = _pdf_meta(data)
    if layout.heading:
        meta["first_heading"] = layout.heading
    if layout.furniture:
        meta["running_heads"] = "\n".join(layout.furniture)
    return Extracted("pdf", PAGE_BREAK.join(pages), meta, len(pages))


def _pdf_meta(data: bytes) -> dict[str, str]:
    """Title and author from the PDF's document information, when readable.

    Its CreationDate is not taken: it is the day the file was made (exported, printed to
    PDF), not the document's date; a date comes from the document's own text instead."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.utils import decode_text as pdf_text

    try:
        info = PDFDocument(PDFParser(io.BytesIO(data))).info
    except Exception:  # noqa: BLE001 - metadata is optional; the text was already read
        return {}
    found = {}
    for entry in info:
        for key, field_name in (("Title", "title"), ("Author", "author")):
            value = entry.get(key)
            if isinstance(value, bytes):
                value = pdf_text(value)
            if isinstance(value, str) and value.strip():
                found[field_name] = value.strip()
    return found


def _read_html(file_name: str, data: bytes, limit: int) -> Extracted:
    import trafilatura

    markup = data.decode("utf-8", errors="replace") if b"\x00" not in data else None
    if markup is None or "<" not in markup:
        raise CorpusError(f"{file_name}: not an HTML document")
    text = trafilatura.extract(markup, output_format="markdown", include_comments=False,
                               include_tables=True, favor_recall=True) or ""
    text = _unescape(text)
    meta: dict[str, str] = {}
    found = trafilatura.extract_metadata(markup, extensive=False)  # dates from metadata, never guessed from text
    if found is not None:
        for key in ("title", "date", "author", "url"):
            value = getattr(found, key, None)
            if isinstance(value, str) and value.strip():
                meta["source_url" if key == "url" else key] = value.strip()
    language = re.search(r"<html[^>]*\blang=[\"']?([A-Za-z-]+)", markup, flags=re.IGNORECASE)
    if language:
        meta["language"] = language.group(1)
    return Extracted("html", text, meta)


_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~<])")


def _unescape(markdown: str) -> str:
    """trafilatura's Markdown with its backslash escapes undone ("a\\*b", "12\\." -> "a*b", "12."): the
    canonical text holds the page's characters; only its `#` headings and `|` tables are structure
    (so a paragraph of the page that itself begins with "# " reads as a heading, as in DOCX)."""
    return _ESCAPED.sub(r"\1", markdown)


def _check_zip(file_name: str, data: bytes, limit: int) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise CorpusError(f"{file_name}: not a valid DOCX file (not a zip archive: {exc})") from exc
    expanded = sum(info.file_size for info in archive.infolist())
    if expanded > limit or expanded > ZIP_MAX_RATIO * max(len(data), 1):
        raise CorpusError(
            f"{file_name}: its parts expand to {expanded / 1048576:.0f} MB from {len(data) / 1048576:.1f} MB "
            "(over the size limit or a compression bomb); refused"
        )
    return archive


def _read_docx(file_name: str, data: bytes, limit: int) -> Extracted:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    from app.documents.word import body_text

    _check_zip(file_name, data, limit)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise CorpusError(f"{file_name}: not a readable DOCX file ({exc.__class__.__name__}: {exc})") from exc
    text = body_text(document)
    props = document.core_properties
    meta = {}
    if props.title:
        meta["title"] = props.title.strip()
    if props.author:
        meta["author"] = props.author.strip()
    if props.created and props.created.isoformat()[:16] != PYTHON_DOCX_TEMPLATE_DATE:
        meta["date"] = props.created.date().isoformat()
    if props.language:
        meta["language"] = props.language.strip()
    return Extracted("docx", text, meta)


_READERS: dict[str, Callable[[str, bytes, int], Extracted]] = {
    "markdown": _read_text, "text": _read_text, "pdf": _read_pdf, "html": _read_html, "docx": _read_docx,
}

"""Chunk stage: a document's text becomes passages (`Chunk`s) that are exact slices of it.

Pure functions only: text in, values out. The structure we honour:

* a Markdown heading (`# ...`) or a separator line (`*****`, `\\*\\*\\*`, `---`) opens a section;
* blocks of non-blank lines are paragraphs, numbered 1, 2, ... through the document
  (headings and separators are not numbered);
* a paragraph that the source breaks mid-sentence across a blank line ("Eighty-four
  people are" / "acknowledged victims.") is joined back into one paragraph, unless the
  next opens with a paragraph number; in paged (PDF) text, only across a page break;
* a document's own paragraph numbers ("12.", then "(a)" under it) are kept as labels
  when it numbers at least three paragraphs; an unnumbered paragraph after a numbered one
  (the rest of it after a page break, a quotation) carries that number on;
* a form feed (as PDF text has between pages) starts a new page; pages count from 1;
* a passage is one or a few consecutive paragraphs of the same section and page, packed
  up to `target_chars`; a paragraph longer than `max_chars` is split between sentences;
* in a document with its own numbers, a passage holds one numbered paragraph (with its
  lettered subparagraphs while they fit), so it is cited exactly as the document is;
* a pipe table (see `app.documents.tables`) is one paragraph, never packed with prose; one over
  `table_chars` is cut between rows, and each later piece carries the table's header row for matching;
* a document with headings and no paragraph at all (a title page) is searched by its headings.

How much of this applies depends on the text's markup (`markup_for`): a Markdown file
has all of it; the text the HTML and DOCX readers write has headings and tables (their
own `#` and `|` lines) but no Markdown emphasis; plain text and PDF text have none, so
a line "# 5 incidents" or "| a | b |" there is an ordinary paragraph.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import asdict, dataclass

from app.documents import tables
from app.documents.text import (  # noqa: F401 - re-exported for callers
    MARKUPS,
    blocks,
    hyphen_joins,
    is_heading,
    is_separator,
    markup_for,
    plain_text,
    set_apart_spans,
)
from app.passages.sentences import _sentence_offsets, sentence_spans  # noqa: F401 - re-exported for callers

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")
_TERMINAL = set(".!?…:;\"'”’)]")
_OWN_NUMBER = re.compile(r"(?:\*\*)?(\d{1,3})(\\?\.|\))(?:\*\*)?\s+\S")  # "12. The Committee", "12\\. ...", "3) ..."
_OWN_LETTER = re.compile(r"\(([a-z]{1,2}|[ivx]{1,5})\)\s+\S")  # "(a) ...", "(iv) ..."
MIN_OWN_NUMBERS = 3


@dataclass(frozen=True)
class ChunkSettings:
    """How passages are cut; recorded in the index manifest so a change triggers a rebuild."""

    target_chars: int = 600
    max_chars: int = 1200
    sentences: bool = True  # split passages into sentences (for highlighting)
    table_chars: int = 300  # a table's pieces: few rows each, so a row's words weigh in its piece's ranking

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


@dataclass(frozen=True)
class Paragraph:
    number: int  # counted: 1, 2, ... through the document
    start: int
    end: int
    section_number: int
    label: str | None = None  # the document's own number, e.g. "12" or "12(a)"
    table: bool = False  # a pipe table: header row, delimiter row, body rows


@dataclass(frozen=True)
class Section:
    number: int
    title: str | None
    from_heading: bool = False  # a Markdown heading, not a bold opening line


@dataclass(frozen=True)
class Chunk:
    """A passage: `source_text[start:end] == text`, with where it stands in its document."""

    doc_id: str
    start: int
    end: int
    text: str
    section: str | None
    section_number: int
    paragraphs: tuple[int, ...]
    page: int | None = None
    sentences: tuple[tuple[int, int], ...] = ()  # sentence spans, in document offsets
    heading: str | None = None  # the Markdown heading the passage stands under
    labels: tuple[str, ...] = ()  # the document's own paragraph numbers, where it has them
    table_header: str = ""  # a long table's header row, for the pieces after its first (not in `text`)

    @property
    def last_page(self) -> int | None:
        """The page the passage ends on (a passage may run on over a page break)."""
        return None if self.page is None else self.page + self.text.count("\f")

    @property
    def ranking_text(self) -> str:
        """What the rankers see: the heading for context, then the passage without markup."""
        body = plain_text(self.text)
        if self.table_header:
            body = f"{plain_text(self.table_header)}\n{body}"
        return f"{self.heading}\n{body}" if self.heading and self.heading not in body else body

    @property
    def chunk_id(self) -> str:
        """Document plus span: stable across rebuilds while the document is unchanged."""
        return f"{self.doc_id}:{self.start}-{self.end}"


def _continues(tail: str, head: str) -> bool:
    """True when a paragraph stops mid-sentence and the next carries the sentence on
    (`tail` and `head`: the two paragraphs without markup)."""
    if not tail or not head or tail[-1] in _TERMINAL:
        return False
    last_word = re.findall(r"[^\W\d_]+|\S", tail)[-1]
    return head[0].islower() or tail[-1] in ",-–—(" or last_word.islower()


def parse_structure(text: str, markup: str = "markdown") -> tuple[list[Section], list[Paragraph]]:
    """Sections and numbered paragraphs of a document, in order (`markup`: see `markup_for`)."""
    sections = [Section(1, None)]
    paragraphs: list[Paragraph] = []
    section_has_text = False
    last_plain = ""  # the last paragraph without markup (each block is stripped once); "" after a table
    paged = "\f" in text  # PDF text: its layout made the paragraphs; only a page break cuts one
    apart = set_apart_spans(text)
    for start, end in blocks(text):
        block = text[start:end]
        if apart and any(a < start < b for a, b in apart):
            last_plain = ""  # a title block or footnotes: shown, never a paragraph nor joined across
        elif markup != "plain" and is_heading(block):
            title = plain_text(block) or None
            if section_has_text or sections[-1].title is not None:
                sections.append(Section(len(sections) + 1, title, True))
            else:
                sections[-1] = Section(sections[-1].number, title, True)
            section_has_text = False
        elif is_separator(block):
            if section_has_text or sections[-1].title is not None:
                sections.append(Section(len(sections) + 1, None))
            section_has_text = False
        elif markup != "plain" and tables.is_table(block):
            paragraphs.append(Paragraph(len(paragraphs) + 1, start, end, sections[-1].number, table=True))
            last_plain, section_has_text = "", True
        elif (section_has_text and last_plain and (not paged or "\f" in text[paragraphs[-1].end : start])
              and not _OWN_NUMBER.match(block) and _continues(last_plain, plain_text(block))):
            last = paragraphs[-1]
            paragraphs[-1] = Paragraph(last.number, last.start, end, last.section_number)
            last_plain = plain_text(text[last.start : end])
        else:
            if (markup == "markdown" and not section_has_text and sections[-1].title is None
                    and _is_salutation(block)):
                sections[-1] = Section(sections[-1].number, plain_text(block))
            paragraphs.append(Paragraph(len(paragraphs) + 1, start, end, sections[-1].number))
            last_plain = plain_text(block)
            section_has_text = True
    return sections, _with_own_numbers(text, paragraphs)


def _with_own_numbers(text: str, paragraphs: list[Paragraph]) -> list[Paragraph]:
    """Label paragraphs with the document's own numbers when it numbers enough of them.

    The document's numbers are written one way ("12." or "12)": see `_numbering_style`); a number
    written the other way is an item inside the current paragraph ("2)" under "8."), so it carries
    that paragraph's number. A table is no numbered paragraph: it is labelled "table N", counting
    the document's tables in order."""
    numbers = [_OWN_NUMBER.match(text, p.start) for p in paragraphs]
    if sum(1 for m in numbers if m) < MIN_OWN_NUMBERS:
        return paragraphs
    style = _numbering_style([m for m in numbers if m])
    labelled, current, tables_seen = [], None, 0
    for paragraph, number in zip(paragraphs, numbers):
        letter = _OWN_LETTER.match(text, paragraph.start)
        if paragraph.table:
            tables_seen += 1
            label: str | None = f"table {tables_seen}"
        elif number and (number.group(2).lstrip("\\") == style or current is None):
            current = number.group(1)
            label = current
        elif letter and current is not None:
            label = f"{current.split('(')[0]}({letter.group(1)})"
        else:
            label = current
        labelled.append(Paragraph(paragraph.number, paragraph.start, paragraph.end, paragraph.section_number, label,
                                  paragraph.table))
    return labelled


def _numbering_style(numbers: list[re.Match[str]]) -> str:
    """How the document writes its paragraph numbers, "." or ")": the way whose numbers restart
    least (a paragraph numbering runs on; the items under paragraphs restart at 1 in each), then
    the way it uses most."""
    runs: dict[str, list[int]] = {}
    for match in numbers:
        runs.setdefault(match.group(2).lstrip("\\"), []).append(int(match.group(1)))

    def restarts(values: list[int]) -> int:
        return sum(1 for before, after in zip(values, values[1:]) if after <= before)

    return min(runs, key=lambda way: (restarts(runs[way]), -len(runs[way])))


def page_starts(text: str) -> list[int]:
    """Offsets where pages 2, 3, ... begin (after each form feed); empty for an unpaged text."""
    return [m.end() for m in re.finditer("\f", text)]


def page_at(starts: list[int], offset: int) -> int:
    return bisect.bisect_right(starts, offset) + 1


def _is_salutation(block: str) -> bool:
    """A short, wholly bold line opening a section ("**Dear ladies and gentlemen!**") acts as its title."""
    lines = [line.strip() for line in block.splitlines()]
    return len(block) <= 80 and all(re.fullmatch(r"\*\*[^*]+\*\*", line) for line in lines)


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Split the span [start, end) between sentences (or, failing that, words) into pieces <= max_chars."""
    pieces: list[tuple[int, int]] = []
    while end - start > max_chars:
        window = text[start : start + max_chars]
        cuts = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() < len(window)]
        if not cuts:
            cuts = [m.end() for m in re.finditer(r"\s+", window) if m.end() < len(window)]
        cut = start + (cuts[-1] if cuts else max_chars)
        piece_end = cut - (len(text[start:cut]) - len(text[start:cut].rstrip()))
        pieces.append((start, piece_end if piece_end > start else cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _base(label: str | None) -> str | None:
    """The number a label belongs to: "12(a)" -> "12"; a passage never mixes two numbers."""
    return label.split("(")[0] if label else None


def chunk_document(
    doc_id: str, text: str, settings: ChunkSettings = ChunkSettings(), markup: str = "markdown"
) -> list[Chunk]:
    """Cut a document into passages of whole paragraphs, never across a section boundary.

    `markup` says which structure the text's characters carry (see `markup_for`)."""
    sections, paragraphs = parse_structure(text, markup)
    if not paragraphs:
        return _heading_chunks(doc_id, text, sections, markup)
    titles = {section.number: section.title for section in sections}
    headings = {section.number: section.title for section in sections if section.from_heading}
    starts = page_starts(text)
    chunks: list[Chunk] = []
    group: list[Paragraph] = []

    def page(offset: int) -> int | None:
        return page_at(starts, offset) if starts else None

    def make(start: int, end: int, inside: list[Paragraph], sentences: tuple[tuple[int, int], ...],
             header: str = "") -> Chunk:
        first = inside[0]
        labels = tuple(dict.fromkeys(p.label for p in inside if p.label))
        return Chunk(doc_id, start, end, text[start:end], titles[first.section_number], first.section_number,
                     tuple(p.number for p in inside), page(start), sentences, headings.get(first.section_number),
                     labels, header)

    def flush() -> None:
        if not group:
            return
        first, last = group[0], group[-1]
        for start, end in _split_long(text, first.start, last.end, settings.max_chars):
            inside = [p for p in group if p.start < end and start < p.end]
            spans = sentence_spans(text[start:end]) if settings.sentences else []
            chunks.append(make(start, end, inside, tuple((start + a, start + b) for a, b in spans)))
        group.clear()

    for paragraph in paragraphs:
        if group and (
            paragraph.table
            or paragraph.section_number != group[0].section_number
            or paragraph.end - group[0].start > settings.target_chars
            or page(paragraph.start) != page(group[0].start)
            or _base(paragraph.label) != _base(group[0].label)
            or "\v" in text[group[-1].end : paragraph.start]  # a title block or footnotes between
        ):
            flush()
        if paragraph.table:
            for start, end, rows, header in _table_pieces(text, paragraph, settings):
                chunks.append(make(start, end, [paragraph], rows if settings.sentences else (), header))
            continue
        group.append(paragraph)
    flush()
    return chunks


def _table_pieces(
    text: str, table: Paragraph, settings: ChunkSettings
) -> list[tuple[int, int, tuple[tuple[int, int], ...], str]]:
    """A table's passages: (start, end, body rows, header row for matching), cut between rows.

    A table over `table_chars` is cut into as few pieces as keep each about that size, with the
    rows shared out evenly (so no last piece of one or two rows, which short-passage scoring would
    favour). The first piece starts with the header and delimiter rows; a later one holds body
    rows only, with the header row's text carried for the rankers and for display as context."""
    (head_start, head_end), rows = tables.header_and_rows(text, table.start, table.end)
    header_row = text[head_start : text.index("\n", head_start)].strip()
    if not rows:
        return [(head_start, head_end, (), "")]
    count = min(len(rows), max(1, round((rows[-1][1] - head_start) / settings.table_chars)))
    bounds = [round(i * len(rows) / count) for i in range(count + 1)]
    pieces: list[tuple[int, int, tuple[tuple[int, int], ...], str]] = []
    for first, last in zip(bounds, bounds[1:]):
        body = tuple(rows[first:last])
        start = head_start if first == 0 else body[0][0]
        pieces.append((start, body[-1][1], body, header_row if first else ""))
    return pieces


def _heading_chunks(doc_id: str, text: str, sections: list[Section], markup: str) -> list[Chunk]:
    """A document of headings only (a title page, "# Annual report 2024"): each heading's words
    are a passage, so the document can still be found."""
    if markup == "plain":
        return []
    chunks, number = [], 0
    starts = page_starts(text)
    for start, end in blocks(text):
        block = text[start:end]
        if not is_heading(block):
            continue
        number += 1
        words = block.lstrip("#").strip()
        a = start + block.index(words)
        title = sections[min(number, len(sections)) - 1].title
        chunks.append(Chunk(doc_id, a, a + len(words), words, title, min(number, len(sections)), (),
                            page_at(starts, a) if starts else None, ((a, a + len(words)),), title))
    return chunks

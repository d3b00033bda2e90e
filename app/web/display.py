"""Display of canonical text as HTML, for the chat's quotes and the reader: every character of
the slice is shown, none added, dropped or renumbered.

How a block of text is shown depends on the document's markup (`app.passages.chunk.markup_for`):

* plain text, PDF, and the HTML and DOCX readers' text: literally. Characters are
  HTML-escaped and runs of whitespace shown as one space, so a line "2025.", "1)", "*",
  "#", "> ", a backslash, an underscore or `<b>` shows as itself. A word split by a
  line-end hyphen shows as "capabili-ties" (the hyphen is on the page; the line break is not).
* Markdown files: inline Markdown only (emphasis, code, links, escapes) through
  markdown-it with raw HTML and images off; a link to anything but a web page shows as
  its text. No block rule runs on a paragraph, so a
  line "3. ..." is never a list item that a browser would renumber, nor a heading or quote.
* pipe tables (Markdown, HTML and DOCX text): a `<table>`, each cell shown as the
  document's other text is; a table piece without its header row gets the header as
  context in a `<thead class="context">`.

Highlights are (start, end) offsets of the document; `<mark>` goes around those slices.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

from app.documents import tables
from app.documents.text import blocks

OPEN, CLOSE = "\ue000", "\ue001"  # private-use marks for highlight boundaries
WEB_SCHEMES = ("https://", "http://")  # the only link targets shown as links
# An asterisk between two letters or digits ("5*2", "3*4*5") is text, never emphasis: CommonMark
# lets `*` open and close emphasis inside a word, which showed "5*2 = 10 and 3*4" as "52 = 10 and 34".
_INTRAWORD_STAR = re.compile(r"(?<=[^\W_])\*(?=[^\W_])")
_SPLIT_WORD = re.compile(r"(?<=[^\W\d_])-[ \t]*\n(?:[ \t]*\f[ \t]*\n)?[ \t]*(?=[^\W\d_])")
Spans = Sequence[tuple[int, int]]


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark", {"html": False}).disable("image")
    markdown.core.ruler.push("web_links_only", _web_links_only)
    return markdown


def _web_links_only(state: Any) -> None:
    """A link to anything but a web page ("#", a relative path, "mailto:") is shown as its text;
    links to web pages open without handing this page to them."""
    for token in state.tokens:
        kept, dropping = [], False
        for child in token.children or []:
            if child.type == "link_open" and not str(child.attrGet("href") or "").startswith(WEB_SCHEMES):
                dropping = True
                continue
            if child.type == "link_close" and dropping:
                dropping = False
                continue
            if child.type == "link_open":
                child.attrSet("rel", "noopener noreferrer")
            kept.append(child)
        if token.children:
            token.children = kept


def _marked(text: str, start: int, highlights: Spans) -> str:
    """`text` (beginning at document offset `start`) with OPEN/CLOSE around the highlighted slices."""
    end = start + len(text)
    marks = sorted([(a - start, OPEN) for a, b in highlights if start <= a < end]
                   + [(b - start, CLOSE) for a, b in highlights if start < b <= end]
                   + [(0, OPEN) for a, b in highlights if a < start < b], reverse=True)
    for offset, mark in marks:
        text = text[:offset] + mark + text[offset:]
    if any(a < end < b for a, b in highlights):
        text += CLOSE
    return text


def inline_html(text: str, start: int, highlights: Spans, markup: str) -> str:
    """One block (a paragraph, a cell) as inline HTML; `start` is its offset in the document."""
    marked = _marked(text, start, highlights)
    if markup == "markdown":
        rendered = _markdown().renderInline(_INTRAWORD_STAR.sub(r"\\*", " ".join(marked.split())))
        rendered = rendered.replace("&lt;sup&gt;", "<sup>").replace("&lt;/sup&gt;", "</sup>")  # the one tag kept
    else:
        rendered = html.escape(" ".join(_SPLIT_WORD.sub("-", marked).split()), quote=False)
    return rendered.replace(OPEN, "<mark>").replace(CLOSE, "</mark>")


def _row_html(text: str, span: tuple[int, int], highlights: Spans, markup: str, cell: str,
              css: str = "") -> str:
    line = text[span[0] : span[1]]
    parts, cursor = [], 0
    for piece in tables.cells(line):
        at = line.index(piece, cursor) if piece else cursor
        parts.append(f"<{cell}>{inline_html(piece, span[0] + at, highlights, markup)}</{cell}>")
        cursor = at + len(piece)
    return f"<tr{css}>{''.join(parts)}</tr>"


def table_html(text: str, start: int, end: int, highlights: Spans, markup: str, header: str = "",
               passage: tuple[int, int] | None = None) -> str:
    """The table (or table piece) `text[start:end]` as a `<table>`.

    `header`: the header row of a piece that holds body rows only, shown as context.
    `passage`: rows inside this span get class "in-passage" (the reader)."""
    lines = tables.line_spans(text, start, end)
    head, body = "", lines
    if lines and tables.is_table(text[lines[0][0] : lines[-1][1]]):
        head = f"<thead>{_row_html(text, lines[0], highlights, markup, 'th')}</thead>"
        body = lines[2:]
    elif header:
        cells = "".join(f"<th>{inline_html(c, -1, (), markup)}</th>" for c in tables.cells(header))
        head = f'<thead class="context" title="the table\'s header row"><tr>{cells}</tr></thead>'
    rows = []
    for span in body:
        inside = passage is not None and passage[0] < span[1] and span[0] < passage[1]
        rows.append(_row_html(text, span, highlights, markup, "td", ' class="in-passage"' if inside else ""))
    return f'<table class="verbatim-table">{head}<tbody>{"".join(rows)}</tbody></table>'


def passage_html(text: str, start: int, highlights: Spans, markup: str, table_header: str = "") -> str:
    """A passage (`text`, at document offset `start`) as HTML blocks on one line: paragraphs
    as `<p>`, tables as `<table>`. One line, so a Markdown renderer around it (the chat's)
    takes it as one raw HTML block and leaves its characters alone."""
    local = [(a - start, b - start) for a, b in highlights]  # offsets in `text`
    parts = []
    for a, b in blocks(text):
        block = text[a:b]
        if markup != "plain" and (tables.is_table(block) or table_header):
            parts.append(table_html(text, a, b, local, markup, table_header))
        else:
            parts.append(f"<p>{inline_html(block, a, local, markup)}</p>")
    return "".join(parts)


class _ShownText(HTMLParser):
    """The text a reader sees in `passage_html`'s output, as one would copy it from the page:
    paragraphs apart by a blank line, table rows one a line with cells apart by a tab (how
    browsers copy a table, and how spreadsheets paste one); a table piece's context header
    (`thead.context`, not part of the quote) left out; `<mark>` replaced by `mark`'s pair."""

    def __init__(self, mark: tuple[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.mark = mark
        self.blocks: list[str] = []  # finished paragraphs and tables
        self.line: list[str] = []  # the rows of the table being read
        self.row: list[str] = []  # the cells of the row being read
        self.cell: list[str] = []  # the text of the paragraph or cell being read
        self.skipping = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "thead" and ("class", "context") in attrs:
            self.skipping = True
        elif tag == "mark":
            self.cell.append(self.mark[0])

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self.cell.append(self.mark[1])
        elif tag in ("td", "th"):
            self.row.append("".join(self.cell))
            self.cell = []
        elif tag == "tr":
            if not self.skipping:
                self.line.append("\t".join(self.row))
            self.row = []
        elif tag == "thead":
            self.skipping = False
        elif tag in ("p", "table"):
            self.blocks.append("".join(self.cell) if tag == "p" else "\n".join(self.line))
            self.cell, self.line = [], []

    def handle_data(self, data: str) -> None:
        self.cell.append(data)


def passage_text(text: str, start: int, highlights: Spans, markup: str, table_header: str = "",
                 mark: tuple[str, str] = ("", "")) -> str:
    """A passage as plain text, exactly as `passage_html` shows it (Markdown emphasis and link
    targets gone, whitespace runs as one space, a line-end split word as "capabili-ties"):
    what "Copy quote", the terminal and the CSV export give. `table_header`: a table piece's
    header row (not in `text`): the piece is shown as a table, the header left out. `mark`: put
    around the highlighted slices (e.g. a terminal's bold on/off codes); none by default."""
    parser = _ShownText(mark)
    parser.feed(passage_html(text, start, highlights, markup, table_header))
    parser.close()
    return "\n\n".join(parser.blocks)

"""The reader view: a whole document as HTML, one passage marked and scrolled to.

Pure rendering: document text, its record and a span in, an HTML page out. Each block is
shown as `app.display` shows quotes: plain formats literally, Markdown with inline styling
only (raw HTML off, so a document's own `<script>` shows as text), tables as tables; the
passage's paragraphs (or table rows) are marked and the first carries `id="passage"`, so
the link's `#passage` fragment scrolls there without any script.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from app.chunk import blocks, is_heading, is_separator, markup_for, page_starts, parse_structure
from app.display import inline_html, table_html
from app.errors import VerbatimError

if TYPE_CHECKING:
    from app.search import Engine

STYLE = """
body { font-family: ui-sans-serif, system-ui, sans-serif; max-width: 46rem; margin: 0 auto; padding: 1rem;
       line-height: 1.55; color: #1f2937; }
.meta { color: #4b5563; } .num { color: #6b7280; font-size: 0.8em; margin-right: 0.5em; user-select: none; }
.in-passage { background: #eff6ff; border-left: 4px solid #2563eb; padding: 0.2em 0.6em; }
mark { background: #fde047; } .page { color: #6b7280; font-size: 0.8em; border-top: 1px dashed #d1d5db;
  margin-top: 1em; text-align: right; } .notice { background: #fef3c7; border: 1px solid #d97706; padding: 0.6em; }
.cite { background: #f3f4f6; padding: 0.6em; border-radius: 6px; position: sticky; bottom: 0;
        box-shadow: 0 -2px 6px rgba(0,0,0,0.08); } button { margin: 0.3em 0.3em 0 0; }
.verbatim-table { border-collapse: collapse; margin: 0.6em 0; } .verbatim-table td, .verbatim-table th {
  border: 1px solid #d1d5db; padding: 0.2em 0.5em; } tr.in-passage { background: #eff6ff; }
"""
COPY_SCRIPT = """
for (const b of document.querySelectorAll('button[data-copy]')) {
  b.addEventListener('click', async () => {
    const text = document.getElementById(b.dataset.copy).textContent;
    try { await navigator.clipboard.writeText(text); }
    catch (e) { const t = document.createElement('textarea'); t.value = text; document.body.append(t);
                t.select(); document.execCommand('copy'); t.remove(); }
    b.textContent = 'Copied'; document.body.dataset.copied = text;
  });
}
"""


def _inline(text: str, start: int, highlights: Sequence[tuple[int, int]], markup: str = "markdown") -> str:
    """One block's text as inline HTML, with <mark> around the highlighted slices (see `app.display`)."""
    return inline_html(text, start, highlights, markup)


def render_body(
    text: str, span: tuple[int, int] | None, highlights: Sequence[tuple[int, int]], markup: str = "markdown"
) -> str:
    """Headings, separators, numbered paragraphs and tables; paragraphs (and table rows) inside
    `span` marked. `markup`: how much structure the text carries (`app.chunk.markup_for`)."""
    _, paragraphs = parse_structure(text, markup)
    starts = page_starts(text)
    parts: list[str] = ['<div class="page" id="page-1">p. 1</div>'] if starts else []
    anchored = False
    done = -1
    page = 1
    for start, end in blocks(text):
        while page <= len(starts) and starts[page - 1] <= start:
            page += 1
            parts.append(f'<div class="page" id="page-{page}">p. {page}</div>')
        if start < done:
            continue  # the rest of a paragraph already rendered whole
        paragraph = next((p for p in paragraphs if p.start <= start < p.end), None)
        block = text[start:end]
        if paragraph is None and markup != "plain" and is_heading(block):
            heading = block.lstrip("#").strip()
            parts.append(f"<h2>{_inline(heading, start + block.index(heading), highlights, markup)}</h2>")
        elif paragraph is None and is_separator(block):
            shown = f'<p class="separator">{_inline(block, start, (), markup)}</p>'
            parts.append("<hr>" if markup == "markdown" else shown)
        elif paragraph is not None:
            inside = span is not None and paragraph.start < span[1] and span[0] < paragraph.end
            attrs = f' id="para-{paragraph.number}"'
            if inside and not anchored:
                attrs = ' id="passage"' + f' data-para="{paragraph.number}"'
                anchored = True
            number = "" if paragraph.label else f'<span class="num">{paragraph.number}</span>'
            if paragraph.table:
                body = table_html(text, paragraph.start, paragraph.end, highlights, markup, passage=span)
                parts.append(f'<div{attrs} class="table-block">{number}{body}</div>')
            else:
                css = ' class="in-passage"' if inside else ""
                body = _inline(text[paragraph.start : paragraph.end], paragraph.start, highlights, markup)
                parts.append(f'<p{attrs}{css}>{number}{body}</p>')
            done = paragraph.end
    return "\n".join(parts)


def render_page(
    doc: dict[str, Any], text: str, span: tuple[int, int] | None, highlights: Sequence[tuple[int, int]],
    citation: str | None, quote: str | None, notice: str | None,
) -> str:
    """The whole reader page; every value from a document is escaped."""
    e = html.escape
    meta = " · ".join(e(str(doc[k])) for k in ("symbol", "date", "venue", "source") if doc.get(k))
    if (doc.get("source_url") or "").startswith(("https://", "http://")):
        meta += f' · <a href="{e(doc["source_url"])}" rel="noopener noreferrer">original</a>'

    cite = ""
    if citation and quote is not None:
        cite = (f'<div class="cite"><div id="citation">{e(citation)}</div>'
                f'<div id="quote" hidden>{e(quote)}</div>'
                '<button type="button" data-copy="citation">Copy citation</button>'
                '<button type="button" data-copy="quote">Copy quote</button></div>')
    banner = f'<p class="notice" role="alert">{e(notice)}</p>' if notice else ""
    return (
        f'<!doctype html><html lang="{e(doc.get("language") or "en")}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(doc['title'])} · Verbatim</title><style>{STYLE}</style></head><body>"
        f'<p><a href="/">← Verbatim</a></p><h1>{e(doc["title"])}</h1><p class="meta">{meta}</p>'
        f"{banner}<article>{render_body(text, span, highlights, markup_for(doc.get('format') or 'markdown'))}"
        f"</article>{cite}"
        f"<script>{COPY_SCRIPT}</script></body></html>"
    )


def passage_link(doc_id: str, sha256: str, start: int, end: int, highlights: Sequence[tuple[int, int]]) -> str:
    """A stable link to a passage: document, span, document version and highlights."""
    marks = ",".join(f"{a}-{b}" for a, b in highlights)
    query = f"start={start}&end={end}&v={sha256[:12]}" + (f"&hl={marks}" if marks else "")
    return f"/doc/{doc_id}?{query}#passage"


def parse_highlights(value: str | None) -> list[tuple[int, int]]:
    spans = []
    for part in (value or "").split(","):
        a, _, b = part.partition("-")
        if a.isdigit() and b.isdigit() and int(a) < int(b):
            spans.append((int(a), int(b)))
    return spans


def document_page(
    engine: Engine, doc_id: str, start: str | None, end: str | None, version: str | None,
    marks: str | None, base_url: str,
) -> tuple[int, str]:
    """Status and HTML of the reader view for `/doc/{doc_id}?start=&end=&v=&hl=`."""
    from app.search import Hit

    index = engine.index
    try:
        record = index.document(doc_id)
        text = index.text(doc_id)
    except (KeyError, OSError, VerbatimError):
        return 404, _message_page(f"There is no document {doc_id!r} in this collection (any more).")
    doc = {"title": record.title, "date": record.date, "venue": record.venue, "source": record.source,
           "language": record.language, "symbol": record.symbol, "source_url": record.source_url,
           "format": record.format}
    if start is None and end is None:
        return 200, render_page(doc, text, None, [], None, None, None)
    if not (start or "").isdigit() or not (end or "").isdigit() or not int(start or 0) < int(end or 0) <= len(text):
        return 400, _message_page(f"start and end must be offsets with 0 <= start < end <= {len(text)}.")
    span = (int(start or 0), int(end or 0))
    if version and not record.sha256.startswith(version):
        notice = ("This document has changed since the link was made, so the cited passage may have moved; "
                  "the current document is shown without marking it.")
        return 200, render_page(doc, text, None, [], None, None, notice)
    highlights = [h for h in parse_highlights(marks) if span[0] <= h[0] and h[1] <= span[1]]
    chunk = next((c for c in index.chunks if c.doc_id == doc_id and (c.start, c.end) == span), None)
    link = base_url.rstrip("/") + passage_link(doc_id, record.sha256, span[0], span[1], highlights)
    label = Hit(0, 0.0, chunk, record).citation if chunk else f"{record.title}, characters {span[0]}–{span[1]}"
    return 200, render_page(doc, text, span, highlights, f"{label}. {link}", text[span[0] : span[1]], None)


def _message_page(message: str) -> str:
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Verbatim</title></head>"
            f"<body><p><a href=\"/\">← Verbatim</a></p><p role=\"alert\">{html.escape(message)}</p></body></html>")

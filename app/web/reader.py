"""The reader view: a whole document as HTML, one passage marked and scrolled to.

Pure rendering: document text, its record and a span in, an HTML page out. Each block is
shown as `app.web.display` shows quotes: plain formats literally, Markdown with inline styling
only (raw HTML off, so a document's own `<script>` shows as text; links only to web
pages), tables as tables; the passage's paragraphs (or table rows) are marked and the
first carries `id="passage"`, so the link's `#passage` fragment scrolls there without any script.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from app.errors import VerbatimError
from app.passages.chunk import blocks, is_heading, is_separator, markup_for, page_starts, parse_structure, plain_text
from app.web.display import WEB_SCHEMES, inline_html, passage_html, passage_text, table_html

if TYPE_CHECKING:
    from app.answer.engine import Engine

# The page is a column that scrolls (<main>) above a docked citation panel (<aside>): the
# panel takes its own space at the bottom of the window, so it never lies over any text.
STYLE = """
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI",
       Roboto, sans-serif; line-height: 1.55; color: #1f2937; background: #fff; }
main { flex: 1 1 auto; min-height: 0; overflow-y: auto; outline: none; }
.column { max-width: 46rem; margin: 0 auto; padding: 1rem 1rem 2rem; }
a { color: #1d4ed8; } nav a { text-decoration: none; font-weight: 600; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0.6em 0 0.3em; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; line-height: 1.3; margin: 1.4em 0 0.4em; overflow-wrap: anywhere; }
.meta { color: #374151; margin: 0; } .source { color: #4b5563; font-size: 0.92em; margin: 0.2em 0 1em; }
.num { color: #6b7280; font-size: 0.8em; margin-right: 0.5em; user-select: none; }
.apart { color: #4b5563; font-size: 0.9em; }  /* a PDF's title block and footnotes: shown, not numbered */
.in-passage { background: #eff6ff; border-left: 4px solid #2563eb; padding: 0.2em 0.6em; }
mark { background: #fde047; color: inherit; }
.page { color: #6b7280; font-size: 0.8em; border-top: 1px dashed #d1d5db; margin-top: 1em; text-align: right; }
.notice { background: #fef3c7; border: 1px solid #d97706; border-radius: 6px; padding: 0.6em; }
article p, article h2 { scroll-margin-top: 2.5rem; }  /* a line of what comes before stays in view */
.cite { flex: none; max-height: 40vh; overflow-y: auto; background: #f3f4f6; border-top: 1px solid #d1d5db; }
.cite .column { padding: 0.6rem 1rem; display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 1rem; }
.cite-text { flex: 1 1 18rem; font-size: 0.9em; overflow-wrap: anywhere; }
@media (max-width: 480px) { .cite-text { font-size: 0.82em; } }
.cite-text b { color: #4b5563; font-weight: 600; margin-right: 0.3em; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
.btn { font: inherit; font-size: 0.95rem; font-weight: 600; line-height: 1.5; border: 0; border-radius: 6px;
       padding: 0.4rem 1rem; cursor: pointer; text-decoration: none; display: inline-block; }
.btn.primary { background: #f97316; color: #fff; } .btn.primary:hover { background: #ea580c; }
.btn.secondary { background: #e4e4e7; color: #111827; } .btn.secondary:hover { background: #d4d4d8; }
.btn:focus-visible { outline: 3px solid #93c5fd; outline-offset: 1px; }
.btn[data-state="copied"] { background: #15803d; color: #fff; }
.btn[data-state="failed"] { background: #b91c1c; color: #fff; }
#copy-status { font-size: 0.85em; color: #374151; } #copy-fallback { width: 100%; font: inherit; }
.message-page h1 { font-size: 1.5rem; }
.verbatim-table { border-collapse: collapse; margin: 0.6em 0; } .verbatim-table td, .verbatim-table th {
  border: 1px solid #d1d5db; padding: 0.2em 0.5em; } tr.in-passage { background: #eff6ff; }
"""
COPY_SCRIPT = """
const status = document.getElementById('copy-status');
async function copyText(text) {
  try { await navigator.clipboard.writeText(text); return true; } catch (e) { /* try the older way */ }
  const area = document.createElement('textarea');
  area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed'; area.style.opacity = '0';
  document.body.append(area); area.select();
  let copied = false;
  try { copied = document.execCommand('copy'); } catch (e) { copied = false; }
  area.remove();
  return copied;
}
for (const button of document.querySelectorAll('button[data-copy]')) {
  const label = button.textContent;
  button.addEventListener('click', async () => {
    const text = document.getElementById(button.dataset.copy).textContent;
    const copied = await copyText(text);
    button.textContent = copied ? 'Copied' : 'Copy failed';
    button.dataset.state = copied ? 'copied' : 'failed';
    if (copied) document.body.dataset.copied = text;
    status.textContent = copied ? '' : 'The browser did not allow copying: the text is selected below, press Ctrl+C.';
    if (!copied) {
      const shown = document.getElementById('copy-fallback');
      shown.hidden = false; shown.value = text; shown.select();
    }
    clearTimeout(button.reset);
    button.reset = setTimeout(() => { button.textContent = label; delete button.dataset.state; }, 4000);
  });
}
const reader = document.getElementById('reader');
if (reader) reader.focus({ preventScroll: true });  // arrow keys and Page Down scroll the text
"""


def _inline(text: str, start: int, highlights: Sequence[tuple[int, int]], markup: str = "markdown") -> str:
    """One block's text as inline HTML, with <mark> around the highlighted slices (see `app.web.display`)."""
    return inline_html(text, start, highlights, markup)


def render_body(
    text: str, span: tuple[int, int] | None, highlights: Sequence[tuple[int, int]], markup: str = "markdown"
) -> str:
    """Headings, separators, numbered paragraphs and tables; paragraphs (and table rows) inside
    `span` marked. `markup`: how much structure the text carries (`app.passages.chunk.markup_for`)."""
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
        else:  # set apart from the body (a PDF's title block, footnotes): shown, not numbered
            parts.append(f'<p class="apart">{_inline(block, start, highlights, markup)}</p>')
    return "\n".join(parts)


def render_passage(text: str, start: int, highlights: Sequence[tuple[int, int]], markup: str = "markdown",
                   table_header: str = "") -> str:
    """A passage (`text`, found at offset `start` of its document) as the reader shows it: a <p>
    a block, a table as a table (with `table_header` as context), the answering sentences in <mark>."""
    return passage_html(text, start, highlights, markup, table_header)


def render_page(
    doc: dict[str, Any], text: str, span: tuple[int, int] | None, highlights: Sequence[tuple[int, int]],
    citation: str | None, quote: str | None, notice: str | None, link: str | None = None,
) -> str:
    """The whole reader page; every value from a document is escaped.

    `citation` is shown in the docked panel; "Copy citation" copies it with `link` after it, and
    "Copy quote" copies `quote` (the passage as plain text, `app.web.display.passage_text`)."""
    e = html.escape
    body = render_body(text, span, highlights, markup_for(doc.get("format") or "markdown"))
    if _opens_with_title(text, doc["title"]):
        body = re.sub(r"<h2>.*?</h2>\n?", "", body, count=1, flags=re.DOTALL)  # the title is the page's h1
    cite = ""
    if citation and quote is not None:
        full = f"{citation}. {link}" if link else citation
        cite = ('<aside class="cite" aria-label="The cited passage"><div class="column">'
                f'<div class="cite-text"><b>Cited:</b><span id="citation">{e(citation)}</span></div>'
                f'<div id="citation-full" hidden>{e(full)}</div><div id="quote" hidden>{e(quote)}</div>'
                '<div class="actions">'
                '<button type="button" class="btn primary" data-copy="citation-full">Copy citation</button>'
                '<button type="button" class="btn secondary" data-copy="quote">Copy quote</button>'
                '<span id="copy-status" role="status" aria-live="polite"></span></div>'
                '<textarea id="copy-fallback" rows="3" readonly hidden aria-label="Text to copy"></textarea>'
                "</div></aside>")
    banner = f'<p class="notice" role="alert">{e(notice)}</p>' if notice else ""
    return (
        f'<!doctype html><html lang="{e(doc.get("language") or "en")}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(doc['title'])} · Verbatim</title><style>{STYLE}</style></head><body>"
        '<main id="reader" tabindex="-1"><div class="column"><nav><a href="/">← Verbatim</a></nav>'
        f'<h1>{e(doc["title"])}</h1>{source_lines(doc)}{banner}<article>{body}</article></div></main>'
        f"{cite}<script>{COPY_SCRIPT}</script></body></html>"
    )


def source_lines(doc: dict[str, Any]) -> str:
    """Where the document comes from, for a reader: venue, date and symbol on one line; the
    source and a link to the original (web addresses only) on the next."""
    e = html.escape
    facts = [e(str(doc[key])) for key in ("venue",) if doc.get(key)]
    facts += [e(readable_date(doc["date"]))] if doc.get("date") else []
    facts += [f"Document {e(doc['symbol'])}"] if doc.get("symbol") else []
    source = [f"Source: {e(str(doc['source']))}"] if doc.get("source") else []
    url = str(doc.get("source_url") or "")
    if url.startswith(WEB_SCHEMES):
        host = urlsplit(url).hostname or url
        source.append(f'<a href="{e(url)}" rel="noopener noreferrer">the original at {e(host)}</a>')
    lines = f'<p class="meta">{" · ".join(facts)}</p>'
    return lines + (f'<p class="source">{" · ".join(source)}</p>' if source else "")


def readable_date(value: str) -> str:
    """ISO dates as people write them: "2023-05-02" -> "2 May 2023", "2023-05" -> "May 2023";
    anything else as given."""
    from datetime import date

    parts = value.split("-")
    try:
        if len(parts) == 3:
            day = date(int(parts[0]), int(parts[1]), int(parts[2]))
            return f"{day.day} {day:%B %Y}"
        if len(parts) == 2:
            return f"{date(int(parts[0]), int(parts[1]), 1):%B %Y}"
    except ValueError:
        return value
    return value


def _opens_with_title(text: str, title: str) -> bool:
    """True when the document's first block is a heading that says the same as `title`."""
    first = next(iter(blocks(text)), None)
    if first is None or not is_heading(text[first[0] : first[1]]):
        return False

    def same(value: str) -> str:
        return " ".join(plain_text(value).casefold().split()).strip(" .:")

    return same(text[first[0] : first[1]]) == same(title)


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
    from app.search.ranking import Hit

    index = engine.index
    try:
        record = index.document(doc_id)
        text = index.text(doc_id)
    except (KeyError, OSError, VerbatimError):
        shown = doc_id if len(doc_id) <= 80 else doc_id[:80] + "…"
        return 404, _message_page("No such document", f"There is no document {shown!r} in this collection: "
                                  "it may have been removed, or the link may be incomplete.")
    doc = {"title": record.title, "date": record.date, "venue": record.venue, "source": record.source,
           "language": record.language, "symbol": record.symbol, "source_url": record.source_url,
           "format": record.format}
    if start is None and end is None:
        return 200, render_page(doc, text, None, [], None, None, None)
    if not (start or "").isdigit() or not (end or "").isdigit() or not int(start or 0) < int(end or 0) <= len(text):
        return 400, _message_page("This link is incomplete", "The link names no passage of this document: "
                                  f"start and end must be offsets with 0 <= start < end <= {len(text)}.")
    span = (int(start or 0), int(end or 0))
    if version and not record.sha256.startswith(version):
        notice = ("This document has changed since the link was made, so the cited passage may have moved; "
                  "the current document is shown without marking it.")
        return 200, render_page(doc, text, None, [], None, None, notice)
    highlights = [h for h in parse_highlights(marks) if span[0] <= h[0] and h[1] <= span[1]]
    chunk = next((c for c in index.chunks if c.doc_id == doc_id and (c.start, c.end) == span), None)
    link = base_url.rstrip("/") + passage_link(doc_id, record.sha256, span[0], span[1], highlights)
    label = Hit(0, 0.0, chunk, record).citation if chunk else f"{record.title}, characters {span[0]}–{span[1]}"
    quote = passage_text(text[span[0] : span[1]], span[0], (), markup_for(record.format or "markdown"),
                         chunk.table_header if chunk else "")  # as the page shows it: no Markdown marks
    return 200, render_page(doc, text, span, highlights, label, quote, None, link)


def _message_page(heading: str, message: str) -> str:
    """A page for a link that leads nowhere: what went wrong, and the way back to the search."""
    e = html.escape
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(heading)} · Verbatim</title><style>{STYLE}</style></head><body class=\"message-page\">"
            f'<main><div class="column"><nav><a href="/">← Verbatim</a></nav><h1>{e(heading)}</h1>'
            f'<p role="alert">{e(message)}</p><p><a class="btn primary" href="/">Search the documents</a></p>'
            "</div></main></body></html>")


def unavailable_page(reason: str) -> str:
    """The reader's page while the index cannot be read (HTTP 503): the reason and what to run."""
    return _message_page("The documents cannot be read right now", reason)

"""The search tab's results as cards, one a passage, written for the page's width.

Each card: the rank and the citation (a link to the passage in the reader view), one
compact row of why it matched (fused score, each ranker's rank and score), and the
passage as the reader view shows it, with the answering sentences marked.
Labels never break inside a word; at 375 px the row wraps between its items.
"""

from __future__ import annotations

import html

from app.passages.chunk import markup_for
from app.search.ranking import Answer, Hit
from app.web.reader import passage_link, render_passage
from app.web.render import reply_header, shown_hits

CSS = """
#results { min-height: 2rem; text-align: left; }
.results .reply-head { margin: 0.2rem 0 0.8rem; }
.result { border: 1px solid var(--border-color-primary, #e4e4e7); border-radius: 8px; padding: 0.7rem 0.9rem;
          margin: 0 0 0.8rem; background: var(--background-fill-primary, #fff); }
.result-head { display: flex; gap: 0.6rem; align-items: baseline; }
.result-rank { flex: none; min-width: 1.8rem; text-align: center; font-weight: 700; border-radius: 6px;
               background: #ffedd5; color: #9a3412; padding: 0 0.3rem; }
.result-cite { font-weight: 600; overflow-wrap: anywhere; text-align: left; }
.result-scores { display: flex; flex-wrap: wrap; gap: 0.2rem 1.2rem; margin: 0.4rem 0; font-size: 0.85rem;
                 color: var(--body-text-color-subdued, #4b5563); }
.result-scores div { display: flex; gap: 0.35rem; white-space: nowrap; }
.result-scores dt { font-weight: 600; } .result-scores dd { margin: 0; font-variant-numeric: tabular-nums; }
.result-text { overflow-wrap: anywhere; margin: 0.3rem 0 0; padding-left: 0.8rem; border-left: 4px solid #6b7280; }
.result-text p { margin: 0.3rem 0; } .result-text p:first-child { margin-top: 0; }
.result-text mark { background: #fde047; color: inherit; }
.result-also { font-size: 0.85rem; margin: 0.4rem 0 0; overflow-wrap: anywhere; }
@media (max-width: 480px) { .result { padding: 0.6rem; } .result-text { padding-left: 0.6rem; } }
.search-message { padding: 0.8rem 1rem; border-radius: 8px; background: #fef3c7; border: 1px solid #d97706; }
"""
MISSING = "–"  # a ranker that did not rank the passage (no query word in it, or outside its candidates)


def result_cards(answer: Answer) -> str:
    """The whole results area, as HTML: the reply's header line, then one card a passage."""
    cards = "".join(_card(hit) for hit in shown_hits(answer))
    return f'<div class="results">{reply_header(answer)}{cards}</div>'


def message_card(headline: str, detail: str) -> str:
    """A message in place of results (an empty query, one that cannot be searched)."""
    return (f'<div class="results"><p class="search-message" role="alert"><strong>{html.escape(headline)}</strong> '
            f"{html.escape(detail)}</p></div>")


def _card(hit: Hit) -> str:
    e = html.escape
    chunk = hit.chunk
    link = passage_link(chunk.doc_id, hit.document.sha256, chunk.start, chunk.end, hit.highlights)
    scores = [("fused score", f"{hit.score:.4f}"),
              ("dense rank", _number(hit.dense_rank)), ("cosine", _number(hit.dense_score, ".4f")),
              ("lexical rank", _number(hit.lexical_rank)), ("BM25", _number(hit.lexical_score, ".3f"))]
    row = "".join(f"<div><dt>{label}</dt><dd>{value}</dd></div>" for label, value in scores)
    text = render_passage(chunk.text, chunk.start, hit.highlights, markup_for(hit.document.format),
                          chunk.table_header)
    also = ""
    if hit.also_in:
        twins = "; ".join(
            f'<a href="{e(passage_link(t.chunk.doc_id, t.document.sha256, t.chunk.start, t.chunk.end, ()))}" '
            f'target="_blank" rel="noopener">{e(t.citation)}</a>' for t in hit.also_in)
        also = f'<p class="result-also">Also in: {twins}</p>'
    return (f'<article class="result" id="result-{hit.rank}">'
            f'<div class="result-head"><span class="result-rank" aria-label="rank {hit.rank}">{hit.rank}</span>'
            f'<a class="result-cite" href="{e(link)}" target="_blank" rel="noopener" '
            f'title="Open the passage in its document">{e(hit.citation)}</a></div>'
            f'<dl class="result-scores">{row}</dl>'
            f'<blockquote class="result-text">{text}</blockquote>'
            f"{also}</article>")


def _number(value: float | None, spec: str = "d") -> str:
    return MISSING if value is None else format(value, spec)

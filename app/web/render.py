"""Render stage: answers become JSON, terminal text or Markdown. Nothing here ranks or edits quotes."""

from __future__ import annotations

import html
import re
from typing import Any

from app.passages.chunk import markup_for
from app.search.ranking import Answer, Hit
from app.web.display import WEB_SCHEMES, passage_html, passage_text
from app.web.reader import passage_link

ABSTAIN_NOTE = "The documents do not seem to answer this question directly. Related passages:"
NONE_NOTE = "Nothing in the documents seems relevant to this question. The closest passage, for what it is worth:"
LEVEL_NOTES = {"answered": "", "related": ABSTAIN_NOTE, "none": NONE_NOTE}
# Each answer level in words, for the web app's one-line reply header: (headline, what it means).
LEVEL_WORDS = {
    "answered": ("Answered", "{passages}, best first"),
    "related": ("Not answered directly", "the documents do not seem to answer this; the closest passages are below"),
    "none": ("Nothing relevant found", "the documents do not seem to cover this question"),
}
# A Markdown link, not an image and not escaped.
_MD_LINK = re.compile(r"(?<![\\!])\[((?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]"  # [text], one level of brackets inside
                      r"\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?:\s+\"[^\"]*\")?\s*\)")  # (target "title")


def level_note(answer: Answer) -> str:
    """The sentence that opens a reply that does not answer ("" when the top passage answers)."""
    return LEVEL_NOTES[answer.level]


def searched_for(answer: Answer) -> str:
    """The text searched, when it differs from what was asked (corrected words, an earlier question)."""
    return answer.searched_as if answer.searched_as and answer.searched_as != answer.question else ""


def hit_to_dict(hit: Hit) -> dict[str, Any]:
    chunk = hit.chunk
    return {
        "rank": hit.rank,
        "doc_id": chunk.doc_id,
        "title": hit.document.title,
        "section": chunk.section,
        "section_number": chunk.section_number,
        "paragraphs": list(hit.cited_paragraphs),  # as the citation shows them (strings)
        "paragraph_numbering": hit.paragraph_numbering,  # "document": its own numbers; "counted": 1, 2, ...
        "paragraph_positions": list(chunk.paragraphs),  # counted from the document's start, whatever it numbers
        "page": chunk.page,
        "start": chunk.start,
        "end": chunk.end,
        "score": round(hit.score, 6),
        "dense_score": None if hit.dense_score is None else round(hit.dense_score, 6),
        "lexical_score": None if hit.lexical_score is None else round(hit.lexical_score, 6),
        "dense_rank": hit.dense_rank,
        "lexical_rank": hit.lexical_rank,
        "text": chunk.text,  # the source's own characters, Markdown marks included
        "plain_text": shown_text(hit),  # the words as the chat and the reader show them
        "highlights": [list(span) for span in hit.highlights],
        "citation": hit.citation,
        "link": passage_link(chunk.doc_id, hit.document.sha256, chunk.start, chunk.end, hit.highlights),
        "chunk_id": chunk.chunk_id,
        "date": hit.document.date,
        "venue": hit.document.venue,
        "symbol": hit.document.symbol,
        "last_page": chunk.last_page,
        "table_header": chunk.table_header or None,  # a table piece's header row, shown above it as context
        "also_in": [_twin(twin) for twin in hit.also_in],
    }


def _twin(hit: Hit) -> dict[str, Any]:
    """A near-identical passage of another document, grouped under the passage it repeats."""
    chunk = hit.chunk
    return {
        "doc_id": chunk.doc_id, "title": hit.document.title, "citation": hit.citation,
        "start": chunk.start, "end": chunk.end, "text": chunk.text, "chunk_id": chunk.chunk_id,
        "link": passage_link(chunk.doc_id, hit.document.sha256, chunk.start, chunk.end, hit.highlights),
    }


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    """The JSON contract of `verbatim ask --json` and the `ask` API."""
    return {
        "question": answer.question,
        "abstained": answer.abstained,
        "level": answer.level,
        "notice": answer.notice or None,
        "language": answer.language,
        "confidence": round(answer.confidence, 6),
        "searched_as": answer.searched_as,
        "corrections": [{"typed": c.typed, "searched": c.searched} for c in answer.corrections],
        "answerable": None if answer.answerable is None else round(answer.answerable, 6),
        "predictors": {name: round(value, 6) for name, value in answer.features.items()},
        "passages": [hit_to_dict(hit) for hit in answer.hits],
    }


def shown_text(hit: Hit, mark: tuple[str, str] = ("", "")) -> str:
    """The passage as plain text, as the chat and the reader show it (no Markdown marks; see
    `app.web.display.passage_text`); `mark` goes around the answering sentences."""
    chunk = hit.chunk
    marked = hit.highlights if any(mark) else ()  # unmarked: exactly the reader's "Copy quote"
    return passage_text(chunk.text, chunk.start, marked, markup_for(hit.document.format), chunk.table_header, mark)


BOLD = ("\x1b[1m", "\x1b[0m")  # a terminal's bold on, and all attributes off (ECMA-48 SGR 1 and 0)


def answer_to_text(answer: Answer, emphasis: bool = False) -> str:
    """Readable terminal output: each passage as the chat shows it (plain text, no Markdown
    marks), under its citation; with `emphasis` (stdout is a terminal), the answering sentences
    in bold. Without it, no escape codes at all: fit for a file or another program."""
    lines = [f"Q: {answer.question}"]
    if searched_for(answer):
        lines.append(f"Searched for: {answer.searched_as}")
    lines.append("")
    if answer.notice:
        lines += [answer.notice, ""]
    if level_note(answer):
        lines += [level_note(answer), ""]
    for hit in answer.hits:
        similarity = "" if hit.dense_score is None else f"  (similarity {hit.dense_score:.2f})"
        lines.append(f"[{hit.rank}] {hit.citation}{similarity}")
        text = shown_text(hit, BOLD if emphasis else ("", ""))
        lines += [f"    {line}" if line.strip() else "" for line in text.splitlines()]
        lines += [f"    also in: {twin.citation}" for twin in hit.also_in]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def quote_markdown(hit: Hit) -> str:
    """A passage as a quote for the chat's Markdown: one raw HTML `<blockquote>` on one line,
    so the Markdown renderer shows its characters as they are (a line "2025." never becomes
    a list item; see `app.web.display`), answering sentences in <mark>, a table as a table."""
    chunk = hit.chunk
    body = passage_html(chunk.text, chunk.start, hit.highlights, markup_for(hit.document.format),
                        chunk.table_header)
    return f'<blockquote class="verbatim-quote">{body}</blockquote>'


def shown_hits(answer: Answer) -> list[Hit]:
    """The passages a reply shows: all of them, or only the single closest when nothing is relevant."""
    return answer.hits[:1] if answer.level == "none" else answer.hits


def reply_header(answer: Answer, notice: str = "") -> str:
    """The reply's first line, as HTML: whether the documents answer, and the text searched when it
    is not the question as typed (a follow-up joined to the earlier question, a corrected spelling);
    then, when given, one short `notice` line."""
    headline, meaning = LEVEL_WORDS[answer.level]
    count = len(shown_hits(answer))
    meaning = meaning.format(passages=f"{count} passage" + ("" if count == 1 else "s"))
    searched = ""
    if searched_for(answer):
        searched = f' <span class="searched">Searched for: “{html.escape(searched_for(answer))}”</span>'
    line = f'<p class="reply-head level-{answer.level}"><strong>{headline}</strong> · {meaning}.{searched}</p>'
    return line + (f'\n<p class="reply-notice">{html.escape(notice)}</p>' if notice else "")


def web_links_only(markdown: str) -> str:
    """`markdown` with each link to anything but a web page ("#", a relative path, "mailto:")
    replaced by its text, so a document's placeholder link is read, not clicked."""
    def text_unless_web(match: re.Match[str]) -> str:
        return match.group(0) if match.group(2).startswith(WEB_SCHEMES) else match.group(1)

    return _MD_LINK.sub(text_unless_web, markdown)


def answer_to_markdown(answer: Answer) -> str:
    """The chat reply: a one-line header (level, text searched), then each passage quoted
    verbatim under its citation; when nothing is relevant, only the closest one, labelled so."""
    parts = [reply_header(answer, answer.notice)]
    for hit in shown_hits(answer):
        link = passage_link(hit.chunk.doc_id, hit.document.sha256, hit.chunk.start, hit.chunk.end, hit.highlights)
        closest = "Closest passage (not an answer): " if answer.level == "none" else ""
        parts.append(f"[**[{hit.rank}]**]({link} \"Open the passage in the document\") "
                     f"<small>{closest}{html.escape(hit.citation)}</small>")
        parts.append(quote_markdown(hit))  # raw HTML: its characters are shown as they are (app.web.display)
        if hit.also_in:
            twins = "; ".join(
                f"[{html.escape(twin.citation)}]"
                f"({passage_link(twin.chunk.doc_id, twin.document.sha256, twin.chunk.start, twin.chunk.end, ())})"
                for twin in hit.also_in)
            parts.append(f"<small>Also in: {twins}</small>")
    return "\n\n".join(parts)


def format_eval_report(data: dict[str, Any]) -> str:
    """`verbatim eval` as text: metrics, then every miss and label problem."""
    counts = data["counts"]
    lines = [f"question set: {data['set']} ({counts['questions']} questions: "
             f"{counts['answerable']} answerable, {counts['no_answer']} no-answer)", ""]
    for name, value in data["metrics"].items():
        lines.append(f"  {name:24} {value:.3f}")
    if "calibration" in data:
        c = data["calibration"]
        lines.append(f"\ncalibrated abstention rule (written to eval/{c['rule']}): weights {c['weights']}, "
                     f"bias {c['bias']:.3f}, threshold {c['threshold']:.3f}; on this set it abstains on "
                     f"{c['abstention_accuracy']:.0%} of no-answer and {c['false_abstention_rate']:.1%} "
                     "of answerable items")
    if data["misses"]:
        lines.append(f"\nmisses (gold passage not in the top 5): {len(data['misses'])}")
        for miss in data["misses"]:
            rank = miss["gold_rank"] or "not in top 10"
            lines.append(f"  {miss['id']}: {miss['question']}  (gold rank: {rank})")
            lines.append(f"      expected: {' | '.join(miss['quotes'])}")
    if data["label_errors"]:
        lines.append("\nlabel problems:")
        lines += [f"  {problem}" for problem in data["label_errors"]]
    return "\n".join(lines) + "\n"


TABLE_COLUMNS = ["rank", "score", "dense rank", "lexical rank", "cosine", "BM25", "citation", "passage", "link"]


def answer_to_rows(answer: Answer, base_url: str = "") -> list[list[Any]]:
    """One row a passage for the researchers' table: why it matched, where it stands, what it says
    (plain text, as the search tab shows it). `base_url`: the server's own address
    ("http://host:port/"), so that each link opens from a spreadsheet; "" leaves links relative."""
    rows = []
    for hit in answer.hits:
        chunk = hit.chunk
        link = passage_link(chunk.doc_id, hit.document.sha256, chunk.start, chunk.end, hit.highlights)
        rows.append([hit.rank, round(hit.score, 4), hit.dense_rank, hit.lexical_rank,
                     None if hit.dense_score is None else round(hit.dense_score, 4),
                     None if hit.lexical_score is None else round(hit.lexical_score, 3),
                     hit.citation, shown_text(hit), base_url.rstrip("/") + link if base_url else link])
    return rows


def rows_to_csv(rows: list[list[Any]]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TABLE_COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


def sources_markdown(answer: Answer) -> str:
    """The sources panel: each cited document once, in order of first citation."""
    lines, seen, hits = ["### Sources"], set(), shown_hits(answer)
    for hit in hits:
        doc = hit.document
        if doc.doc_id in seen:
            continue
        seen.add(doc.doc_id)
        numbers = ", ".join(f"[{h.rank}]" for h in hits if h.document.doc_id == doc.doc_id)
        details = ", ".join(html.escape(part) for part in (doc.symbol, doc.venue, doc.date) if part)
        lines.append(f"- **{html.escape(doc.title)}**{', ' + details if details else ''} ({numbers})")
    return "\n".join(lines)

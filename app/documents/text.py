"""Text primitives every stage shares: blocks of lines, markup stripped for matching, and how
much markup a format's canonical text carries.

`plain_text` is what the rankers, the highlighter and the phrase filter read: Markdown
emphasis, links and escapes stripped, and a word split by a line-end hyphen joined
("capabili-\nties" -> "capabilities"; "well-\nknown" stays "well-known"). Display never
uses it: quotes are always the source's own characters (see `app.web.display`).
"""

from __future__ import annotations

import re
from functools import lru_cache

_BLOCK = re.compile(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*")
_HEADING = re.compile(r"#{1,6}\s+\S")
_SEPARATOR = re.compile(r"(?:\\?[*\-_][ \t]*){3,}")
_EMPHASIS = re.compile(r"\*\*|__|(?<!\\)\*|<[^>\n]+>")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_HEADING_MARK = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_MARKUP = re.compile(r"[\[*_<\\#]")  # a text without any of these has no markup to strip
# A hyphen (or soft hyphen) ending a line between two letters: a word split by typesetting,
# or a compound ("well-known") that happened to break there.
_LINE_END_HYPHEN = re.compile(r"([^\W\d_]+)([-\u00ad])[ \t]*\n(?:[ \t]*\f[ \t]*\n)?[ \t]*(?=([^\W\d_]+))")
MARKUPS = ("markdown", "extracted", "plain")
# A line holding only a vertical tab opens, and the next one closes, blocks set apart from the
# body: a PDF's title block and its footnotes (see `app.documents.pdf`). Being whitespace, it is
# never part of a block, a passage or a quote; the blocks between are shown, never numbered.
SET_APART = "\v"
_SET_APART_LINE = re.compile(r"^[ \t]*\v[ \t]*$", re.MULTILINE)


def markup_for(fmt: str) -> str:
    """How much markup a format's canonical text carries: "markdown" (a Markdown file),
    "extracted" (HTML and DOCX readers' text: their `#` headings and `|` tables only) or
    "plain" (plain text and PDF text: none)."""
    if fmt == "markdown":
        return "markdown"
    return "extracted" if fmt in ("html", "docx") else "plain"


@lru_cache(maxsize=4096)
def hyphen_joins(first: str, second: str) -> bool:
    """Whether "first-" at a line end and "second" on the next line are one word split by
    typesetting ("capabili-" "ties") rather than a compound that broke at its hyphen
    ("well-" "known"): joined when the next line goes on in lower case and wordfreq's
    English list knows the joined word at least as well as the hyphenated one (a word in
    neither, as in most other languages, is joined)."""
    if not second[:1].islower():
        return False
    from wordfreq import zipf_frequency

    joined = zipf_frequency(f"{first}{second}", "en")
    return joined >= zipf_frequency(f"{first}-{second}", "en")


def _join_hyphenated(text: str) -> str:
    def join(match: re.Match[str]) -> str:
        first, mark = match.group(1), match.group(2)
        if mark == "\u00ad" or hyphen_joins(first.lower(), match.group(3).lower()):
            return first
        return f"{first}-"

    return _LINE_END_HYPHEN.sub(join, text).replace("\u00ad", "")


def plain_text(markdown: str) -> str:
    """Markup stripped (emphasis, inline HTML, link targets, escapes) and words split at a line
    end joined ("capabili-\nties" -> "capabilities"), for embedding and matching."""
    text = markdown
    if "-\n" in text or "\u00ad" in text or "- \n" in text:
        text = _join_hyphenated(text)
    if _MARKUP.search(text):
        text = _LINK.sub(r"\1", text)
        text = _EMPHASIS.sub("", text)
        text = _ESCAPED.sub(r"\1", text)
        text = _HEADING_MARK.sub("", text)
    return " ".join(text.split())  # runs of whitespace as one space, trimmed


def blocks(text: str) -> list[tuple[int, int]]:
    """Spans of runs of non-blank lines, trimmed of surrounding whitespace."""
    spans = []
    for match in _BLOCK.finditer(text):
        raw = match.group()
        start = match.start() + (len(raw) - len(raw.lstrip()))
        end = match.end() - (len(raw) - len(raw.rstrip()))
        spans.append((start, end))
    return spans


def set_apart_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets between each pair of SET_APART lines: the runs of blocks that are not
    body text (an unpaired last line sets nothing apart)."""
    if SET_APART not in text:
        return []
    marks = [match.start() for match in _SET_APART_LINE.finditer(text)]
    return [(marks[i], marks[i + 1]) for i in range(0, len(marks) - 1, 2)]


def is_heading(block: str) -> bool:
    return bool(_HEADING.match(block)) and "\n" not in block


def is_separator(block: str) -> bool:
    return bool(_SEPARATOR.fullmatch(block))

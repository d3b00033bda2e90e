"""Pipe tables in canonical text: which blocks are tables, their lines and their cells.

The layout is GitHub-flavoured Markdown's: a header row, a delimiter row (`|---|:--:|`),
then one line a row, cells between unescaped `|`. Markdown files write tables so; the
HTML and DOCX readers write the tables they find the same way, so one chunker and one
renderer serve all three. Everything here works on offsets: a row is a slice of the text.
"""

from __future__ import annotations

import re

_DELIMITER = re.compile(r"\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*")
_CELL_BREAK = re.compile(r"(?<!\\)\|")


def cells(line: str) -> list[str]:
    """The cells of a row, trimmed, outer pipes dropped: "| a | b\\|c |" -> ["a", "b\\|c"]."""
    parts = _CELL_BREAK.split(line.strip())
    if parts and not parts[0].strip():
        parts = parts[1:]
    if parts and not parts[-1].strip():
        parts = parts[:-1]
    return [part.strip() for part in parts]


def is_delimiter(line: str) -> bool:
    return "-" in line and bool(_DELIMITER.fullmatch(line))


def is_table(block: str) -> bool:
    """A block of two or more lines: a header with a `|`, then a delimiter row of as many cells."""
    lines = block.split("\n")
    return (len(lines) >= 2 and "|" in lines[0] and is_delimiter(lines[1])
            and len(cells(lines[1])) == len(cells(lines[0])))


def line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The non-blank lines of `text[start:end]` as trimmed (start, end) offsets of `text`."""
    spans = []
    for match in re.finditer(r"[^\n]+", text[start:end]):
        raw = match.group()
        if raw.strip():
            a = start + match.start() + (len(raw) - len(raw.lstrip()))
            spans.append((a, a + len(raw.strip())))
    return spans


def header_and_rows(text: str, start: int, end: int) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """A table block's span through the delimiter row, and each body row's span (offsets of `text`)."""
    lines = line_spans(text, start, end)
    return (lines[0][0], lines[1][1]), lines[2:]

"""PDF pages as paragraphs: pdfminer.six's text lines grouped by their geometry.

pdfminer's layout analysis gives text lines with coordinates (`LTTextLine`), in reading
order. Its text boxes are not paragraphs (a 1.5-spaced paragraph comes out one box a
line, and a box may hold the end of one paragraph and the start of the next), so the
lines are regrouped here. A line starts a new paragraph when, against the line before it:

* it is not just below it (a new column or a new region of the page), or of another size;
* it is further below than the document's own line spacing for text of its size (the
  lower fifth of the distances between consecutive lines of that size: line spacing,
  not paragraph spacing, which is the larger);
* it is indented while the line before was not a paragraph's first line (first-line
  indents), or back at a smaller indent after a paragraph's second line (hanging indents);
* the line before ended a sentence and left room for the first word of this one (room
  against the block's own right edge: its lines' and this line's furthest end), or left
  much room without ending a sentence (a heading), or this one opens with a paragraph
  number ("12.", "(a)") or a bullet after a sentence end.

A line ending in a hyphen never ends a paragraph by room left. Lines of a paragraph are
joined with a line break, as on the page: a word split by a line-end hyphen stays
"capabili-\\nties" in the canonical text, and matching reads it as one word
(`app.passages.chunk.plain_text`). Runs of spaces (justified text) are folded to one.

Running heads and feet, the lines repeated at the same height near the top or bottom of
most pages (numbers aside: "page 2 of 3"), are page furniture: they are left out of the
canonical text, so they are never a paragraph, a passage or a highlight.

Two kinds of text are kept but set apart from the body, between SET_APART lines
(`app.documents.text.set_apart_spans`), so they are shown but never numbered, cut into
passages or highlighted:

* footnotes: the lines at a page's foot in type at most NOTE_SIZE of the body text's size
  (the commonest size, by characters), with no body text below them in their column, the
  first opening with a note mark ("1", "*", "†"). They stay on their page, after its last
  paragraph, or before it when that paragraph runs over to the next page (its last line ends
  no sentence), so its two halves meet across the page break and are read as one;
* the title block: the first page's lines above its first paragraph of prose (body-size text
  of PROSE_WORDS words or more), when the page's largest text stands among them: title,
  letterhead, symbol, issuing authority, "Date: 15 March 2025" (a first page with no prose
  and text larger than the body, before other pages, is a cover page: all title block). The
  title is the largest text
  of the block in a paragraph that has its rows to itself: a letterhead ("United Nations"
  beside the symbol) or the header's side-by-side blocks share theirs.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from app.documents.text import SET_APART

EDGE_LINES = 3  # lines from the top and the bottom of a page that may be running heads or feet ...
EDGE_ZONE = 0.12  # ... when within this share of the page's height from its top or bottom edge ...
FURNITURE_SHARE = 0.5  # ... when repeated on at least this share of the pages (and at least two)
SPACING_PERCENTILE = 0.2
SPACING_SLACK = 1.2  # a distance over 1.2 x the line spacing (+ half a point) opens a paragraph
CHAR_WIDTH = 0.55  # an average character's width, in units of the line height (for the room rule)
_NUMBERED = re.compile(r"(?:\d{1,3}\.|\d{1,3}\)|\([a-z]{1,2}\)|\([ivx]{1,5}\)|[a-z]\)|[•▪◦‣●○■□–—-])\s")
_SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*$")
_DIGITS = re.compile(r"\d+|\b[ivxlc]+\b", re.IGNORECASE)
NOTE_SIZE = 0.92  # footnotes: type at most this share of the body text's size (Word: 10 pt notes, 11 pt body) ...
NOTE_ZONE = 0.5  # ... in the lower half of the page ...
_NOTE_MARK = re.compile(r"(?:\d{1,3}|[*†‡§¶]{1,3})\s*(?=[^\W\d_])|[a-z]\s")  # ... opening "1", "*", "a"
PROSE_WORDS = 10  # a paragraph of body-size text this long ends the title block
# A line that ends a sentence, a footnote mark after the stop allowed ("at dusk.1"): a page's last
# line without it runs over to the next page.
_ENDS_SENTENCE = re.compile(r"[.!?…:;\"'”’)\]](?:\d{1,2}|[*†‡])?$")


@dataclass(frozen=True)
class Line:
    """A text line of a page: its text (spaces folded) and its box in PDF points, y upwards (the
    vertical extent of its main type size: see `_body_of`)."""

    text: str
    x0: float
    x1: float
    y0: float
    y1: float
    page_height: float = 842.0  # of the page it stands on (A4 when unknown)

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 0.1)


@dataclass(frozen=True)
class Layout:
    """A PDF's text as laid out: each page's paragraphs (lines joined), and what was set aside."""

    pages: list[list[str]]
    furniture: list[str]  # the running heads and feet found, each once, in order of appearance
    heading: str | None  # the first page's largest text, when larger than the body text


def page_lines(layout_pages: Any) -> list[list[Line]]:
    """pdfminer's `LTPage`s as lists of `Line`s in reading order (empty lines dropped)."""
    from pdfminer.layout import LTTextContainer, LTTextLine

    pages = []
    for page in layout_pages:
        lines, height = [], float(page.height)
        for box in page:
            if not isinstance(box, LTTextContainer):
                continue
            for item in box if not isinstance(box, LTTextLine) else [box]:
                if isinstance(item, LTTextLine):
                    text = re.sub(r" {2,}", " ", item.get_text().replace("\n", " ")).strip()
                    if text:
                        y0, y1 = _body_of(item)
                        lines.append(Line(text, item.x0, item.x1, y0, y1, height))
        pages.append(lines)
    return pages


def _body_of(line: Any) -> tuple[float, float]:
    """A line's vertical extent in its main type size: the bottom of its characters of the
    commonest size and that size above it, so a superscript footnote mark ("State party³")
    changes neither its height nor its place."""
    from pdfminer.layout import LTChar

    chars = [ch for ch in line if isinstance(ch, LTChar) and ch.get_text().strip()]
    if not chars:
        return float(line.y0), float(line.y1)
    size = Counter(round(ch.size * 2) / 2 for ch in chars).most_common(1)[0][0]
    bottoms = sorted(ch.y0 for ch in chars if round(ch.size * 2) / 2 == size)
    bottom = bottoms[len(bottoms) // 2]
    return float(bottom), float(bottom + size)


def lay_out(pages: list[list[Line]]) -> Layout:
    """Paragraphs of every page, running heads and feet left out, title block and footnotes set
    apart (see the module docstring)."""
    furniture = running_furniture(pages)
    kept = [[line for i, line in enumerate(lines) if (number, i) not in furniture]
            for number, lines in enumerate(pages)]
    spacing = line_spacing(kept)
    body = body_size(kept)
    found = list(dict.fromkeys(pages[p][i].text for p, i in sorted(furniture)))
    laid: list[list[str]] = []
    block: list[list[Line]] = []
    for number, lines in enumerate(kept):
        notes = footnotes(lines, body)
        groups = paragraphs([line for i, line in enumerate(lines) if i not in notes], spacing)
        texts = ["\n".join(line.text for line in group) for group in groups]
        if not laid or not any(laid):  # the first page with text: its title block
            block_end = title_block(groups, body, cover=number + 1 < len(kept))
            block = groups[:block_end] or paragraphs(lines, spacing)  # the title block, else the page
            texts = ([SET_APART, *texts[:block_end], SET_APART] if block_end else []) + texts[block_end:]
        if notes:
            runs_over = number + 1 < len(kept) and bool(groups) and not _ENDS_SENTENCE.search(groups[-1][-1].text)
            at = len(texts) - 1 if runs_over else len(texts)
            texts[at:at] = [SET_APART, *_note_texts([lines[i] for i in sorted(notes)]), SET_APART]
        laid.append(texts)
    return Layout(laid, found, _heading(block, body))


def body_size(pages: list[list[Line]]) -> int:
    """The body text's size: the commonest line size, counted by characters (0 for no text)."""
    sizes: Counter[int] = Counter()
    for lines in pages:
        for line in lines:
            sizes[_size(line)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0


def footnotes(lines: list[Line], body: int) -> set[int]:
    """Indices of a page's footnote lines: small type in the lower half of the page, no body text
    below them in their column, the first (topmost) opening with a note mark."""
    small = {i for i, line in enumerate(lines)
             if body and line.height <= NOTE_SIZE * body and line.y1 < NOTE_ZONE * line.page_height}

    def below_body(line: Line) -> bool:
        return not any(other.y0 < line.y0 and other.x0 < line.x1 and line.x0 < other.x1
                       for i, other in enumerate(lines) if i not in small)

    notes = {i for i in small if below_body(lines[i])}
    if not notes or not _NOTE_MARK.match(lines[max(notes, key=lambda i: lines[i].y1)].text):
        return set()
    return notes


def _note_texts(lines: list[Line]) -> list[str]:
    """Footnote lines as notes: a line opening with a note mark opens a note, the others go on it."""
    notes: list[list[str]] = []
    for line in lines:
        if notes and not _NOTE_MARK.match(line.text):
            notes[-1].append(line.text)
        else:
            notes.append([line.text])
    return ["\n".join(note) for note in notes]


def title_block(groups: list[list[Line]], body: int, cover: bool = False) -> int:
    """How many of the first page's paragraphs form its title block (0: none): those before the
    first paragraph of prose, when the page's largest text stands among them; with `cover` (more
    pages follow), a first page with no prose at all and text larger than the body is a cover page,
    all of it the title block."""
    def prose(group: list[Line]) -> bool:
        words = sum(len(line.text.split()) for line in group)
        return all(_size(line) == body for line in group) and words >= PROSE_WORDS

    if not groups:
        return 0
    first_prose = next((i for i, group in enumerate(groups) if prose(group)), len(groups) if cover else 0)
    if not first_prose:
        return 0
    largest = max(line.height for group in groups for line in group)
    in_block = max(line.height for group in groups[:first_prose] for line in group)
    return first_prose if in_block >= largest and largest >= 1.25 * body else 0


def _furniture_key(text: str) -> str:
    return " ".join(_DIGITS.sub("#", text.lower()).split())


def running_furniture(pages: list[list[Line]]) -> set[tuple[int, int]]:
    """(page, line) of the lines near a page's top or bottom repeated, numbers aside, at about
    the same height on most pages."""
    need = max(2, math.ceil(FURNITURE_SHARE * len(pages)))
    if len(pages) < 2:
        return set()
    places: dict[str, list[tuple[int, int, float, float]]] = defaultdict(list)
    for number, lines in enumerate(pages):
        order = sorted(range(len(lines)), key=lambda i: -lines[i].y1)
        for i in set(order[:EDGE_LINES] + order[-EDGE_LINES:]):
            line = lines[i]
            if EDGE_ZONE * line.page_height < line.y0 and line.y1 < (1 - EDGE_ZONE) * line.page_height:
                continue  # in the body of the page
            places[_furniture_key(lines[i].text)].append((number, i, lines[i].y0, lines[i].height))
    found = set()
    for spots in places.values():
        for number, i, y, height in spots:
            near = {other for other, _, z, _ in spots if abs(z - y) <= max(3.0, 0.6 * height)}
            if len(near) >= need:
                found.add((number, i))
    spacing = line_spacing(pages)
    return {(number, i) for number, i in found if not _in_a_paragraph(pages[number], i, found, number, spacing)}


def _in_a_paragraph(lines: list[Line], index: int, found: set[tuple[int, int]], page: int,
                    spacing: dict[int, float]) -> bool:
    """Whether a repeated line sits at line spacing from a line of the page's body text: then it
    belongs to a paragraph (a document that repeats itself), not to the page's furniture."""
    line = lines[index]
    usual = spacing.get(_size(line))
    if usual is None:
        return False
    for other_index, other in enumerate(lines):
        if other_index == index or (page, other_index) in found:
            continue
        close = abs(other.y0 - line.y0) <= SPACING_SLACK * usual + 0.5
        if close and other.x0 < line.x1 and line.x0 < other.x1 and _size(other) == _size(line):
            return True
    return False


def _size(line: Line) -> int:
    return round(line.height)


def _follows(prev: Line, cur: Line) -> bool:
    """`cur` is below `prev`, overlapping it horizontally, of about the same size."""
    pitch = prev.y0 - cur.y0
    same_size = abs(cur.height - prev.height) <= 0.2 * max(cur.height, prev.height)
    return pitch >= 0.5 * prev.height and cur.x0 < prev.x1 and prev.x0 < cur.x1 and same_size


def line_spacing(pages: list[list[Line]]) -> dict[int, float]:
    """The document's line spacing (baseline to baseline, points) for each text size."""
    pitches: dict[int, list[float]] = defaultdict(list)
    for lines in pages:
        for prev, cur in zip(lines, lines[1:]):
            if _follows(prev, cur) and prev.y0 - cur.y0 < 4 * prev.height:
                pitches[_size(prev)].append(prev.y0 - cur.y0)
    return {size: sorted(values)[int(SPACING_PERCENTILE * (len(values) - 1))] for size, values in pitches.items()}


def _breaks(group: list[Line], cur: Line, spacing: dict[int, float]) -> bool:
    """Whether `cur` opens a new paragraph after the lines of `group` (see the module docstring)."""
    prev = group[-1]
    if not _follows(prev, cur):
        return True
    usual = spacing.get(_size(prev))
    if usual is not None and prev.y0 - cur.y0 > SPACING_SLACK * usual + 0.5:
        return True
    em = prev.height
    if cur.x0 > prev.x0 + 0.8 * em and len(group) > 1:
        return True  # a first-line indent
    if cur.x0 < prev.x0 - 0.8 * em and len(group) > 1:
        return True  # the end of a hanging indent
    ended = bool(_SENTENCE_END.search(prev.text))
    if prev.text.endswith(("-", "\u00ad")) and not ended:
        return False
    right = max([line.x1 for line in group] + [cur.x1])  # the block's own right edge, not the page's
    room = right - prev.x1
    fits = room > CHAR_WIDTH * em * len(cur.text.split()[0]) + (0.5 if ended else 2.0) * em
    if _NUMBERED.match(cur.text) and (ended or fits):
        return True
    return fits and (ended or room > 0.35 * (right - min(line.x0 for line in group)))


def paragraphs(lines: list[Line], spacing: dict[int, float]) -> list[list[Line]]:
    """A page's lines (reading order) grouped into paragraphs."""
    groups: list[list[Line]] = []
    for line in lines:
        if groups and not _breaks(groups[-1], line, spacing):
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def _beside(group: list[Line], lines: list[Line]) -> bool:
    """Whether a line of `group` has a line of another paragraph beside it on its row: a letterhead
    beside a symbol, the side-by-side blocks of a header."""
    return any(other not in group and other.y0 < line.y1 and line.y0 < other.y1
               and (other.x0 >= line.x1 or line.x0 >= other.x1) for line in group for other in lines)


def _heading(groups: list[list[Line]], body: int) -> str | None:
    """The largest text of `groups` (the title block's paragraphs, or the first page's) in a
    paragraph that has its rows to itself, when it is larger than the body text; a footnote mark
    after it dropped ("Abcland*")."""
    lines = [line for group in groups for line in group]
    alone = [line for group in groups if not _beside(group, lines) for line in group]
    if not body or not alone:
        return None
    largest = max(line.height for line in alone)
    if largest < 1.25 * body:
        return None
    run: list[str] = []
    for line in alone:
        if line.height >= 0.95 * largest:
            run.append(line.text)
        elif run:
            break
    heading = " ".join(run).strip().rstrip("*\u2020\u2021").strip()
    return heading if 0 < len(heading) <= 200 else None

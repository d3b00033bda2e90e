"""A DOCX body as canonical text: paragraphs with the numbers Word shows, headings, tables.

python-docx reads paragraphs and tables in body order but not list numbers: Word
computes those when it lays the document out, from `numbering.xml`. They are computed
here the same way (ECMA-376 part 1, 17.9):

* a paragraph is numbered by its own `w:numPr`, or else its style's (following `basedOn`);
  `numId` 0 switches numbering off; the level (`ilvl`) defaults to 0;
* a `w:num` points at an `w:abstractNum` (possibly through a numbering style's
  `numStyleLink`) whose levels give the start, the format (decimal, lowerLetter,
  upperLetter, lowerRoman, upperRoman, decimalZero, ordinal, bullet, none) and the text
  (`%1.`, `%1.%2`, `(%3)`); `isLgl` writes every level in decimal;
* numbers count on across every `w:num` of one abstract definition; a `w:num` with
  `lvlOverride/startOverride` restarts its level at its first paragraph; using a level
  restarts the levels below it (unless `lvlRestart` says otherwise).

A numbered paragraph's text is its number, a space and its words ("3. Pets need consent."),
so the chunker finds the document's own paragraph numbers as it does in any text. Word
headings become Markdown headings; a table becomes a pipe table (`app.documents.tables`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
SYMBOL_FONTS = ("symbol", "wingdings", "webdings")
BULLET = "•"
LEVELS = 9
_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
          (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]


@dataclass(frozen=True)
class Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = "%1."
    restart: int | None = None  # lvlRestart: restart after this (1-based) level; 0 never; None: any above
    legal: bool = False  # isLgl: every level's number in decimal
    symbol_font: bool = False


def _val(element: Any, tag: str, default: str | None = None) -> str | None:
    found = element.find(W + tag) if element is not None else None
    return found.get(W + "val", default) if found is not None else default


def _level(lvl: Any) -> Level:
    fonts = lvl.find(f"{W}rPr/{W}rFonts")
    font = (fonts.get(W + "ascii") or fonts.get(W + "hAnsi") or "") if fonts is not None else ""
    restart = _val(lvl, "lvlRestart")
    return Level(int(_val(lvl, "start", "0") or 0), _val(lvl, "numFmt", "decimal") or "decimal",
                 _val(lvl, "lvlText", "") or "", int(restart) if restart and restart.isdigit() else None,
                 lvl.find(W + "isLgl") is not None, font.lower().startswith(SYMBOL_FONTS))


def format_number(number: int, fmt: str) -> str:
    """A level's number as Word writes it in `fmt` (unknown formats: decimal)."""
    if fmt in ("lowerLetter", "upperLetter"):
        letters = chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1) if number > 0 else str(number)
        return letters.upper() if fmt == "upperLetter" else letters
    if fmt in ("lowerRoman", "upperRoman"):
        roman, rest = "", number
        for value, digits in _ROMAN:
            while rest >= value:
                roman, rest = roman + digits, rest - value
        return (roman.upper() if fmt == "upperRoman" else roman) or str(number)
    if fmt == "decimalZero":
        return f"{number:02d}"
    if fmt == "ordinal":
        suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
        return f"{number}{suffix}"
    return "" if fmt == "none" else str(number)


@dataclass
class Numbering:
    """Word's numbering definitions and the running counters of one document pass."""

    abstract: dict[str, dict[int, Level]] = field(default_factory=dict)
    nums: dict[str, tuple[str, dict[int, int], dict[int, Level]]] = field(default_factory=dict)
    counters: dict[str, list[int | None]] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, root: Any, styles: dict[str, tuple[str | None, str | None]]) -> Numbering:
        """From the `w:numbering` element; `styles` maps a style id to its (numId, ilvl)."""
        numbering = cls()
        if root is None:
            return numbering
        links: dict[str, str] = {}
        for definition in root.findall(W + "abstractNum"):
            key = definition.get(W + "abstractNumId", "")
            numbering.abstract[key] = {int(lvl.get(W + "ilvl", "0")): _level(lvl)
                                       for lvl in definition.findall(W + "lvl")}
            link = _val(definition, "numStyleLink")
            if link:
                links[key] = link
        for num in root.findall(W + "num"):
            starts, replaced = {}, {}
            for override in num.findall(W + "lvlOverride"):
                level = int(override.get(W + "ilvl", "0"))
                start = _val(override, "startOverride")
                if start is not None and start.lstrip("-").isdigit():
                    starts[level] = int(start)
                if override.find(W + "lvl") is not None:
                    replaced[level] = _level(override.find(W + "lvl"))
            numbering.nums[num.get(W + "numId", "")] = (_val(num, "abstractNumId", "") or "", starts, replaced)
        for key, style in links.items():  # a definition that only points at a numbering style's list
            target = numbering.nums.get(styles.get(style, (None, None))[0] or "")
            if target is not None and target[0] in numbering.abstract:
                numbering.abstract[key] = numbering.abstract[target[0]]
        return numbering

    def label(self, num_id: str, level: int) -> str:
        """The number Word shows for the next paragraph of list `num_id` at `level` ("" for none)."""
        if num_id not in self.nums or num_id == "0":
            return ""
        abstract_id, starts, replaced = self.nums[num_id]
        levels = {**self.abstract.get(abstract_id, {}), **replaced}
        if level not in levels:
            return ""
        counters = self.counters.setdefault(abstract_id, [None] * LEVELS)
        if num_id not in self.started:
            self.started.add(num_id)
            for overridden, start in starts.items():
                if 0 <= overridden < LEVELS:
                    counters[overridden] = start - 1
        current = counters[level]
        counters[level] = levels[level].start if current is None else current + 1
        for deeper in range(level + 1, LEVELS):
            restart = levels.get(deeper, Level()).restart
            if restart is None or (restart != 0 and level + 1 <= restart):
                counters[deeper] = None
        return self._text(levels, level, counters)

    @staticmethod
    def _text(levels: dict[int, Level], level: int, counters: list[int | None]) -> str:
        this = levels[level]
        if this.fmt == "bullet":
            text = this.text
            private = any("\ue000" <= ch <= "\uf8ff" for ch in text)
            return BULLET if this.symbol_font or private or not text.strip() else text

        def number(match: re.Match[str]) -> str:
            index = int(match.group(1)) - 1
            if not 0 <= index < LEVELS:
                return ""
            other = levels.get(index, Level())
            value = counters[index] if counters[index] is not None else other.start
            return format_number(value or 0, "decimal" if this.legal and other.fmt != "none" else other.fmt)

        return re.sub(r"%([1-9])", number, this.text).strip()


def _style_numbering(style: Any) -> tuple[str | None, str | None]:
    """(numId, ilvl) a paragraph style gives, following `basedOn`."""
    seen = 0
    while style is not None and seen < 20:
        numpr = style.element.find(f"{W}pPr/{W}numPr")
        if numpr is not None:
            return _val(numpr, "numId"), _val(numpr, "ilvl")
        style, seen = style.base_style, seen + 1
    return None, None


def _paragraph_text(paragraph: Any, numbering: Numbering) -> str:
    text = " ".join(paragraph.text.split())
    numpr = paragraph._p.find(f"{W}pPr/{W}numPr")
    own_id, own_level = (_val(numpr, "numId"), _val(numpr, "ilvl")) if numpr is not None else (None, None)
    style_id, style_level = _style_numbering(paragraph.style)
    num_id = own_id if own_id is not None else style_id
    level = own_level if own_level is not None else style_level
    if not text or num_id is None:
        return text
    label = numbering.label(num_id, int(level) if level and level.isdigit() else 0)
    return f"{label} {text}" if label else text


def _table_text(table: Any) -> str:
    """A Word table as a pipe table: its first row the header; merged cells once; `|` escaped."""
    lines = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()).replace("|", "\\|"))
        lines.append(cells)
    width = max((len(cells) for cells in lines), default=0)
    if not width or not any(any(cells) for cells in lines):
        return ""
    rows = ["| " + " | ".join(cells + [""] * (width - len(cells))) + " |" for cells in lines]
    return "\n".join([rows[0], "|" + "---|" * width, *rows[1:]])


def body_text(document: Any) -> str:
    """A python-docx `Document`'s body in reading order as canonical text (blocks apart by a blank line)."""
    from docx.table import Table

    styles = {style.style_id: _style_numbering(style) for style in document.styles if hasattr(style, "base_style")}
    try:
        root = document.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):  # python-docx: the file has no numbering part
        root = None
    numbering = Numbering.read(root, styles)
    parts = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            parts.append(_table_text(item))
            continue
        text = _paragraph_text(item, numbering)
        style = (item.style.name if item.style is not None else "") or ""
        level = re.fullmatch(r"Heading (\d)", style)
        if text and style == "Title":
            parts.append(f"# {text}")
        elif text and level:
            parts.append(f"{'#' * min(int(level.group(1)) + 1, 6)} {text}")
        else:
            parts.append(text)
    return "\n\n".join(part for part in parts if part)

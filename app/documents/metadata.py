"""What a document says about itself: a title that is a real title, a date that is its date.

Files carry metadata that producers fill in by themselves: "(anonymous)", "untitled",
"Microsoft Word - report.docx", "Slide 1", "Document1", the file's own name, and a
creation date that is the day the file was exported. `is_placeholder_title` recognises
the kind (generic words with or without a counter, application names and prefixes,
file names and paths); the PDF reader never takes its CreationDate. A date is then only
what the metadata really states or what the document's own header states
(`date_in_text`: "Distr.: General / 8 June 2023", "Date: 3 May 2024", a date alone on a
line near the top); otherwise a document has no date, and `verbatim docs` says so.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.documents.text import plain_text

HEADER_CHARS = 1500  # a date or title is looked for this far into the text
TITLE_MAX_CHARS = 150
_NUMBERED = re.compile(r"(?:\d{1,3}|[IVXLC]{1,6}|[a-z])[.)]\s|\([a-z0-9]{1,4}\)\s|[•▪◦–-]\s")
_GENERIC = (r"untitled|unnamed|no[ _-]?title|title|anonymous|unknown|none|null|n/?a|default|blank|empty|"
            r"template|normal|draft|new|(?:ms[ _-]?)?(?:word|powerpoint|excel|office)|pdf|print|cover|"
            r"document|doc|presentation|workbook|book|sheet|slide|page|layout|image|img|scan|dsc|file")
_PLACEHOLDER = re.compile(
    rf"(?:(?:new|blank|microsoft|ms|word|powerpoint|excel)[ _-]+)*(?:{_GENERIC})(?:[ _-]*(?:document|"
    rf"presentation|file|title|doc))?(?:[ _#-]*\d+)?(?:\s*\(\d+\))?", re.IGNORECASE)
_PRODUCER = re.compile(r"^(?:microsoft\s+(?:word|powerpoint|excel|office)|adobe\s+\w+)\s+-\s+|hyperref|pdfmaker|"
                       r"reportlab|distiller|ghostscript|pdfcreator|cutepdf|print\s+to\s+pdf|wkhtmltopdf",
                       re.IGNORECASE)
_FILE_NAME = re.compile(r".*\.(?:docx?|dotx?|pdf|rtf|odt|ott|pptx?|xlsx?|txt|html?|md|indd|tex|ps|jpe?g|png|tiff?)"
                        r"|(?:[a-z]:)?[\\/].*|\S*[\\/]\S*", re.IGNORECASE)

MONTH_NAMES = (  # January to December in English (and abbreviated), French, Spanish, German, Russian (genitive)
    "january february march april may june july august september october november december",
    "jan feb mar apr may jun jul aug sep oct nov dec",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "januar februar märz april mai juni juli august september oktober november dezember",
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
)
MONTHS = {name: number for names in MONTH_NAMES for number, name in enumerate(names.split(), 1)} | {"sept": 9}
_MONTH = "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True))
_DAY_FIRST = rf"(?P<d1>\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+(?:de\s+)?(?P<m1>{_MONTH})\.?,?\s+(?:de\s+)?(?P<y1>\d{{4}})"
_MONTH_FIRST = rf"(?P<m2>{_MONTH})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{{4}})"
_ISO = r"(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2})"
_LABEL = (r"(?:distr\.?\s*:?\s*[^\W\d]+\.?|date(?:d|\s+of\s+issue)?\s*:?|issued(?:\s+on)?\s*:?|as\s+of\s*:?|"
          r"[A-ZА-Я][\w .'’-]{1,40},)")
_DATE_LABEL = r"(?:date(?:\s+of\s+issue)?|issued(?:\s+on)?)\s*:"  # "Date:" may follow other words of its line
_HEADER_DATE = re.compile(
    rf"^[ \t]*(?:(?:[^\n]*?[^\w\n])?{_DATE_LABEL}[ \t]*|{_LABEL}[ \t]*\n?[ \t]*)?"
    rf"(?:{_DAY_FIRST}|{_MONTH_FIRST}|{_ISO})(?:\s*(?:г\.|года))?[ \t]*\.?[ \t]*$",
    re.IGNORECASE | re.MULTILINE)


def _normal(title: str) -> str:
    return " ".join(title.strip().strip("()[]<>\"'“”«» ").split())


def is_placeholder_title(title: str, file_name: str = "") -> bool:
    """Whether a metadata title is a producer's placeholder rather than the document's title."""
    text = _normal(title)
    if not re.search(r"[^\W\d_]", text):
        return True  # empty, or only digits and punctuation
    stem = Path(file_name).stem if file_name else ""
    return bool(_PLACEHOLDER.fullmatch(text) or _PRODUCER.search(text) or _FILE_NAME.fullmatch(text)
                or (stem and text.lower() in (stem.lower(), Path(file_name).name.lower())))


def date_in_text(text: str) -> str | None:
    """The date a document's header states (ISO 8601), or None: a date alone on a line near the
    top, or after "Distr.: General", "Date:", "Dated", "Issued" or a place ("Geneva, 8 June 2023");
    "Date:" and "Issued:" may follow other words of the line ("Ref. 14 · Date: 3 May 2024")."""
    for match in _HEADER_DATE.finditer(text[:HEADER_CHARS]):
        groups = {k: v for k, v in match.groupdict().items() if v}
        day = groups.get("d1") or groups.get("d2") or groups.get("d3")
        month = groups.get("m1") or groups.get("m2") or groups.get("m3")
        year = groups.get("y1") or groups.get("y2") or groups.get("y3")
        if not (day and month and year):
            continue
        number = int(month) if month.isdigit() else MONTHS.get(month.lower().rstrip("."))
        if number and 1 <= number <= 12 and 1 <= int(day) <= 31 and 1800 <= int(year) <= 2200:
            return f"{int(year):04d}-{number:02d}-{int(day):02d}"
    return None


def first_heading(text: str) -> str | None:
    """The words of the first Markdown heading line ("# Tenancy conditions")."""
    match = re.search(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", text, flags=re.MULTILINE)
    return _plain(match.group(1)) if match else None


def first_line(text: str) -> str | None:
    """The text's first paragraph when it reads as a title: one short line, not a sentence, not a
    numbered item ("1. ...", "IV. ..."), not a date alone."""
    block = next((block.strip() for block in re.split(r"\n\s*\n", text) if block.strip()), "")
    if "\n" in block or _NUMBERED.match(block):
        return None
    line = _plain(block.lstrip("#").strip())
    if not line or len(line) > TITLE_MAX_CHARS or line[-1] in ".,;:!-" or not re.search(r"[^\W\d_]", line):
        return None
    return None if date_in_text(line) else line


def running_title(running_heads: str) -> str | None:
    """A running head that can stand as a title: the first without a number (a page number's line
    is not one), e.g. "HARBOUR AUTHORITY - INTERNAL BULLETIN"."""
    return next((line.strip() for line in running_heads.splitlines()
                 if line.strip() and not re.search(r"\d", line) and len(line.strip()) <= TITLE_MAX_CHARS), None)


def _plain(text: str) -> str:
    return plain_text(text)

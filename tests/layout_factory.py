"""PDFs of several origins, drawn line by line (reportlab's canvas) so their geometry is known,
and the tables and Word files of the issue's citation cases. The texts are made up here.

* `write_report_pdf`: a report whose first page opens with a title block (title, issuing
  authority, "Date: 15 March 2025"), numbered paragraphs with sub-items "1)" "2)" inside item 8,
  footnotes in small type at the foot of page 1 (superscript marks in the text), a paragraph
  running over the page break, and a page number at every foot.
* `write_un_layout_pdf`: the letterhead of a UN document ("United Nations" beside the symbol,
  both larger than the title), the side-by-side header blocks, the title with a footnote mark.
* `write_two_column_pdf`: a title across the page, then two columns of paragraphs and a
  footnote under the left column.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

A4_WIDTH, A4_HEIGHT = 595.27, 841.89
REPORT_TITLE = "Annual report on rural water wells"
REPORT_AUTHORITY = "Regional Water Authority"
REPORT_DATE_LINE = "Date: 15 March 2025"
# Page 1 of the report: (paragraph lines, left indent); the last paragraph runs over to page 2.
REPORT_PAGE_1: list[tuple[list[str], float]] = [
    (["6. The Authority inspected every registered well of the province during the dry season,",
      "and its engineers measured the water level of each one at dawn and at dusk.\u00b9"], 0),
    (["7. Wells that held water all year were found mostly in the valleys, where the aquifer",
      "lies close to the surface and the clay keeps the rain from running off."], 0),
    (["8. The Authority recommends two measures for the wells that ran dry:"], 0),
    (["1) that every dry well be deepened by at least four metres before the next summer;"], 18),
    (["2) that a hand pump be fitted wherever the water level falls below the old bucket line."], 18),
    (["9. The cost of the programme was estimated by the finance office,\u00b2 which found that",
      "the deepening of one well costs about as much as a season of water deliveries by"], 0),
]
REPORT_PAGE_2: list[tuple[list[str], float]] = [
    (["truck to the village it serves, so the programme pays for itself within two years."], 0),
    (["10. The Authority will report on the progress of the programme at the end of the year."], 0),
]
REPORT_NOTES = ["1 Readings were taken with the same electric dip meter at every well.",
                "2 Finance office memorandum of 3 February 2025, annex II."]


def _draw_lines(pdf, x: float, y: float, lines: Sequence[str], size: float, font: str = "Times-Roman",  # type: ignore[no-untyped-def]
                leading: float = 1.2) -> float:
    """Draw lines from baseline `y` down; superscript digits (¹²³) are drawn small and raised, as
    word processors set footnote marks. Returns the baseline below the last line."""
    marks = {"\u00b9": "1", "\u00b2": "2", "\u00b3": "3", "*": "*"}
    for line in lines:
        cursor = x
        for piece in _split_marks(line, set(marks) - {"*"}):
            if piece in marks:
                pdf.setFont(font, size * 0.6)
                pdf.drawString(cursor, y + size * 0.35, marks[piece])
                cursor += pdf.stringWidth(marks[piece], font, size * 0.6)
            else:
                pdf.setFont(font, size)
                pdf.drawString(cursor, y, piece)
                cursor += pdf.stringWidth(piece, font, size)
        y -= size * leading
    return y


def _split_marks(line: str, marks: set[str]) -> list[str]:
    pieces, current = [], ""
    for char in line:
        if char in marks:
            pieces += [current, char] if current else [char]
            current = ""
        else:
            current += char
    return pieces + ([current] if current else [])


def _notes(pdf, notes: Sequence[str], x: float = 72, size: float = 8) -> None:  # type: ignore[no-untyped-def]
    """Footnotes at the page's foot, in small type under a short rule."""
    y = 60 + size * 1.2 * (len(notes) - 1)
    pdf.line(x, y + size * 1.6, x + 144, y + size * 1.6)
    _draw_lines(pdf, x, y, notes, size)


def write_report_pdf(path: Path) -> Path:
    """The report (see the module docstring). Body text: Times 11 pt at 1.2 leading, paragraphs
    apart by half a line; the page number "- N -" is centred at each foot."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(A4_WIDTH, A4_HEIGHT))
    pdf.setTitle("Microsoft Word - wells.docx")
    y = A4_HEIGHT - 90
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, y, REPORT_TITLE)
    y -= 22
    pdf.setFont("Helvetica", 12)
    pdf.drawString(72, y, REPORT_AUTHORITY)
    y -= 16
    pdf.setFont("Times-Roman", 11)
    pdf.drawString(72, y, REPORT_DATE_LINE)
    y -= 34
    for number, page in enumerate((REPORT_PAGE_1, REPORT_PAGE_2), start=1):
        for lines, indent in page:
            y = _draw_lines(pdf, 72 + indent, y, lines, 11) - 6
        if number == 1:
            _notes(pdf, REPORT_NOTES)
        pdf.setFont("Times-Roman", 9)
        pdf.drawCentredString(A4_WIDTH / 2, 30, f"- {number} -")
        pdf.showPage()
        y = A4_HEIGHT - 90
    pdf.save()
    return path


UN_SYMBOL = "CAT/C/ABC/CO/3"
UN_TITLE = "Concluding observations on the third periodic report of Abcland"
UN_BODY = [
    ["1. The Committee considered the third periodic report of Abcland at its meetings held on",
     "24 and 25 April 2023 and adopted the present concluding observations."],
    ["2. The Committee welcomes the constructive dialogue with the delegation of the State party",
     "and the written replies to the list of issues prior to reporting.\u00b9"],
    ["3. The Committee is concerned that detainees in police custody are not always examined by",
     "an independent doctor within twenty-four hours of their arrest."],
]
UN_NOTES = ["* Adopted by the Committee at its seventy-sixth session (17 April\u201312 May 2023).",
            "1 CAT/C/ABC/QPR/3."]


def write_un_layout_pdf(path: Path) -> Path:
    """A UN document's first page as the UN sets it: letterhead "United Nations" (17 pt) beside the
    symbol (20 pt bold) above a rule; the convention's name (14 pt bold, as large as the title, its
    last lines below the block beside it) beside "Distr.: General", the date and "Original:
    English"; the committee's name; the title (14 pt bold) with a footnote mark; numbered
    paragraphs (10 pt); footnotes (8 pt) at the foot. No title in the file's properties."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(A4_WIDTH, A4_HEIGHT))
    top = A4_HEIGHT - 60
    pdf.setFont("Times-Roman", 17)
    pdf.drawString(110, top, "United Nations")
    pdf.setFont("Times-Bold", 20)
    pdf.drawRightString(A4_WIDTH - 60, top, UN_SYMBOL)
    pdf.line(60, top - 8, A4_WIDTH - 60, top - 8)
    _draw_lines(pdf, 110, top - 36, ["Convention against Torture", "and Other Cruel, Inhuman",
                                     "or Degrading Treatment", "or Punishment"], 14, "Times-Bold")
    _draw_lines(pdf, 400, top - 36, ["Distr.: General", "12 June 2023", "", "Original: English"], 10)
    pdf.line(60, top - 110, A4_WIDTH - 60, top - 110)
    y = _draw_lines(pdf, 110, top - 136, ["Committee against Torture"], 10, "Times-Bold") - 10
    y = _draw_lines(pdf, 110, y, [UN_TITLE + "*"], 14, "Times-Bold") - 10
    for lines in UN_BODY:
        y = _draw_lines(pdf, 110, y, lines, 10) - 5
    _notes(pdf, UN_NOTES, x=110)
    pdf.showPage()
    pdf.save()
    return path


COLUMN_TITLE = "Salt intrusion in coastal aquifers"
LEFT_COLUMN = [
    ["Coastal wells draw fresh water that floats", "on denser sea water below it.\u00b9"],
    ["When pumping lowers the water table, the", "salt front rises and the well turns brackish."],
]
RIGHT_COLUMN = [
    ["Monitoring wells along the shore give an", "early warning of the rising front."],
    ["Recharge ponds behind the dunes push the", "front back towards the sea."],
]
COLUMN_NOTES = ["1 Ghyben-Herzberg relation, 1888."]


def write_two_column_pdf(path: Path) -> Path:
    """A journal page: the title across the page (15 pt bold), then two columns of 10 pt paragraphs,
    a footnote (7 pt) at the foot of the left column."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(A4_WIDTH, A4_HEIGHT))
    pdf.setFont("Helvetica-Bold", 15)
    pdf.drawString(60, A4_HEIGHT - 80, COLUMN_TITLE)
    for x, column in ((60, LEFT_COLUMN), (320, RIGHT_COLUMN)):
        y = A4_HEIGHT - 130
        for lines in column:
            y = _draw_lines(pdf, x, y, lines, 10) - 8
    _notes(pdf, COLUMN_NOTES, x=60, size=7)
    pdf.showPage()
    pdf.save()
    return path


def write_item_then_table_docx(path: Path) -> Path:
    """Numbered paragraphs 9. to 12., with a table right after item 11."""
    import docx

    document = docx.Document()
    document.add_heading("Well inspections", 1)
    texts = {9: "The inspectors visited forty villages in the spring.",
             10: "Most villages had at least one working well.",
             11: "The wells inspected in each district are listed below.",
             12: "The inspectors will return in the autumn."}
    for number, text in texts.items():
        document.add_paragraph(f"{number}. {text}")
        if number == 11:
            table = document.add_table(rows=1, cols=2)
            table.rows[0].cells[0].text, table.rows[0].cells[1].text = "District", "Wells inspected"
            for district, count in (("Oban", "12"), ("Fort William", "9"), ("Mallaig", "4")):
                row = table.add_row().cells
                row[0].text, row[1].text = district, count
    document.save(str(path))
    return path


def region_rows() -> list[tuple[str, int, int, str]]:
    """25 regions with made-up figures: (region, wells, dry wells, inspection form)."""
    return [(f"Region {n}", 40 + (n * 17) % 61, 3 + (n * 7) % 19, f"Form {n % 9 + 1}-{'ABC'[n % 3]}")
            for n in range(1, 26)]


def write_regions_markdown(path: Path) -> Path:
    lines = ["# Wells by region", "", "The survey counted the wells of every region in 2024.", "",
             "| Region | Wells | Dry wells | Inspection form |", "| --- | ---: | ---: | --- |"]
    lines += [f"| {region} | {wells} | {dry} | {form} |" for region, wells, dry, form in region_rows()]
    lines += ["", "The next survey is planned for 2026.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_regions_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Wells by region", 1)
    document.add_paragraph("The survey counted the wells of every region in 2024.")
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ["Region", "Wells", "Dry wells", "Inspection form"]):
        cell.text = text
    for values in region_rows():
        for cell, value in zip(table.add_row().cells, values):
            cell.text = str(value)
    document.add_paragraph("The next survey is planned for 2026.")
    document.save(str(path))
    return path


FLOWING_NOTES = ["1 Survey of the Regional Water Authority, 2024.", "2 Wells dug by hand before 1950 are not counted."]


def flowing_paragraph(number: int) -> str:
    """A long numbered paragraph of made-up prose (platypus sets it justified over many lines)."""
    return (f"{number}. In district {number} the inspectors walked from well to well along the old drove roads, "
            "measuring the depth of the water, the state of the lining and the height of the parapet, and "
            "asking the families who drew from each well how far they had carried water in the driest "
            f"month{'<super>1</super>' if number == 2 else ''}; their answers ranged from a few steps to "
            "an hour's walk, and where a well had failed the nearest working one was noted with its distance "
            f"and the path that led to it{'<super>2</super>' if number == 3 else ''}.")


def write_flowing_notes_pdf(path: Path, paragraphs: int = 12) -> Path:
    """A report laid out by platypus (another origin than the canvas PDFs above): a title, justified
    11 pt numbered paragraphs with superscript marks, which platypus splits across page breaks
    where they fall, and footnotes (8 pt) drawn at the foot of page 1 with the page number."""
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], alignment=TA_JUSTIFY, fontSize=11, leading=14,
                          spaceAfter=8)
    story = [Paragraph("District survey of hand-dug wells", base["Title"])]
    story += [Paragraph(flowing_paragraph(n), body) for n in range(1, paragraphs + 1)]

    def foot(canvas, document) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        if document.page == 1:
            canvas.setFont("Helvetica", 8)
            for offset, note in enumerate(FLOWING_NOTES):
                canvas.drawString(72, 70 - 11 * offset, note)
        canvas.setFont("Helvetica", 9)
        canvas.drawCentredString(A4_WIDTH / 2, 30, str(document.page))
        canvas.restoreState()

    SimpleDocTemplate(str(path), pagesize=(A4_WIDTH, A4_HEIGHT), bottomMargin=130, topMargin=72).build(
        story, onFirstPage=foot, onLaterPages=foot)
    return path

"""Documents of the kinds users bring, written by the tests (reportlab, python-docx, plain strings).

Each writer returns the path it wrote; the texts are made up here. What each document
should read as is noted beside it and asserted in the tests that use it.
"""

from __future__ import annotations

from pathlib import Path

# The paragraph, as four hand-set lines: two words split by line-end hyphens.
HYPHENATED = ["The survey team showed remarkable capabili-", "ties in mapping the northern delta, and the",
              "new equip-", "ment arrived on time."]
HARBOUR_HEAD = "HARBOUR AUTHORITY - INTERNAL BULLETIN"
HARBOUR_FOOT = "Harbour Authority bulletin   page {n} of {total}"
HARBOUR_PAGES = [  # page by page: paragraphs, each a list of lines as set
    [HYPHENATED,
     ["The dredger worked through the night to clear the", "approach channel before the spring tides came in."],
     ["3. The Committee asks the harbour master to report on the works by 1 May", "2025."]],
    [["Pilots boarded forty-two vessels in March, and", "none of them reported a delay at the outer buoy."],
     ["The fuel jetty was inspected by two engineers who", "found corrosion on three of the mooring rings."]],
    [["Fishing licences were renewed for the whole fleet,", "with eleven boats moving to the eastern quay."],
     ["The lighthouse lens was cleaned and its lamp", "replaced with a lower-power model in June."]],
]


def write_bulletin_pdf(path: Path, line_factor: float = 1.5, word_space: float = 3.0) -> Path:
    """A 3-page bulletin set line by line (canvas): running head and foot on every page, lines
    `line_factor` spaced, words spread as justified text does, paragraphs apart by a larger gap."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for number, paragraphs in enumerate(HARBOUR_PAGES, start=1):
        pdf.setFont("Helvetica-Bold", 9)
        pdf.drawString(72, height - 40, HARBOUR_HEAD)
        y = height - 110
        for lines in paragraphs:
            for line in lines:
                text = pdf.beginText(72, y)
                text.setFont("Helvetica", 11)
                text.setWordSpace(word_space if line is not lines[-1] else 0)
                text.textLine(line)
                pdf.drawText(text)
                y -= 11 * 1.2 * line_factor
            y -= 16
        pdf.setFont("Helvetica", 8)
        pdf.drawString(72, 30, HARBOUR_FOOT.format(n=number, total=len(HARBOUR_PAGES)))
        pdf.showPage()
    pdf.save()
    return path


WATER_PARAGRAPHS = [  # a flowing report (platypus), one page a region; numbered paragraphs
    "The Ministry of Water presents its review of {region}, where the reservoirs held more water than in "
    "any of the five years before and no town had its supply cut for longer than a day.",
    "Three treatment plants of {region} were rebuilt. The plant at {town} now filters twice the volume it did, "
    "and the others were fitted with ultraviolet disinfection.",
    "The Ministry asks the board of {region} to report on leakage in its network by 1 May 2025, with "
    "figures for each district and the length of pipe replaced.",
    "Complaints about the taste of tap water in {town} fell by a third after the chlorination schedule changed.",
]
WATER_REGIONS = [("the northern region", "Kestrel Bridge"), ("the coastal region", "Orwell Mill"),
                 ("the mountain region", "High Ashby"), ("the lake district", "Wenmere")]


def write_water_pdf(path: Path, pages: int = 3) -> Path:
    """A report laid out by platypus: justified 1.5-spaced paragraphs with first-line indents, a
    header from page 2 on and a centred page number "- N -" at the foot of every page."""
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], alignment=TA_JUSTIFY, fontSize=10, leading=18,
                          firstLineIndent=18, spaceBefore=0, spaceAfter=0)
    story = [Paragraph("Annual review of the water supply", base["Title"])]
    for page in range(pages):
        region, town = WATER_REGIONS[page % len(WATER_REGIONS)]
        for slot, text in enumerate(WATER_PARAGRAPHS):
            story.append(Paragraph(f"{4 * page + slot + 1}. {text.format(region=region, town=town)}", body))
        if page < pages - 1:
            story.append(PageBreak())

    def furniture(canvas, document) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        if document.page > 1:
            canvas.drawString(72, A4[1] - 36, "Ministry of Water - Annual review")
        canvas.drawCentredString(A4[0] / 2, 24, f"- {document.page} -")
        canvas.restoreState()

    SimpleDocTemplate(str(path), pagesize=A4, title="Microsoft Word - review.docx",
                      author="(anonymous)").build(story, onFirstPage=furniture, onLaterPages=furniture)
    return path


UN_HEADER = ["United Nations", "CAT/C/ABC/CO/2", "Distr.: General", "8 June 2023", "Original: English"]


def write_un_pdf(path: Path) -> Path:
    """A UN-style document whose header states its date; its metadata title is a placeholder."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle("untitled")
    y = A4[1] - 60
    for line in UN_HEADER:
        pdf.setFont("Helvetica", 10)
        pdf.drawString(360, y, line)
        y -= 14
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, y - 30, "Concluding observations on Abcland")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, y - 70, "1. The Committee considered the second periodic report of Abcland.")
    pdf.showPage()
    pdf.save()
    return path


def write_tenancy_docx(path: Path, title: str = "") -> Path:
    """The issue's document: a heading, an introduction and three "List Number" items (1., 2., 3.)."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading("Tenancy conditions", 1)
    document.add_paragraph("The tenant of the flat at 4 Mill Lane agrees to the conditions below.")
    for item in ["The rent is paid on the first day of every month.",
                 "Pets may be kept only with the landlord's written consent.",
                 "Either party may end the tenancy with two months' notice in writing."]:
        document.add_paragraph(item, style="List Number")
    document.save(str(path))
    return path


W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _level(ilvl: int, fmt: str, text: str, start: int = 1, extra: str = "") -> str:
    return (f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>{extra}'
            f'<w:lvlText w:val="{text}"/></w:lvl>')


def write_clauses_docx(path: Path) -> Path:
    """Numbering written into numbering.xml by hand: a three-level list (1. / (a) / i)), a style
    that numbers its paragraphs ("Clause", based on a numbered style), a second list of the same
    definition restarted at 5 by a startOverride, an upper-Roman list and legal numbering (2.1).

    Word shows, in order (asserted in the tests):
    I. Parties / II. Premises / 1. The landlord lets the flat. / (a) with its furniture; /
    (b) with the garden; / i) front; / ii) back; / 2. The tenant takes it. / (a) as seen. /
    5. Restarted clause. / 6. Next clause. / 1. Legal top. / 1.1 Legal first. / 1.2 Legal second. /
    Not numbered at all.
    """
    import docx
    from docx.oxml import parse_xml
    from docx.shared import Pt

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {W_NS} w:abstractNumId="90">'
        + _level(0, "decimal", "%1.") + _level(1, "lowerLetter", "(%2)") + _level(2, "lowerRoman", "%3)")
        + "</w:abstractNum>"))
    numbering.insert(0, parse_xml(f'<w:abstractNum {W_NS} w:abstractNumId="91">'
                                  + _level(0, "upperRoman", "%1.") + "</w:abstractNum>"))
    numbering.insert(0, parse_xml(f'<w:abstractNum {W_NS} w:abstractNumId="92">'
                                  + _level(0, "decimal", "%1.") + _level(1, "lowerLetter", "%1.%2", extra="<w:isLgl/>")
                                  + "</w:abstractNum>"))
    numbering.append(parse_xml(f'<w:num {W_NS} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    numbering.append(parse_xml(f'<w:num {W_NS} w:numId="91"><w:abstractNumId w:val="91"/></w:num>'))
    numbering.append(parse_xml(f'<w:num {W_NS} w:numId="93"><w:abstractNumId w:val="90"/>'
                               '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride></w:num>'))
    numbering.append(parse_xml(f'<w:num {W_NS} w:numId="92"><w:abstractNumId w:val="92"/></w:num>'))
    numbered = document.styles.add_style("Numbered", 1)
    numbered.element.get_or_add_pPr().append(parse_xml(f'<w:numPr {W_NS}><w:numId w:val="90"/></w:numPr>'))
    clause = document.styles.add_style("Clause", 1)
    clause.base_style = numbered
    clause.font.size = Pt(11)

    def add(text: str, num: str | None = None, level: int | None = None, style: str | None = None) -> None:
        paragraph = document.add_paragraph(text, style=style)
        if num is not None:
            xml = f'<w:numPr {W_NS}>' + (f'<w:ilvl w:val="{level}"/>' if level is not None else "")
            paragraph._p.get_or_add_pPr().append(parse_xml(xml + f'<w:numId w:val="{num}"/></w:numPr>'))

    add("Parties", "91")
    add("Premises", "91")
    add("The landlord lets the flat.", style="Clause")
    add("with its furniture;", "90", 1)
    add("with the garden;", "90", 1)
    add("front;", "90", 2)
    add("back;", "90", 2)
    add("The tenant takes it.", style="Clause")
    add("as seen.", "90", 1)
    add("Restarted clause.", "93", 0)
    add("Next clause.", "93", 0)
    add("Legal top.", "92", 0)
    add("Legal first.", "92", 1)
    add("Legal second.", "92", 1)
    add("Not numbered at all.", "0")
    document.save(str(path))
    return path


DISTRICTS = ["Aktobe", "Atyrau", "Karaganda", "Kostanay", "Pavlodar", "Semey", "Shymkent", "Taraz", "Turkestan",
             "Oral", "Zhezkazgan", "Kokshetau", "Petropavl", "Ekibastuz", "Temirtau", "Rudny", "Balkhash",
             "Zhanaozen", "Kyzylorda", "Oskemen", "Aralsk", "Baikonur", "Kentau", "Satpayev", "Stepnogorsk",
             "Lisakovsk", "Arkalyk", "Shchuchinsk", "Aksu", "Kulsary"]


def table_rows() -> list[tuple[str, int, int]]:
    """30 districts with made-up figures: (district, cases filed, convictions)."""
    return [(name, 11 + 7 * i, 2 + (5 * i) % 9) for i, name in enumerate(DISTRICTS)]


def write_table_markdown(path: Path) -> Path:
    lines = ["# Cases by district", "", "The prosecutor's office counted the cases filed in 2023.", "",
             "| District | Cases filed | Convictions |", "| --- | ---: | ---: |"]
    lines += [f"| {name} | {cases} | {convictions} |" for name, cases, convictions in table_rows()]
    lines += ["", "Figures for 2024 will follow in the spring.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_table_html(path: Path) -> Path:
    rows = "".join(f"<tr><td>{n}</td><td>{c}</td><td>{v}</td></tr>" for n, c, v in table_rows())
    path.write_text(
        "<!doctype html><html lang='en'><head><title>Untitled Document</title></head><body><main>"
        "<h1>Cases by district</h1><p>The prosecutor's office counted the cases filed in 2023 in every "
        "district of the region, with the convictions that followed.</p>"
        "<table><thead><tr><th>District</th><th>Cases filed</th><th>Convictions</th></tr></thead>"
        f"<tbody>{rows}</tbody></table><p>Figures for 2024 will follow in the spring.</p></main></body></html>",
        encoding="utf-8")
    return path


def write_table_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Document1"
    document.add_heading("Cases by district", 1)
    table = document.add_table(rows=1, cols=3)
    for cell, text in zip(table.rows[0].cells, ["District", "Cases filed", "Convictions"]):
        cell.text = text
    for name, cases, convictions in table_rows():
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = name, str(cases), str(convictions)
    document.add_paragraph("Figures for 2024 will follow in the spring.")
    document.save(str(path))
    return path


RUSSIAN = ("# Доклад комиссии\n\nКомиссия рассмотрела сорок две жалобы заключённых и направила свои "
           "выводы в министерство юстиции.\n\nВ трёх исправительных колониях были проведены внеплановые "
           "проверки условий содержания.\n")

LIST_LIKE = ("The board met on 3 March. Its decisions follow, as minuted by the clerk\n"
             "2025.\n"
             "1) the budget was approved;\n"
             "* the auditors were thanked;\n"
             "# of votes: 12 for, 0 against\n"
             "+ one abstention was noted\n"
             "> the chair closed at 5 pm\n"
             "C:\\minutes\\2025\\march.txt holds the __full__ record, with <b>bold</b> and `code`;\n"
             "fees rose from $$5 to $$7 a page &amp; ~strikethrough~ stays.\n\n"
             "| not | a table |\n|---|---|\n| in | plain text |\n\n"
             "3. Third item.\n\n7. Seventh item, numbered as the board numbers it.\n")

MARKDOWN_LISTS = ("# Minutes\n\n3. The third point was taken **first**.\n4. The fourth followed.\n\n"
                  "1. One\n1. One again\n1. And once more\n\n7) Seventh, in parentheses.\n\n"
                  "- a dash item\n+ a plus item\n")


INDENTED = [  # (first-line x offset, further lines' x offset, lines): no extra space between paragraphs
    (24, 0, ["The inspectors arrived at the northern prison on a Monday and asked to see",
             "the punishment cells, which the governor said were no longer used."]),
    (24, 0, ["They found two men held there without any record of a decision, and the",
             "governor could not say who had ordered it or for how long."]),
    (0, 24, ["1. The inspectors recommend that every placement in a punishment cell be",
             "recorded with its reason, its length and the name of the officer who ordered it."]),
    (0, 24, ["2. The inspectors recommend that a doctor see every person held in such a cell",
             "within a day of the placement, and record what was found."]),
]


def write_indented_pdf(path: Path) -> Path:
    """Paragraphs told apart by indentation only: two with first-line indents, then two numbered
    paragraphs with hanging indents, all at one line spacing."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Times-Roman", 11)
    y = A4[1] - 100
    for first, rest, lines in INDENTED:
        for number, line in enumerate(lines):
            pdf.drawString(72 + (first if number == 0 else rest), y, line)
            y -= 13.5
    pdf.showPage()
    pdf.save()
    return path


FOOTNOTED = ["The Committee notes the report of the State party{1} and the information it gave on the "
             "investigation of the events in the capital, where the police used force against protesters.",
             "It regrets that no officer{2} was charged and asks for the findings of the inquiry by the next "
             "session, with the number of complaints received and how each was decided."]


def write_footnoted_pdf(path: Path) -> Path:
    """Paragraphs with superscript footnote marks inside lines (platypus <super>), which make some
    lines taller than others of the same paragraph."""
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    style = ParagraphStyle("body", parent=getSampleStyleSheet()["BodyText"], fontSize=10, leading=12,
                           spaceBefore=6)
    story = [Paragraph(text.format(*(f"<super>{n}</super>" for n in range(3))), style) for text in FOOTNOTED]
    SimpleDocTemplate(str(path)).build(story)
    return path


def write_list_docx(path: Path, fmt: str, text: str, start: int = 1) -> Path:
    """An introduction and four items of a one-level list whose numbers Word writes as `text` in
    `fmt` ("%1)" in decimal: 1), 2), ...), starting at `start`."""
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(f'<w:abstractNum {W_NS} w:abstractNumId="80">'
                                  + _level(0, fmt, text, start) + "</w:abstractNum>"))
    numbering.append(parse_xml(f'<w:num {W_NS} w:numId="80"><w:abstractNumId w:val="80"/></w:num>'))
    document.add_paragraph("The inspectors recommend the following measures.")
    for item in ["Record every placement in a punishment cell.", "Let a doctor see every detainee within a day.",
                 "Install cameras in every interrogation room.", "Publish the findings every year."]:
        paragraph = document.add_paragraph(item)
        paragraph._p.get_or_add_pPr().append(parse_xml(f'<w:numPr {W_NS}><w:numId w:val="80"/></w:numPr>'))
    document.save(str(path))
    return path

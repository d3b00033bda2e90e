"""Test documents written by the tests themselves, with libraries made for each format.

A "report" has numbered paragraphs spread over pages; each paragraph states one distinct
fact, so a question about any of them has exactly one right passage. Nothing here is
third-party text: the sentences are generated from the small vocabularies below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TOPICS = [
    ("prison inspections", "independent monitors visited {n} prisons without notice"),
    ("legal aid", "free legal aid reached {n} detainees in rural districts"),
    ("medical examinations", "doctors documented injuries of {n} people using the Istanbul Protocol"),
    ("compensation", "courts awarded compensation to {n} families of victims"),
    ("training", "{n} police officers completed training on the prohibition of torture"),
    ("complaints", "the ombudsman registered {n} complaints about ill-treatment in custody"),
    ("juvenile justice", "{n} children were moved from adult facilities to juvenile centres"),
    ("asylum", "the migration service reviewed {n} asylum claims of people at risk of refoulement"),
    ("video recording", "interrogation rooms in {n} police stations were fitted with video recording"),
    ("prosecutions", "prosecutors opened {n} criminal cases against officials for torture"),
]
PLACES = ["Aktobe", "Atyrau", "Karaganda", "Kostanay", "Pavlodar", "Semey", "Shymkent", "Taraz",
          "Turkestan", "Oral", "Zhezkazgan", "Kokshetau", "Petropavl", "Ekibastuz", "Temirtau", "Rudny",
          "Balkhash", "Zhanaozen", "Kyzylorda", "Oskemen"]
NEEDLE = ("The Committee is alarmed that the pre-trial detention centre in Ridder kept its cells "
          "without any heating through the winter of 2022, and that two detainees there suffered frostbite.")


@dataclass(frozen=True)
class Report:
    title: str
    symbol: str
    pages: list[list[tuple[int, str]]]  # per page: (paragraph number, text)

    def page_of(self, needle: str) -> tuple[int, int]:
        """(page, paragraph number) of the paragraph containing `needle`."""
        for page_number, page in enumerate(self.pages, start=1):
            for number, text in page:
                if needle in text:
                    return page_number, number
        raise KeyError(needle)


def make_report(pages: int = 20, per_page: int = 3, needle_page: int = 14, symbol: str = "CAT/C/XYZ/CO/4",
                title: str = "Concluding observations on the fourth periodic report of Xyzland") -> Report:
    """Numbered paragraphs, `per_page` to a page, the needle sentence on `needle_page`."""
    content: list[list[tuple[int, str]]] = []
    number = 1
    for page in range(1, pages + 1):
        paragraphs = []
        for slot in range(per_page):
            topic, fact = TOPICS[(number - 1) % len(TOPICS)]
            place = PLACES[(number - 1) % len(PLACES)]
            text = (f"Regarding {topic} in {place}, the Committee notes that "
                    f"{fact.format(n=number * 7 + 3)} during the reporting period.")
            if page == needle_page and slot == 1:
                text = NEEDLE
            paragraphs.append((number, text))
            number += 1
        content.append(paragraphs)
    return Report(title, symbol, content)


def write_pdf(path: Path, report: Report) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    story = [Paragraph(report.symbol, styles["Normal"]), Paragraph(report.title, styles["Title"])]
    for index, page in enumerate(report.pages):
        for number, text in page:
            story.append(Paragraph(f"{number}. {text}", styles["BodyText"]))
        if index < len(report.pages) - 1:
            story.append(PageBreak())
    SimpleDocTemplate(str(path), pagesize=A4, title=report.title, author="Test Committee").build(story)
    return path


def write_docx(path: Path, report: Report) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = report.title
    document.add_paragraph(report.symbol)
    document.add_heading(report.title, level=0)
    for page in report.pages:
        for number, text in page:
            document.add_paragraph(f"{number}. {text}")
    document.save(str(path))
    return path


def write_html(path: Path, report: Report) -> Path:
    from lxml import etree
    from lxml.html import builder as E

    paragraphs = [E.P(f"{number}. {text}") for page in report.pages for number, text in page]
    page = E.HTML(
        E.HEAD(E.TITLE(report.title), E.META(name="date", content="2023-05-12")),
        E.BODY(
            E.NAV(E.A("Home", href="/"), " | ", E.A("News", href="/news"), " | ", E.A("Contact", href="/c")),
            E.E.main(E.H1(report.title), E.P(report.symbol), *paragraphs),
            E.E.footer("Subscribe to our newsletter. Cookie settings. Terms of use."),
        ),
    )
    page.set("lang", "en")
    path.write_bytes(etree.tostring(page, method="html", encoding="utf-8", doctype="<!DOCTYPE html>"))
    return path


def write_markdown(path: Path, report: Report) -> Path:
    lines = [f"# {report.title}", "", report.symbol, ""]
    for page in report.pages:
        for number, text in page:
            lines += [f"{number}. {text}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


WRITERS = {"pdf": write_pdf, "docx": write_docx, "html": write_html, "md": write_markdown}


def scrambled(text: str, seed: int = 7) -> str:
    """`text` as a font with a scrambled encoding puts it in a PDF's text layer: every letter
    mapped to another by one fixed random permutation (the glyphs draw the right shapes; the
    codes under them name the wrong characters), digits and punctuation kept."""
    import random
    import string

    rng = random.Random(seed)
    lower = list(string.ascii_lowercase)
    shuffled = lower[:]
    rng.shuffle(shuffled)
    table = {**dict(zip(lower, shuffled)), **{a.upper(): b.upper() for a, b in zip(lower, shuffled)}}
    return text.translate(str.maketrans(table))


def write_garbled_pdf(path: Path, report: Report) -> Path:
    """The report as a PDF whose text layer is scrambled (see `scrambled`): it opens, it has text,
    and none of its words is a word a reader would search for."""
    garbled = Report(scrambled(report.title), report.symbol,
                     [[(number, scrambled(text)) for number, text in page] for page in report.pages])
    return write_pdf(path, garbled)


def write_scanned_pdf(path: Path, report: Report) -> Path:
    """The report as a scan: each page one image of its paragraphs, no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    for page in report.pages:
        image = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(image)
        y = 120
        for label, text in page:
            for start in range(0, len(text), 90):
                draw.text((100, y), (f"{label}. " if start == 0 else "   ") + text[start : start + 90], fill=0)
                y += 28
            y += 20
        pdf.drawImage(ImageReader(image), 0, 0, *A4)
        pdf.showPage()
    pdf.save()
    return path

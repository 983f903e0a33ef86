"""Real files of the office formats, built by the libraries that write them (not fixtures on disk).

Each builder returns the file's bytes; what they hold is what tests/test_formats.py asks about.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any


def csv_bytes(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    """A CSV file of these rows (the first is the header)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


REVENUE_ROWS = [
    ["Region", "Q3 revenue", "Manager"],
    ["EMEA", "4.2 M", "Amara Okafor"],
    ["APAC", "3.1 M", "Kenji Watanabe"],
    ["Nordics", "1.7 M", "Ingrid Solberg"],
    ["LATAM", "2.4 M", "Lucía Fernández"],
]


def xlsx_bytes() -> bytes:
    """A two-sheet workbook: a budget summary, then office headcount (the second sheet)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    summary = workbook.active
    summary.title = "Budget"
    summary.append(["Department", "Budget 2025", "Share"])
    summary.append(["Marketing", 250000, 0.125])
    summary.append(["Research", 1200000, 0.6])
    summary["C2"].number_format = "0.0%"
    summary["C3"].number_format = "0%"
    headcount = workbook.create_sheet("Headcount")
    headcount.append([])  # the table starts on row 2: rows keep the sheet's own numbers
    headcount.append(["Office", "Engineers", "Opened"])
    headcount.append(["Porto", 18, datetime(2016, 9, 1)])
    headcount.append(["Lisbon", 42, datetime(2019, 4, 15)])
    headcount.append(["Tallinn", 7, datetime(2022, 1, 10)])
    workbook.properties.title = "Operations workbook"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def pptx_bytes() -> bytes:
    """A three-slide deck: a title slide, a slide with speaker notes, a slide with a table."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = "Customer programme 2025"
    first.placeholders[1].text = "Sales kick-off"
    second = deck.slides.add_slide(deck.slide_layouts[1])
    second.shapes.title.text = "Pricing roadmap"
    second.placeholders[1].text_frame.text = "Simplify the price list"
    second.placeholders[1].text_frame.add_paragraph().text = "Retire legacy bundles"
    second.notes_slide.notes_text_frame.text = (
        "Remind the audience that the loyalty discount ends on 31 March 2025."
    )
    third = deck.slides.add_slide(deck.slide_layouts[5])
    third.shapes.title.text = "Support plans"
    table = third.shapes.add_table(3, 3, Inches(1), Inches(2), Inches(8), Inches(2)).table
    plans = [["Plan", "Response time", "Price"], ["Silver", "8 hours", "400 EUR"]]
    plans.append(["Gold", "1 hour", "900 EUR"])
    for row, values in enumerate(plans):
        for column, value in enumerate(values):
            table.cell(row, column).text = value
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def eml_bytes(html_body: bool = False, attachments: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """A saved e-mail about an office move, plain text (or HTML only), with attachments."""
    message = EmailMessage()
    message["Subject"] = "Office move on Friday"
    message["From"] = "Facilities Team <facilities@example.com>"
    message["To"] = "All Staff <staff@example.com>"
    message["Date"] = format_datetime(datetime(2025, 3, 3, 9, 30, tzinfo=UTC))
    body = (
        "Hello all,\n\nThe Lisbon team moves to the fourth floor on Friday. "
        "Please pack your desks by Thursday evening.\n\nFacilities"
    )
    if html_body:
        paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
        message.set_content(f"<html><body>{paragraphs}</body></html>", subtype="html")
    else:
        message.set_content(body)
    for name, data in attachments:
        maintype, subtype = _content_type(name).split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)


def msg_bytes(
    attachments: Sequence[tuple[str, bytes]] = (), forwarded: bytes | None = None
) -> bytes:
    """The office-move message saved by Outlook (.msg, written by aspose-email-foss), with
    attachments and, given as .msg bytes, a forwarded Outlook message attached."""
    from aspose.email_foss.cfb import CFBReader
    from aspose.email_foss.msg import MapiMessage, MsgDocument, MsgReader, PropertyId

    message = MapiMessage.create(
        "Desk booking after the move",
        "Hello all,\n\nFrom Monday desks on the fourth floor are booked in the Deskly app, "
        "at the latest by 10:00 the day before.\n\nFacilities",
    )
    message.set_property(PropertyId.SENDER_NAME, "Facilities Team")
    message.set_property(PropertyId.SENDER_EMAIL_ADDRESS, "facilities@example.com")
    message.set_property(PropertyId.MESSAGE_DELIVERY_TIME, datetime(2025, 3, 5, 8, 0, tzinfo=UTC))
    message.add_recipient("staff@example.com", display_name="All Staff")
    for name, data in attachments:
        message.add_attachment(name, data, mime_type=_content_type(name))
    if forwarded is not None:
        with MsgReader(CFBReader(forwarded)) as reader:
            inner = MapiMessage.from_msg_document(MsgDocument.from_reader(reader))
        message.add_embedded_message_attachment(inner, filename=f"{inner.subject}.msg")
    return message.to_bytes()


FLOOR_ROWS = [
    ["Floor", "Team", "Desks"],
    ["4", "Lisbon engineering", "38"],
    ["5", "Finance", "22"],
]

PARKING_ROWS = [
    ["Car park", "Spaces", "Opening hours"],
    ["North", "120", "06:00-22:00"],
    ["River", "45", "07:00-19:00"],
]


def _content_type(name: str) -> str:
    if name.endswith(".csv"):
        return "text/csv"
    return "application/octet-stream"


SERVER_ROWS = [
    ["Server", "Owner", "Backup window"],
    ["billing-01", "Finance IT", "02:00-03:00"],
    [
        "wiki-02",
        "Knowledge team, with an on-call rota shared with the intranet group",
        "04:30-05:00",
    ],
    ["mail-03", "Messaging", "01:00-01:45"],
]


def pdf_with_tables() -> bytes:
    """A two-page PDF: page 1 a paragraph in a framed box (a box, not a table); page 2 a
    paragraph, a table ruled on every cell (one cell wrapping over lines), a paragraph, and a
    table ruled only around its columns, as LaTeX draws them: its rows packed in one band."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title="Operations handbook")
    boxed = Table([[Paragraph("Report outages to the service desk before anything else.", body)]])
    boxed.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, colors.black)]))
    ruled = Table(
        [[Paragraph(cell, body) for cell in row] for row in SERVER_ROWS], colWidths=[90, 170, 90]
    )
    ruled.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    packed = Table(
        [
            ["Level", "Meaning", "Response"],
            [
                Paragraph("1<br/>2<br/>3<br/>4", body),
                Paragraph("outage<br/>degraded<br/>minor fault<br/>question", body),
                Paragraph("15 minutes<br/>1 hour<br/>next day<br/>within a week", body),
            ],
        ],
        colWidths=[60, 120, 120],
    )
    packed.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.5, colors.black),
                ("LINEAFTER", (0, 0), (-2, -1), 0.5, colors.black),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
            ]
        )
    )
    story = [
        Paragraph("Operations handbook", styles["Heading1"]),
        boxed,
        PageBreak(),
        Paragraph("Every server is backed up nightly inside the window its owner agreed.", body),
        ruled,
        Paragraph("Backups outside the window need the owner's approval.", body),
        packed,
        Paragraph("Levels are set by the person who takes the call.", body),
    ]
    document.build(story)
    return buffer.getvalue()


def docx_with_table() -> bytes:
    """A Word document whose answer is one cell of a table with a header row."""
    import docx

    document = docx.Document()
    document.add_heading("Staff benefits", level=1)
    document.add_paragraph("Benefits are reviewed every January by the people team.")
    rows = [
        ["Benefit", "Allowance", "Eligible after"],
        ["Gym membership", "35 EUR per month", "3 months"],
        ["Home office kit", "600 EUR once", "Probation"],
        ["Language lessons", "90 EUR per month", "6 months"],
    ]
    table = document.add_table(rows=len(rows), cols=3)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    document.add_paragraph("Claims go through the expenses portal.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


HTML_WITH_TABLE = b"""<html><head><title>Data retention</title></head><body><main>
<h1>Data retention</h1>
<p>Records are deleted when their retention period ends.</p>
<table>
<caption>Retention periods</caption>
<thead><tr><th>Record type</th><th>Retention period</th><th>Owner</th></tr></thead>
<tbody>
<tr><td>Payroll records</td><td>7 years</td><td>Finance</td></tr>
<tr><td>Job applications</td><td>6 months</td><td>Recruiting</td></tr>
<tr><td>Visitor logs</td><td>30 days</td><td>Facilities</td></tr>
</tbody></table>
</main></body></html>"""


def odt_bytes() -> bytes:
    """An OpenDocument text: title, headings, a paragraph, a list, a table with a header row."""
    from odf.dc import Title
    from odf.opendocument import OpenDocumentText
    from odf.text import H, List, ListItem, P

    document = OpenDocumentText()
    document.meta.addElement(Title(text="Travel policy"))
    document.text.addElement(H(outlinelevel=1, text="Travel policy"))
    document.text.addElement(P(text="Book trips through the travel desk."))
    items = List()
    for entry in ("Economy class on flights under six hours", "Rail for trips under 500 km"):
        item = ListItem()
        item.addElement(P(text=entry))
        items.addElement(item)
    document.text.addElement(items)
    document.text.addElement(H(outlinelevel=2, text="Daily allowances"))
    rows = [["City", "Hotel cap", "Meals"], ["Berlin", "160 EUR", "45 EUR"],
            ["Madrid", "140 EUR", "40 EUR"]]  # fmt: skip
    document.text.addElement(odf_table("Allowances", rows, header_row=True))
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def odf_table(name: str, rows: list[list[str]], header_row: bool) -> Any:
    """An OpenDocument table of text cells; the first row in <table:header-rows> if asked."""
    from odf.table import Table, TableCell, TableColumn, TableHeaderRows, TableRow
    from odf.text import P

    table = Table(name=name)
    table.addElement(TableColumn(numbercolumnsrepeated=len(rows[0])))
    header = TableHeaderRows()
    if header_row:
        table.addElement(header)
    for index, values in enumerate(rows):
        row = TableRow()
        for value in values:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            row.addElement(cell)
        (header if header_row and index == 0 else table).addElement(row)
    return table


def ods_bytes() -> bytes:
    """An OpenDocument spreadsheet: a title, two sheets, each with a header row."""
    from odf.dc import Title
    from odf.opendocument import OpenDocumentSpreadsheet

    document = OpenDocumentSpreadsheet()
    document.meta.addElement(Title(text="Fleet register"))
    sheets = {
        "Vans": [["Plate", "Depot", "Next service"], ["KL-204", "Harbour", "2025-05-12"],
                 ["KL-377", "Airport", "2025-07-01"]],
        "Bikes": [["Bike", "Depot", "Battery"], ["E-12", "Station", "500 Wh"]],
    }  # fmt: skip
    for name, rows in sheets.items():
        document.spreadsheet.addElement(odf_table(name, rows, header_row=False))
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def odp_bytes() -> bytes:
    """An OpenDocument presentation: two slides with title frames, one with speaker notes."""
    from odf.draw import Frame, Page, TextBox
    from odf.namespaces import PRESENTATIONNS
    from odf.opendocument import OpenDocumentPresentation
    from odf.presentation import Notes
    from odf.style import MasterPage, PageLayout
    from odf.text import P

    document = OpenDocumentPresentation()
    layout = PageLayout(name="Layout")
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Master", pagelayoutname=layout)
    document.masterstyles.addElement(master)
    slides = [
        ("Onboarding week", ["Day one starts at nine in the lobby."], []),
        ("Equipment", ["Laptops are handed out on day two."],
         ["Mention that monitors are ordered through the service desk."]),
    ]  # fmt: skip

    def frame(kind: str, lines: list[str]) -> Frame:
        """A text frame in the slide's `kind` placeholder (title, outline, notes)."""
        made = Frame(width="20cm", height="8cm", x="1cm", y="1cm")
        made.setAttrNS(PRESENTATIONNS, "class", kind)
        box = TextBox()
        for line in lines:
            box.addElement(P(text=line))
        made.addElement(box)
        return made

    for number, (title, body, notes) in enumerate(slides, start=1):
        page = Page(name=f"page{number}", masterpagename=master)
        page.addElement(frame("title", [title]))
        page.addElement(frame("outline", body))
        if notes:
            holder = Notes()
            holder.addElement(frame("notes", notes))
            page.addElement(holder)
        document.presentation.addElement(page)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


# RTF as a word processor saves it (Windows-1252 escapes, an \\info title, a two-row table).
RTF_BYTES = rb"""{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Times New Roman;}}
{\info{\title Canteen rules}}
{\pard\s1\b\fs32 Canteen rules\par}
{\pard Lunch is served from 12:00 to 14:00 and the caf\'e9 opens at 8:00.\par}
\trowd\cellx2000\cellx4000\cellx6000
\intbl Day\cell Dish\cell Price\cell\row
\trowd\cellx2000\cellx4000\cellx6000
\intbl Thursday\cell Pierogi\cell 6.50 EUR\cell\row
\trowd\cellx2000\cellx4000\cellx6000
\intbl Friday\cell Fish soup\cell 5.80 EUR\cell\row
{\pard Ask the kitchen about allergens.\par}
}"""


def epub_bytes() -> bytes:
    """A two-chapter e-book (ebooklib): the second chapter holds a table."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("field-guide-1")
    book.set_title("Field guide")
    book.set_language("en")
    birds = epub.EpubHtml(title="Birds", file_name="birds.xhtml", lang="en")
    birds.content = "<h1>Birds</h1><p>The robin sings at dawn in every season.</p>"
    trees = epub.EpubHtml(title="Trees", file_name="trees.xhtml", lang="en")
    trees.content = (
        "<h1>Trees</h1><p>Trees of the northern forest.</p><table>"
        "<tr><th>Tree</th><th>Typical height</th><th>Lifespan</th></tr>"
        "<tr><td>Oak</td><td>40 m</td><td>1000 years</td></tr>"
        "<tr><td>Birch</td><td>25 m</td><td>100 years</td></tr></table>"
    )
    for chapter in (birds, trees):
        book.add_item(chapter)
    book.toc = (birds, trees)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", birds, trees]
    buffer = io.BytesIO()
    epub.write_epub(buffer, book, {})
    return buffer.getvalue()

"""Office formats (CSV, XLSX, PPTX, EML) and tables: real files built here, extracted, ingested
with the real pipeline, and asked about the one cell, note or attachment that holds the answer.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from dataclasses import dataclass
from email import policy
from email.mime.message import MIMEMessage
from email.parser import BytesParser
from pathlib import Path

import olefile
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from assistant import Assistant
from assistant.errors import LoadError
from assistant.loaders import SUPPORTED_SUFFIXES, document_from_bytes
from assistant.loaders.tables import header_rows_by_content, spread, table_lines
from assistant.types import Answer, Attachment, Citation, Document
from tests.conftest import REPO, SEEDS, make_settings
from tests.formats import (
    FLOOR_ROWS,
    HTML_WITH_TABLE,
    PARKING_ROWS,
    REVENUE_ROWS,
    RTF_BYTES,
    csv_bytes,
    docx_with_table,
    eml_bytes,
    epub_bytes,
    msg_bytes,
    odp_bytes,
    ods_bytes,
    odt_bytes,
    pdf_with_tables,
    pptx_bytes,
    xlsx_bytes,
)


def load(data: bytes, suffix: str) -> Document:
    return document_from_bytes(data, suffix, f"doc{suffix}", fallback_title="fallback")


def line_of(document: Document, needle: str) -> str:
    (line,) = [line for line in document.text.split("\n") if needle in line]
    return line


# --- extraction -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delimiter", "encoding"), [(",", "utf-8"), (";", "cp1252"), ("\t", "utf-16"), ("|", "utf-8")]
)
def test_csv_rows_carry_their_header_and_row_number(delimiter: str, encoding: str) -> None:
    document = load(csv_bytes(REVENUE_ROWS, delimiter, encoding), ".csv")
    assert document.text.split("\n") == [
        "Row 2: Region: EMEA | Q3 revenue: 4.2 M | Manager: Amara Okafor",
        "Row 3: Region: APAC | Q3 revenue: 3.1 M | Manager: Kenji Watanabe",
        "Row 4: Region: Nordics | Q3 revenue: 1.7 M | Manager: Ingrid Solberg",
        "Row 5: Region: LATAM | Q3 revenue: 2.4 M | Manager: Lucía Fernández",
    ]
    assert document.title == "fallback"  # a CSV has no title of its own: the file name


def test_csv_quoted_cells_empty_cells_and_a_header_only_file() -> None:
    rows = [["Name", "Note", "Phone"], ["Ana", "Line one\nline two, with comma", ""], ["", "", ""]]
    document = load(csv_bytes(rows), ".csv")
    assert document.text == "Row 2: Name: Ana | Note: Line one line two, with comma"
    assert load(b"Name,Note\n", ".csv").text == "Name | Note"
    assert load(csv_bytes(REVENUE_ROWS, "\t"), ".tsv").text.startswith("Row 2: Region: EMEA")


_CELL = st.text(alphabet="abcXYZ019 .,;:\"'|\t\n-", max_size=12)


@given(
    rows=st.integers(2, 4).flatmap(
        lambda n: st.lists(st.lists(_CELL, min_size=n, max_size=n), min_size=1, max_size=6)
    ),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
@example(rows=[["", ""], ["''", ""]], delimiter=",")  # csv.Sniffer took ' for the quote
@example(rows=[["1,5", "2,5"]], delimiter=";")  # decimal commas in a semicolon file
@example(rows=[['say "hi", then', "x"]], delimiter=",")
def test_every_csv_cell_is_extracted_with_its_header(rows: list[list[str]], delimiter: str) -> None:
    """Whatever the cells hold (delimiters, quotes, line breaks), each lands after its header."""
    header = [f"H{i}" for i in range(len(rows[0]))]
    data = csv_bytes([header, *rows], delimiter)
    cells = [(i, " ".join(cell.split())) for row in rows for i, cell in enumerate(row)]
    if not any(text for _, text in cells):
        assert load(data, ".csv").text == " | ".join(header)
        return
    text = load(data, ".csv").text
    for index, cell in cells:
        if cell:
            assert f"H{index}: {cell}" in text


def test_xlsx_sheets_are_headings_and_rows_keep_their_sheet_row_numbers() -> None:
    document = load(xlsx_bytes(), ".xlsx")
    assert document.title == "Operations workbook"
    assert [h.title for h in document.headings] == ["Sheet: Budget", "Sheet: Headcount"]
    lisbon = "Row 4: Office: Lisbon | Engineers: 42 | Opened: 2019-04-15"
    assert line_of(document, "Lisbon") == lisbon
    assert line_of(document, "Marketing") == (
        "Row 2: Department: Marketing | Budget 2025: 250000 | Share: 12.5%"
    )
    assert document.section_at(document.text.index("Lisbon")) == "Sheet: Headcount"
    assert document.section_at(document.text.index("Marketing")) == "Sheet: Budget"


def test_a_sheet_claiming_a_million_rows_by_16384_columns_is_read_by_its_own_cells(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 5 kB workbook whose one far cell sits at XFD1048576 was read as a million rows of
    16,384 cells each (tens of minutes): rows are read as saved now, at most 1024 cells wide."""
    import openpyxl

    from assistant.loaders import xlsx

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Name", "Team"])
    sheet.append(["Ada", "Ops"])
    sheet["XFD1048576"] = "far away"
    buffer = io.BytesIO()
    workbook.save(buffer)
    read = 0
    value_text = xlsx._value_text

    def counted(cell: object) -> str:
        nonlocal read
        read += 1
        if read > 100_000:
            raise AssertionError("read cell by cell through the extent the sheet claims")
        return value_text(cell)

    monkeypatch.setattr(xlsx, "_value_text", counted)
    document = load(buffer.getvalue(), ".xlsx")
    assert line_of(document, "Ada") == "Row 2: Name: Ada | Team: Ops"
    assert "far away" not in document.text  # past the 1024th column (docs/formats.md)
    assert read < 2 * 1024 + 10


def test_pptx_slides_are_pages_with_titles_notes_and_tables() -> None:
    document = load(pptx_bytes(), ".pptx")
    assert document.title == "Customer programme 2025"
    assert [h.title for h in document.headings] == [
        "Slide 1: Customer programme 2025",
        "Slide 2: Pricing roadmap",
        "Speaker notes (slide 2)",
        "Slide 3: Support plans",
    ]
    notes = document.text.index("Remind the audience")
    assert document.page_at(notes) == 2
    assert document.section_at(notes) == "Speaker notes (slide 2)"
    assert document.page_at(document.text.index("Retire legacy bundles")) == 2
    gold = line_of(document, "Gold")
    assert gold == "Plan: Gold | Response time: 1 hour | Price: 900 EUR"
    assert document.page_at(document.text.index(gold)) == 3
    assert document.page_at(0) == 1


def test_eml_headers_body_and_the_names_of_its_attachments() -> None:
    parking = csv_bytes(PARKING_ROWS)
    data = eml_bytes(attachments=[("parking.csv", parking)])
    document = load(data, ".eml")
    assert document.title == "Office move on Friday"
    lines = document.text.split("\n")
    assert lines[:4] == [
        "Office move on Friday",
        "From: Facilities Team <facilities@example.com>",
        "To: All Staff <staff@example.com>",
        "Date: Mon, 03 Mar 2025 09:30:00 +0000",
    ]
    assert "The Lisbon team moves to the fourth floor on Friday." in document.text
    assert lines[-1] == "Attachments: parking.csv"
    assert "North" not in document.text  # the attachment is a document of its own
    assert document.attachments == (Attachment("parking.csv", parking),)


def test_eml_attachments_readable_broken_unread_repeated_and_forwarded() -> None:
    forwarded = eml_bytes(attachments=[("minutes.txt", b"The board met on Tuesday.")])
    message = BytesParser(policy=policy.default).parsebytes(
        eml_bytes(html_body=True, attachments=[("notes.docx", b"PK\x03\x04 broken")])
    )
    message.add_attachment(b"PK\x03\x04 zipped", "application", "zip", filename="archive.zip")
    message.add_attachment(b"second notes", "text", "plain", filename="../notes.docx")
    long_name = "minutes\tof the " + "very " * 1000 + "long meeting.txt"
    message.add_attachment(b"The meeting was long.", "text", "plain", filename=long_name)
    message.attach(MIMEMessage(BytesParser(policy=policy.default).parsebytes(forwarded)))
    document = load(bytes(message), ".eml")
    assert "<p>" not in document.text
    assert "The Lisbon team moves to the fourth floor on Friday." in document.text
    # A name becomes a path's last part: one line, at most 120 characters, its suffix kept.
    short = next(a.name for a in document.attachments if a.name.startswith("minutes"))
    assert short.startswith("minutes of the very very")
    assert short.endswith(".txt")
    assert len(short) <= 120
    assert document.text.endswith(
        f"Attachments: notes.docx, archive.zip, notes (2).docx, {short}, forwarded message.eml"
    )
    # A format the assistant reads is handed on, broken or not (its ingest gives the reason);
    # a zip is only named; a forwarded message is a .eml with its own attachment.
    names = [attachment.name for attachment in document.attachments]
    assert names == ["notes.docx", "notes (2).docx", short, "forwarded message.eml"]
    assert document.attachments[1].data == b"second notes"
    inner = load(document.attachments[3].data, ".eml")
    assert inner.title == "Office move on Friday"
    assert inner.attachments == (Attachment("minutes.txt", b"The board met on Tuesday."),)


def test_msg_is_read_as_a_saved_email_with_a_forwarded_outlook_message() -> None:
    minutes = msg_bytes(attachments=[("minutes.txt", b"The board met on Tuesday.")])
    data = msg_bytes(attachments=[("parking.csv", csv_bytes(PARKING_ROWS))], forwarded=minutes)
    # A real Outlook message: a second, independent reader finds the MAPI property streams.
    ole = olefile.OleFileIO(io.BytesIO(data))
    subject = ole.openstream("__substg1.0_0037001F").read().decode("utf-16-le")
    assert subject == "Desk booking after the move"
    assert ole.exists("__attach_version1.0_#00000000/__substg1.0_37010102")

    document = load(data, ".msg")
    assert document.title == "Desk booking after the move"
    lines = document.text.split("\n")
    assert lines[:4] == [
        "Desk booking after the move",
        "From: Facilities Team <facilities@example.com>",
        "To: All Staff <staff@example.com>",
        "Date: Wed, 05 Mar 2025 08:00:00 +0000",
    ]
    assert "booked in the Deskly app, at the latest by 10:00 the day before." in document.text
    assert lines[-1] == "Attachments: parking.csv, Desk booking after the move.eml"
    parking, forwarded = document.attachments
    assert parking == Attachment("parking.csv", csv_bytes(PARKING_ROWS))
    inner = load(forwarded.data, ".eml")  # handed on as a saved e-mail, with its attachment
    assert "Deskly app" in inner.text
    assert inner.attachments == (Attachment("minutes.txt", b"The board met on Tuesday."),)


def test_docx_table_rows_keep_their_header_cells() -> None:
    document = load(docx_with_table(), ".docx")
    assert line_of(document, "Gym") == (
        "Benefit: Gym membership | Allowance: 35 EUR per month | Eligible after: 3 months"
    )
    assert "Benefit | Allowance" not in document.text  # the header is not a line of its own
    assert document.section_at(document.text.index("Gym")) == "Staff benefits"


def test_docx_merged_cells_are_spread_and_a_huge_span_stays_bounded() -> None:
    """Merged cells read as Word shows them (a vertical merge's text carried down, a horizontal
    one said once in a body row), and a cell claiming to span 100,000 grid columns is read at
    most 1000 wide: twenty such cells in a few kilobytes once kept the loader busy for hours."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    table = document.add_table(rows=4, cols=3)
    for r, values in enumerate([["Site", "Shift", "Lead"], ["Depot", "Early", "Ana"],
                                ["", "Late", "Ben"], ["Port", "Night", "Cy"]]):  # fmt: skip
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    table.cell(1, 0).merge(table.cell(2, 0))  # "Depot" for both shifts
    table.cell(3, 1).merge(table.cell(3, 2))
    wide = document.add_table(rows=2, cols=20)
    wide.cell(0, 0).text = "Zone"
    wide.cell(0, 1).text = "Owner"
    wide.cell(1, 0).text = "far"
    for tc in wide.rows[1]._tr.tc_lst:  # (python-docx itself would read them 2 million wide)
        span = OxmlElement("w:gridSpan")
        span.set(qn("w:val"), "100000")
        tc.get_or_add_tcPr().append(span)
    buffer = io.BytesIO()
    document.save(buffer)
    text = load(buffer.getvalue(), ".docx").text
    assert "Site: Depot | Shift: Late | Lead: Ben" in text.split("\n")
    assert "Site: Port | Shift: Night Cy" in text.split("\n")
    assert "far" in text.split("\n")
    assert len(text) < 10_000
    # The rest of a vertical merge in a table's first row has nothing above it: it reads as
    # empty (python-docx raised, and the whole document failed).
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 1).text = "Owner"
    table.cell(1, 0).text = "Dock"
    table.cell(1, 1).text = "Ana"
    table.rows[0]._tr.tc_lst[0].get_or_add_tcPr().append(OxmlElement("w:vMerge"))
    buffer = io.BytesIO()
    document.save(buffer)
    assert load(buffer.getvalue(), ".docx").text.split("\n")[-1] == "Dock | Ana"


def test_pdf_ruled_tables_become_rows_and_the_rest_keeps_its_text() -> None:
    document = load(pdf_with_tables(), ".pdf")
    lines = document.text.split("\n")
    billing = "Server: billing-01 | Owner: Finance IT | Backup window: 02:00-03:00"
    wiki = (
        "Server: wiki-02 | Owner: Knowledge team, with an on-call rota shared with the intranet"
        " group | Backup window: 04:30-05:00"
    )  # a cell wrapped over printed lines is one cell
    start = lines.index(billing)
    assert lines[start - 1 : start + 4] == [
        "Every server is backed up nightly inside the window its owner agreed.",
        billing,
        wiki,
        "Server: mail-03 | Owner: Messaging | Backup window: 01:00-01:45",
        "Backups outside the window need the owner's approval.",
    ]
    assert document.page_at(document.text.index(billing)) == 2
    # rows packed in one band between column rules: one line per printed row
    assert "Level: 2 | Meaning: degraded | Response: 1 hour" in lines
    assert "Level: 4 | Meaning: question | Response: within a week" in lines
    assert lines[-1] == "Levels are set by the person who takes the call."
    # a framed paragraph is a box, not a table: its sentence is read as it is
    assert "Report outages to the service desk before anything else." in lines
    assert document.page_at(document.text.index("Report outages")) == 1


def test_pdf_without_ruled_tables_reads_as_before() -> None:
    from tests.test_loaders import _pdf

    text = "Region EMEA 4.2 M. Region APAC 3.1 M."
    assert load(_pdf([text]), ".pdf").text == text


def test_html_table_rows_keep_their_header_cells() -> None:
    document = load(HTML_WITH_TABLE, ".html")
    assert line_of(document, "Job applications") == (
        "Record type: Job applications | Retention period: 6 months | Owner: Recruiting"
    )
    assert "Retention periods" in document.text.split("\n")  # the caption, a line of its own


def test_html_merged_cells_and_layout_tables() -> None:
    data = b"""<html><body><table>
    <tr><th rowspan="2">Region</th><th colspan="2">Revenue</th></tr>
    <tr><th>Q3</th><th>Q4</th></tr>
    <tr><td rowspan="2">EMEA</td><td>4.2</td><td>4.8</td></tr>
    <tr><td>3.9</td><td>4.1</td></tr>
    </table>
    <table><tr><td><h2>Layout</h2><p>First block of a page laid out by a table.</p>
    <p>Second block.</p></td></tr></table></body></html>"""
    document = load(data, ".html")
    lines = document.text.split("\n")
    assert lines[:2] == [
        "Region: EMEA | Revenue Q3: 4.2 | Revenue Q4: 4.8",
        "Region: EMEA | Revenue Q3: 3.9 | Revenue Q4: 4.1",
    ]
    assert lines[2:] == ["Layout", "First block of a page laid out by a table.", "Second block."]
    assert [h.title for h in document.headings] == ["Layout"]


def test_merged_cells_span_no_further_than_the_table_and_a_grid_stays_bounded() -> None:
    # A cell spanning past the last row ends there, as a browser ends it.
    assert spread([[("a", 5, 1), ("b", 1, 1)], [("c", 1, 1)]]) == [["a", "b"], ["a", "c"]]
    # Beyond the grid's budget, merged cells are read as single ones.
    wide = spread([[(str(n), 1, 1000) for n in range(300)]])
    assert len(wide[0]) == 200 * 1000 + 100  # the first 200 spread, the rest single
    assert wide[0][:1000] == ["0"] * 1000
    assert wide[0][-1] == "299"
    # Twenty "rowspan=1000 colspan=1000" cells of a two-row table (under a kilobyte of HTML)
    # once asked for gigabytes: under a 512 MiB address-space limit they read in a moment.
    script = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))\n"
        "from assistant.loaders.tables import spread\n"
        "grid = spread([[('x', 1000, 1000)] * 20, [('y', 1, 1)]])\n"
        "print(len(grid), len(grid[0]), len(grid[1]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.split() == ["2", "20000", "20001"]


def test_html_row_headers_are_not_taken_for_a_header_row() -> None:
    data = b"""<html><body><table>
    <tr><th>Name</th><td>Alice Moreau</td></tr>
    <tr><th>Age</th><td>42</td></tr></table>
    <table><tr><td>Item</td><td>Price</td></tr><tr><td>Tea</td><td>2.50</td></tr></table>
    </body></html>"""
    assert load(data, ".html").text.split("\n") == [
        "Name | Alice Moreau",
        "Age | 42",
        "Item: Tea | Price: 2.50",  # no markup: a first row of words over numbers is the header
    ]


def test_odt_headings_lists_and_header_rows() -> None:
    document = load(odt_bytes(), ".odt")
    assert document.title == "Travel policy"
    assert [h.title for h in document.headings] == ["Travel policy", "Daily allowances"]
    assert "Rail for trips under 500 km" in document.text.split("\n")
    madrid = document.text.index("City: Madrid | Hotel cap: 140 EUR | Meals: 40 EUR")
    assert document.section_at(madrid) == "Daily allowances"


def test_ods_sheets_are_headings_and_rows_keep_their_headers() -> None:
    document = load(ods_bytes(), ".ods")
    assert document.title == "Fleet register"
    assert [h.title for h in document.headings] == ["Sheet: Vans", "Sheet: Bikes"]
    airport = "Plate: KL-377 | Depot: Airport | Next service: 2025-07-01"
    assert airport in document.text.split("\n")
    assert document.section_at(document.text.index(airport)) == "Sheet: Vans"
    assert document.section_at(document.text.index("E-12")) == "Sheet: Bikes"


def test_ods_repetitions_are_read_and_bounded() -> None:
    """A repeated row or cell is content said again (two identical rows are two rows), but a
    table's repetitions add at most 10,000 cells: a few kilobytes of cells repeated 100 times
    in rows repeated 100 times once made minutes of work and megabytes of text."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    def sheet(rows: list[tuple[int, list[tuple[str, int]]]]) -> bytes:
        document = OpenDocumentSpreadsheet()
        table = Table(name="Log")
        for repeated, cells in rows:
            row = TableRow(numberrowsrepeated=repeated)
            for text, times in cells:
                cell = TableCell(valuetype="string", numbercolumnsrepeated=times)
                cell.addElement(P(text=text))
                row.addElement(cell)
            table.addElement(row)
        document.spreadsheet.addElement(table)
        buffer = io.BytesIO()
        document.write(buffer)
        return buffer.getvalue()

    small = sheet([(1, [("Shift", 1), ("Crew", 1)]), (2, [("Night", 1), ("B", 1)])])
    assert load(small, ".ods").text.split("\n").count("Night | B") == 2
    many = [(f"c{n}", 100) for n in range(1000)]
    text = load(sheet([(1, many), (100, many)]), ".ods").text
    # The first cells' repetitions spend the 10,000; every cell is still read once, and the
    # second row is not repeated (it was 100 lines and 0.7 million characters).
    assert "c999" in text
    assert len(text.split("\n")) <= 3
    assert len(text) < 100_000


def test_odp_slides_are_pages_with_titles_and_speaker_notes() -> None:
    document = load(odp_bytes(), ".odp")
    assert document.title == "Onboarding week"
    assert [h.title for h in document.headings] == [
        "Slide 1: Onboarding week",
        "Slide 2: Equipment",
        "Speaker notes (slide 2)",
    ]
    notes = document.text.index("monitors are ordered")
    assert document.page_at(notes) == 2
    assert document.section_at(notes) == "Speaker notes (slide 2)"
    assert document.page_at(document.text.index("lobby")) == 1


@pytest.mark.parametrize(("suffix", "kind"), [(".ods", "spreadsheet"), (".odp", "presentation")])
def test_an_opendocument_of_another_kind_is_refused_with_the_reason(suffix: str, kind: str) -> None:
    with pytest.raises(LoadError, match=f"not an OpenDocument {kind}"):
        load(odt_bytes(), suffix)
    with pytest.raises(LoadError, match="not a ZIP package"):
        load(b"plain text", suffix)


def test_rtf_text_title_escapes_and_table_rows() -> None:
    document = load(RTF_BYTES, ".rtf")
    assert document.title == "Canteen rules"
    assert document.text.split("\n") == [
        "Canteen rules",
        "Lunch is served from 12:00 to 14:00 and the café opens at 8:00.",
        "Day: Thursday | Dish: Pierogi | Price: 6.50 EUR",
        "Day: Friday | Dish: Fish soup | Price: 5.80 EUR",
        "Ask the kitchen about allergens.",
    ]
    assert [h.title for h in document.headings] == ["Canteen rules"]


def test_epub_chapters_in_reading_order_without_the_table_of_contents() -> None:
    document = load(epub_bytes(), ".epub")
    assert document.title == "Field guide"
    assert [h.title for h in document.headings] == ["Birds", "Trees"]
    assert document.text.count("Birds") == 1  # the navigation document is not read
    birch = document.text.index("Tree: Birch | Typical height: 25 m | Lifespan: 100 years")
    assert document.section_at(birch) == "Trees"
    assert document.text.index("robin") < birch


def test_table_helpers() -> None:
    grid = spread([[("a", 2, 1), ("b", 1, 2)], [("c", 1, 1), ("d", 1, 1)]])
    assert grid == [["a", "b", "b"], ["a", "c", "d"]]
    # Two columns of words only: terms and descriptions, not a header over rows.
    assert header_rows_by_content([["Owner", "People team"], ["Review", "Yearly"]]) == 0
    assert header_rows_by_content([["Item", "Price"], ["Tea", "2.50"]]) == 1
    assert header_rows_by_content([["1", "2", "3"], ["a", "b", "c"]]) == 0
    assert table_lines([["Item", "Price"], ["Item", "Price"], ["Tea", "2.50"]], 1) == [
        "Item: Tea | Price: 2.50"  # a header repeated inside the table is not a row
    ]


@pytest.mark.parametrize(
    ("suffix", "data", "reason"),
    [
        (".xlsx", b"PK\x03\x04 not a real workbook", "not a valid .xlsx file"),
        (".xlsx", b"plain words, not a workbook", "not a valid .xlsx file"),
        (".pptx", b"PK\x03\x04 not a real deck", "not a valid .pptx file"),
        (".pptx", b"plain words, not a deck", "not a valid .pptx file"),
        (".csv", b"\x00\x01\x02\x03" * 64, "binary content"),
        (".csv", b",,,\n,,\n", "no extractable text"),
        (".eml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not an e-mail message"),
        (".eml", b"just a sentence, no headers\n", "not an e-mail message"),
        (".msg", b"From: someone\n\nplain text saved as .msg", "not an Outlook message"),
        (".msg", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "not a valid .msg file"),
        (".odt", b"PK\x03\x04 not a real document", "not a valid .odt file"),
        (".rtf", b"%PDF-1.4 not rich text", "not a valid .rtf file"),
        (".epub", b"PK\x03\x04 not a real book", "not a valid .epub file"),
    ],
)
def test_broken_files_of_the_new_formats_get_one_line_reasons(
    suffix: str, data: bytes, reason: str
) -> None:
    with pytest.raises(LoadError, match=reason) as raised:
        load(data, suffix)
    assert "\n" not in str(raised.value)


def test_a_zip_that_is_not_the_format_says_so() -> None:
    """A docx renamed to .xlsx (a ZIP, but not a workbook) is refused with the parser's reason."""
    with pytest.raises(LoadError, match="cannot parse xlsx file"):
        load(docx_with_table(), ".xlsx")
    with pytest.raises(LoadError, match=r"\.pptx file \(a ZIP package, but not a slide deck"):
        load(xlsx_bytes(), ".pptx")
    with pytest.raises(LoadError, match="ZIP package, but not an OpenDocument text"):
        load(docx_with_table(), ".odt")
    with pytest.raises(LoadError, match="ZIP package, but not an e-book"):
        load(docx_with_table(), ".epub")


def test_every_new_suffix_is_accepted() -> None:
    assert {
        ".csv",
        ".tsv",
        ".xlsx",
        ".pptx",
        ".eml",
        ".msg",
        ".odt",
        ".rtf",
        ".epub",
    } <= SUPPORTED_SUFFIXES


# --- the real pipeline: ingest, ask, cite -----------------------------------------------------


def access_pdf() -> bytes:
    """A two-page PDF (attached to the office-move message): the answer is on page 2."""
    from tests.test_loaders import _pdf

    return _pdf(
        [
            "Building access during the move. Staff keep using their usual cards.",
            "Visitor badges are collected from the east reception desk until the move ends.",
        ]
    )


@dataclass(frozen=True)
class Office:
    """The seed corpus plus one file of every office format, indexed."""

    corpus: Path
    assistant: Assistant


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    root = tmp_path_factory.mktemp("office")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    files = {
        "revenue.csv": csv_bytes(REVENUE_ROWS),
        "operations.xlsx": xlsx_bytes(),
        "kickoff.pptx": pptx_bytes(),
        "desk-booking.msg": msg_bytes(attachments=[("floors.csv", csv_bytes(FLOOR_ROWS))]),
        "office-move.eml": eml_bytes(
            attachments=[("parking.csv", csv_bytes(PARKING_ROWS)), ("access.pdf", access_pdf())]
        ),
        "benefits.docx": docx_with_table(),
        "retention.html": HTML_WITH_TABLE,
        "travel.odt": odt_bytes(),
        "fleet.ods": ods_bytes(),
        "onboarding.odp": odp_bytes(),
        "canteen.rtf": RTF_BYTES,
        "field-guide.epub": epub_bytes(),
        "operations-handbook.pdf": pdf_with_tables(),
    }
    for name, data in files.items():
        (corpus / name).write_bytes(data)
    assistant = Assistant(make_settings(root / "index"))
    report = assistant.ingest([corpus])
    assert not report.failed, report.failed
    return Office(corpus, assistant)


def _cited(office: Office, answer: Answer, source: str) -> Citation:
    """The first citation of `source`; its quote is exactly the document's extracted span."""
    assert not answer.refused, answer.text
    cited = [c for c in answer.citations if Path(c.source).name == source]
    assert cited, [(c.source, c.quote) for c in answer.citations]
    citation = cited[0]
    record = next(r for r in office.assistant.documents() if r.source == citation.source)
    text = office.assistant.catalog.document_structure(record.doc_id)[0]
    assert citation.quote == text[citation.start : citation.end]
    return citation


@pytest.mark.parametrize(
    ("question", "source", "quoted", "section", "page"),
    [
        (
            "What was the Q3 revenue of the Nordics region?",
            "revenue.csv",
            ["Region: Nordics", "Q3 revenue: 1.7 M"],
            None,
            None,
        ),
        (
            "How many engineers work in the Lisbon office?",
            "operations.xlsx",
            ["Office: Lisbon", "Engineers: 42"],
            "Sheet: Headcount",
            None,
        ),
        (
            "When does the loyalty discount end?",
            "kickoff.pptx",
            ["loyalty discount ends on 31 March 2025"],
            "Speaker notes (slide 2)",
            2,
        ),
        (
            "What is the price of the Gold support plan?",
            "kickoff.pptx",
            ["Plan: Gold", "Price: 900 EUR"],
            "Slide 3: Support plans",
            3,
        ),
        (
            "By when do I have to book a desk on the fourth floor?",
            "desk-booking.msg",
            ["at the latest by 10:00 the day before"],
            "Desk booking after the move",
            None,
        ),
        (
            "How many desks does the Finance team have?",
            "floors.csv",  # attached to desk-booking.msg
            ["Team: Finance", "Desks: 22"],
            None,
            None,
        ),
        (
            "How many spaces does the North car park have?",
            "parking.csv",  # attached to office-move.eml
            ["Car park: North", "Spaces: 120"],
            None,
            None,
        ),
        (
            "Where do visitors collect their badges during the move?",
            "access.pdf",  # attached to office-move.eml: its page is cited
            ["badges are collected from the east reception desk"],
            None,
            2,
        ),
        (
            "What is the allowance for a gym membership?",
            "benefits.docx",
            ["Benefit: Gym membership", "Allowance: 35 EUR per month"],
            "Staff benefits",
            None,
        ),
        (
            "What is the hotel cap in Madrid?",
            "travel.odt",
            ["City: Madrid", "Hotel cap: 140 EUR"],
            "Daily allowances",
            None,
        ),
        (
            "When is the next service of the van at the Airport depot?",
            "fleet.ods",
            ["Depot: Airport", "Next service: 2025-07-01"],
            "Sheet: Vans",
            None,
        ),
        (
            "Where are monitors ordered?",
            "onboarding.odp",
            ["monitors are ordered through the service desk"],
            "Speaker notes (slide 2)",
            2,
        ),
        (
            "How much do the pierogi cost on Thursday?",
            "canteen.rtf",
            ["Day: Thursday", "Dish: Pierogi", "Price: 6.50 EUR"],
            "Canteen rules",
            None,
        ),
        (
            "How long does a birch tree live?",
            "field-guide.epub",
            ["Tree: Birch", "Lifespan: 100 years"],
            "Trees",
            None,
        ),
        (
            "When is the backup window of the billing-01 server?",
            "operations-handbook.pdf",
            ["Server: billing-01", "Backup window: 02:00-03:00"],
            None,
            2,
        ),
        (
            "What is the response time for a degraded service?",
            "operations-handbook.pdf",
            ["Level: 2", "Response: 1 hour"],
            None,
            2,
        ),
        (
            "How long are job applications retained?",
            "retention.html",
            ["Record type: Job applications", "Retention period: 6 months"],
            "Data retention",
            None,
        ),
    ],
)
def test_a_question_about_one_cell_or_note_cites_its_row_and_location(
    office: Office,
    question: str,
    source: str,
    quoted: list[str],
    section: str | None,
    page: int | None,
) -> None:
    answer = office.assistant.ask(question)
    citation = _cited(office, answer, source)
    for part in quoted:
        assert part in citation.quote, citation.quote
    assert citation.section == section
    assert citation.page == page


def test_csv_row_number_is_in_the_quote(office: Office) -> None:
    answer = office.assistant.ask("Who manages the APAC region?")
    citation = _cited(office, answer, "revenue.csv")
    assert citation.quote.startswith("Row 3: Region: APAC")
    assert "Kenji Watanabe" in answer.text

"""Loaders: extracted text, title, headings, pages, and clear errors for bad files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant.errors import LoadError
from assistant.loaders import document_from_bytes, load_document
from assistant.loaders.reflow import runs_on, unwrap_printed
from assistant.text import sentence_spans
from tests.conftest import SEED_FILE

MB = 1_000_000


def load(data: bytes, suffix: str):  # type: ignore[no-untyped-def]
    return document_from_bytes(data, suffix, f"doc{suffix}", fallback_title="fallback")


def test_txt_text_is_the_file_text_with_title_and_headings() -> None:
    document = load_document(SEED_FILE, "seed.txt", 50 * MB)
    assert document.text == SEED_FILE.read_text(encoding="utf-8")
    assert document.title.startswith("Beijing’s Crypto Crackdown")
    titles = [h.title for h in document.headings]
    assert "Stablecoin Shutdown" in titles
    offset = document.text.index("The forced suspension")
    assert document.section_at(offset) == "Stablecoin Shutdown"


def test_markdown_headings_ignore_code_fences() -> None:
    data = b"# Guide\n\nIntro text.\n\n```\n# not a heading\n```\n\n## Install\n\nRun it.\n"
    document = load(data, ".md")
    assert document.title == "Guide"
    assert [h.title for h in document.headings] == ["Guide", "Install"]
    assert document.section_at(document.text.index("Run it")) == "Install"
    rendered = "Guide\n\nIntro text.\n\n```\n# not a heading\n```\n\nInstall\n\nRun it.\n"
    assert document.text == rendered
    for heading in document.headings:
        assert document.text[heading.offset :].startswith(heading.title)


def test_html_keeps_main_content_headings_and_terms() -> None:
    data = b"""<html><head><title>Page &amp; Title</title><script>var x = 1;</script></head>
    <body><nav>Home | About</nav><main>
    <h1>Main heading</h1><p>First   paragraph
    with <b>bold</b> words.</p>
    <dl><dt>math.gcd(*integers)<a class="headerlink">\xc2\xb6</a></dt>
    <dd><p>Return the greatest common divisor.</p></dd></dl>
    <table><tr><td>cell one</td><td>cell two</td></tr></table>
    </main><footer class="footer">copyright</footer></body></html>"""
    document = load(data, ".html")
    assert document.title == "Page & Title"
    assert "First paragraph with bold words." in document.text
    assert "var x" not in document.text
    assert "Home | About" not in document.text
    assert "¶" not in document.text
    assert "copyright" not in document.text
    assert "cell one" in document.text
    assert "cell two" in document.text
    kinds = {h.title: h.kind for h in document.headings}
    assert kinds == {"Main heading": "heading", "math.gcd(*integers)": "term"}
    offset = document.text.index("Return the greatest")
    assert document.section_at(offset) == "math.gcd(*integers)"


def test_a_defined_term_stands_over_its_description_not_the_text_after_its_list() -> None:
    # A manual's option list, then the section's prose: the prose stands under the section's
    # heading, not under the list's last term (an answer read "source-address-v6: This file,
    # if installed as ..."). A nested list's terms end with it; the outer term goes on.
    data = b"""<html><body><h2>Controls</h2><p>Options:</p>
    <dl><dt>port</dt><dd><p>The port to listen on.</p>
      <dl><dt>tls</dt><dd>Encrypts the channel.</dd></dl>
      <p>Defaults to 953.</p></dd>
    <dt>source-address-v6</dt><dd>The address to send from.</dd></dl>
    <p>This file, if installed, allows the reload command.</p>
    <dl><dt>last</dt><dd>A list closing the page.</dd></dl></body></html>"""
    document = load(data, ".html")
    text = document.text

    def section(words: str) -> str | None:
        return document.section_at(text.index(words))

    assert section("Options:") == "Controls"
    assert section("The port to listen") == "port"
    assert section("Encrypts the channel") == "tls"
    assert section("Defaults to 953") == "port"
    assert section("The address to send") == "source-address-v6"
    assert section("This file, if installed") == "Controls"
    assert section("A list closing") == "last"
    assert section(text[-3:]) == "last"
    ends = {h.title: h.end for h in document.headings}
    assert ends["Controls"] is None
    assert ends["tls"] == text.index("Defaults to 953")
    assert ends["source-address-v6"] == text.index("This file, if installed")


def test_html_drops_permalinks_drawn_with_an_icon_font() -> None:
    # A Sphinx theme's permalink is a private use glyph (U+F0C1, a link icon) after each
    # heading and term: without the font it is no text, and it must not stick to the names.
    data = (
        '<html><body><main><h2>Zone transfers<a class="headerlink" href="#zt">\uf0c1</a></h2>'
        '<dl><dt>transfers-in<a href="#t-in" title="Permalink to this definition">\uf0c1</a>'
        "</dt><dd><p>Limits the number of concurrent inbound zone transfers.</p></dd></dl>"
        "<p>Keys \ue000 in running text stay as written.</p></main></body></html>"
    ).encode()
    document = load(data, ".html")
    assert "\uf0c1" not in document.text
    assert [h.title for h in document.headings] == ["Zone transfers", "transfers-in"]
    assert "transfers-in\nLimits the number" in document.text
    assert "Keys \ue000 in running text" in document.text


def _pdf(pages: list[str], justified: bool = False, password: str | None = None) -> bytes:
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    buffer = io.BytesIO()
    encrypt = None
    if password:
        from reportlab.lib import pdfencrypt

        encrypt = pdfencrypt.StandardEncryption(password, canPrint=0)
    document = SimpleDocTemplate(buffer, pagesize=A4, title="Test PDF", encrypt=encrypt)
    style = getSampleStyleSheet()["BodyText"]
    if justified:
        style.alignment = TA_JUSTIFY
    story = []
    for number, text in enumerate(pages):
        if number:
            story.append(PageBreak())
        story.append(Paragraph(text, style))
    document.build(story)
    return buffer.getvalue()


def test_pdf_pages_and_offsets() -> None:
    data = _pdf(["Alpha page text about apples.", "Beta page text about bananas."])
    document = load(data, ".pdf")
    assert document.title == "Test PDF"
    assert len(document.page_starts) == 2
    assert document.page_at(document.text.index("Alpha")) == 1
    assert document.page_at(document.text.index("bananas")) == 2


def test_pdf_justified_lines_keep_spaces_between_words() -> None:
    sentence = (
        "Tightly justified lines in narrow columns stretch the spacing between words so "
        "that extraction must not glue neighbouring words together into one token. "
    )
    document = load(_pdf([sentence * 6], justified=True), ".pdf")
    extracted = set(document.text.replace("-\n", "").split())
    expected = set(sentence.split())
    assert expected <= extracted, f"glued or lost words: {sorted(expected - extracted)}"


def test_encrypted_pdf_is_refused_with_reason() -> None:
    with pytest.raises(LoadError, match="encrypted"):
        load(_pdf(["secret"], password="pw"), ".pdf")


def test_corrupt_pdf_is_refused_with_reason() -> None:
    with pytest.raises(LoadError, match="PDF"):
        load(b"%PDF-1.4\n garbage garbage", ".pdf")


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = "Policy"
    document.add_heading("Travel", level=1)
    document.add_paragraph("Book flights two weeks ahead.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Economy"
    table.rows[0].cells[1].text = "Under 6 hours"
    document.add_heading("Expenses", level=1)
    document.add_paragraph("Submit receipts within 30 days.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_tables_and_headings() -> None:
    document = load(_docx(), ".docx")
    assert document.title == "Policy"
    assert [h.title for h in document.headings] == ["Travel", "Expenses"]
    assert "Economy" in document.text
    assert "Under 6 hours" in document.text
    assert document.section_at(document.text.index("Submit receipts")) == "Expenses"


def test_corrupt_docx_is_refused() -> None:
    with pytest.raises(LoadError, match="docx"):
        load(b"this is not a zip file at all", ".docx")


@pytest.mark.parametrize(
    ("data", "suffix", "reason"),
    [
        (b"", ".txt", "empty"),
        (b"   \n\t ", ".md", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", ".txt", "binary"),
        (bytes(range(1, 9)) * 50, ".txt", "binary"),
        (b"<html><body><script>x()</script></body></html>", ".html", "no extractable text"),
    ],
)
def test_bad_files_raise_load_error(data: bytes, suffix: str, reason: str) -> None:
    with pytest.raises(LoadError, match=reason):
        load(data, suffix)


def test_non_utf8_text_is_decoded() -> None:
    text = "Café crème brûlée à la carte, naïve façade.\n" * 3
    document = load(text.encode("cp1252"), ".txt")
    assert "Café crème brûlée" in document.text
    utf16 = load(text.encode("utf-16"), ".txt")
    assert utf16.text.startswith("Café")


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 300_000)
    with pytest.raises(LoadError, match="too large"):
        load_document(path, "big.txt", max_bytes=MB)


DOCBOOK_PAGE = b"""<html><head><title>18.4. Kernel Resources</title></head><body>
<div class="navheader"><table summary="Navigation header">
<tr><th colspan="3">18.4. Kernel Resources</th></tr>
<tr><td><a accesskey="p" href="a.html">Prev</a></td><th>Chapter 18. Server Setup</th>
<td><a accesskey="n" href="c.html">Next</a></td></tr></table><hr/></div>
<div class="sect1"><h2>18.4. Kernel Resources</h2>
<p>The server needs shared memory for its buffers.</p>
<div class="sidebar"><p>Linux overcommits memory unless told otherwise.</p></div>
<div class="note"><h3>Note</h3><p>Set vm.overcommit_memory to 2 on dedicated hosts.</p></div>
<div class="tip"><p>Huge pages reduce page table overhead.</p></div>
<div class="caution"><p>Never run the server as root.</p></div>
<ul class="links"><li><a href="x">One</a></li><li><a href="y">Two</a></li>
<li><a href="z">Three</a></li><li><a href="w">Four</a></li></ul>
</div>
<footer>Copyright 2024 The Group</footer>
<div class="navfooter"><a rel="prev" href="a.html">Prev</a> <a rel="up" href="b.html">Up</a>
<a rel="next" href="c.html">Next</a></div>
</body></html>"""


def test_boilerplate_is_found_by_structure_and_boxed_content_is_kept() -> None:
    from assistant.loaders.html import extract

    text = extract(DOCBOOK_PAGE).text
    for kept in ["shared memory", "overcommits memory", "vm.overcommit_memory", "Huge pages",
                 "Never run the server as root", "Note"]:  # fmt: skip
        assert kept in text
    for dropped in ["Prev", "Next", "Chapter 18. Server Setup", "Copyright", "Four"]:
        assert dropped not in text
    assert text.startswith("18.4. Kernel Resources")


def test_a_definition_list_of_links_is_a_contents_list_not_terms_and_a_glossary_stays() -> None:
    from assistant.loaders.html import extract

    page = b"""<html><body><h2>30.2. Data Checksums</h2>
<div class="toc"><dl class="toc"><dt><span class="sect2"><a href="checksums.html#OFF">30.2.1.
Off-line Enabling of Checksums</a></span></dt></dl></div>
<p>By default, data pages are not protected by checksums.</p>
<h3 id="OFF">30.2.1. Off-line Enabling of Checksums</h3><p>Use pg_checksums.</p>
<dl><dt><a href="glossary.html#wal">WAL</a></dt><dd>The write-ahead log.</dd></dl>
</body></html>"""
    extracted = extract(page)
    text = extracted.text
    # The contents entry is a line of text, not a defined term heading the page's opening
    # paragraph: that stands under the page's own heading.
    assert "30.2. Data Checksums\n30.2.1. Off-line Enabling of Checksums\nBy default" in text
    assert not any(h.kind == "term" and "Off-line" in h.title for h in extracted.headings)
    opening = text.index("By default")
    heading = max((h for h in extracted.headings if h.offset <= opening), key=lambda h: h.offset)
    assert heading.title == "30.2. Data Checksums"
    # A linked term with its description is a glossary entry: a term, kept.
    assert "WAL\nThe write-ahead log." in text
    assert any(h.kind == "term" and h.title == "WAL" for h in extracted.headings)


# Soft line wraps (loaders/reflow.py): a printed paragraph's lines are one paragraph again.


def test_pdf_paragraph_wrapped_over_lines_reads_as_whole_sentences() -> None:
    sentence = (
        "When reading two-digit years the values from sixty-nine to ninety-nine refer to the "
        "twentieth century while the values below refer to the twenty-first century. "
    )
    story = ["Reading dates", sentence * 3, "Another heading", "A short closing line."]
    document = load(_pdf(story), ".pdf")
    text = document.text
    start = text.index("When reading")
    spans = sentence_spans(text, start, text.index("Another heading"))
    assert len(spans) == 3  # three sentences, not one per printed line
    assert text[spans[0][0] : spans[0][1]] == sentence.strip()
    # A short line (a heading) keeps its own line, and pages keep their offsets.
    assert "\nAnother heading\n" in text
    assert document.page_at(text.index("A short closing")) == 4


def test_pdf_list_lines_and_prompts_are_not_joined() -> None:
    assert (
        unwrap_printed(
            "Gnuplot accepts the following options on the command line with these settings\n"
            "-V, --version\n"
            "-p --persist keeps the plot window open after the program exits, which some users\n"
            "> plot sin(x)\n",
            width=80,
        ).count("\n")
        == 4
    )


# A PDF manual's definitions, in an indented column whose lines stop short of the page's full
# width: sentences run over the breaks the layout alone cannot tell from a writer's.
PRINTED = (
    "pair[] intersect(path p, path q);\n"
    "returns the times where the two paths meet. Otherwise, an empty\n"
    "array is returned. The function int delete(string s) deletes a file. Unless the\n"
    "--globalwrite option is enabled, the file must reside in the current directory.\n"
    "The routine counts the elements of the array, in every dimension, unless the\n"
    "option flat is given, in which case only the first dimension is\n"
    "counted at all.\n"
    "To turn compression on, pass one of the three values of the\n"
    "following options:\n"
    "show style line\n"
    "default sets all line style parameters to those of the linetype.\n"
    "Set the value with an assignment such as\n"
    "x = the new value of the setting\n"
    "- a list item\n"
    "The next line is code, indented by two spaces or more, as in\n"
    "  code(line);\n"
    "The code pages are listed in the following table with all their names\n"
    "cp852 codepage for OS/2, Central and Eastern Europe.\n"
    "Byte order is given by one of these keywords, as in the list\n"
    "big: greatest significance to least significance.\n"
    "void draw(picture pic=currentpicture, pen p=currentpen, arrowbar\n"
    "arrow=None, int[] divisor=new int[], bool end=true, bool begin,\n"
    "To override the default tick label format (defaultformat, initially\n"
    '"$%.4g$"), pass a format string.\n'
    "-bw convert all colors to black and white for the printed edition\n"
    "-cd sets the current directory, on the command line only.\n"
)


def test_a_sentence_cut_by_a_short_printed_line_runs_on_over_the_break() -> None:
    joined = unwrap_printed(PRINTED, width=200, run_on=True)
    assert len(joined) == len(PRINTED)  # one space for one break: offsets stay true
    lines = joined.split("\n")
    for sentence in (
        "Otherwise, an empty array is returned.",
        "Unless the --globalwrite option is enabled, the file must reside in the current",
        "unless the option flat is given, in which case only the first dimension is counted at "
        "all.",
        "pass one of the three values of the following options:",
        'initially "$%.4g$"), pass a format string.',  # a quoted value carries the sentence on
    ):
        assert any(sentence in line for line in lines), sentence
    # A syntax line, what follows a finished sentence, an assignment, a list item, code, a
    # table's entry, a labelled entry and a signature's parameters keep their own lines.
    for line in ("show style line", "x = the new value of the setting", "- a list item",
                 "  code(line);", "pair[] intersect(path p, path q);",
                 "cp852 codepage for OS/2, Central and Eastern Europe.",
                 "big: greatest significance to least significance.",
                 "arrow=None, int[] divisor=new int[], bool end=true, bool begin,",
                 "-cd sets the current directory, on the command line only."):  # fmt: skip
        assert line in lines, line
    assert "default sets all" in lines[lines.index("show style line") + 1]
    # Only where the caller asks (a PDF's lines are printed; a text file's are the writer's).
    assert unwrap_printed(PRINTED, width=200) == PRINTED
    # A line the caller keeps (a heading's, a table row's) keeps its break, whatever its shape.
    cut = PRINTED.index("unless the\noption flat") + len("unless the")
    number = PRINTED[:cut].count("\n")
    assert joined[cut] == " "
    assert unwrap_printed(PRINTED, width=200, run_on=True, kept={number})[cut] == "\n"


_CUT = "The routine counts the elements of the array, unless the"
_GOES_ON = "option flat is given, in which case it stops."


@pytest.mark.parametrize(
    ("line", "following", "joined"),
    [
        (_CUT, _GOES_ON, True),
        # Each case below fails one condition only.
        ("The routine counts the elements of the array here.", _GOES_ON, False),  # finished
        ("counts the elements, unless", _GOES_ON, False),  # a few words: a syntax line, a label
        (_CUT, "Option flat is given, in which case it stops.", False),  # not carried on
        (_CUT, "option flat is given in which case it stops", False),  # no stop, comma or colon
        ("the routine counts the elements of the array, unless the", "the " + _GOES_ON, False),
        ("The value $HOME or ${XDG} is read at the start, unless the", _GOES_ON, False),
        (_CUT, "a) option flat is given, in which case it stops.", False),  # a list item
        (_CUT, "option = flat, in which case it stops.", False),  # an assignment
        (_CUT, "  " + _GOES_ON, False),  # indented: code
        ("The routine counts the following three elements", _GOES_ON, False),  # a lead-in
        ("The routine counts the elements as follows", _GOES_ON, False),  # a lead-in
        ("The routine counts what the following single", _GOES_ON, True),  # the noun goes on
        ("The routine counts each amplitude that falls below", _GOES_ON, True),  # a preposition
        ("It counts elements following the order of the", _GOES_ON, True),  # a preposition
        (
            "The routine resets the attributes to their defaults",
            "swap (swab): given, and so on.",
            False,
        ),  # a label, an alias
        (_CUT, "option (flat): given, in which case it stops.", True),  # "the" goes on
        ("The filter's coefficients are then computed", "as follows:", True),  # no label
        ("The routine resets the attributes to their defaults", "foreground color:", False),
        (_CUT, "following options:", True),  # not a label alone: "the" goes on
        (_CUT, "groff -p -mpic file, in which case it stops.", False),  # two options: a command
        (_CUT, "access graph as graph2d;", False),  # a few words and ";": a statement
        (_CUT, "option flat gets given again;", True),  # five words and ";": prose
        ("The routine counts the elements of the array, unless", "the " + _GOES_ON, True),
    ],
)
def test_each_condition_of_a_run_on_decides(line: str, following: str, joined: bool) -> None:
    assert runs_on(line, following) is joined


def test_pdf_a_sentence_runs_on_over_a_short_line_but_not_out_of_a_heading() -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    title = "Deleting the files that a script wrote"
    lines = [
        _FULL + "one, and then the",
        title,
        "unless the option is set, which is rarely done by anyone on the team.",
        _FULL + "two.",
        "The function delete(string s) deletes a file. Unless the",
        "--globalwrite option is enabled, the file must reside in the current directory.",
        _FULL + "three.",
    ]
    pdf.bookmarkPage("p0")
    pdf.addOutlineEntry(title, "p0", level=0)
    for row, line in enumerate(lines):
        pdf.drawString(72, 760 - 14 * row, line)
    pdf.showPage()
    pdf.save()
    document = load(buffer.getvalue(), ".pdf")
    assert [h.title for h in document.headings] == [title]
    # Neither a full line before it nor a run-on after it is joined to a heading's line.
    assert f"one, and then the\n{title}\nunless the option" in document.text
    assert (
        "Unless the --globalwrite option is enabled, the file must reside in the current "
        "directory." in document.text
    )


def test_hard_wrapped_text_file_is_unwrapped_in_place() -> None:
    paragraph = (
        "The archive keeps every version of a record for seven years, after which the\n"
        "oldest versions are removed by the nightly job unless a legal hold applies to\n"
        "the record in question.\n"
    )
    data = ("Retention\n\n" + paragraph * 4 + "\nDeletion\n\n" + paragraph * 2).encode()
    document = load(data, ".txt")
    assert len(document.text) == len(data.decode())  # offsets unchanged
    assert "applies to the record" in document.text
    assert "\nDeletion\n" in document.text
    assert [h.title for h in document.headings][:2] == ["Retention", "Deletion"]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_txt_a_sentence_the_next_line_carries_on_is_one_sentence(newline: bytes) -> None:
    # A short file (not hard-wrapped) whose sentence goes on on the next line in lower case:
    # its answer was "Visitors park on level 1 and must [1]".
    lines = [
        b"Parking rules",
        b"",
        b"Staff may park in levels 2 and 3 of the garage.",
        b"Visitors park on level 1 and must",
        b"register their plate at reception.",
        b"",
        b"Electric cars charge for free on level 2.",
    ]
    data = newline.join(lines) + newline
    document = load(data, ".txt")
    assert len(document.text) == len(data.decode())  # offsets are the file's
    sentences = [document.text[s:e] for s, e in sentence_spans(document.text)]
    joined = "must" + " " * len(newline) + "register"
    assert f"Visitors park on level 1 and {joined} their plate at reception." in sentences
    assert "Staff may park in levels 2 and 3 of the garage." in sentences


def test_txt_headings_are_underlined_or_short_lines_the_text_does_not_continue() -> None:
    data = (
        b"Release schedule\n----------------\n\n"
        b"The package uses the <major>.<minor>.<maintenance> version numbering\n"
        b"scheme. Before each release there are a few release candidates, which are\n"
        b"tested together. Usually there are two release candidates lasting two weeks.\n\n"
        b"fuzz targets\n============\n\n"
        b"Each target reads bytes from standard input and must never crash on them, so\n"
        b"new inputs are added to the corpus as they are found by the fuzzing service.\n\n"
        b"What:   pg(1) command\nWhy:    use less(1) or more(1) instead of the old pager\n\n"
        b"PAM configuration is distribution specific. This is why upstream ships none\n"
        b"and every distribution writes its own files under /etc/pam.d for each program.\n\n"
        b"Hwclock is a program that runs under Linux and sets and queries the\n"
        b"Hardware Clock, which is often called the Real Time Clock, RTC, or CMOS clock.\n"
    )
    document = load(data, ".txt")
    assert document.title == "Release schedule"
    # The first line of a wrapped paragraph, a field, a line holding a sentence end, and a full
    # line the next one continues are no headings.
    assert [h.title for h in document.headings] == ["Release schedule", "fuzz targets"]
    offset = document.text.index("Usually there are two")
    assert document.section_at(offset) == "Release schedule"
    # A file that opens with a paragraph has no title, however its first line begins.
    opening = data[data.index(b"Hwclock") :] + data[: data.index(b"What:")]
    assert load(opening, ".txt").title == "fallback"  # the file name's, not its first line


def test_markdown_paragraphs_join_but_code_lists_and_tables_stay() -> None:
    data = (
        "# Guide\n\nA paragraph that\nwraps over lines.\n\n"
        "    indented code\n    second code line\n\n"
        "- item one\n  continues\n- item two\n  1. nested first\n  2. nested second\n\n"
        "```toml config-example\nfenced\ncode\n```\n\n"
        "| Setting | Default |\n| - | - |\n| `timeout` | 30 s |\n"
    )
    text = load(data.encode(), ".md").text
    assert "A paragraph that wraps over lines." in text
    assert "- item one continues\n- item two\n  1. nested first\n  2. nested second" in text
    assert "```\nindented code\nsecond code line\n```" in text
    assert "```toml\nfenced\ncode\n```" in text
    assert "Setting: `timeout` | Default: 30 s" in text


def test_html_list_items_are_marked_as_the_markdown_loader_marks_them() -> None:
    html = (
        b"<html><body><main><p>You can do one of two things:</p>"
        b"<ol><li><p>The sane thing. Use a new name.</p></li>"
        b"<li>The insane thing.<ul><li>force <code>-f</code></li><li>tell everyone</li></ul>"
        b"</li></ol><ol start='4'><li>fourth</li><li><pre>make\n  install</pre></li><li></li>"
        b"<li>sixth</li></ol><p>After the list.</p></main></body></html>"
    )
    markdown = (
        b"You can do one of two things:\n\n1. The sane thing. Use a new name.\n"
        b"2. The insane thing.\n   - force -f\n   - tell everyone\n"
    )
    text = load(html, ".html").text
    # The same lines as the Markdown page's (which puts a blank line between blocks).
    assert text.startswith(load(markdown, ".md").text.replace("\n\n", "\n"))
    # A start number counts on over an empty item; code opening an item carries no marker.
    assert "4. fourth\nmake\n  install\n7. sixth\nAfter the list." in text
    # Items numbered in the list's type, as the browser shows them (DocBook's substeps).
    steps = b"<ol><li>Stop it.<ol type='a'><li>Wait.</li><li>Check.</li></ol></li></ol>"
    assert load(steps, ".html").text == "1. Stop it.\n  a. Wait.\n  b. Check."
    roman = b"<ol type='I' start='3'><li>Third</li><li>Fourth</li></ol>"
    assert load(roman, ".html").text == "III. Third\nIV. Fourth"


def test_html_nested_past_any_real_page_is_read_with_every_word() -> None:
    """500 nested <div>s (real pages reach about 20) failed the page: it is read by recursion.
    Past 200 levels an element is read as its text, one line, every word in order."""
    deep = "<div>" * 1000 + "<ul><li>first</li><li>second</li></ul>" + "</div>" * 1000
    page = f"<html><body><main><p>Before.</p>{deep}<p>After.</p></main></body></html>"
    assert load(page.encode(), ".html").text == "Before.\nfirst second\nAfter."
    shallow = "<div>" * 150 + "<ul><li>first</li><li>second</li></ul>" + "</div>" * 150
    assert load(shallow.encode(), ".html").text == "- first\n- second"


def test_markdown_nested_quotes_and_lists_keep_their_words() -> None:
    """A reply quoted 30 deep and an outline 30 levels deep: CommonMark's preset stops reading
    blocks 20 deep, and their words were lost."""

    def lines(markdown: str) -> list[str]:
        return [line for line in load(markdown.encode(), ".md").text.splitlines() if line.strip()]

    assert lines(">" * 30 + " the oldest reply\n\nAfter.\n") == ["the oldest reply", "After."]
    outline = lines("".join("  " * level + f"- level {level}\n" for level in range(30)))
    assert len(outline) == 30
    assert outline[-1] == "  " * 29 + "- level 29"


def test_html_list_numbers_follow_reversed_and_item_values_as_a_browser_shows_them() -> None:
    # A reversed list counts down from its number of items, or from its start.
    countdown = b"<ol reversed><li>Three</li><li>Two</li><li>One</li></ol>"
    assert load(countdown, ".html").text == "3. Three\n2. Two\n1. One"
    from_ten = b"<ol reversed start='10'><li>Ten</li><li>Nine</li></ol>"
    assert load(from_ten, ".html").text == "10. Ten\n9. Nine"
    # An item's value sets its number; the items after it count on from there.
    jumps = b"<ol><li>First</li><li value='5'>Fifth</li><li>Sixth</li></ol>"
    assert load(jumps, ".html").text == "1. First\n5. Fifth\n6. Sixth"
    lettered = b"<ol type='a' reversed><li value='4'>d</li><li>c</li></ol>"
    assert load(lettered, ".html").text == "d. d\nc. c"
    # A value that is no whole number is ignored, as a browser ignores it (a superscript digit
    # is a digit to str.isdigit, and once failed the whole page).
    odd = b"<ol start='x'><li value='two'>One</li><li>Two</li></ol>"
    assert load(odd, ".html").text == "1. One\n2. Two"
    superscript = "<ol start='²'><li value='-³'>One</li><li>Two</li></ol>".encode()
    assert load(superscript, ".html").text == "1. One\n2. Two"


def test_markdown_reads_as_the_rendered_page() -> None:
    data = """---
title: Build configuration
description: How targets are built.
---
Hatchling builds [artifacts](../config/build.md#artifacts) and **wheels**[^1]. { #build }

!!! note "Ignored files"
    Files your VCS ignores are left out.

    Unless they are artifacts.

=== ":octicons-terminal-16: pip"
    Run `pip install hatch` :warning:.

    === "nested"
        ```
        hatch --version
        ```

> [!WARNING]
> Never edit the lock file.

<!-- generated, do not edit -->
<details><summary>More</summary>Old builds are kept.</details>

<figure markdown>
  ![The build page](build.png){ loading=lazy }
  <figcaption>Builds &amp; *targets*</figcaption>
</figure>

Use `#!python import platform` and ![the logo](logo.png).

CI | ![CI - Test](ci.svg){ loading=lazy .off-glb } ![PyPI](pypi.svg){: #pypi role="img" } done
Badges [![PyPI - Version](v.svg){ loading=lazy }](https://pypi.org/p/x) [![Docs](d.svg)](d.md).
See ![the plot](fig.png){#fig:plot width=50%} and :material-clock:{ .lg .middle } **Soon**{ #s }.
Sets are written `{.a}` or ``f(x){.a}`` in code and {x, y} or {n} in prose.
Keep $\\sum_{i=1}^{n}$, {{ .Name }}, "{:.2f}", ${#array}, t={x=1}, Foo{Bar=1} and /u{.json}.

[^1]: Wheels are built by default.
"""
    document = load(data.encode(), ".md")
    text = document.text
    assert document.title == "Build configuration"
    assert text.startswith("How targets are built.\n\n")
    assert "Hatchling builds artifacts and wheels." in text
    assert "Ignored files: Files your VCS ignores are left out.\n\nUnless they" in text
    assert "pip: Run `pip install hatch`." in text  # icons are pictures, not words
    assert "nested\n\n```\nhatch --version\n```" in text  # a tab in a tab, then code
    assert "Warning: Never edit the lock file." in text
    assert "More Old builds are kept." in text
    assert "The build page\nBuilds & targets" in text  # Markdown inside an HTML block
    assert "Use `import platform` and the logo." in text
    assert "CI | CI - Test PyPI done" in text  # the badges' attribute lists are no words
    assert "See the plot and Soon." in text
    assert "Badges ." in text  # a linked image (a badge) is a picture, not words
    assert "Sets are written `{.a}` or `f(x){.a}` in code and {x, y} or {n} in prose." in text
    kept = (
        'Keep $\\sum_{i=1}^{n}$, {{ .Name }}, "{:.2f}", ${#array}, t={x=1}, Foo{Bar=1} and'
        " /u{.json}."
    )
    assert kept in text  # math, templates, format strings and prose are not attribute lists
    assert "Wheels are built by default." in text
    for syntax in ("](", "**", "!!!", "===", "[!", "<!--", "{ #", "[^1]", "loading=", "<fig"):
        assert syntax not in text, syntax


def test_markdown_template_tags_read_as_the_generated_page() -> None:
    # A Jekyll / Eleventy / Hugo handbook page: the tags were read as text, and a link whose
    # target held one did not parse ("[secure written approval]({% page "/approvals" %})").
    data = """---
title: Book travel
---
{% include "step-indicator.html"
steps: travel-steps.first_time_steps %}

{% alert %}
Book at least **two weeks** ahead.
{% endalert %}

1. [Secure written approval]({% page "/travel/approvals" %}) from your supervisor.
2. See the [site rules]({{ site.baseurl }}/rules/) and [the FAQ]({{< ref "faq.md" >}}).

For questions, post in {% slack_channel "travel" %} or
{% slack_channel "tts-travel" "the travel channel" %}.
{% image "_img/concur.png" "the Concur booking screen" %}
A page about templates shows `{% include "x" %}` and {{ page.title }} as they are.

```liquid
{% if user %}Hello{% endif %}
```
"""
    text = load(data.encode(), ".md").text
    assert text.startswith("Book at least two weeks ahead.\n\n1. Secure written approval from")
    assert "2. See the site rules and the FAQ." in text
    assert "For questions, post in travel or the travel channel." in text
    assert "Concur" not in text  # a picture, on a line of its own
    assert 'shows `{% include "x" %}` and {{ page.title }} as they are.' in text
    assert "```liquid\n{% if user %}Hello{% endif %}\n```" in text
    for syntax in ("step-indicator", "alert", "](", "{% page", "site.baseurl", "{{<"):
        assert syntax not in text, syntax


def test_markdown_keeps_no_markup_or_script_of_a_hostile_page() -> None:
    data = (Path(__file__).parent / "corpus" / "hostile" / "zephyr-vault.txt").read_bytes()
    text = load(data, ".md").text
    for visible in ("kept in the blue binder on the third shelf", "through the incident form"):
        assert visible in text
    for markup in ("<script", "__pwned", "onerror", "javascript:", "<iframe", "<svg", "pwned."):
        assert markup not in text, markup


def test_pdf_outline_entries_become_headings_on_the_pages_they_point_to() -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pages = [
        ("Introduction", "1 Introduction", "The tool plots data from files and functions."),
        ("Reading dates", "2.1 Reading dates", "Two-digit years below 69 are in this century."),
    ]
    for number, (outline_title, heading, body) in enumerate(pages):
        pdf.bookmarkPage(f"p{number}")
        pdf.addOutlineEntry(outline_title, f"p{number}", level=0)
        pdf.drawString(72, 760, "Reading dates is covered on page two")  # not the heading
        pdf.drawString(72, 720, heading)
        pdf.drawString(72, 700, body)
        pdf.showPage()
    pdf.save()
    document = load(buffer.getvalue(), ".pdf")
    assert [h.title for h in document.headings] == ["1 Introduction", "2.1 Reading dates"]
    offset = document.text.index("Two-digit years")
    assert document.section_at(offset) == "2.1 Reading dates"
    assert document.page_at(document.headings[1].offset) == 2


def _printed_pages(
    heads: list[str], bodies: list[list[str]], feet: list[str] | None = None
) -> bytes:
    """A PDF whose pages carry a running head (and foot) around printed lines of body text."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for number, (head, lines) in enumerate(zip(heads, bodies, strict=True)):
        pdf.drawString(72, 800, head)
        for row, line in enumerate(lines):
            pdf.drawString(72, 760 - 14 * row, line)
        if feet:
            pdf.drawString(290, 40, feet[number])
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


_FULL = "Every printed line of this manual reaches the right margin of its page "


def test_pdf_running_heads_with_the_page_number_are_dropped_and_a_cut_sentence_goes_on() -> None:
    """A running head ("Chapter 2: Setup 7") is page furniture, found by the printed page
    number (the page's index plus one offset); left in, it was glued to the sentence the page
    goes on with. A sentence a page break cut reads whole; a finished one still ends its page."""
    heads = ["Chapter 2: Setup 7", "8 Widget Manual", "Chapter 2: Setup 9", "10 Widget Manual"]
    bodies = [
        [_FULL + "one.", _FULL + "two, and the spool directory is named in"],
        ["the settings file as spool_dir, read once at start.", _FULL + "three."],
        [_FULL + "four.", "A short line ends the page."],
        ["Seven backups are kept by default.", _FULL + "five."],
    ]
    document = load(_printed_pages(heads, bodies), ".pdf")
    for head in ("Chapter 2", "Widget Manual", "Setup 9"):
        assert head not in document.text, head
    assert "is named in the settings file as spool_dir, read once at start." in document.text
    assert "A short line ends the page.\n\nSeven backups" in document.text
    offset = document.text.index("Seven backups")
    assert document.page_at(offset) == 4
    assert document.page_at(document.text.index("the settings file")) == 2
    assert document.page_at(document.text.index("is named in")) == 1


def test_pdf_a_heading_numbered_like_its_page_stays() -> None:
    """A heading "2 Setup" opening page 2 looks like a running head with its page number;
    the outline names it a heading, so it stays one."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for number in range(1, 5):
        pdf.bookmarkPage(f"p{number}")
        if number == 2:
            pdf.addOutlineEntry("Setup", "p2", level=0)
            pdf.drawString(72, 800, "2 Setup")
        else:  # the number where "2 Setup" has it: the heading is at risk
            pdf.drawString(72, 800, f"{number} Widget Manual")
        pdf.drawString(72, 760, f"Body text of page {number} ends here.")
        pdf.showPage()
    pdf.save()
    document = load(buffer.getvalue(), ".pdf")
    assert "Widget Manual" not in document.text
    assert [h.title for h in document.headings] == ["2 Setup"]
    assert document.page_at(document.headings[0].offset) == 2


@pytest.mark.parametrize("foot", ["{}", "- {} -", "Page {} of 5"])
def test_pdf_page_numbers_in_the_foot_are_dropped_and_lines_at_the_other_edge_stay(
    foot: str,
) -> None:
    """Where the number sits is learnt from the document: here the foot. A numbered step that
    opens page 3 with the page's own number stays, and so does a head that has none."""
    heads = ["Widget Manual"] * 2 + ["3 Restart the service after editing the file."]
    heads += ["Widget Manual"] * 2
    bodies = [[_FULL + f"part {number}."] for number in range(5)]
    feet = [foot.format(number) for number in range(1, 6)]
    document = load(_printed_pages(heads, bodies, feet), ".pdf")
    assert "3 Restart the service after editing the file." in document.text
    assert document.text.count("Widget Manual") == 4
    ends = [*document.page_starts[1:], len(document.text)]
    pages = [document.text[a:b].strip() for a, b in zip(document.page_starts, ends, strict=True)]
    assert [page.rsplit("\n", 1)[-1][-7:] for page in pages] == [
        f"part {number}." for number in range(5)
    ]


def test_pdf_headings_numbered_like_their_pages_in_a_short_paper_stay() -> None:
    """Two pages opening with "2 Method" and "3 Results" are a coincidence, not a running head:
    only a bare number, or a line whose words recur at the edge of other pages, teaches where
    the page number sits."""
    heads = ["A study of spools", "2 Method", "3 Results", "More results", "Discussion"]
    bodies = [[_FULL + f"part {number}."] for number in range(5)]
    feet = [str(number) for number in range(1, 6)]
    document = load(_printed_pages(heads, bodies, feet), ".pdf")
    assert "2 Method\n" in document.text
    assert "3 Results\n" in document.text
    assert not document.text.rstrip().endswith("5")


def test_pdf_a_footnote_numbered_like_its_page_stays_when_heads_carry_the_number() -> None:
    heads = [f"Chapter 1: Setup {number}" for number in range(1, 6)]
    bodies = [[_FULL + f"part {number}."] for number in range(5)]
    bodies[3].append("4 The spool directory is read once at start.")
    document = load(_printed_pages(heads, bodies), ".pdf")
    assert "Chapter 1" not in document.text
    assert "4 The spool directory is read once at start." in document.text


@pytest.mark.parametrize(
    ("openings", "expected"),
    [
        # A head or a capital opens something new: only a lower-case continuation goes on.
        (
            ["Using the spool", "Spool files are read in order."],
            ["named in\n\nUsing the spool\n", "named in\n\nSpool files are read in order."],
        ),
        # A short unfinished lower-case line ("make install") is a command or a label, not the
        # rest of the sentence; a short one that ends the sentence is.
        (
            ["make install", "the settings file."],
            ["named in\n\nmake install\n", "is named in the settings file."],
        ),
        # Code ending like a sentence's tail (a call, an assignment) is code all the same; a
        # short tail in brackets is the sentence's.
        (
            ["plot sin(x)", "the settings file (spool.conf)."],
            ["named in\n\nplot sin(x)\n", "is named in the settings file (spool.conf)."],
        ),
        (["spool = open(path);", "x"], ["named in\n\nspool = open(path);\n"]),
        # ... but a call ending a sentence is the sentence's
        (["the function print().", "x"], ["is named in the function print()."]),
    ],
)
def test_pdf_what_opens_the_next_page_decides_whether_a_sentence_goes_on(
    openings: list[str], expected: list[str]
) -> None:
    """Only a lower-case continuation in a full line, or up to a stop, goes on a sentence that
    the page before left unfinished."""
    heads = ["Widget Manual 1", "Widget Manual 2", "Widget Manual 3"]
    bodies = [
        [_FULL + "one, and the spool directory is named in"],
        [openings[0], _FULL + "two, and the spool directory is named in"],
        [openings[1], _FULL + "three."],
    ]
    document = load(_printed_pages(heads, bodies), ".pdf")
    for text in expected:
        assert text in document.text


def test_pdf_an_outline_heading_opening_a_page_is_not_joined_to_the_last() -> None:
    """A heading in lower case that ends like a sentence ("read.table(file)") opens its page
    as a heading, not as the rest of the sentence the page before left unfinished."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pages = [
        ["Widget Manual 1", _FULL + "one, and the reader is chosen by"],
        ["read.table(file)", _FULL + "two."],
        ["Widget Manual 3", _FULL + "three."],
    ]
    for number, lines in enumerate(pages):
        pdf.bookmarkPage(f"p{number}")
        if number == 1:
            pdf.addOutlineEntry("read.table(file)", "p1", level=0)
        for row, line in enumerate(lines):
            pdf.drawString(72, 800 - 40 * row, line)
        pdf.showPage()
    pdf.save()
    document = load(buffer.getvalue(), ".pdf")
    assert "chosen by\n\nread.table(file)\n" in document.text
    assert [h.title for h in document.headings] == ["read.table(file)"]


def test_pdf_a_table_row_ending_a_page_is_not_joined_to_the_next() -> None:
    """A ruled table's last row at the foot of a page stays a row of its own."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import (
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    style = getSampleStyleSheet()["Normal"]
    prose = "Every printed line of this manual reaches the right margin of its page and goes on. "
    story: list[object] = []
    for _ in range(3):
        story += [Paragraph(prose * 6, style), PageBreak()]
    table = Table(
        [
            ["Option", "Meaning of the option in the configuration of the widget service here"],
            ["spool_dir", "the directory where the widget service keeps the jobs it has not yet"],
        ],
        colWidths=[80, 370],
    )
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    story += [Paragraph(prose * 6, style), Spacer(1, 560), table, PageBreak()]
    story.append(Paragraph("printed, read once at start by the daemon. " + prose * 6, style))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build(
        story,  # type: ignore[arg-type]
        onFirstPage=lambda canvas, doc: canvas.drawString(290, 30, str(doc.page)),
        onLaterPages=lambda canvas, doc: canvas.drawString(290, 30, str(doc.page)),
    )
    document = load(buffer.getvalue(), ".pdf")
    assert "has not yet\n\nprinted, read once" in document.text


def test_pdf_first_lines_without_the_page_number_stay() -> None:
    """A number that opens or ends a page's first line is a page number only when at least
    three pages agree on one offset from their index: step numbers and years stay."""
    heads = ["1 Unpack the archive", "2024 was the first year", "Port 8080 serves it 3"]
    bodies = [["Then run it."], ["Then stop."], ["Then rest."]]
    document = load(_printed_pages(heads, bodies), ".pdf")
    for head in heads:
        assert head in document.text, head


def test_pdf_run_in_headings_and_underscored_outline_titles_become_headings() -> None:
    """A heading that opens a line the paragraph continues on ("Using examples This creates")
    is a heading of its own, and an outline title written with underscores still matches."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.bookmarkPage("p0")
    pdf.addOutlineEntry("Using_examples", "p0", level=0)
    pdf.drawString(72, 760, "Quotes must be double quotes rather than single quotes.")
    pdf.drawString(72, 740, "Using examples This plots the sum of two columns, unless the")
    pdf.drawString(72, 720, "option flat is given, in which case it plots the first.")
    pdf.showPage()
    pdf.save()
    document = load(buffer.getvalue(), ".pdf")
    assert [h.title for h in document.headings] == ["Using examples"]
    # The title is a line of its own; the paragraph after it runs on over the printed break.
    assert "\nUsing examples\nThis plots the sum of two columns, unless the option flat" in (
        document.text
    )
    offset = document.text.index("This plots")
    assert document.section_at(offset) == "Using examples"


def test_a_drawings_words_are_kept_on_a_line_of_their_own() -> None:
    from assistant.loaders.html import extract

    page = b"""<html><body><h1>CREATE INDEX</h1>
<p>The syntax:</p>
<div class="imgcontainer"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 900 230">
<path d="M 2 17 L 30 17"/><text x="74" y="17">CREATE</text><text x="194" y="41">UNIQUE</text>
<text x="307" y="17">INDEX</text><text x="92" y="109">index-name</text>
<text x="193" y="109"><tspan>ON</tspan></text></svg></div>
<p>An icon has no words: <svg viewBox="0 0 8 8"><path d="M0 0h8v8z"/></svg> done.</p>
</body></html>"""
    text = extract(page).text
    assert "The syntax:\nCREATE UNIQUE INDEX index-name ON\n" in text
    assert "An icon has no words: done." in text


@pytest.mark.parametrize(
    ("start", "end", "page"),
    [
        (10, 40, 1),  # inside one page
        (90, 130, 2),  # begins at the foot of page 1, most of it on page 2
        (90, 105, 1),  # most of it on page 1
        (95, 105, 1),  # as much on either: the earlier
        (190, 330, 3),  # over three pages, most on the third
        (250, 260, 3),  # inside the last page
    ],
)
def test_a_quote_over_a_page_break_is_cited_by_the_page_holding_most_of_it(
    start: int, end: int, page: int
) -> None:
    from assistant.citations import citation_for
    from assistant.types import Passage, page_of

    starts = (0, 100, 200)
    assert page_of(starts, start, end) == page
    assert page_of((), start, end) is None
    passage = Passage("c", "d", "manual.pdf", "Manual", "x" * 400, 0, 400, 1.0, page_starts=starts)
    assert citation_for(1, passage, start, end, 1.0).page == page

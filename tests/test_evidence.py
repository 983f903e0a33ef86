"""Evidence windows, question analysis and follow-up rewriting: pure logic on fixed texts."""

from __future__ import annotations

import pytest

from assistant.asked import base_form, described_subject, that_clause
from assistant.backreference import needs_context, refers_back
from assistant.citations import REFUSAL_TEXT
from assistant.condense import condense
from assistant.evidence import window_for
from assistant.fragments import dependent_clause, merge
from assistant.interpret import analyse, focus_clause, specific_terms, uncommon_terms
from assistant.named import answer_name
from assistant.phrases import (
    code_name,
    coordinated_names,
    slipped_from,
    spelled_as,
    topic_phrase,
)
from assistant.reading import in_document
from assistant.text import sentence_spans, with_apostrophes
from assistant.types import Heading, Message, Passage


def passage_of(text: str, headings: tuple[Heading, ...] = (), offset: int = 0) -> Passage:
    """A passage over `text` placed at `offset` of its document, with sentence spans."""
    spans = tuple((s + offset, e + offset) for s, e in sentence_spans(text))
    return Passage(
        chunk_id="d:0",
        doc_id="d",
        source="doc.txt",
        title="Doc",
        text=text,
        start=offset,
        end=offset + len(text),
        score=1.0,
        headings=tuple(Heading(h.offset + offset, h.title, h.kind) for h in headings),
        sentence_spans=spans,
    )


def window_text(passage: Passage, sentence: str) -> str:
    start = passage.text.index(sentence) + passage.start
    window = window_for(passage, start, start + len(sentence))
    assert window.text == passage.text[window.start - passage.start : window.end - passage.start]
    return window.text


def test_a_lead_in_of_a_web_page_takes_the_items_of_its_list() -> None:
    from assistant.loaders.html import extract

    page = (
        b"<html><body><main><p>If others have seen the old tag, you can do one of two things:"
        b"</p><ol><li><p>The sane thing. Admit the mistake and use a different name.</p></li>"
        b"<li><p>The insane thing. Force the tag and tell everyone.</p></li></ol>"
        b"<p>Git does not change tags behind the backs of users, and it should not.</p>"
        b"</main></body></html>"
    )
    passage = passage_of(extract(page).text)
    shown = window_text(passage, "If others have seen the old tag, you can do one of two things:")
    assert shown.endswith("2. The insane thing. Force the tag and tell everyone.")
    assert "behind users" not in shown


def test_the_sentence_that_opens_a_short_list_item_quotes_the_item_whole() -> None:
    text = (
        "Day 1\n"
        "- Arrive at 9:30. Sophie from HR meets you at reception on the 3rd floor.\n"
        "- Collect your laptop. " + "It comes with a charger, a sleeve and a headset. " * 4 + "\n"
        "- Lunch with your team; the company pays.\n"
    )
    passage = passage_of(text, (Heading(0, "Day 1"),))
    assert window_text(passage, "- Arrive at 9:30.") == (
        "- Arrive at 9:30. Sophie from HR meets you at reception on the 3rd floor."
    )
    # Not "expanded", which the ranking rewards in a lead-in that took what it announces:
    # marked, an item grown this way outranked the sentence that answered.
    opening = text.index("- Arrive")
    assert not window_for(passage, opening, opening + len("- Arrive at 9:30.")).expanded
    # Its second sentence alone stays itself, and a long item is quoted sentence by sentence.
    assert window_text(passage, "Sophie from HR meets you at reception on the 3rd floor.") == (
        "Sophie from HR meets you at reception on the 3rd floor."
    )
    assert window_text(passage, "- Collect your laptop.") == "- Collect your laptop."


def test_an_item_that_leads_in_takes_its_command_but_not_the_next_item() -> None:
    text = (
        "Examples\n"
        "- Extract commits between two revisions and apply them on the current branch:\n"
        "$ git format-patch -k --stdout R1..R2 | git am -3 -k\n"
        "- Extract all commits which are in the current branch but not in the origin branch:\n"
        "$ git format-patch origin\n"
    )
    passage = passage_of(text, (Heading(0, "Examples"),))
    shown = window_text(
        passage, "- Extract commits between two revisions and apply them on the current branch:"
    )
    assert shown.endswith("$ git format-patch -k --stdout R1..R2 | git am -3 -k")
    # A nested list under the item is what it announces.
    nested = passage_of("- Pick one of these:\n  - the sane thing\n  - the insane thing\n- Next\n")
    assert window_text(nested, "- Pick one of these:").endswith("  - the insane thing")


def test_a_lead_in_keeps_the_command_it_announces() -> None:
    text = (
        "Backups\n"
        "You can check the archive with the following command:\n"
        "  tar -tzf backup.tar.gz\n"
        "Restoring is described later in this chapter, which covers every case in detail.\n"
    )
    passage = passage_of(text, (Heading(0, "Backups"),), offset=100)
    shown = window_text(passage, "You can check the archive with the following command:")
    assert shown.endswith("tar -tzf backup.tar.gz")
    assert "Restoring" not in shown
    # A short sentence after the code goes on with the text; it is not one of the items.
    done = passage_of("Reload the server with:\n  apachectl graceful\nDone.\n")
    assert window_text(done, "Reload the server with:").endswith("apachectl graceful")
    block = (
        'Add the following block to your configuration:\n<Directory "/">\n    Require all denied\n'
        "</Directory>\nThis will forbid default access to filesystem locations. Add appropriate "
        "blocks to allow access only where you wish. For example,\n"
    )
    shown = window_text(passage_of(block), "Add the following block to your configuration:")
    assert shown.endswith("</Directory>")


def test_a_list_after_a_colon_stays_with_it_and_an_item_finds_its_lead() -> None:
    text = (
        "The field can hold exactly one of the following three items:\n"
        "- a host name\n"
        "- an IP address\n"
        "- the keyword all\n"
        "\n"
        "Other fields follow the same rules and are described in the next section of this page.\n"
    )
    passage = passage_of(text)
    whole = window_text(passage, "The field can hold exactly one of the following three items:")
    assert whole.splitlines()[1:] == ["- a host name", "- an IP address", "- the keyword all"]
    item = window_text(passage, "- an IP address")
    assert item.startswith("The field can hold exactly one")
    assert item.endswith("- an IP address")


def test_a_prompts_command_keeps_what_it_printed() -> None:
    text = (
        "os.path.splitext(path)\n"
        "Split the pathname path into a pair (root, ext).\n"
        "If the path contains no extension, ext will be '':\n"
        ">>> splitext('bar')\n"
        "('bar', '')\n"
        "If the path contains an extension, then ext will be set to this extension, including "
        "the leading period.\n"
    )
    passage = passage_of(text)
    shown = window_text(passage, ">>> splitext('bar')")
    assert (
        shown
        == "If the path contains no extension, ext will be '':\n>>> splitext('bar')\n('bar', '')"
    )
    # The prose after the output is the next topic, as it is for the lead-in's own window.
    assert shown == window_text(passage, "If the path contains no extension, ext will be '':")
    session = (
        "Look the name up on the primary server:\n"
        "$ dig +short @192.168.1.13 example.com.\n"
        "192.0.2.7\n"
        "$ dig +short @192.168.1.14 example.com.\n"
        "192.0.2.8\n"
        "Both servers answer.\n"
    )
    lookup = window_text(passage_of(session), "$ dig +short @192.168.1.13 example.com.")
    assert lookup.splitlines()[1:] == ["$ dig +short @192.168.1.13 example.com.", "192.0.2.7"]
    # A statement that prints nothing ends where the next prompt starts.
    quiet = passage_of("The list is sorted in place:\n>>> data.sort()\n>>> data\n[1, 2, 3]\n")
    assert window_text(quiet, "The list is sorted in place:").endswith("[1, 2, 3]")
    assert window_text(quiet, ">>> data.sort()").endswith(">>> data.sort()")
    # What it printed ends with its block: at the closing fence, or where the indentation
    # of the session ends.
    fenced = passage_of(
        "To verify the install, use the following command.\n\n  ```\n  $ tool --version\n"
        "  1.2.3\n  ```\n\nWindows\n\nGUI installer\n"
    )
    assert window_text(fenced, "$ tool --version").endswith("  1.2.3\n  ```")
    indented = passage_of("Check it:\n    $ tool --version\n    1.2.3\nwindows-x64.msi\n")
    assert window_text(indented, "$ tool --version").endswith("    1.2.3")


def test_a_lead_in_stops_before_the_next_defined_term_unless_it_announces_terms() -> None:
    """The commands a lead-in announces end where the next entry of a definition list
    starts; a lead-in to a list of terms takes the terms."""
    text = (
        "To create a role with login privilege, use either:\nCREATE ROLE name LOGIN;\n"
        "CREATE USER name;\nsuperuser status\nA database superuser bypasses all checks."
    )
    terms = (Heading(text.index("superuser status"), "superuser status", "term"),)
    assert window_text(
        passage_of(text, terms), "To create a role with login privilege, use either:"
    ) == (
        "To create a role with login privilege, use either:\nCREATE ROLE name LOGIN;\n"
        "CREATE USER name;"
    )
    listing = (
        "The general syntax for listening sockets is as follows:\nunix:pathname\ninet:host:port"
    )
    socket_terms = tuple(
        Heading(listing.index(term), term, "term") for term in ("unix:pathname", "inet:host:port")
    )
    assert window_text(
        passage_of(listing, socket_terms), "The general syntax for listening sockets is as follows:"
    ) == ("The general syntax for listening sockets is as follows:\nunix:pathname\ninet:host:port")


def test_a_window_grown_over_code_ends_on_closed_brackets() -> None:
    """A code line taken with its lead-in runs on to the line closing the block it opens; a
    lead-in whose code the size limit would cut open ends at the last closed statement."""
    # The lead-in takes eight lines, the last of which opens a loop: it runs on to its end.
    calls = "".join(f"f{n}();\n" for n in range(7))
    loop = (
        f"Loops allocate a frame in every iteration, so that:\n{calls}"
        "for(int i=0; i < 10; ++i) {\nint x=i;\n}\nf();"
    )
    closed = loop[: loop.index("\nf();")]
    assert (
        window_text(passage_of(loop), "Loops allocate a frame in every iteration, so that:")
        == closed
    )
    assert window_text(passage_of(loop), "for(int i=0; i < 10; ++i) {") == closed
    arguments = "".join(f"    argument_number_{n},\n" for n in range(40))
    # a sentence the splitter ended inside a code line takes the block its line opens
    mirror = 'It is enabled with this configuration:\nzone "." {\n    type mirror;\n};\nDone.'
    assert window_text(passage_of(mirror), 'zone "."') == mirror[: mirror.index("\nDone.")]
    call = f"Call it like this:\nx = 1;\ndraw(picture,\n{arguments}    last);\nDone."
    assert window_text(passage_of(call), "Call it like this:") == "Call it like this:\nx = 1;"


def test_code_cut_out_of_its_statement_is_cut_open() -> None:
    """A window whose code leaves a bracket open, or closes one it never opened, is cut open
    (and never a candidate window); one that holds its statement whole is not."""
    body = "".join(f"    step{n}();\n" for n in range(9))
    text = (
        "The loop below walks every segment of the path and draws it with its own pen.\n"
        f"{body}for(int i=1; i < n; ++i) {{\n    draw(g[i]);\n}}\nDone with the loop.\n"
    )
    passage = passage_of(text)
    opening = text.index("for(int")
    loop_line = "for(int i=1; i < n; ++i) {"
    assert window_for(passage, opening, opening + len(loop_line)).cut_open  # no lead-in in reach
    closing = text.index("}\nDone")
    assert window_for(passage, closing, closing + 1).cut_open
    # A PDF's code, without its indentation: known by its symbols.
    call = 'Draw the grid:\nxaxis("$x$",BottomTop,LeftTicks(begin=false,\nextend=true));\nDone.\n'
    first = passage_of(call)
    whole = window_for(first, 0, call.index("\n"))
    assert whole.text == call[: call.index("\nDone")]
    assert not whole.cut_open
    last = call.index("extend")
    assert window_for(first, last, call.index("\nDone")).cut_open  # closes two it never opened
    # In prose, only a bracket left open cuts a window: "a) ... b)" closes what it never opened.
    prose = "Either a) the interval [0, 1) or b) the whole line is used."
    assert not window_for(passage_of(prose), 0, len(prose)).cut_open
    reflowed = "It fits labels along a path, using the command void labelpath(picture pic, path g,"
    assert window_for(passage_of(reflowed), 0, len(reflowed)).cut_open
    typo = "Raise the tile size maxtile to your screen size (indicated by maxtile=(0,0)."
    assert not window_for(passage_of(typo), 0, len(typo)).cut_open
    # Indented prose is prose, where list labels close no bracket; a signature's last argument
    # is no label ("math.comb(n, k)").
    rfc = "   The client MUST either a) close the connection or b) retry (see Section 3)."
    assert not window_for(passage_of(rfc), 3, len(rfc)).cut_open
    labels = "Set the option (e.g. `ssl=on`) to a) enable or b) disable TLS for the listener."
    assert not window_for(passage_of(labels), 0, len(labels)).cut_open
    signature = "math.comb(n, k)\nReturn the number of ways to choose k items from n items."
    assert not window_for(passage_of(signature), 0, signature.index("\n")).cut_open
    routine = "A hexadecimal string can be converted to a pen with the routine pen rgb(string s);"
    assert not window_for(passage_of(routine), 0, len(routine)).cut_open


def test_a_sentence_ended_inside_a_code_line_is_quoted_with_the_whole_line() -> None:
    text = (
        "4 /etc/postfix/main.cf:\n"
        " 5     relay_domains = . . . the.backed-up.domain.tld\n"
        "That is all you need for a secondary MX host.\n"
    )
    passage = passage_of(text)
    # Indented prose is no code: a sentence ending inside its line keeps its own end.
    rfc = "   The server closes the connection after the timeout. The client then\nretries.\n"
    first = "The server closes the connection after the timeout."
    assert window_text(passage_of(rfc), first) == first
    # The splitter ends a sentence at "= ."; a numbered listing's line finds its lead-in.
    assert window_text(passage, "5     relay_domains = .") == (
        "4 /etc/postfix/main.cf:\n 5     relay_domains = . . . the.backed-up.domain.tld"
    )


def test_a_lead_in_takes_its_fenced_code_block_and_stops_at_the_fence() -> None:
    text = (
        "To verify the install, use the following command.\n"
        "```\n"
        "$ tool --version\n"
        "1.2.3\n"
        "```\n"
        "Windows\n"
        "GUI installer\n"
        "1. Download the installer.\n"
    )
    passage = passage_of(text)
    shown = window_text(passage, "To verify the install, use the following command.")
    assert shown.splitlines()[1:] == ["```", "$ tool --version", "1.2.3", "```"]


def test_a_window_never_opens_a_code_block_it_does_not_close() -> None:
    text = "To verify the install, use the following command.\n```\n$ tool --version\n1.2.3\n```\n"
    passage = passage_of(text)
    whole = "To verify the install, use the following command.\n```\n$ tool --version\n1.2.3\n```"
    # A line of the block takes its lead-in and the block up to the closing fence.
    assert window_text(passage, "$ tool --version") == whole
    # The passage ends inside the block: the lead-in stands alone, announcing what it lacks.
    cut = passage_of(text[: text.index("1.2.3")])
    start = cut.text.index("To verify")
    window = window_for(
        cut, start, start + len("To verify the install, use the following command.")
    )
    assert "```" not in window.text
    assert window.dangling
    assert window_text(cut, "$ tool --version") == "$ tool --version"


def test_fences_follow_commonmark_and_a_passage_inside_a_block_knows_it() -> None:
    # Info strings after the fence, and a longer outer fence holding a shorter inner one.
    bash = passage_of("Install with:\n``` bash\n$ pip install foo\n```\nDone.\n")
    assert window_text(bash, "Install with:").endswith("$ pip install foo\n```")
    nested = passage_of(
        "Write the README like this:\n~~~markdown\n```python\nprint(1)\n```\n~~~\nThat is all.\n"
    )
    assert window_text(nested, "Write the README like this:").endswith("```\n~~~")
    # A chunk that starts inside a block: read alone, its closing fence looks like an opening
    # one; read in its document, the prose after the block is prose again.
    document = (
        'Configure it so:\n```toml\n[tool.demo]\nextend = "defaults.toml"\n```\n'
        "Anytime you update the defaults, run the sync command with the flag:\n"
        "```\ndemo fmt --sync\n```\n"
    )
    start = document.index("extend")
    alone = passage_of(document[start:], offset=start)
    passage = in_document(alone, document)
    lead_in = "Anytime you update the defaults, run the sync command with the flag:"
    shown = window_text(passage, lead_in)
    assert shown == lead_in + "\n```\ndemo fmt --sync\n```"
    assert window_text(passage, 'extend = "defaults.toml"') == 'extend = "defaults.toml"'


def test_a_passage_wholly_inside_a_block_knows_it_and_a_stray_fence_silences_nothing() -> None:
    lines = "".join(f'option_{n} = "value {n}"\n' for n in range(40))
    document = f"Settings:\n```toml\n{lines}```\nThe file is read once at start-up.\n"
    # A chunk of the block's middle lines holds no fence, yet lies inside the block: none of
    # its lines is a window of its own (`Window.inside_block`); the prose after the block is.
    start = document.index("option_10")
    inside = in_document(
        passage_of(document[start : document.index("option_20")], offset=start), document
    )
    (block,) = inside.code_blocks
    assert block == (document.index("```toml"), document.index("```\nThe") + 3)
    assert window_for(inside, start, start + len('option_10 = "value 10"')).inside_block
    after = document.index("The file")
    prose = in_document(passage_of(document[after:], offset=after), document)
    assert not window_for(prose, after, len(document) - 1).inside_block
    # A fence never closed runs to the end for the passage holding it (CommonMark), not for the
    # passages after it: their sentences stay windows.
    stray = "Run it:\n```\n$ tool run\nThen the tool reports. The port defaults to 8080.\n"
    later = stray.index("The port")
    holding = in_document(passage_of(stray), stray)
    assert holding.code_blocks == ((stray.index("```"), len(stray)),)
    after_stray = in_document(passage_of(stray[later:], offset=later), stray)
    assert after_stray.code_blocks == ()
    assert not window_for(after_stray, later, len(stray) - 1).inside_block


def test_a_sentence_after_more_code_than_a_window_holds_stays_alone() -> None:
    text = (
        "The settings look like this, for example\n"
        + "".join(f"  x{i} = {i}\n" for i in range(10))
        + "would set ten values at once.\n"
    )
    passage = passage_of(text)
    assert window_text(passage, "would set ten values at once.") == "would set ten values at once."


def test_a_nested_list_ends_where_the_enclosing_list_goes_on() -> None:
    text = (
        "1. In your browser, download one of the files:\n"
        "  - tool-x64.msi\n"
        "  - tool-x86.msi\n"
        "2. Run your downloaded file and follow the on-screen instructions.\n"
        "3. Restart your terminal.\n"
    )
    passage = passage_of(text)
    shown = window_text(passage, "In your browser, download one of the files:")
    assert shown.endswith("- tool-x86.msi")
    assert "Run your" not in shown


def test_a_sentence_that_goes_on_after_code_starts_where_it_began() -> None:
    text = (
        "The index can name a script as its last resort, for example\n"
        "  DirectoryIndex index.html index.txt /cgi-bin/index.pl\n"
        "would cause the CGI script /cgi-bin/index.pl to be executed if neither file exists.\n"
    )
    passage = passage_of(text)
    shown = window_text(
        passage,
        "would cause the CGI script /cgi-bin/index.pl to be executed if neither file exists.",
    )
    assert shown.startswith("The index can name a script")
    assert shown.endswith("if neither file exists.")
    fenced = (
        "Patterns are matched against the project root, so\n"
        "```toml\n"
        'exclude = ["*.json"]\n'
        "```\n"
        "will exclude every file with a json extension.\n"
    )
    passage = passage_of(fenced)
    shown = window_text(passage, "will exclude every file with a json extension.")
    assert shown.startswith("Patterns are matched")
    # A sentence of its own after code stays as it is.
    plain = "Run this:\n  make all\nThe build takes a minute.\n"
    assert (
        window_text(passage_of(plain), "The build takes a minute.") == "The build takes a minute."
    )


def test_a_comment_in_code_takes_the_code_lines_it_comments() -> None:
    text = (
        "Most frameworks route every request through one script, the front controller.\n"
        "# In .htaccess: route all requests to a front controller\n"
        'RewriteCond "%{REQUEST_FILENAME}" !-f\n'
        'RewriteRule "^(.*)$" "/index.php" [L]\n'
        "Both conditions keep the real files and directories reachable as they always were.\n"
    )
    passage = passage_of(text)
    shown = window_text(passage, "# In .htaccess: route all requests to a front controller")
    assert shown.startswith("# In .htaccess")
    assert shown.endswith('"/index.php" [L]')
    # Its code only: up to the next comment, and never a sentence after it.
    steps = "Build it in two steps.\n# step one\nmake build\n# step two\nmake install\n"
    assert window_text(passage_of(steps), "# step one") == "# step one\nmake build"
    # A comment with no code after it stays as it is, and announces nothing.
    alone = "Run it once.\n# then check the log\nDone.\n"
    start = alone.index("# then")
    window = window_for(passage_of(alone), start, start + len("# then check the log"))
    assert window.text == "# then check the log"
    assert not window.dangling


def test_a_lead_in_stops_before_the_title_of_the_next_box() -> None:
    text = (
        "Enable the workaround for old clients as follows:\n"
        "/etc/postfix/main.cf:\n"
        "    broken_sasl_auth_clients = yes\n"
        "Note\n"
        "Reportedly, some mail clients need a non-standard mechanism that is not enabled here.\n"
        "The log levels are set with one of these words:\n"
        "Error\n"
        "Info\n"
    )
    passage = passage_of(text)
    assert (
        window_text(passage, "Enable the workaround for old clients as follows:")
        == text[: text.index("\nNote")]
    )
    # A list of such words is what its lead-in announces.
    assert window_text(passage, "The log levels are set with one of these words:").endswith(
        "words:\nError\nInfo"
    )


def test_a_lead_in_with_nothing_after_it_is_dangling() -> None:
    text = "Intro sentence here.\nYou can check this with the tool by the following:"
    passage = passage_of(text)
    start = text.index("You can")
    window = window_for(passage, start, len(text))
    assert window.dangling
    assert not window.expanded


def test_a_description_starts_at_the_term_it_defines() -> None:
    text = "math.gcd(*integers)\nReturn the greatest common divisor of the arguments."
    passage = passage_of(text, (Heading(0, "math.gcd(*integers)", "term"),))
    shown = window_text(passage, "Return the greatest common divisor of the arguments.")
    assert shown.startswith("math.gcd(*integers)")


def test_a_short_entry_is_quoted_whole_whichever_sentence_answers() -> None:
    text = (
        "max_workers (integer)\n"
        "Sets how many worker processes may run at once. The default is three.\n"
        "min_idle (integer)\n"
        + "Sets how many idle connections are kept open for later requests. " * 8
        + "The default is one.\n"
    )
    second = text.index("min_idle")
    passage = passage_of(text, (Heading(0, "max_workers (integer)", "term"),
                                Heading(second, "min_idle (integer)", "term")))  # fmt: skip
    assert window_text(passage, "The default is three.") == text[: second - 1]
    # A long entry keeps the sentence (after its term only when it follows it directly).
    assert window_text(passage, "The default is one.") == "The default is one."


def test_a_plain_sentence_is_its_own_window() -> None:
    text = "First sentence is here. The answer is forty-two. Another one follows."
    passage = passage_of(text)
    assert window_text(passage, "The answer is forty-two.") == "The answer is forty-two."


def test_a_faqs_answer_is_quoted_without_its_label() -> None:
    text = "Q: Do I have to pay the bill?\nA: First, verify that the voucher was paid.\n"
    passage = passage_of(text)
    sentence = "A: First, verify that the voucher was paid."
    assert window_text(passage, sentence) == "First, verify that the voucher was paid."
    # Another label ("Note:") is part of what the sentence says, and so is a table's column.
    assert window_text(passage_of("Note: paid.\n"), "Note: paid.") == "Note: paid."
    row = "A: 5 | B: 6"
    assert window_text(passage_of(f"{row}\n"), row) == row


@pytest.mark.parametrize(
    ("question", "focus", "kind"),
    [
        (
            "We moved the wiki to a new host and every old link gives a 404. "
            "What do I set so the old URLs keep working?",
            "What do I set so the old URLs keep working?",
            None,
        ),
        (
            "The app pool opens 150 connections, how many does the server allow by default?",
            "how many does the server allow by default?",
            "number",
        ),
        ("How do I make the chart read dates?", "How do I make the chart read dates?", "procedure"),
        ("Why did the regulator step in?", "Why did the regulator step in?", "reason"),
        # Why, in other words (it had no kind of answer).
        ("How come the build fails?", "How come the build fails?", "reason"),
        # A question word typed without its apostrophe is the question word (it was none): the
        # question is read with it (`with_apostrophes`, as `Assistant.prepare_question` does).
        ("Whats the deadline for claims?", "What's the deadline for claims?", "date"),
        ("whos my contact for payroll?", "who's my contact for payroll?", "person"),
        ("It broke. whats the fix?", "what's the fix?", None),
        ("Who first reported the move?", "Who first reported the move?", "person"),
        ("When was the ban announced?", "When was the ban announced?", "date"),
        ("And since when is it banned?", "And since when is it banned?", "date"),
        ("What year did the ban start?", "What year did the ban start?", "date"),
        # A deadline is a time too (these had no kind of answer).
        ("By when do I file the claim?", "By when do I file the claim?", "date"),
        ("How late can I submit it?", "How late can I submit it?", "date"),
        ("What's the latest I can book?", "What's the latest I can book?", "date"),
        ("What is the deadline for claims?", "What is the deadline for claims?", "date"),
        # An outcome, not a time: "when" opens a condition here.
        ("What happens when a field is assigned?", "What happens when a field is assigned?", None),
        # "What X do ...": a name, as "which X" is; "what is ..." asks for anything.
        ("What flag do I pass to skip it?", "What flag do I pass to skip it?", "name"),
        ("And what command should we run?", "And what command should we run?", "name"),
        ("What is the default port?", "What is the default port?", None),
    ],
)
def test_the_asking_clause_and_the_answer_type(question: str, focus: str, kind: str | None) -> None:
    question = with_apostrophes(question)
    ask = analyse(question)
    assert ask.focus == focus == focus_clause(question)
    assert ask.answer_type == kind


def test_specific_terms_are_names_and_code_not_the_askers_numbers() -> None:
    assert specific_terms("Which OAuth scopes does the admin console need?") == ["oauth"]
    assert "work" in specific_terms("Should I raise `work_mem` for 150 sorts?")
    assert specific_terms("The pool opens 150 connections. What is the limit?") == []
    # A lower-case hyphenated word is English, unless it is an option or quoted.
    assert specific_terms("How do I reference it without hard-coding the path?") == []
    assert specific_terms("Is there a built-in role for auditors?") == []
    assert specific_terms("What does --dry-run print?") == ["dri", "run"]
    assert specific_terms("Does the `graceful-stop` signal wait?") == ["grace", "stop"]
    # "OK" said of something is English, not a name; a label, a status or an option is one.
    assert specific_terms("We ran git reset --hard on main. Is that OK?") == ["hard"]
    assert specific_terms("Is it OK to force-push the shared branch?") == []
    assert specific_terms('Is the "OK" button safe?') == ["ok"]
    assert specific_terms("What does the OK button do?") == ["ok"]
    assert specific_terms("The server answers 200 OK for every request.") == ["ok"]
    assert specific_terms("What does --ok do?") == ["ok"]
    # A short flag is a letter or two every tool uses: the documents need not hold "rf" for
    # "rm -rf" to be answerable; a long option, or a longer short one, still counts.
    assert specific_terms("When I'm done with it, can I just rm -rf that directory?") == []
    assert specific_terms("Isn't '-X ours' the same as '-s ours'?") == []
    assert specific_terms("Does -persist keep the window?") == ["persist"]
    # A month or weekday is the asker's own date, as a number is their figure; a holiday, a
    # quoted word or an acronym still names a thing.
    assert specific_terms("Does my FMLA time reset on January 1 like the rest?") == ["fmla"]
    assert specific_terms("The mail has been stuck since Monday. Why?") == []
    assert specific_terms("When is the Christmas party?") == ["christma"]
    assert specific_terms("What does `MARCH` select?") == ["march"]
    # A path or an address is the asker's own example: the documents need not hold "AnyPage"
    # for "sends /wiki/AnyPage to the new host" to be answerable.
    assert specific_terms("Which directive sends /wiki/AnyPage to the new host?") == []
    assert specific_terms("How do we block dot-files but not /.well-known/?") == []
    assert specific_terms("Is mail to bob@build1.example.com rewritten?") == []
    # A file's own name still counts.
    assert specific_terms("How do I export to requirements.txt?") == ["requir", "txt"]
    assert specific_terms("What does .gitattributes change?") == ["gitattribut"]
    # A file extension named alone is a format the documents must name, as code is.
    assert specific_terms("Which option writes a .pptx file?") == ["pptx"]
    assert specific_terms("Does it read (.xlsx) workbooks?") == ["xlsx"]
    assert specific_terms("Can I convert *.pptx files?") == ["pptx"]
    assert specific_terms("Does it read `.odp` decks?") == ["odp"]
    assert specific_terms("Should I put it in ~/.bashrc?") == ["bashrc"]  # a dotfile too
    assert specific_terms("We use it. Then what?") == []


def test_a_question_without_capitals_names_its_things_by_what_english_lacks() -> None:
    # Typed in lower case, "kubernetes" and "selinux" are no capitalised names: read against
    # the common English words, they are its names (ordinary words, plural or not, are not).
    assert uncommon_terms("how do i run the resolvers on kubernetes with selinux on") == [
        "kubernet",
        "selinux",
    ]
    assert uncommon_terms("whats the cutoff for a voucher, and who signs off on it") == []
    # A common word misspelt is no name ("vaaction", "alerady"); a name stays one.
    assert uncommon_terms("did i alerady lose my vaaction days on gerrit") == ["gerrit"]
    # A word English knows, however rarely, is no misspelling: "linter" is not "linger".
    assert uncommon_terms("does the linter run on every commit") == ["linter"]
    # A sentence's first letter and "I" are capitals by rule, not names.
    assert uncommon_terms("Can I run it on kubernetes? It fails.") == ["kubernet"]
    assert analyse("Can selinux block it?").uncommon_terms == ("selinux",)
    # Code is one of its specific things already; a question that capitalises a name or
    # writes an acronym has its names by case.
    assert uncommon_terms("does pg_dump read ~/.pgpass") == []
    assert uncommon_terms("Can Redis run on kubernetes?") == []
    assert uncommon_terms("Does the API run on kubernetes?") == []


HISTORY = [
    Message(role="user", content="Which companies had to halt their stablecoin plans?"),
    Message(role="assistant", content="Ant Group and JD.com [1]."),
]


@pytest.mark.parametrize(
    ("question", "standalone"),
    [
        ("Why did they do it?", "Why did the companies have to halt their stablecoin plans?"),
        ("What was their reason?", "What was the companies' reason?"),
        ("What about Singapore?", "Which companies had to halt their stablecoin plans, Singapore?"),
        ("Why?", "Why: Which companies had to halt their stablecoin plans?"),
        # "it" that happened is the event asked about, not a thing it named.
        ("When did it happen?", "When did the companies have to halt their stablecoin plans?"),
        # What was reported is that event too ("Who reported Hong Kong?" named a place of it).
        (
            "Who reported it?",
            "Who reported that the companies had to halt their stablecoin plans?",
        ),
        ("Did they report it?", "Did the companies report it?"),  # "they" comes first
    ],
)
def test_follow_ups_resolve_their_reference_without_a_glued_context(
    question: str, standalone: str
) -> None:
    rewritten = condense(question, HISTORY)
    assert rewritten == standalone
    assert "context:" not in rewritten


@pytest.mark.parametrize(
    "asked",
    [
        # "it" was "long": "How often do I have to change long?"
        "How long does my password have to be?",
        # "pasword" was searched for, a word the documents lack: the follow-up was refused.
        "How long does my pasword have to be?",
    ],
)
def test_after_how_long_it_is_the_thing_measured_spelt_as_the_answer_spells_it(
    asked: str,
) -> None:
    history = [
        Message(role="user", content=asked),
        Message(role="assistant", content="- Passwords must be at least 14 characters long [1]."),
    ]
    assert condense("How often do I have to change it?", history) == (
        "How often do I have to change password?"
    )


def test_what_the_answer_names_that_the_question_had_is_not_the_one_asked_for() -> None:
    # "it" was "admin console listens": the answer's subject, which the question had named.
    history = [
        Message(role="user", content="Which port does the admin console listen on?"),
        Message(role="assistant", content="The admin console listens on port 9090 [1]."),
    ]
    assert condense("Can I change it?", history) == "Can I change the port?"
    assert condense("Is it safe to expose it to the internet?", history) == (
        "Is it safe to expose the port to the internet?"
    )


def test_how_asks_for_a_measure_and_names_nothing() -> None:
    assert topic_phrase("How big can an attachment be?") == "attachment"
    assert topic_phrase("How many days of leave do I get?") == "days"


def test_a_slip_is_one_letter_off_never_the_first_nor_in_a_short_word() -> None:
    assert slipped_from("brokrages", ["bridges", "brokerages", "brokers"]) == ["brokerages"]
    assert slipped_from("vaaction", ["vacation", "vocation"]) == ["vacation"]  # swapped
    assert slipped_from("import", ["important"]) == []
    assert slipped_from("rokerages", ["brokerages"]) == []  # its first letter
    assert slipped_from("quic", ["quick"]) == []  # four letters or fewer: a name as often


def test_a_slip_of_one_letter_is_spelt_as_the_answer_spells_it() -> None:
    answer = "Your learning budget is 1,200 EUR."
    assert spelled_as("the learning budjet", answer) == "the learning budget"
    # Another word, not a slip of one letter, stays as typed.
    assert spelled_as("import", "This is important.") == "import"
    assert spelled_as("install", "Run the installer.") == "install"
    assert spelled_as("VPN", "The VPN server.") == "VPN"
    # Two letters apart is another word ("donation" was searched for as "donating"); two
    # letters swapped is one slip.
    assert spelled_as("the leave donation program", "Start donating leave.") == (
        "the leave donation program"
    )
    assert spelled_as("recieve", "You receive a badge.") == "receive"


def test_it_is_the_thing_asked_for_with_what_the_question_said_of_it() -> None:
    donation = one_turn(
        "What form do I fill out to get into the leave donation program?",
        "You complete your part of OPM Form 630 and send it to your supervisor [1].",
    )
    # It was "... decide on the form?": any form.
    assert condense("How long does HR usually take to decide on it?", donation) == (
        "How long does HR usually take to decide on the form that I fill out to get into the "
        "leave donation program?"
    )
    assert described_subject("Which option sets the default timeout?") == (
        "the option that sets the default timeout"
    )
    # Asked with "does" or "did", the verb would need an ending of its own.
    assert described_subject("Which port does the admin console listen on?") == "the port"
    # The subject after the auxiliary goes before it again; another thing there is left out.
    assert described_subject("Which option can I use to skip hooks?") == (
        "the option that I can use to skip hooks"
    )
    assert described_subject("Which port is the console on?") == "the port"


def test_the_event_a_question_asked_about_as_a_clause() -> None:
    assert that_clause("Which regulator ordered the halt?") == "that the regulator ordered the halt"
    assert that_clause("Which companies had to halt it in May?") == (
        "that the companies had to halt it in May"
    )
    # Asked with "did", the verb has no tense of its own (and the noun may be its object).
    assert that_clause("Which companies did Beijing stop?") == ""
    assert that_clause("Who first reported the move?") == ""  # no subject but the answer
    assert that_clause("How do I reset it?") == ""


@pytest.mark.parametrize(
    "question",
    [
        "Who first reported the move by the Hong Kong regulator?",
        "What is the setting that controls the cache size of the server?",
        "Our export runs while users write and it fails with a lock error; which mode helps?",
    ],
)
def test_a_self_contained_question_is_left_alone(question: str) -> None:
    assert not needs_context(question)
    assert condense(question, HISTORY) == question


def test_after_who_they_is_the_one_the_answer_named_and_do_that_is_what_they_did() -> None:
    # The answer names the reporter inside its sentence, after an opening that points back.
    history = [
        Message(role="user", content="Who first reported the move?"),
        Message(
            role="assistant",
            content="This move, first reported by Financial Times, is part of a larger, "
            "two-pronged strategy [1].",
        ),
    ]
    assert condense("Why did they do that?", history) == (
        "Why did Financial Times first report the move?"
    )
    # "first" qualifies the verb: it is no topic ("why did Beijing do first?").
    assert condense("Why did Beijing do that?", history) == (
        "Why did Beijing first report the move?"
    )
    # With no action to stand for, "do that" keeps the whole last question beside it, rather
    # than "do" a thing.
    asked_why = [*history, Message(role="user", content="Why did they do that?"),
                 Message(role="assistant", content="Beijing wants control [1].")]  # fmt: skip
    assert condense("Why did Beijing do that?", asked_why) == (
        "Why did Beijing do that: Why did Financial Times first report the move?"
    )


def test_the_one_an_answer_names_ends_before_its_verb_in_the_past() -> None:
    history = [
        Message(role="user", content="Who first reported the move?"),
        Message(role="assistant", content="The Financial Times first reported the move [1]."),
    ]
    # Not "Did Financial Times first reported report anything else?"
    assert condense("Did it report anything else?", history) == (
        "Did Financial Times report anything else?"
    )


@pytest.mark.parametrize(
    ("asked", "answered", "follow_up", "standalone"),
    [
        # The one asked for is the question's noun when the answer names it by a common word.
        (
            "Which port does PostgreSQL listen on by default?",
            "The default is 5432 [1].",
            "How do I change it?",
            "How do I change the port?",
        ),
        # "they're" is the one named and its verb; "approves or declines" are both verbs.
        (
            "Who approves leave requests?",
            "Your line manager approves or declines the request within three working days [1].",
            "Who covers when they're on holiday?",
            "Who covers when line manager is on holiday?",
        ),
        # "What if ..." adds a condition to the last question, its reference resolved.
        (
            "Who approves leave requests?",
            "Your line manager approves or declines the request within three working days [1].",
            "What if they're on holiday?",
            "Who approves leave requests if line manager is on holiday?",
        ),
        # The last question's own thing stays "it"; "that" is the command the answer gave.
        (
            "How do I undo the last commit?",
            "Use git reset --soft HEAD~1 to undo the commit and keep the changes staged [1].",
            "And if I already pushed it?",
            "How do I undo the last commit if I already pushed it?",
        ),
        (
            "How do I undo the last commit?",
            "Run git reset --soft to undo the commit and keep the changes staged [1].",
            "Will that lose my changes?",
            "Will git reset --soft lose my changes?",
        ),
        # Another kind of the same thing takes its place: not "..., part-time employees?"
        (
            "How many days of annual leave do full-time employees get?",
            "Full-time employees receive 25 days of paid annual leave per calendar year [1].",
            "And part-time employees?",
            "How many days of annual leave do part-time employees get?",
        ),
        # "How many days": the days.
        (
            "How many days can I carry over?",
            "Unused leave of up to 5 days may be carried over into the first quarter [1].",
            "Until when do I have to use them?",
            "Until when do I have to use days?",
        ),
        (
            "How do I reset my password?",
            "Open the self-service portal and choose Forgot password [1].",
            "What if I don't have my phone?",
            "How do I reset my password if I don't have my phone?",
        ),
        # "last updated" is the question's verb, not part of what it asks about.
        (
            "When was the policy last updated?",
            "The policy was last updated in March 2024 [1].",
            "Who updated it?",
            "Who updated policy?",
        ),
    ],
)
def test_follow_ups_point_at_a_thing_not_at_its_verbs(
    asked: str, answered: str, follow_up: str, standalone: str
) -> None:
    history = [Message(role="user", content=asked), Message(role="assistant", content=answered)]
    assert condense(follow_up, history) == standalone


@pytest.mark.parametrize(
    ("previous", "fragment", "merged"),
    [
        ("What is the dress code for the office staff?", "remote staff?",
         "What is the dress code for the remote staff?"),
        ("Which port does the primary database server use?", "standby server?",
         "Which port does the standby server use?"),
        # Only the words right before the head are its kind: "code for" is not.
        ("What is the dress code for staff?", "remote staff?",
         "What is the dress code for staff, remote staff?"),
        ("How many days of annual leave do full-time  employees get?", "part-time employees?",
         "How many days of annual leave do part-time employees get?"),
    ],
)  # fmt: skip
def test_another_kind_of_the_same_thing_takes_its_place(
    previous: str, fragment: str, merged: str
) -> None:
    assert merge(previous, fragment) == merged


@pytest.mark.parametrize(
    ("verb", "bare"),
    [
        ("had", "have"), ("reported", "report"), ("stopped", "stop"), ("added", "add"),
        ("created", "create"), ("treated", "treat"), ("used", "use"), ("enabled", "enable"),
        ("required", "require"), ("applied", "apply"), ("installed", "install"),
        ("uses", "use"), ("pushes", "push"), ("goes", "go"), ("focused", "focus"),
        ("halt", "halt"), ("HTTP", "HTTP"),
    ],
)  # fmt: skip
def test_do_it_takes_the_bare_verb(verb: str, bare: str) -> None:
    assert base_form(verb) == bare


def test_a_follow_up_of_a_follow_up_keeps_the_first_topic() -> None:
    history = [
        Message(role="user", content="How do I raise the connection limit on the primary?"),
        Message(role="assistant", content="Set max_connections [1]."),
        Message(role="user", content="And on a replica?"),
        Message(role="assistant", content="It must be at least the primary's value [1]."),
    ]
    rewritten = condense("Does it need a restart?", history)
    assert "connection limit" in rewritten
    assert rewritten.endswith("need a restart?")


def test_the_same_pronoun_again_points_at_the_same_thing() -> None:
    history = [
        Message(role="user", content="What's the digital yuan called officially?"),
        Message(role="assistant", content="The state-backed digital yuan (e-CNY) [1]."),
        Message(role="user", content="How many people use it?"),
        Message(role="assistant", content="Hundreds of millions of users test it [1]."),
    ]
    # It was "Is many people use digital yuan called replacing cash?"
    assert condense("Is it replacing cash?", history).startswith("Is digital yuan")
    firms = [
        Message(role="user", content="Which regulator ordered the halt in Hong Kong?"),
        Message(role="assistant", content="The China Securities Regulatory Commission (CSRC)."),
        Message(role="user", content="Which firms did it give that directive to?"),
        Message(role="assistant", content="Local brokerages [1]."),
    ]
    # "it" again is the regulator, as the last question was searched for (it was "When did
    # regulator give announce that?", then "the regulator": that question read without its
    # answer); "they" is what the last question asked for.
    assert condense("When did it announce that?", firms) == (
        "When did China Securities Regulatory Commission announce that?"
    )
    assert condense("Did they comply?", firms) == "Did the firms comply?"


@pytest.mark.parametrize(
    ("question", "answer", "follow_up", "standalone"),
    [
        (
            "Which regulator ordered the halt in Hong Kong?",
            "The China Securities Regulatory Commission (CSRC).",
            "Which firms did it give that directive to?",
            "Which firms did China Securities Regulatory Commission give that directive to?",
        ),
        (
            "Which economist does the article cite?",
            "Luke Gromen.",
            "What does he argue?",
            "What does Luke Gromen argue?",
        ),
        (  # "he" is a person: not what an answer naming none named
            "Which economist does the article cite?",
            "At the same time, China uses hard asset control [1].",
            "What does he argue?",
            "What does the economist argue?",
        ),
        (  # several were asked for: "it" is what happened to them, not the first name
            "Which companies had to halt their stablecoin plans?",
            "Ant Group and JD.com [1].",
            "Who reported it first?",
            "Who reported stablecoin plans first?",
        ),
    ],
)
def test_the_one_thing_a_which_question_asked_for_is_what_it_points_at(
    question: str, answer: str, follow_up: str, standalone: str
) -> None:
    assert condense(follow_up, one_turn(question, answer)) == standalone


def test_it_refers_to_the_setting_the_previous_answer_named() -> None:
    history = [
        Message(role="user", content="Index builds crawl. Which memory setting do they use?"),
        Message(role="assistant", content="maintenance_work_mem sets that memory [1]."),
    ]
    rewritten = condense("And what is it set to by default?", history)
    assert rewritten == "And what is maintenance_work_mem set to by default?"


def test_it_after_a_verdict_of_degree_is_what_the_answer_goes_on_to_name() -> None:
    history = one_turn(
        "qshape -s active shows about 19,500 messages on the relay. How close is that to full?",
        "Very close; the active queue holds at most 20000 messages by default [1]",
    )
    # It was "What happens once close does hit the limit?"
    rewritten = condense("What happens once it does hit the limit?", history)
    assert rewritten == "What happens once active queue does hit the limit?"


def one_turn(question: str, answer: str) -> list[Message]:
    return [Message(role="user", content=question), Message(role="assistant", content=answer)]


@pytest.mark.parametrize(
    ("follow_up", "standalone"),
    [
        # "that" before its verb is the thing itself (it was "And if the hangs of the pg_ctl?"),
        # and "And if ...?" asks the last question on that condition.
        (
            "And if that hangs?",
            "What's the gentlest way to shut the database down if pg_ctl hangs?",
        ),
        (
            "What signal does that send to the postmaster?",
            "What signal does pg_ctl send to the postmaster?",
        ),
        ("Does that work?", "Does pg_ctl work?"),
        ("Is that related?", "Is pg_ctl related?"),
        ("Can I make that optional?", "Can I make pg_ctl optional?"),
        ("Does that stop the open sessions?", "Does pg_ctl stop the open sessions?"),
        # before a noun it is a determiner
        ("Does that command need root?", "Does the command of the pg_ctl need root?"),
        ("What is this error?", "What is the error of the pg_ctl?"),
        ("Can I keep that setting?", "Can I keep the setting of the pg_ctl?"),
        (
            "Will that flag in postgresql.conf be ignored?",
            "Will the flag of the pg_ctl in postgresql.conf be ignored?",
        ),
        (
            "When that process for the backup hangs, what then?",
            "When the process of the pg_ctl for the backup hangs, what then?",
        ),
        (
            "If that directory is missing, what happens?",
            "If the directory of the pg_ctl is missing, what happens?",
        ),
    ],
)
def test_that_before_its_verb_is_the_thing_not_a_determiner(
    follow_up: str, standalone: str
) -> None:
    history = one_turn(
        "What's the gentlest way to shut the database down?", "Run pg_ctl stop -m smart [1]."
    )
    assert condense(follow_up, history) == standalone


def test_something_similar_is_like_what_the_last_answer_named() -> None:
    sleep = one_turn(
        "My script needs to wait 2 seconds between requests. What do I call?",
        "Call time.sleep(2) [1].",
    )
    # It was asked as it stood: a new question about "something".
    assert condense("Is there something similar for async code?", sleep) == (
        "Is there something similar to time.sleep for async code?"
    )
    assert condense("Is there an equivalent on Windows?", sleep) == (
        "Is there an equivalent to time.sleep on Windows?"
    )
    listing = one_turn("How do I list the files in a directory?", "Use os.listdir() [1].")
    assert condense("Is there something similar that also walks subdirectories?", listing) == (
        "Is there something similar to os.listdir() that also walks subdirectories?"
    )
    # "similar to grep" names what it is like, "a similar setting" is a thing of its own.
    for own in (
        "Is there something similar to grep in Python?",
        "Is there an equivalent command in PowerShell?",
        "Is there a similar setting for replicas?",
    ):
        assert condense(own, sleep) == own


def test_the_it_of_is_it_safe_to_stands_for_nothing_said_before() -> None:
    amend = one_turn(
        "My last commit message has a typo. How do I fix it?", "Run git commit --amend [1]."
    )
    # It was "Is commit hash safe to do that after pushing?": "that" is what was done.
    assert condense("Is it safe to do that after pushing?", amend) == (
        "Is it safe to do git commit --amend after pushing?"
    )
    assert (
        condense("Is it safe after pushing?", amend) == "Is git commit --amend safe after pushing?"
    )


def test_it_is_the_thing_a_how_do_i_question_acted_on() -> None:
    history = one_turn(
        "How do I add a dependency only for running tests?",
        "This adds a GitHub Actions workflow that runs tests on all platforms [1].",
    )
    # It was "Where do I put running tests in pyproject.toml?"
    assert condense("Where do I put it in pyproject.toml?", history) == (
        "Where do I put the dependency in pyproject.toml?"
    )
    # After a situation too, before what the answer named (it was "pushed use git-rebase").
    moved = one_turn(
        "I committed to the wrong branch. How do I move the commit to another branch?",
        'If you forked off the wrong branch and want to move it "back in time", use git-rebase.',
    )
    assert condense("Where did I push it?", moved) == "Where did I push the commit?"
    # "And what if" opens a condition as "What if" does: the last question on it, where the
    # commit it named stays "it".
    assert condense("And what if I already pushed it?", moved) == (
        "I committed to the wrong branch. How do I move the commit to another branch if I "
        "already pushed it?"
    )


def test_a_condition_alone_reads_on_from_the_last_question() -> None:
    parental = one_turn(
        "I've only been a federal employee for 8 months. Can I use paid parental leave?",
        "You need 12 months of federal service to access paid parental leave [1].",
    )
    # It was left as it was, with nothing of the last question to search for.
    assert condense("even though I'm a veteran?", parental) == (
        "I've only been a federal employee for 8 months. Can I use paid parental leave, "
        "even though I'm a veteran?"
    )
    moved = one_turn(
        "How do I move the last commit to another branch?",
        "Use git cherry-pick on the other branch, then git reset --hard HEAD~1 [1].",
    )
    # Without "And" too; it was "If I already pushed use git cherry-pick?"
    assert condense("If I already pushed it?", moved) == (
        "How do I move the last commit to another branch if I already pushed it?"
    )
    assert condense("unless it's on a shared branch?", moved) == (
        "How do I move the last commit to another branch unless it's on a shared branch?"
    )
    # A short piece without a verb is one too, read on in lower case; it was left as it was.
    vpn = one_turn(
        "Can contractors use the VPN from home?",
        "Contractors must use the WireGuard VPN outside the office [1].",
    )
    assert condense("Even on weekends?", vpn) == (
        "Can contractors use the VPN from home, even on weekends?"
    )
    assert condense("For contractors and interns?", vpn) == (
        "Can contractors use the VPN from home, for contractors and interns?"
    )
    assert needs_context("In which file is the limit set?") is False
    # "How come?" asks the last question again, as "Why?" does (it was "..., How come?").
    assert condense("How come?", vpn) == "How come: Can contractors use the VPN from home?"
    # A condition with its own question is a question of its own.
    assert dependent_clause("If we switch that on, will npm test still run?") is False
    assert dependent_clause("If I want it faster what number do I set?") is False
    assert dependent_clause("since when does it apply?") is False


def test_them_are_several_things_of_the_last_question() -> None:
    history = one_turn(
        "I plot two data files on the same chart. How do I give each line its own color?",
        "You can override this for any individual function in the plot command [1].",
    )
    # It was "What about making one of override dotted?"
    assert condense("What about making one of them dotted?", history) == (
        "What about making one of data files dotted?"
    )
    stash = one_turn("How do I stash my changes?", "Run git stash [1].")
    assert (
        condense("Do I need to commit them first?", stash) == "Do I need to commit changes first?"
    )
    # A plural the last question asked for stays: "they" are the companies.
    firms = one_turn("Which companies had to halt their stablecoin plans?", "Ant Group [1].")
    assert condense("Did they comply?", firms) == "Did the companies comply?"
    # "they" may be one company too; only "them" is turned to a plural, and not "analysis".
    firm = one_turn("Which company had to halt its stablecoin plans?", "Ant Group [1].")
    assert condense("Did they comply?", firm) == "Did the company comply?"
    temp = one_turn("Why does my analysis leave temp files behind?", "The cleanup is skipped [1].")
    assert condense("Can I delete them by hand?", temp) == "Can I delete temp files by hand?"


def test_a_follow_up_of_a_follow_up_reads_the_last_one_as_it_was_searched() -> None:
    history = [
        *one_turn(
            "Our nightly VACUUM is slow. Which setting gives it more memory?",
            "Set maintenance_work_mem higher [1].",
        ),
        # searched as "What's the default for maintenance_work_mem?", with the answer before it
        *one_turn(
            "What's the default for it?",
            "FREEZE is the same as vacuum_freeze_min_age set to zero [1].",
        ),
    ]
    # "it" again is still the setting (it was the name the last answer gave)
    assert condense("Can I change it without a restart?", history) == (
        "Can I change maintenance_work_mem without a restart?"
    )


def test_an_abbreviation_is_not_code_a_follow_up_points_at() -> None:
    history = one_turn(
        "How can we keep hatch's defaults in a file in the repository?",
        "Run the `fmt` command once with the `--sync` flag e.g.: hatch fmt --sync [1].",
    )
    rewritten = condense("When we upgrade hatch later, how does that file get refreshed?", history)
    assert "e.g" not in rewritten


def test_a_new_condition_on_the_previous_question_is_merged_into_it() -> None:
    history = one_turn("What page size does the report use by default?", "A4 [1].")
    rewritten = condense("And if I switch to the landscape printer?", history)
    assert rewritten == (
        "What page size does the report use by default if I switch to the landscape printer?"
    )


def test_a_whole_question_after_and_is_not_merged_into_the_last_one() -> None:
    # An asking word, an auxiliary a verb follows, a subject and a thing of its own: a question.
    history = one_turn("When do we get paid?", "On the last working day of each month [1].")
    assert condense("and when can I see my payslip?", history) == "When can I see my payslip?"
    history = one_turn(
        "How many days a week can I work from home?", "Up to three days per week [1]."
    )
    assert condense("And how long can I work from abroad?", history) == (
        "How long can I work from abroad?"
    )
    # Nothing of its own beyond its verb, or no verb at all: a fragment of the last question.
    history = one_turn("Can I work from Spain for two weeks?", "Yes, for up to 20 days [1].")
    assert condense("And how long can I stay?", history) == (
        "Can I work from Spain for two weeks, how long can I stay?"
    )
    history = one_turn("What's the hotel limit in London?", "210 EUR per night [1].")
    assert condense("And what's the limit?", history) == (
        "What's the hotel limit in London, what's the limit?"
    )
    # "when" with an auxiliary asks; it adds no condition to the last question.
    history = one_turn("How do I submit my expense claim?", "Use the form [1].")
    assert condense("And when is the claim due?", history) == (
        "How do I submit my expense claim, when is the claim due?"
    )
    assert condense("And when I am abroad?", history) == (
        "How do I submit my expense claim when I am abroad?"
    )


def test_a_fragment_naming_another_name_replaces_the_one_name_asked_about() -> None:
    history = one_turn(
        "I'm flying to Munich next week for a customer visit, how much can the hotel cost?",
        "City: Munich | Maximum per night: 170 EUR [1]",
    )
    assert condense("and what about Paris?", history) == (
        "I'm flying to Paris next week for a customer visit, how much can the hotel cost?"
    )
    history = one_turn("What is the hotel limit in London?", "210 EUR per night [1].")
    assert condense("And New York?", history) == "What is the hotel limit in New York?"
    # Two names, or none but an acronym: which one is meant is a guess; merged as before.
    history = one_turn("How do I install Hatch on Linux?", "Run the installer [1].")
    assert condense("What about Windows?", history) == "How do I install Hatch on Linux, Windows?"
    history = one_turn("Do I need the VPN in a coffee shop?", "Yes, always [1].")
    assert condense("And what about Berlin?", history) == (
        "Do I need the VPN in a coffee shop, Berlin?"
    )
    # "And what about" opens the fragment as "And" alone does.
    history = one_turn("Where can twine read the API token from?", "From TWINE_TOKEN [1].")
    assert condense("And what about the username?", history) == (
        "Where can twine read the username from?"
    )


def test_a_fragment_naming_another_place_replaces_the_previous_one() -> None:
    history = one_turn(
        "Where do I put settings so the plotter loads them at start-up on Linux?",
        "In a file named .plotrc in your home directory [1].",
    )
    assert condense("And on a Windows laptop?", history) == (
        "Where do I put settings so the plotter loads them at start-up on a Windows laptop?"
    )
    history = one_turn(
        "We need an unattended install on our Windows build VMs. What command do we run?",
        "Run `msiexec /passive /i tool.msi` [1].",
    )
    assert condense("And for the Mac build agents, also without a GUI?", history) == (
        "We need an unattended install for the Mac build agents. What command do we run, "
        "also without a GUI?"
    )
    history = one_turn(
        "How do I rebuild an index on the primary without locking writes?",
        "Use REINDEX CONCURRENTLY [1].",
    )
    assert condense("And on a replica?", history) == (
        "How do I rebuild an index on a replica without locking writes?"
    )
    # No place of that kind before: a new condition, merged.
    history = one_turn("How do I rebuild an index without locking writes?", "Use REINDEX [1].")
    assert condense("And on a replica?", history) == (
        "How do I rebuild an index without locking writes, on a replica?"
    )
    # A manner or a question is not a place: merged too; a version stays whole.
    for previous, fragment, merged in (
        (
            "Can I run the tests in parallel?",
            "And in CI?",
            "Can I run the tests in parallel, in CI?",
        ),
        (
            "How do I cache credentials for a week on Linux?",
            "And for how long?",
            "How do I cache credentials for a week on Linux, for how long?",
        ),
        (
            "How do I upgrade the cluster with zero downtime?",
            "And with Helm?",
            "How do I upgrade the cluster with zero downtime, with Helm?",
        ),
        (
            "How do I enable TLS on Ubuntu 22.04?",
            "And on Ubuntu 24.04?",
            "How do I enable TLS on Ubuntu 24.04?",
        ),
    ):
        assert condense(fragment, one_turn(previous, "Use X [1].")) == merged


def test_it_is_the_thing_acted_on_not_the_subject_and_its_verb() -> None:
    history = one_turn("Where can the tool read the API token from?", "Use X [1].")
    assert condense("Can it expire?", history) == "Can API token expire?"
    # A single word before an article is a verb ("make the build ..."), not what "it" is.
    history = one_turn("How do I make the build reuse the cache?", "Use X [1].")
    assert condense("Is it shared between branches?", history) == (
        "Is build shared between branches?"
    )


def test_a_fragment_naming_another_thing_replaces_the_one_the_question_acted_on() -> None:
    history = one_turn(
        "In the release pipeline nobody answers a prompt. Where can tool publish read the API "
        "token from?",
        "Set the TOOL_AUTH environment variable [1].",
    )
    assert condense("And the username? All we have is the token.", history) == (
        "In the release pipeline nobody answers a prompt. Where can tool publish read the "
        "username from? All we have is the token."
    )
    for previous, fragment, rewritten in (
        (
            "How do I install the package on Windows?",
            "And the CLI?",
            "How do I install the CLI on Windows?",
        ),
        (
            "How do I reset my password?",
            "What about our admin password?",
            "How do I reset our admin password?",
        ),
        # With several things, the one sharing a word with the new one (the last of them).
        (
            "What is the retention period of the audit logs?",
            "And the access logs?",
            "What is the retention period of the access logs?",
        ),
        (
            "How do I copy the staging database to the production database?",
            "And the test database?",
            "How do I copy the staging database to the test database?",
        ),
        # Several things and none shared: which one is meant nobody can tell; merged.
        (
            "How do I exclude the docs folder from the sdist?",
            "And the tests?",
            "How do I exclude the docs folder from the sdist, the tests?",
        ),
        (
            "What does the build hook compile into the wheel?",
            "And the sdist?",
            "What does the build hook compile into the wheel, the sdist?",
        ),
        (
            "How does the scheduler pick a node?",
            "And the autoscaler?",
            "How does the scheduler pick a node, the autoscaler?",
        ),
        # A thing whose name runs on into its verb: merged, never cut mid-sentence.
        (
            "How do I know whether the job succeeded?",
            "And the deploy?",
            "How do I know whether the job succeeded, the deploy?",
        ),
        (
            "How do I make the plugin load at startup?",
            "And the theme?",
            "How do I make the plugin load at startup, the theme?",
        ),
        (
            "How long does the token stay valid?",
            "And the session?",
            "How long does the token stay valid, the session?",
        ),
        (
            "What does the server do when the disk fills up?",
            "And the client?",
            "What does the server do when the disk fills up, the client?",
        ),
        # More than a thing, or the same thing: merged.
        (
            "Where can the tool read the API token from?",
            "And the token, too?",
            "Where can the tool read the API token from, the token, too?",
        ),
        (
            "Where can the tool read the API token from?",
            "And the token?",
            "Where can the tool read the API token from, the token?",
        ),
        # A place's rest stays in its sentence ("Docker" is not a sentence of its own).
        (
            "How do I raise the connection limit on Linux?",
            "And on Windows, Docker?",
            "How do I raise the connection limit on Windows, Docker?",
        ),
    ):
        assert condense(fragment, one_turn(previous, "Use X [1].")) == rewritten


def test_a_new_situation_with_a_bare_same_thing_asks_the_previous_question_again() -> None:
    history = one_turn("Our export uses commas between fields. What do I set?", "Set it [1].")
    rewritten = condense("The other office sends tab-separated files. Same thing?", history)
    assert rewritten == (
        "The other office sends tab-separated files. Our export uses commas between fields. "
        "What do I set?"
    )
    # A yes/no question or a fragment that does not point back stays as asked.
    for question in (
        "A colleague says the limit is 100. Is that right?",
        "Exports fail. Any idea?",
    ):
        assert condense(question, history) == question


@pytest.mark.parametrize(
    "question",
    [
        "What does the scheduler use by default?",
        "How many retries happen out of the box?",
        "Nobody ever touched the timeout. How long is it?",
        "Which cipher is used unless we change the cipher list?",
        "What format does it write if I don't name one?",
        "What is the page size if we leave the setting alone?",
        "Which port does it listen on unless told otherwise?",
    ],
)
def test_questions_about_what_holds_when_nothing_is_set(question: str) -> None:
    assert analyse(question).asks_default


@pytest.mark.parametrize(
    "question",
    [
        "How do I change the timeout?",
        "If we change the cipher list, do clients reconnect?",
        "Which port should the proxy use?",
        "Why does the nightly job never finish?",
    ],
)
def test_other_questions_do_not_ask_for_a_default(question: str) -> None:
    assert not analyse(question).asks_default


@pytest.mark.parametrize(
    ("question", "stop"),
    [
        ("Every file has the same fixed date. How do we switch that behaviour off?", True),
        ("Can the build skip the source tarball?", True),
        ("How do I keep the linter from installing the project?", False),  # no stop word
        ("How do I stop the server from listening on every address?", True),
        ("The nightly job stopped. Which port should the proxy use?", False),  # not the ask
        ("How do I turn on compression?", False),
        # A default asked for in negative words is not a stop: it wants the value left unset.
        ("And what is it set to if we never touch it?", False),
        ("What does the cache hold if we don't configure anything?", False),
        ("Can I switch off the default logging?", True),
        ("How wide is it without setting COLUMNS?", False),
        # ... but a negation of something else than setting is still one.
        ("How can I run the server if I don't want it to listen on every address?", True),
        ("What if I don't want the history saved?", True),
        ("How can I make it so users never change their theme?", True),
    ],
)
def test_an_ask_that_wants_something_switched_off(question: str, stop: bool) -> None:
    assert analyse(question).asks_to_stop is stop


@pytest.mark.parametrize(
    ("question", "standalone"),
    [
        # "it" is the one builder asked for: the name the answer gave
        ("Where do the files end up once it's built?", "once PyApp is built?"),
        ("What changed since it’s been the default?", "since PyApp has been the default?"),
    ],
)
def test_a_contracted_it_is_resolved_with_its_verb(question: str, standalone: str) -> None:
    history = one_turn("Which builder makes one self-contained executable?", "PyApp [1].")
    rewritten = condense(question, history)
    assert rewritten.endswith(standalone)
    assert "'s" not in rewritten
    assert "’s" not in rewritten


@pytest.mark.parametrize(
    ("question", "standalone"),
    [
        # "it" is the one option asked for: the name the answer gave
        ("Is there a way to make it faster?", "Is there a way to make force-include faster?"),
        ("Are there limits on it?", "Are there limits on force-include?"),
        ("Can I still use it there?", "Can I still use force-include there?"),
        (
            "What happens on a build machine where that directory isn't there?",
            "What happens on a build machine where the directory of the option isn't there?",
        ),
    ],
)
def test_there_beside_a_form_of_be_points_at_no_place(question: str, standalone: str) -> None:
    history = one_turn("Which option can pull files from anywhere?", "force-include [1].")
    assert condense(question, history) == standalone


def test_a_question_whose_only_there_is_existential_is_left_alone() -> None:
    history = one_turn("Which option can pull files from anywhere?", "force-include [1].")
    question = "Is there an offline installer?"
    assert not needs_context(question)
    assert condense(question, history) == question


@pytest.mark.parametrize(
    ("question", "answer", "follow_up", "standalone"),
    [
        (  # the answer named the thing: its words join the question's
            "Which output format do I need for parallel dumps?",
            "Use the directory format [1].",
            "We dumped with that format onto the NAS and the restore is slow. How do I speed "
            "up the restore?",
            "We dumped with the directory format onto the NAS and the restore is slow. How do "
            "I speed up the restore?",
        ),
        (  # a verb before the noun is not one of its words: nothing to add
            "We mirror all packages. How do we point Hatch environments at the mirror?",
            "Set PIP_INDEX_URL [1].",
            "We switched those environments over to uv last month. Does that still work?",
            "We switched those environments over to uv last month. Does that still work?",
        ),
        (  # after a noun, "that" and a verb in -s open a relative clause, not a reference
            "Kim says the default policy rolls our keys every year. What does it create?",
            "A single CSK with an unlimited lifetime [1].",
            "And if we wanted a separate KSK that rolls yearly plus a ZSK, what would we "
            "configure?",
            "And if we wanted a separate KSK that rolls yearly plus a ZSK, what would we "
            "configure?",
        ),
        (  # ... and after a plural noun, "that" and a verb; the turn used the verb as one
            "The Paris office wants tick labels like 3,5. How?",
            "This example uses the locale's decimal sign: set decimalsign locale [1].",
            "Our lab also reads input files that use commas as the decimal point. Does gnuplot "
            "read those correctly?",
            "Our lab also reads input files that use commas as the decimal point. Does gnuplot "
            "read those correctly?",
        ),
        (  # ... as it is before what it says or asks ("specifies how")
            "How do I choose the fill pattern of a bar chart?",
            "The fill style specifies how the boxes are filled [1].",
            "Some of our plots that specify colours print as solid grey. Why is that so?",
            "Some of our plots that specify colours print as solid grey. Why is that so?",
        ),
        (  # after a verb, "that" before a noun in -s is still a demonstrative
            "How do I clear the internal DNS cache?",
            "Run rndc flush; it empties the internal DNS cache [1].",
            "We restarted the resolver container. Can I flush that DNS cache without a restart?",
            "We restarted the resolver container. Can I flush the internal DNS cache without a "
            "restart?",
        ),
        (  # no noun in common with the last turn: not a reference to it
            "What is the capital of France?",
            "Paris [1].",
            "Our office in Lyon copies that branch setup and the printers fail. Why is that so?",
            "Our office in Lyon copies that branch setup and the printers fail. Why is that so?",
        ),
    ],
)
def test_a_scenario_that_names_a_thing_of_the_last_turn_gets_its_words(
    question: str, answer: str, follow_up: str, standalone: str
) -> None:
    assert not needs_context(follow_up)  # a scenario of its own
    assert condense(follow_up, one_turn(question, answer)) == standalone


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("Run git stash; it saves your local changes [1].", "git stash"),  # not "Run"
        ("Add SSLProxyEngine on to the virtual host [1].", "SSLProxyEngine"),
        ("Yes: enable the balancer-manager (SetHandler balancer-manager) [1].", "balancer-manager"),
        ("The binary builder uses PyApp and needs Rust [1].", "binary builder"),  # its subject
        ("SIGTERM is the smart shutdown mode [1].", "SIGTERM"),
        ("Use a graceful stop (signal WINCH): children finish [1].", "graceful stop"),
        ("Luke Gromen.", "Luke Gromen"),  # a name's first word is not an imperative
        ("Paris [1].", "Paris"),
        ("It must be at least the primary's value [1].", ""),  # points back: names nothing
        # Common words name less than the command the answer gives ("file" is not the name).
        ("The file is tracked; stop tracking it with git rm --cached [1].", "git rm --cached"),
        (
            "Yes: git worktree add <path> <branch> gives you a second tree [1].",
            "git worktree add <path> <branch>",
        ),  # the verb after the code is cut
        (
            "Use a graceful stop (apache2ctl -k graceful-stop, signal WINCH) [1].",
            "apache2ctl -k graceful-stop",
        ),  # a run that ends at a mark keeps its last word
        (
            "Reverting a merge needs -m <parent-number> to name the mainline [1].",
            "-m <parent-number>",
        ),  # not from before the verb
        (
            "Use Redirect on the old server, e.g. Redirect /wiki/ https://wiki.example.com/ [1].",
            "Redirect",
        ),  # a name in the first clause beats code in an example; "Use" is the verb
        ("The `force-include` option maps files from anywhere [1].", "`force-include` option"),
        (
            "Yes: git sparse-checkout set services/billing keeps the folders you name [1].",
            "git sparse-checkout set services/billing",
        ),  # a last word that acts on what follows is its verb
        (
            "Yes: git sparse-checkout set services/billing libs/common keeps only those [1].",
            "git sparse-checkout set services/billing libs/common",
        ),  # after a path, a word ending in "s" is the verb whatever follows
        ("The build artifacts are kept in dist [1].", "build artifacts"),  # a plural noun stays
        ("Use deploy keys only for read access [1].", "deploy keys"),
        (  # a second imperative is not part of the name
            "Stage the corrected files and run git commit --amend, which replaces the tip [1].",
            "git commit --amend",
        ),
        ("Open the file and git add --all [1].", "git add --all"),  # a command after "and"
        (
            "Use an annotated tag, for example git tag -a v2.0 -m 'Release' [1].",
            "git tag -a v2.0 -m",
        ),
        (  # a table row's cells are phrases of their own, not one run across the "|"
            "Option: `installer` | Default: `pip` | Description: When set to `uv`, UV is used [1].",
            "`installer`",
        ),
        # An opening clause that sets the scene names nothing ("default", "no options").
        ("By default, `reproducible` is true [1].", "`reproducible`"),
        # ... and so does one giving its purpose: the name is the command's, not "set".
        ("To disable this, set `reproducible` to `false`: [1]", "`reproducible`"),
        ("To keep going, use git rebase --continue [1].", "git rebase --continue"),
        ("At the same time, China uses hard asset control [1].", "China"),
        (  # a longer one too, when it names nothing
            "In a workflow employing relatively long lived topic branches, the developer "
            "sometimes needs to resolve the same conflicts [1].",
            "developer",
        ),
        ("If you forked off the wrong branch, use git-rebase(1) [1].", "git-rebase"),
        # A history answer keeps its lines: one wrapped inside a sentence goes on after it.
        ("Use the\nreproducible option for builds [1].", "reproducible option"),
        (  # ... unless it names something itself
            "With the prefork MPM, use this directive only if you need to set it higher [1].",
            "prefork MPM",
        ),
        (
            "If no options are selected, the `test` command runs the first environment [1].",
            "`test` command",
        ),
        (  # what is reported, not "indicate"
            "Reports indicate that the China Securities Regulatory Commission (CSRC) has also "
            "directed brokerages to halt the projects [1].",
            "China Securities Regulatory Commission",
        ),
        ("Note that SIGTERM is the smart mode [1].", "SIGTERM"),
        # A variable is named whole, with its sigil and brackets.
        (
            "%{BALANCER_ROUTE_CHANGED}e: An easy way to troubleshoot stickiness [1].",
            "%{BALANCER_ROUTE_CHANGED}e",
        ),
        ("Set ${APACHE_LOG_DIR} to a writable place [1].", "${APACHE_LOG_DIR}"),
        ("git rev-parse @{upstream} names the branch [1].", "git rev-parse @{upstream}"),
        # ... and is a name when its word is one (not the option after it), format letter too.
        ("Set ${HOME} with the --home option [1].", "${HOME}"),
        ("Use %{Host}i in the log format [1].", "%{Host}i"),
        ("The {{ page.title }} tag renders the title [1].", "{{ page.title }} tag"),
        # After a subject pronoun or a modal, the next word is the verb, not part of the name.
        (
            "You can use git stash push --keep-index to commit in parts [1].",
            "git stash push --keep-index",
        ),
        ("I asked Git to ignore the files, yet they are still tracked [1].", "Git"),
        ("You can override this in the plot command [1].", "plot command"),
        # A name before its verb, not an imperative before its object.
        ("Luke Gromen argues that the halt protects the yuan [1].", "Luke Gromen"),
        (  # ... written capitalised inside the sentence too: a name, though one word
            "Hatch complies with modern packaging specs, with Hatch serving as the build "
            "backend [1].",
            "Hatch",
        ),
        # ... and before what it says or asks, lower-case as a keyword is.
        ("filltype specifies how the area is filled [1].", "filltype"),
        ("Here filltype specifies one of the following fill types: [1]", "filltype"),
        ("The keepalive option decides whether idle links close [1].", "keepalive option"),
        ("The worker threads which are idle exit first [1].", "worker threads"),
        # ... but after an acronym or a CamelCase name, a plural noun.
        ("HTTP requests to the proxy are logged [1].", "HTTP requests"),
        ("NumPy arrays with a dtype are typed [1].", "NumPy arrays"),
        # A title's word ("the Install guide") does not make an imperative a name.
        ("Install pgbouncer with apt, as the Install guide shows [1].", "pgbouncer"),
        # A verdict of degree names nothing: the clause after it does ("How close is that to
        # full?" -> "Very close; ..."), and a bound on a number follows a verb.
        (
            "Very close; the active queue holds at most 20000 messages by default [1]",
            "active queue",
        ),
        ("Not quite: SIGTERM is the smart mode [1].", "SIGTERM"),
        ("Each retry waits at least 5 seconds [1].", "retry"),
        ("The worker keeps no more than 10 idle links [1].", "worker"),
    ],
)
def test_what_an_answer_named_is_its_leading_phrase_as_written(answer: str, name: str) -> None:
    assert answer_name(answer) == name


@pytest.mark.parametrize(
    ("question", "points_back"),
    [
        ("Does that delete the file from my disk too?", True),
        ("Is that related?", True),
        ("If I reload, will that pick it up?", True),
        ("Is that still in effect after a restart?", True),
        ("What is the setting that controls the cache size?", False),
        ("Does that command need root?", True),  # with its noun: still the last turn's
    ],
)
def test_a_demonstrative_standing_for_a_thing_points_back(question: str, points_back: bool) -> None:
    assert refers_back(question) is points_back


PARK = one_turn(
    "I have to switch to a hotfix but my work is half done. How do I park what I have?",
    "Run git stash; it saves your local changes and reverts the working tree [1].",
)


def test_a_short_follow_up_after_a_situation_points_at_what_the_answer_named() -> None:
    # The previous asking sentence ("How do I park what I have?") names nothing to point at.
    assert condense("Does that keep untracked files?", PARK) == (
        "Does git stash keep untracked files?"
    )


@pytest.mark.parametrize(
    ("follow_up", "standalone"),
    [
        (  # a scenario-length question whose first sentence points back: annotated
            "Does that also take the brand-new files I never added to the repository yet?",
            "Does that (git stash) also take the brand-new files I never added to the "
            "repository yet?",
        ),
        (  # the reference is in the second sentence: it points at the first one
            "My local changes include new files. Is that a problem for the hotfix branch?",
            "My local changes include new files. Is that a problem for the hotfix branch?",
        ),
        (  # shares no word with the last turn: a new topic, not a reference to it
            "Our printers in the Lyon office jam and it happens every morning since Monday?",
            "Our printers in the Lyon office jam and it happens every morning since Monday?",
        ),
        (  # "them" are several things: one name cannot stand for them
            "Do either of them keep the brand-new files I never added to the shared repository?",
            "Do either of them keep the brand-new files I never added to the shared repository?",
        ),
        (  # "its own" belongs to its own sentence's subject
            "The hotfix branch has its own changes to the same files. What happens then?",
            "The hotfix branch has its own changes to the same files. What happens then?",
        ),
    ],
)
def test_a_scenario_that_points_back_gets_the_name_in_parentheses(
    follow_up: str, standalone: str
) -> None:
    assert not needs_context(follow_up)
    rewritten = condense(follow_up, PARK)
    assert rewritten == standalone
    assert "context:" not in rewritten


def test_a_question_that_names_nothing_but_continues_the_topic_gets_its_name() -> None:
    question = (
        "A test started failing somewhere in the last few hundred commits. How do I find the "
        "commit that broke it?"
    )
    history = one_turn(
        question,
        "Use git bisect: mark the current version bad and v2.3 good, and it binary-searches "
        "the range [1].",
    )
    follow_up = "Can our test script decide good or bad for each commit instead of me?"
    assert condense(follow_up, history) == f"git bisect: {follow_up}"
    # "And ..." that asks a whole question of its own: the same.
    assert condense("And how do I stop marking commits by hand in a test?", history) == (
        "git bisect: How do I stop marking commits by hand in a test?"
    )
    # Left alone: names of its own; a new topic, even one that shares a word by chance
    # ("start", "find", "every"); and anything after a refusal, which named nothing.
    for new_topic in (
        "Can Jenkins decide good or bad for each step?",
        "How do I start the coffee machine in the kitchen?",
        "Where do I find who books the meeting room?",
        "How do I back up the whole server every night?",
        "What is a good lunch place near the office?",
    ):
        assert condense(new_topic, history) == new_topic
    refused = one_turn(question, REFUSAL_TEXT)
    assert condense(follow_up, refused) == follow_up
    # One shared word is as often chance after an "And" too: a new topic stays as asked.
    server = one_turn(
        "How do I start the web server in debug mode?", "Run `app serve --debug` [1]."
    )
    assert condense(
        "And how do I start the database replication from the primary node?", server
    ) == ("How do I start the database replication from the primary node?")


def test_a_refused_answer_names_nothing_and_the_question_topic_is_used() -> None:
    history = one_turn(
        "The nightly export is slow. Which compression level does the exporter use?",
        REFUSAL_TEXT,
    )
    rewritten = condense(
        "Would raising it make the nightly export files noticeably smaller on disk?", history
    )
    assert REFUSAL_TEXT not in rewritten
    assert rewritten == (
        "Would raising it (compression level) make the nightly export files noticeably "
        "smaller on disk?"
    )


@pytest.mark.parametrize(
    ("heading", "sentence", "label"),
    [
        (  # "This directive" is the section's: the quote alone does not say which
            Heading(0, "BalancerPersist Directive"),
            "This directive will cause the shared memory to be persisted across restarts.",
            "BalancerPersist Directive",
        ),
        (  # a topic heading is not what "this" is
            Heading(0, "DESCRIPTION"),
            "This new worktree is called a linked worktree.",
            None,
        ),
        (  # the quote names the section's thing already
            Heading(0, "BalancerPersist Directive"),
            "With BalancerPersist Directive on, this state survives restarts.",
            None,
        ),
        (  # a description that does not name what it describes is labelled too
            Heading(0, "BalancerPersist Directive"),
            "The shared memory is kept across restarts when it is enabled.",
            "BalancerPersist Directive",
        ),
        (  # ... unless it names it by its name
            Heading(0, "work_mem (integer)"),
            "The work_mem setting is per operation.",
            None,
        ),
        (
            Heading(0, "work_mem (integer)"),
            "The memory setting is per operation.",
            "work_mem (integer)",
        ),
        (  # the section's number is not part of the name
            Heading(0, "19.4.2. The SSL-Mode Setting"),
            "The memory setting is per operation.",
            "The SSL-Mode Setting",
        ),
        (  # a PDF outline's chapter number without its dot is not part of the name either
            Heading(0, "7 LaTeX usage"),
            "The memory setting is per operation.",
            "LaTeX usage",
        ),
        (  # a FAQ's question asks about a thing; as a label it would read as the answer's
            Heading(0, "How can I get rid of the pass-phrase dialog at Apache startup time?"),
            "The memory setting is per operation.",
            None,
        ),
        (  # a capitalised hyphenated word is English ("Built-in"), not a name
            Heading(0, "Built-in Functions"),
            "The memory setting is per operation.",
            None,
        ),
        (  # a lower-case one names a thing
            Heading(0, "The balancer-manager handler"),
            "The memory setting is per operation.",
            "The balancer-manager handler",
        ),
    ],
)
def test_a_quote_is_labelled_with_the_thing_its_section_names(
    heading: Heading, sentence: str, label: str | None
) -> None:
    from assistant.answerers.quoting import section_label

    text = f"{heading.title}\nIt has one setting. {sentence}"
    passage = passage_of(text, headings=(heading,))
    start = text.index(sentence)
    window = window_for(passage, start, start + len(sentence))
    assert window.text == sentence
    assert section_label(window) == label


def test_a_defined_term_labels_a_quote_from_a_later_chunk_whatever_its_words() -> None:
    from assistant.answerers.quoting import section_label

    text = (
        "Hooks directory\nWhere hooks are read from. It is relative to the repository.\n"
        "Set this to a different path and the hooks are read from there."
    )
    later = text.index("Set this")
    chunk = passage_of(text[later:], offset=later)
    chunk = Passage(**{**chunk.__dict__, "headings": (Heading(0, "Hooks directory", "term"),)})
    window = window_for(chunk, later, len(text))
    assert window.text == text[later:]
    assert section_label(window) == "Hooks directory"


def test_a_passage_opening_after_a_term_starts_at_the_term() -> None:
    """A chunk that opens with a term's description (the term ended the chunk before) is
    read from the term: the window quotes it, so "Which function ...?" is answered by name."""
    from assistant.reading import from_heading

    text = (
        "math.comb(n, k)\nReturn the number of ways to choose k items from n items.\n"
        "math.isqrt(n)\nReturn the integer square root of the nonnegative integer n."
    )
    term = text.index("math.isqrt")
    description = text.index("Return the integer")
    headings = (Heading(0, "math.comb(n, k)", "term"), Heading(term, "math.isqrt(n)", "term"))
    chunk = passage_of(text[description:], headings=(), offset=description)
    chunk = Passage(**{**chunk.__dict__, "headings": headings})
    widened = from_heading(chunk, text)
    assert (widened.start, widened.end) == (term, len(text))
    assert widened.text == text[term:]
    window = window_for(widened, description, len(text))
    assert widened.sentence_text(window.start, window.end).startswith("math.isqrt(n)\nReturn")
    # Left alone: text between the heading and the chunk, a title not written out verbatim,
    # and a chunk that starts at its heading already.
    later = passage_of(text[description + 7 :], offset=description + 7)
    later = Passage(**{**later.__dict__, "headings": headings})
    assert from_heading(later, text) == later
    renamed = (Heading(term, "isqrt", "term"),)
    odd = Passage(**{**chunk.__dict__, "headings": renamed})
    assert from_heading(odd, text) == odd
    whole = Passage(**{**passage_of(text).__dict__, "headings": headings})
    assert from_heading(whole, text) == whole


def test_an_and_question_with_a_scenario_of_its_own_keeps_its_later_reference() -> None:
    history = one_turn(
        "Does our docs environment pick up the dependencies listed for the default one?",
        "Yes: every environment inherits from the one named by its `template` option [1].",
    )
    follow_up = "And the Python version matrix we defined on default, does docs get that as well?"
    assert not needs_context(follow_up)  # "that" is its own first clause's matrix
    assert condense(follow_up, history) == follow_up
    assert needs_context("And what is it set to by default?")  # a short "And ..." continues


def test_a_verb_of_the_last_ask_never_stands_for_its_thing() -> None:
    history = one_turn(
        "Before a real release we want hatch publish to go to TestPyPI. How do I point it there?",
        REFUSAL_TEXT,
    )
    rewritten = condense("And where does it read the token from?", history)
    assert "does point" not in rewritten  # it was "And where does point read the token from?"
    assert "hatch publish" in rewritten
    assert "token" in rewritten


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        # A word after "://" does not start a sentence: "URL" stays as written.
        ("We pointed it at the app's https:// URL instead of http://", "app's https URL instead"),
        # A contraction ends a run without joining it.
        ("I tracked settings.json I'll need later", "tracked settings.json"),
        ("Maintenance work memory is low", "maintenance work memory"),  # a sentence's first word
        # A word before "it" or "them" is a verb before its object, not a topic.
        ("How do I point it there?", ""),
        ("Should we reinstall them?", ""),
        ("Where is the log file it writes?", "log file"),  # a noun before it stays
        # A verb inside a run is not part of the phrase: the best side of it is.
        (
            "What single directive on the old server sends /wiki/AnyPage to the new host?",
            "wiki/AnyPage",
        ),
    ],
)
def test_the_topic_phrase_is_the_best_run_of_content_words(text: str, phrase: str) -> None:
    assert topic_phrase(text) == phrase


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        (
            "What's the difference for our users between apache2ctl graceful and apache2ctl "
            "restart?",
            ("apache2ctl graceful", "apache2ctl restart"),
        ),
        ("Ant Group and JD.com [1].", ("Ant Group", "JD.com")),
        ("Regulators halted Ant Group and JD.com's stablecoin plans.", ("Ant Group", "JD.com")),
        ("Is SIGTERM or SIGINT the smart shutdown?", ("SIGTERM", "SIGINT")),
        (
            "Use max_standby_archive_delay and max_standby_streaming_delay [1].",
            ("max_standby_archive_delay", "max_standby_streaming_delay"),
        ),
        # Verbs and common nouns side by side are not two things a "them" stands for.
        ("Can I read and write the file?", None),
        ("Do tables and views need a primary key?", None),
        # Something between them: a list's last two, not a pair.
        ("Which is faster, the directory format, or the custom format?", None),
        ("Should I use tar, zip or 7z for the archive?", None),
        # The second is as long as the first, or its names: not the verb after it.
        ("What did Microsoft and OpenAI announce?", ("Microsoft", "OpenAI")),
        ("Do pg_dump and pg_restore support parallel jobs?", ("pg_dump", "pg_restore")),
        # The first is the name its run ends with; a bare number keeps what it numbers.
        (
            "Which handbook sections cover Maternity Leave and Paternity Leave?",
            ("Maternity Leave", "Paternity Leave"),
        ),
        ("Should we upgrade to node 18 or 20?", ("node 18", "20")),
    ],
)
def test_the_two_things_a_turn_puts_side_by_side(text: str, pair: tuple[str, str] | None) -> None:
    assert coordinated_names(text) == pair


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Pop it with heapq.heappop() [1].", "heapq.heappop()"),
        ("Raise max_wal_size [1].", "max_wal_size"),
        # Whole, with its hyphens: an environment's name, not the part after the last hyphen.
        ("The order is:\nhatch-test.py3.11\nhatch-test.py3.12 [1]", "hatch-test.py3.11"),
        ("JD.com, e.g. the retailer [1].", ""),  # a company and an abbreviation: no code
    ],
)
def test_the_code_a_text_names_is_its_first_dotted_or_snake_case_name(text: str, name: str) -> None:
    assert code_name(text) == name


COMPARED = one_turn(
    "What's the practical difference for our users between apache2ctl graceful and "
    "apache2ctl restart?",
    "graceful (USR1) lets children finish their current request; restart (HUP) kills the "
    "children immediately [1].",
)


@pytest.mark.parametrize(
    ("follow_up", "standalone"),
    [
        (
            "Do either of them reset the counters we watch on the server-status page?",
            "Do either apache2ctl graceful or apache2ctl restart reset the counters we watch on "
            "the server-status page?",
        ),
        (
            "Do both of them need root?",
            "Do both apache2ctl graceful and apache2ctl restart need root?",
        ),
        (
            "Which of them is faster?",
            "Which of apache2ctl graceful and apache2ctl restart is faster?",
        ),
        ("Both of them need root?", "Both apache2ctl graceful and apache2ctl restart need root?"),
        (  # a new topic with a "they" of its own
            "Our printers in the Lyon office jam and they fail every morning?",
            "Our printers in the Lyon office jam and they fail every morning?",
        ),
        (  # a scenario's own "they": people, not the two commands
            "They say graceful can hang for hours on keep-alive connections; how do I cap it?",
            "They say graceful can hang for hours on keep-alive connections; how do I cap it?",
        ),
    ],
)
def test_either_of_them_after_two_things_side_by_side_stands_for_both(
    follow_up: str, standalone: str
) -> None:
    assert condense(follow_up, COMPARED) == standalone


def test_a_bare_they_is_left_to_what_the_last_question_asked_for() -> None:
    # "they" are the ports asked about, not the two servers named; a word that holds "them"
    # ("themes") is no reference at all.
    ports = one_turn("Which ports do nginx and Apache listen on by default?", "80 and 443 [1].")
    assert condense("Can they be changed?", ports) == "Can the ports be changed?"
    themes = one_turn("How do I customise Sphinx and MkDocs?", "Edit conf.py [1].")
    assert "Sphinx and MkDocs" not in condense("Does it support themes?", themes)


def test_two_places_are_not_what_they_stand_for() -> None:
    # "on Windows and Linux" says where; "they" are the packages.
    history = one_turn("How do I install Python packages on Windows and Linux?", "Use pip [1].")
    assert "Windows and Linux" not in condense("Where are they stored?", history)


def test_two_things_an_answer_named_are_what_either_of_them_means() -> None:
    # A quantified "either of them" takes the answer's two things; a bare "they" after
    # "Which companies ...?" is still the companies asked about.
    assert condense("Did either of them comment?", HISTORY) == (
        "Did either Ant Group or JD.com comment?"
    )
    assert condense("Were they fined?", HISTORY) == "Were the companies fined?"


def test_a_bare_number_the_last_answer_gave_is_not_what_a_scenario_points_at() -> None:
    history = one_turn(
        "How many simultaneous client TCP connections does the name server accept by default?",
        "150 [1].",
    )
    follow_up = (
        "And how many recursive lookups can it have in flight at once before it starts "
        "turning clients away?"
    )
    assert condense(follow_up, history) == follow_up  # not "can it (150) have"


def test_a_passage_runs_on_over_the_code_its_last_line_leads_into() -> None:
    """A chunk that ends on a lead-in, a comment in code or a prompt is read on into the
    document over the lines that finish it (up to prose, a heading or a blank line), so its
    window holds the command, not the comment alone; a chunk ending on prose is left as is."""
    document = (
        "Tuning for production\n"
        "The following settings are recommended for production use:\n"
        "# Cache valid OCSP responses for 48 hours:\n"
        "SSLStaplingStandardCacheTimeout 172800\n"
        "    SSLStaplingErrorCacheTimeout 60\n"
        "These settings reduce the load on OCSP responders considerably for busy servers.\n"
        "Next section\n"
    )
    cut = document.index("\nSSLStaplingStandardCacheTimeout")  # the chunk ended on the comment
    chunk = passage_of(document[:cut])
    read = in_document(chunk, document)
    assert read.text == document[: document.index("\nThese settings")]
    assert read.end == document.index("\nThese settings")
    assert read.sentence_spans == chunk.sentence_spans  # no new sentence starts there
    lead_in = "The following settings are recommended for production use:"
    start = document.index(lead_in)
    shown = window_for(read, start, start + len(lead_in)).text
    assert shown.endswith(
        "SSLStaplingStandardCacheTimeout 172800\n    SSLStaplingErrorCacheTimeout 60"
    )
    # A chunk that ends on finished prose, or inside a line, is not read on.
    prose_end = document.index("\nNext section")
    assert in_document(passage_of(document[:prose_end]), document).end == prose_end
    inside = document.index(" 172800")
    assert in_document(passage_of(document[:inside]), document).end == inside
    # The last line is the chunk's own: a chunk within one line of prose, after a list item
    # that opens the document, is not read on.
    listing = "- Overview\nThe tool reads its input. It writes a log for every run.\nsee log.txt\n"
    run = listing.index("It writes")
    one_line = passage_of(listing[run : listing.index("\nsee")], offset=run)
    assert in_document(one_line, listing).end == one_line.end
    # Windows line breaks are line breaks.
    crlf = document.replace("\n", "\r\n")
    cut = crlf.index("\r\nSSLStaplingStandardCacheTimeout")
    read = in_document(passage_of(crlf[:cut]), crlf)
    assert read.end == crlf.index("\r\nThese settings")
    # A heading ends the run, however the lines before it look.
    headed = "Run it like this:\n$ tool --check\nNext steps\nMore prose follows here.\n"
    first = headed.index("\n$ tool")
    chunk = passage_of(headed[:first], (Heading(headed.index("Next steps"), "Next steps"),))
    assert in_document(chunk, headed).end == headed.index("\nNext steps")

"""What a line of document text is by its shape alone: code (a command, a statement, a line of
a numbered listing, a prompt, a comment), a list item, or prose.

The answer's windows (`evidence`), a passage read on into its document (`reading`), the chat's
renderer (`ui.markdown`) and the citation markers (`citations`) all ask these questions of a
line; they are answered here once, by layout and symbols, never by the words of one corpus.
"""

from __future__ import annotations

import re

from assistant.fences import STATEMENT_SHAPES

# A list item's marker: a bullet, "1.", "(2)", "a)", "iv.".
LIST_ITEM = re.compile(r"^\s*([-*•◦▪‣–]|\(?\d{1,2}[.)]|\(?[a-z][.)]|[ivx]{1,4}[.)])\s+")
# A line of a numbered listing, its number written before the code ("1 /etc/postfix/main.cf:",
# "2     myorigin = $mydomain", "6a    # Postfix 2.10 and later ..."): after the number, spaces
# to align code that opens in lower case or a symbol and ends no sentence (not a contents
# line, "1  Introduction", nor "100  percent of users saw it."), or a path, a variable or a
# comment ("1 $ per unit" is prose).
LISTING_LINE = r"^\d{1,3}[a-z]?(?:\s{2,}(?=[^A-Z\s])(?!.*\w[.!?]$)\S|\s+(?:/|~/|\$\w|#\s))"
CODE_LINE = re.compile(STATEMENT_SHAPES + r"|[{};]\s*$|" + LISTING_LINE)


def is_code_line(line: str) -> bool:
    """A command or statement line, or one indented as code (what the chat renders as code,
    and what an answer's marker must not change)."""
    return line.startswith(("    ", "\t")) or bool(CODE_LINE.search(line.strip()))


_CODE_START = re.compile(r"^\s*(>>>|\.\.\.|\$ |#!|class |def |import |from \S+ import|@\w)")
_SYMBOLS = set("()[]{}=_<>:*;\\|/'\"`")


def looks_like_code(sentence: str) -> bool:
    """Whether a line is code (a prompt, a signature, markup) rather than prose, by its
    opening or by how dense its symbols are (a PDF's code has lost its indentation)."""
    if _CODE_START.match(sentence):
        return True
    symbols = sum(character in _SYMBOLS for character in sentence)
    return symbols / max(1, len(sentence)) > 0.08


# A markup tag alone on its line, with no attribute ("</VirtualHost>", "<TEMPLATE_NAME>"): it
# opens or closes what lies around it and, quoted alone, says nothing.
_BARE_TAG = re.compile(r"^\s*</?[A-Za-z_][\w:.-]*\s*/?>\s*$")


def only_bare_tags(text: str) -> bool:
    """Whether every line of a text is a bare markup tag (or blank), and there is one."""
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(_BARE_TAG.match(line) for line in lines)


# A comment line in code ("# route all requests to a front controller", "  // then retry"):
# it says what the code lines after it do, and alone it reads as nothing.
COMMENT_LINE = re.compile(r"^\s*(?:#|//)\s+\S")


# An interactive prompt's line: what follows it, up to the next prompt, is what it printed.
PROMPT = re.compile(r"^\s*(?:>>>|\$) ")


def ends_sentence(text: str) -> bool:
    """A line of prose, however short: it opens in upper case and ends a sentence or a lead-in
    (not a command's output such as "('bar', '')")."""
    return text[:1].isupper() and text.rstrip()[-1:] in ".!?:"


def reads_as_prose(text: str) -> bool:
    """A line of prose after code: a short sentence, or a long line of words that opens in
    upper case ("This will forbid default access ... For example,")."""
    long_words = len(text) > 60 and text[:1].isupper() and not looks_like_code(text)
    return ends_sentence(text) or long_words


def is_prose(text: str) -> bool:
    """A line of prose that ends a sentence and is longer than a list item usually is."""
    return len(text) > 60 and text[:1].isupper() and text.rstrip()[-1:] in ".!?"

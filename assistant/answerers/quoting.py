"""How the extractive answerer writes a quoted window: labelled with the thing its section
names when the quote does not name it, and without bracketed numbers that would pose as
citations."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answerers.window_features import Candidate
from assistant.citations import without_document_markers
from assistant.evidence import Window
from assistant.line_shapes import is_code_line
from assistant.types import heading_at


def quotes(chosen: Sequence[Candidate]) -> list[str]:
    """Each chosen window's text as the answer quotes it: labelled with the thing its section
    names (`section_label`) unless a quote before it named that already, and without bracketed
    numbers ("[7]" in the document would pose as a citation; the citation's quote keeps the
    exact document text). A verbatim quote is supported by its own span by construction."""
    result: list[str] = []
    used: set[str] = set()  # the labels given so far
    said: list[str] = []  # the quotes so far, without their labels
    for candidate in chosen:
        quoted = without_document_markers(candidate.window.text.strip())
        label = section_label(candidate.window)
        if label is not None and label not in used and not any(_names(label, t) for t in said):
            used.add(label)
            # A quote opening on code or a file's name ("/etc/postfix/main.cf:") keeps that
            # line whole: the label goes on a line of its own.
            first = quoted.split("\n", 1)[0]
            opens_on_code = is_code_line(first) or (
                "\n" in quoted and first.endswith(":") and " " not in first
            )
            result.append(f"{label}:\n{quoted}" if opens_on_code else f"{label}: {quoted}")
        else:
            result.append(quoted)
        said.append(quoted)
    return result


MAX_LABEL_CHARS = 80


def section_label(window: Window) -> str | None:
    """The title of the section a window stands in, to put before its quote when the title
    names a thing (a defined term, code, a CamelCase name, an acronym) that the quote does not:
    "BalancerPersist Directive: This directive will cause ...", "shared_buffers (integer): The
    default is typically 128 megabytes". A description quoted without what it describes does
    not say which setting or function it is about. None when the quote holds the title's
    words already, or when there is no (short) section title that names a thing.
    """
    heading = heading_at(window.passage.headings, window.start)
    if heading is None or len(heading.title) > MAX_LABEL_CHARS:
        return None
    title = _SECTION_NUMBER.sub("", heading.title).strip()
    if not title or title.endswith(":"):
        return None  # "Parameters:", "Raises:": a field of a description, not its thing
    if title.endswith("?"):
        return None  # a FAQ's question ("How can I ...?") asks about the thing, it names none
    if heading.kind != "term" and not _names_a_thing(title):
        return None  # "DESCRIPTION", "Creating Virtual Environments": a topic, not the thing
    if _names(title, window.text, by_first_word=heading.kind == "term"):
        return None
    return title


def _names(title: str, text: str, by_first_word: bool = False) -> bool:
    """Whether a text names a section's thing: its whole title, or the title's first word when
    that is a name ("The work_mem setting is ..." under "work_mem (integer)"; not "The" of
    "The CPU scheduler")."""
    if title.lower() in text.lower():
        return True
    name = _LEADING_NAME.match(title)
    if name is None or not (by_first_word or _TITLE_NAME.search(name.group(1))):
        return False
    return re.search(r"(?<![\w.])" + re.escape(name.group(1)) + r"(?!\w)", text) is not None


# A token that names a thing in a title: code (core.hooksPath, lru_cache(), <Directory>,
# --keep-empty, balancer-manager), a CamelCase name (BalancerPersist), an acronym (USR1, DBM).
_TITLE_NAME = re.compile(
    r"\w[._:@<>()/]\w|\w\(\)|[<(]\w|\w[)>]|(?:^|\s)--?\w|(?<![\w-])[a-z][a-z0-9]*-[a-z]|[a-z][A-Z]|\b[A-Z][A-Z0-9]{1,4}\b"
)
# "19.4.2. ", "7. ", and a PDF outline's "7 " or "2.3 " before a capital ("7 LaTeX usage").
_SECTION_NUMBER = re.compile(r"^\s*(?:(?:\d+\.)+\d*\s*|\d{1,2}(?:\.\d{1,2})*\s+(?=[A-Z]))")
# A title's first word, without the brackets or arguments after it: "math.isclose" of
# "math.isclose(a, b, *, rel_tol=1e-09)", "work_mem" of "work_mem (integer)".
_LEADING_NAME = re.compile(r"[<`'\"(]*([\w.:/-]*\w)")


def _names_a_thing(title: str) -> bool:
    """Whether a section title holds a name (not only words of a topic, nor all capitals)."""
    return not title.isupper() and bool(_TITLE_NAME.search(title))

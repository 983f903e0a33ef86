"""HTML: the visible text of the main content, one block per line, with its headings."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from bs4.element import Comment, Doctype, NavigableString, ProcessingInstruction, Tag

from assistant.loaders.base import Extracted, collapse_spaces, decode_text
from assistant.types import Heading

_DROP = {"script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "head",
         "nav", "form", "button", "select", "input", "textarea"}  # fmt: skip
_BLOCK = {"p", "div", "section", "article", "main", "aside", "header", "footer", "li", "ul",
          "ol", "dl", "dd", "table", "thead", "tbody", "tfoot", "tr", "blockquote", "figure",
          "figcaption", "address", "details", "summary", "hr", "caption", "body",
          "html"}  # fmt: skip
_CELLS = {"td", "th"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Boilerplate around the content of generated documentation sites (Sphinx and the like).
_BOILERPLATE_CLASSES = {"sphinxsidebar", "related", "footer", "headerlink", "navigation",
                        "breadcrumbs", "toctree-wrapper", "mobile-nav", "sidebar"}  # fmt: skip


def _parser() -> str:
    try:
        import lxml  # noqa: F401  # installed with python-docx; parses about 1.4x faster

        return "lxml"
    except ImportError:
        return "html.parser"


_PARSER = _parser()


def extract(data: bytes) -> Extracted:
    """Extract title, text and headings from an HTML page."""
    soup = BeautifulSoup(decode_text(data), _PARSER)
    title_tag = soup.find("title")
    page_title = collapse_spaces(title_tag.get_text()).strip() if title_tag else None
    root = soup.find("main") or soup.find(None, {"role": "main"}) or soup.find("article")
    if not isinstance(root, Tag):
        root = soup.body or soup
    builder = _TextBuilder()
    builder.walk(root)
    text, headings = builder.result()
    first_h1 = next((h.title for h in headings if h.kind == "heading"), None)
    return Extracted(text=text, title=page_title or first_h1, headings=tuple(headings))


class _TextBuilder:
    """Walks the tree, collapsing whitespace in flowing text and breaking lines at blocks."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        self.headings: list[tuple[int, str, str]] = []  # (line index, title, kind)

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment | Doctype | ProcessingInstruction):
                continue
            if isinstance(child, NavigableString):
                self.current.append(collapse_spaces(str(child)))
            elif isinstance(child, Tag):
                self._tag(child)

    def _tag(self, tag: Tag) -> None:
        name = tag.name.lower()
        classes = set(tag.get("class") or [])
        if name in _DROP or classes & _BOILERPLATE_CLASSES or tag.get("role") == "navigation":
            return
        if tag.get("hidden") is not None or tag.get("aria-hidden") == "true":
            return
        if name == "br":
            self.flush()
        elif name == "pre":
            self.flush()
            for line in tag.get_text().strip("\n").splitlines():
                if line.strip():
                    self.lines.append(line.rstrip())
        elif name in _HEADINGS or name == "dt":
            # A definition term (an API signature, a glossary word) heads its description.
            self.flush()
            self.walk(tag)
            title = self._joined().strip()
            self.flush()
            if title:
                kind = "term" if name == "dt" else "heading"
                self.headings.append((len(self.lines) - 1, title, kind))
        elif name in _CELLS:
            self.walk(tag)
            self.current.append(" \t ")
        elif name in _BLOCK:
            self.flush()
            self.walk(tag)
            self.flush()
        else:
            self.walk(tag)

    def _joined(self) -> str:
        return re.sub(r" {2,}", " ", "".join(self.current))

    def flush(self) -> None:
        line = self._joined().strip()
        self.current = []
        if line:
            self.lines.append(line)

    def result(self) -> tuple[str, list[Heading]]:
        self.flush()
        offsets = []
        position = 0
        for line in self.lines:
            offsets.append(position)
            position += len(line) + 1
        headings = [
            Heading(offsets[index], title, kind)  # type: ignore[arg-type]
            for index, title, kind in self.headings
        ]
        return "\n".join(self.lines), headings

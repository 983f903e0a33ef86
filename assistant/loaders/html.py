"""HTML: the visible text of the main content, one block per line, with its headings."""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Sequence
from typing import NamedTuple

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning
from bs4.element import Comment, Doctype, NavigableString, ProcessingInstruction, Tag

from assistant.loaders.base import Extracted, collapse_spaces, decode_text, list_item_prefix
from assistant.loaders.tables import cell_text, header_rows_by_content, spread, table_lines
from assistant.types import Heading

_DROP = {"script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "head",
         "nav", "form", "button", "select", "input", "textarea"}  # fmt: skip
# Boilerplate is found by structure, never by one generator's class names: navigation and
# page-level banner/footer landmarks, blocks of links that step between pages (rel or accesskey,
# as DocBook, Texinfo and Javadoc write them), link lists with hardly a word of their own, and
# permalink anchors ("¶", or an icon font's glyph).
_LANDMARK_ROLES = {"navigation", "banner", "contentinfo", "search"}
_STEP_RELS = {"prev", "previous", "next", "up", "start", "home", "contents", "index", "first",
              "last"}  # fmt: skip
_CONTENT_CONTAINERS = ["article", "main", "section"]
# A block around page-stepping links is navigation while its own words stay this few.
NAV_BLOCK_WORDS = 40
# A list of links is navigation when links hold this share of its words ...
LINK_DENSITY = 0.8
# ... and it has at least this many links and at most this many words outside them.
LINK_LIST_MIN_LINKS = 4
LINK_LIST_OWN_WORDS = 10
_PERMALINK = {"¶", "#", "§", "🔗"}
_BLOCK = {"p", "div", "section", "article", "main", "aside", "header", "footer", "li", "ul",
          "ol", "dl", "dd", "table", "thead", "tbody", "tfoot", "tr", "blockquote", "figure",
          "figcaption", "address", "details", "summary", "hr", "caption", "body",
          "html"}  # fmt: skip
_CELLS = {"td", "th"}
# A table whose cells hold these is page layout, not data: its cells are read as blocks.
_LAYOUT_INSIDE = ["table", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "dl", "ul", "ol",
                  "blockquote", "form"]  # fmt: skip
# ... as is one with a cell holding more than this many paragraphs or divisions.
LAYOUT_BLOCKS = 2
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


class _Numbering(NamedTuple):
    """An ordered list's numbering: the next item's number, the list's `type` ("1", "a",
    "I", ...) and the step to the item after (-1 in a `reversed` list)."""

    number: int
    kind: str
    step: int


def _numbering(ol: Tag) -> _Numbering:
    """How an ordered list numbers its items, as a browser does: from its `start`, else from
    1, or counting down from its number of items when it is `reversed`."""
    step = -1 if ol.get("reversed") is not None else 1
    first = _integer(ol.get("start"))
    if first is None:
        first = len(ol.find_all("li", recursive=False)) if step < 0 else 1
    return _Numbering(first, str(ol.get("type") or "1"), step)


def _integer(value: object) -> int | None:
    """An attribute's value as a whole number written in ASCII digits, as a browser reads it
    (None: absent or not one; "²" is a digit to `str.isdigit` but no number to `int`)."""
    text = str(value or "").strip()
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def _parser() -> str:
    try:
        import lxml  # noqa: F401  # installed with python-docx; parses about 1.4x faster

        return "lxml"
    except ImportError:
        return "html.parser"


_PARSER = _parser()


def extract(data: bytes) -> Extracted:
    """Extract title, text and headings from an HTML page."""
    with warnings.catch_warnings():  # XHTML pages (DocBook output) parse fine as HTML
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(decode_text(data), _PARSER)
    _flatten_deep(soup)
    title_tag = soup.find("title")
    page_title = collapse_spaces(title_tag.get_text()).strip() if title_tag else None
    root = soup.find("main") or soup.find(None, {"role": "main"}) or soup.find("article")
    if not isinstance(root, Tag):
        root = soup.body or soup
    drop_navigation(root)
    builder = _TextBuilder()
    builder.walk(root)
    text, headings = builder.result()
    first_h1 = next((h.title for h in headings if h.kind == "heading"), None)
    return Extracted(text=text, title=page_title or first_h1, headings=tuple(headings))


# Elements nested deeper than this are read as their text: the page is read by recursion, and
# 500 nested <div>s once failed it (browsers flatten what is nested past 512 too).
MAX_DEPTH = 200


def _flatten_deep(root: Tag) -> None:
    """Replace what lies inside each element `MAX_DEPTH` deep by its text (words kept, in
    order, one space between strings; the structure below that depth is not read)."""
    boundary: list[Tag] = []
    stack = [(root, 0)]
    while stack:
        tag, depth = stack.pop()
        for child in tag.children:
            if not isinstance(child, Tag):
                continue
            if depth + 1 == MAX_DEPTH:
                boundary.append(child)
            else:
                stack.append((child, depth + 1))
    for tag in boundary:
        if any(isinstance(child, Tag) for child in tag.children):
            text = collapse_spaces(tag.get_text(" "))
            tag.clear()
            tag.append(text)


def _icon_glyphs(text: str) -> bool:
    """Whether a link's text is only icon-font glyphs (Unicode's private use characters, such
    as a theme's link icon U+F0C1 standing for a permalink): no text without that font."""
    return bool(text) and all(unicodedata.category(char) == "Co" for char in text)


def drop_navigation(root: Tag) -> None:
    """Remove navigation found by structure from the tree under `root`."""
    doomed: list[Tag] = []
    for tag in root.find_all(["header", "footer"]):
        if tag.find_parent(_CONTENT_CONTAINERS) is None:
            doomed.append(tag)  # the page's banner and footer, not an article's own
    for link in root.find_all("a"):
        text = link.get_text().strip()
        if text in _PERMALINK or _icon_glyphs(text):
            doomed.append(link)
            continue
        rel = {str(r).lower() for r in (link.get("rel") or [])}
        if rel & _STEP_RELS or link.get("accesskey") is not None:
            block = _navigation_block(link, root)
            if block is not None:
                doomed.append(block)
    for block in root.find_all(["ul", "ol", "dl", "div", "table", "p"]):
        if _is_link_list(block):
            doomed.append(block)
    for tag in doomed:
        if tag.parent is not None:  # not inside an element removed already
            tag.decompose()


def _navigation_block(link: Tag, root: Tag) -> Tag | None:
    """The largest block around a page-stepping link that holds few words of its own."""
    best = None
    for parent in link.parents:
        if parent is root or parent.name in ("body", "html", *_CONTENT_CONTAINERS):
            break
        if parent.find(_HEADINGS) is not None:
            break
        if len(parent.get_text(" ").split()) > NAV_BLOCK_WORDS:
            break
        best = parent
    return best


def _is_data_table(table: Tag) -> bool:
    """Whether a table holds data (rows of cells) rather than laying out a page's blocks."""
    if table.get("role") in ("presentation", "none"):
        return False
    if table.find(_LAYOUT_INSIDE) is not None:
        return False
    return all(
        len(cell.find_all(["p", "div"])) <= LAYOUT_BLOCKS
        for row in _own_rows(table)
        for cell in row.find_all(_CELLS, recursive=False)
    )


def _own_rows(table: Tag) -> list[Tag]:
    """The rows of this table (in <thead>, <tbody>, <tfoot> or directly), not a nested one's."""
    return [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]


def _cell_text(cell: Tag) -> str:
    builder = _TextBuilder()
    builder.walk(cell)
    return cell_text(builder.result()[0])


def _span(cell: Tag, attribute: str) -> int:
    try:
        return max(1, int(str(cell.get(attribute) or 1)))
    except ValueError:
        return 1


def _is_link_list(block: Tag) -> bool:
    links = block.find_all("a")
    if len(links) < LINK_LIST_MIN_LINKS:
        return False
    words = len(block.get_text(" ").split())
    link_words = sum(len(link.get_text(" ").split()) for link in links)
    own_words = words - link_words
    return words > 0 and link_words / words >= LINK_DENSITY and own_words <= LINK_LIST_OWN_WORDS


def _defines_nothing(block: Tag) -> bool:
    """Whether a definition list is a page's table of contents: no word of it stands outside
    a link ("30.2.1. Off-line Enabling of Checksums" linking to the section below). Its
    entries are lines of text, not defined terms, which would head the page's opening
    paragraphs; their words stay (they find the page: dropped, fewer questions had it in
    their top five). A glossary of linked terms has its descriptions' words."""
    if block.find("a") is None:
        return False
    words = len(block.get_text(" ").split())
    linked = sum(len(link.get_text(" ").split()) for link in block.find_all("a"))
    return words > 0 and linked >= words


class _TextBuilder:
    """Walks the tree, collapsing whitespace in flowing text and breaking lines at blocks."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        # (line index, title, kind, line index its scope ends at: a term's, after its list)
        self.headings: list[tuple[int, str, str, int | None]] = []
        self._contents: dict[int, bool] = {}  # per <dl>: a contents list (decided once)
        # Per open list: the next item's number and the list's numbering type (None: a bullet
        # list), written as the Markdown loader writes items: "- item" or "3. item", nested
        # lists two spaces deeper.
        self._lists: list[_Numbering | None] = []
        self._marker = ""  # the open item's marker, for its first line of text

    def _contents_list(self, dl: Tag) -> bool:
        key = id(dl)
        if key not in self._contents:
            self._contents[key] = _defines_nothing(dl)
        return self._contents[key]

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
        if name == "svg":
            self._drawing(tag)
            return
        if name in _DROP or tag.get("role") in _LANDMARK_ROLES:
            return
        if tag.get("hidden") is not None or tag.get("aria-hidden") == "true":
            return
        if name == "br":
            self.flush()
        elif name in ("ul", "ol", "menu"):
            self.flush()
            self._lists.append(_numbering(tag) if name == "ol" else None)
            self.walk(tag)
            self.flush()
            self._lists.pop()
        elif name == "li":
            self.flush()
            numbering = self._lists[-1] if self._lists else None
            if numbering is not None:
                # An item's `value` sets its number, and the count goes on from it.
                value = _integer(tag.get("value"))
                number = numbering.number if value is None else value
                numbering = numbering._replace(number=number)
                self._lists[-1] = numbering._replace(number=number + numbering.step)
            depth = max(len(self._lists) - 1, 0)
            self._marker = list_item_prefix(
                depth, None if numbering is None else (numbering.number, numbering.kind)
            )
            self.walk(tag)
            self.flush()
            self._marker = ""  # an item without text marks nothing
        elif name == "pre":
            self.flush()
            lines = tag.get_text().strip("\n").splitlines()
            self._add([line.rstrip() for line in lines if line.strip()])
        elif name == "dl":
            self.flush()
            first = len(self.headings)
            self.walk(tag)
            self.flush()
            self._end_terms(first)
        elif name == "dt" and isinstance(tag.parent, Tag) and self._contents_list(tag.parent):
            self.flush()
            self.walk(tag)
            self.flush()
        elif name in _HEADINGS or name == "dt":
            # A definition term (an API signature, a glossary word) heads its description.
            self.flush()
            self.walk(tag)
            title = self._joined().strip()
            self.flush()
            if title:
                kind = "term" if name == "dt" else "heading"
                self.headings.append((len(self.lines) - 1, title, kind, None))
        elif name == "table" and _is_data_table(tag):
            self.flush()
            self._table(tag)
        elif name in _CELLS:
            self.walk(tag)
            self.current.append(" \t ")
        elif name in _BLOCK:
            self.flush()
            self.walk(tag)
            self.flush()
        else:
            self.walk(tag)

    def _end_terms(self, first: int) -> None:
        """The terms defined since heading `first` stand over nothing after their list (a
        nested list's terms ended with it)."""
        for index in range(first, len(self.headings)):
            line, title, kind, end = self.headings[index]
            if kind == "term" and end is None:
                self.headings[index] = (line, title, kind, len(self.lines))

    def _drawing(self, svg: Tag) -> None:
        """A drawing's words (a syntax diagram's keywords and names, a chart's labels): its
        text elements on one line, in the order they are drawn. An icon without text adds
        nothing."""
        labels = [collapse_spaces(t.get_text()).strip() for t in svg.find_all("text")]
        line = " ".join(label for label in labels if label)
        if line:
            self.flush()
            self._add([line])

    def _table(self, table: Tag) -> None:
        """A data table: its caption, then one line per body row, cells with their headers."""
        caption = table.find("caption", recursive=False)
        if isinstance(caption, Tag):
            self.walk(caption)
            self.flush()
        rows: list[list[tuple[str, int, int]]] = []
        marked_header = 0  # leading rows in <thead> or made of <th> cells only
        for tr in _own_rows(table):
            cells = [c for c in tr.find_all(_CELLS, recursive=False) if isinstance(c, Tag)]
            if not cells:
                continue
            header_like = tr.find_parent("thead") is not None or all(c.name == "th" for c in cells)
            if header_like and marked_header == len(rows):
                marked_header += 1
            rows.append([(_cell_text(c), _span(c, "rowspan"), _span(c, "colspan")) for c in cells])
        grid = spread(rows)
        # A table that marks header cells anywhere (row headers in a <th> column included) is
        # taken at its word; only a table of <td> cells alone has its header guessed.
        marked = marked_header or table.find("th") is not None or table.find("thead") is not None
        header_rows = marked_header if marked else header_rows_by_content(grid)
        self._add(table_lines(grid, header_rows))

    def _joined(self) -> str:
        return re.sub(r" {2,}", " ", "".join(self.current))

    def flush(self) -> None:
        line = self._joined().strip()
        self.current = []
        if line:
            self.lines.append(self._marker + line)
            self._marker = ""

    def _add(self, lines: Sequence[str]) -> None:
        """Lines as they are (code, a table's rows): an item opening with them has no marker
        (its code is no item text)."""
        self.lines.extend(lines)
        self._marker = ""

    def result(self) -> tuple[str, list[Heading]]:
        self.flush()
        offsets = []
        position = 0
        for line in self.lines:
            offsets.append(position)
            position += len(line) + 1
        headings = [
            Heading(
                offsets[index],
                title,
                kind,  # type: ignore[arg-type]
                offsets[end] if end is not None and end < len(offsets) else None,
            )
            for index, title, kind, end in self.headings
        ]
        return "\n".join(self.lines), headings

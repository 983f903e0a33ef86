"""Markdown: the text a reader sees on the rendered page, not the syntax that makes it.

A documentation site's Markdown is full of syntax a reader never sees: link targets
(`[artifacts](../config/build.md#artifacts)`), emphasis markers, HTML comments, front matter,
the MkDocs / Python-Markdown blocks (`!!! note "Title"` admonitions and `=== "Tab"` content
tabs, whose bodies are indented four spaces and would read as code), GitHub's `> [!NOTE]`
alerts and attribute lists (`{ #anchor }`). Quoted as it is, an answer reads
"To skip non-[artifact](#artifacts) directories ..." and the link targets' words count as
the passage's words. So the file is parsed (markdown-it-py, CommonMark with tables) and
written out as the page reads:

- headings on their own lines (the structure citations name), paragraphs as one line each;
- list items one per line ("- ", "1. ", nested ones indented), so a list stays a list;
- code blocks fenced with their language, inline code in backticks (code stays code);
- table rows as "Header: cell | Header: cell" lines (assistant/loaders/tables.py);
- links and images as their text (not a linked image, a README's badge: the picture is the
  link), quotes and admonitions as their content (an admonition's title, or its kind such as
  "Note", as a line of its own);
- front matter: its `title` is the document's title and its `description` a paragraph.

Offsets are into this text (citations quote it exactly), not into the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from assistant.loaders.base import Extracted, decode_text, list_item_prefix
from assistant.loaders.tables import table_lines
from assistant.types import Heading

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
# `!!! note "Title"`, `??? tip`, `???+ warning` (admonitions), `=== "Tab"` (content tabs).
_BLOCK_OPENER = re.compile(
    r"^(?P<indent>[ \t]*)(?:(?:!!!|\?\?\?\+?)[ \t]+(?P<kind>[\w-]+)(?:[ \t]+[\w-]+)*"
    r'|===[+!]?)(?:[ \t]+"(?P<title>[^"]*)")?[ \t]*$'
)
# A line that opens a block of its own (not a paragraph an admonition's label can lead).
_STARTS_BLOCK = re.compile(r"^[ \t]*(?:[-*+][ \t]|\d+[.)][ \t]|#|\||```|~~~|>|<|!!!|\?\?\?|===)")
_ALERT = re.compile(r"^([ \t]*>[ \t]*)\[!(\w+)\][ \t]*$")
# The spaces before something removed with them, read from the first space of their run: a
# run that nothing follows is then read once, not tried from every space (200,000 spaces
# took minutes).
_SPACES_BEFORE = r"(?<![ \t])[ \t]*"
# Attribute lists ending a line: `{ #anchor }`, `{: .class }`, `{ loading=lazy }`.
_ATTRIBUTES = re.compile(_SPACES_BEFORE + r"\{[ \t]*(?:[:#.]|[\w-]+=)[^{}\n]*\}[ \t]*$")
# An attribute list right after an inline element, mid-line: the badges of a README,
# `![CI](ci.svg){ loading=lazy .off-glb } ![PyPI](pypi.svg){ loading=lazy }`, an icon
# `:material-clock:{ .lg }`, `**Note**{ #note }`. Only after the end of a link, an image, an
# icon, emphasis, inline code or a tag, and only ids, classes and key=value pairs: "{x, y}"
# in prose, `x_{k=0}` in math, `{{ .Name }}` in a template and "{:.2f}" stay.
_ATTRIBUTE = r"(?:[#.][\w:-]+|[\w:-]+=(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s{}\"']+))"
_INLINE_ATTRIBUTES = re.compile(
    r"(?<=[)\]*`>:])\{:?[ \t]*" + _ATTRIBUTE + r"(?:[ \t]+" + _ATTRIBUTE + r")*[ \t]*\}"
)
_BACKTICKS = re.compile(r"`+")
_SNIPPET = re.compile(r"^[ \t]*-{1,2}8<-{1,2}")
_FOOTNOTE_DEFINITION = re.compile(r"^\[\^[^\]\s]+\]:[ \t]*")
_FOOTNOTE_REFERENCE = re.compile(r"\[\^[^\]\s]+\]")
# Emoji and icon shortcodes (":warning:", ":octicons-file-code-16:"): pictures, not words.
_SHORTCODE = re.compile(_SPACES_BEFORE + r"(?<![\w:]):[a-z][a-z0-9_+-]*:(?![\w:])")
_FENCE = re.compile(r"^[ \t]*(```+|~~~+)")
_TAG = re.compile(r"<[^<>]+>")
_BLOCK_TAG = re.compile(r"</?(?:br|p|div|li|ul|ol|tr|td|th|dd|dt|table)\b", re.IGNORECASE)
_HIDDEN_TAG = re.compile(r"</?(?:script|style)\b", re.IGNORECASE)
_HIDDEN_BLOCK = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SHEBANG = re.compile(r"^#!\w+\s+")  # `#!python import x`: inline code with a language


# How deep blocks nest before markdown-it stops reading them (CommonMark's preset: 20, which
# lost the words of a quote 21 replies deep, and of list items past the tenth level).
MAX_NESTING = 100


def extract_markdown(data: bytes) -> Extracted:
    """A Markdown file as its rendered text, with its headings and title."""
    source = decode_text(data)
    title, description, body = _front_matter(source)
    parser = _Parser("commonmark", {"html": True, "maxNesting": MAX_NESTING}).enable(
        ["table", "strikethrough"]
    )
    writer = _Writer(inline=lambda text: inline_text(parser.parseInline(text)[0]))
    if description:
        writer.block(description)
    writer.render(parser.parse(_plain_blocks(_without_templates(body))))
    headings = tuple(writer.headings)
    if title is None:
        title = writer.first_h1 or (headings[0].title if headings else None)
    return Extracted(text=writer.text(), title=title, headings=headings)


class _Parser(MarkdownIt):
    """Every link is read as its text (its target is never kept), so a `javascript:` target is
    parsed as a link too, not left in the text as "[text](javascript:...)"."""

    def validateLink(self, url: str) -> bool:
        return True


def _front_matter(source: str) -> tuple[str | None, str | None, str]:
    """(title, description, the rest) of a file that opens with YAML front matter (a block
    that is not YAML, or not a mapping, is read as Markdown)."""
    match = _FRONT_MATTER.match(source)
    if match is None:
        return None, None, source
    try:
        fields = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return None, None, source
    if not isinstance(fields, dict):
        return None, None, source
    title, description = fields.get("title"), fields.get("description")
    return (
        " ".join(title.split()) if isinstance(title, str) and title.strip() else None,
        description.strip() if isinstance(description, str) and description.strip() else None,
        source[match.end() :],
    )


# A site generator's template tags (Jekyll, Eleventy, Hugo: `{% include "x.html" %}`,
# `{{< ref "page" >}}`, and in a link's target `{{ site.baseurl }}`): replaced by the
# generator, never read as they are. An output tag in prose (`{{ .Name }}`) may be what a page
# about templates shows: it stays. A tag is at most TAG_CHARS long, so that text full of "{%"
# that never close is read in one pass.
TAG_CHARS = 500
_TEMPLATE_TAG = re.compile(
    rf"\{{%-?\s*[A-Za-z_].{{0,{TAG_CHARS}}}?-?%\}}|\{{\{{[<%]\s*.{{0,{TAG_CHARS}}}?\s*[>%]\}}\}}"
    rf"|(?P<output>\{{\{{-?\s*[A-Za-z_.$].{{0,{TAG_CHARS}}}?-?\}}\}})",
    re.DOTALL,
)
_QUOTED = re.compile(r'"([^"\n]*)"|\'([^\'\n]*)\'')
# Where a tag is part of a link's target ("[form]({% page "/forms" %})") or a tag's attribute
# (read in the TAG_CHARS before it).
_IN_TARGET = re.compile(r"\]\([^()\s]*$|<[^<>]*$")
_LINE_REST = re.compile(r"[ \t]*(?:\r?\n|\Z)")


def _without_templates(text: str) -> str:
    """The text with its template tags as the rendered page reads them (outside code):
    - a tag in a link's target: gone, so the link parses and reads as its text;
    - a tag alone on its lines (`{% include ... %}`, `{% alert %}`): gone, with its lines;
    - a tag in a line of text (`post in {% slack_channel "people-ops" %}`): its last quoted
      argument (what such a tag shows: "people-ops"), or nothing.
    """
    if "{%" not in text and "{{" not in text:
        return text
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        if fence is None and not _FENCE.match(line):
            prose.append(line)
            continue
        if fence is None:
            out.append(_rendered_tags("".join(prose)))
            prose = []
        fence = _fence_after(line, fence)
        out.append(line)
    out.append(_rendered_tags("".join(prose)))
    return "".join(out)


def _rendered_tags(text: str) -> str:
    """Prose with each template tag outside a code span replaced (see _without_templates), in
    one pass: the line a tag is on and the backtick runs before it on that line are counted
    on from the tag before it."""
    kept: list[str] = []
    at = line_start = counted = ticks = 0
    for match in _TEMPLATE_TAG.finditer(text):
        newline = text.rfind("\n", counted, match.start())
        if newline >= 0:
            line_start = counted = newline + 1
            ticks = 0
        ticks += len(_BACKTICKS.findall(text, counted, match.start()))
        counted = match.start()
        if ticks % 2:
            continue  # inside `code`
        before = text[max(line_start, match.start() - TAG_CHARS) : match.start()]
        rest = _LINE_REST.match(text, match.end())
        if _IN_TARGET.search(before):
            shown = ""
        elif match.group("output"):
            continue
        elif rest is not None and match.start() - line_start < TAG_CHARS and not before.strip():
            kept.append(text[at:line_start])
            at = rest.end()
            continue
        else:
            arguments = [a or b for a, b in _QUOTED.findall(match.group())]
            shown = arguments[-1] if arguments else ""
        kept.append(text[at : match.start()] + shown)
        at = match.end()
    kept.append(text[at:])
    return "".join(kept)


def _fence_after(line: str, fence: str | None) -> str | None:
    """The code fence open after `line`, with `fence` open before it (None: none): a fence
    line opens one, the same character at least as long closes it."""
    marker = _FENCE.match(line)
    if fence is None:
        return marker.group(1) if marker else None
    closing = marker.group(1) if marker else ""
    return None if closing[:1] == fence[0] and len(closing) >= len(fence) else fence


def _plain_blocks(text: str) -> str:
    """Admonitions, content tabs and alerts as plain blocks; attribute lists and snippet
    markers gone (outside code fences only)."""
    lines = text.splitlines()
    out: list[str] = []
    fence: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if fence is not None or _FENCE.match(line):
            fence = _fence_after(line, fence)
            out.append(line)
            continue
        opener = _BLOCK_OPENER.match(line)
        if opener:
            indent = opener.group("indent")
            label = opener.group("title")
            label = _SHORTCODE.sub("", label).strip() if label is not None else None
            if label is None and opener.group("kind"):
                label = opener.group("kind").replace("-", " ").capitalize()
            # The body (the following lines indented four more, blank lines inside it too) is
            # dedented in place and read on, so blocks nested in it are read too.
            width = len(indent.expandtabs(4)) + 4
            end = index
            while end < len(lines) and (not lines[end].strip() or _indent_of(lines[end]) >= width):
                lines[end] = indent + lines[end].expandtabs(4)[width:]
                end += 1
            first = next((i for i in range(index, end) if lines[i].strip()), None)
            if label and first is not None and _STARTS_BLOCK.match(lines[first]) is None:
                # "Note" then "Only glob syntax is supported.": one line, "Note: Only ...".
                lines[first] = f"{indent}{label}: {lines[first][len(indent) :]}"
            elif label:
                out.extend([indent + label, ""])
            out.append("")
            continue
        alert = _ALERT.match(line)
        if alert:
            out.append(f"{alert.group(1)}{alert.group(2).capitalize()}:")
            continue
        if _SNIPPET.match(line):
            continue
        line = _FOOTNOTE_DEFINITION.sub("", line)
        out.append(_without_inline_attributes(_ATTRIBUTES.sub("", line)))
    return "\n".join(out)


def _without_inline_attributes(line: str) -> str:
    """The line without attribute lists after its inline elements; one inside a code span
    (an odd number of backtick runs before it: `` `a` `` or ``` ``a`` ```) is code and stays."""
    kept: list[str] = []
    at = 0
    for match in _INLINE_ATTRIBUTES.finditer(line):
        if len(_BACKTICKS.findall(line, 0, match.start())) % 2:
            continue
        kept.append(line[at : match.start()])
        at = match.end()
    kept.append(line[at:])
    return "".join(kept)


def _indent_of(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


@dataclass
class _Writer:
    """Rendered text, block by block, with the headings' offsets."""

    # Markdown inside HTML blocks (`<figure markdown>`, `<details>`): one line's inline text.
    inline: Callable[[str], str] = str
    parts: list[str] = field(default_factory=list)
    length: int = 0
    headings: list[Heading] = field(default_factory=list)
    first_h1: str | None = None
    # Per open list: the next number (None: a bullet list) and the items written so far.
    _lists: list[list[int | None]] = field(default_factory=list)

    def text(self) -> str:
        return "".join(self.parts).rstrip() + "\n"

    def _write(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def block(self, text: str, tight: bool = False) -> None:
        """A block of lines; blocks are separated by a blank line (list items by none)."""
        text = text.strip("\n")
        if not text.strip():
            return
        if self.parts and not tight:
            self._write("\n")
        self._write(text + "\n")

    def render(self, tokens: Sequence[Token]) -> None:
        index = 0
        while index < len(tokens):
            index = self._render_at(tokens, index)

    def _render_at(self, tokens: Sequence[Token], index: int) -> int:
        token = tokens[index]
        kind = token.type
        if kind == "heading_open":
            text = inline_text(tokens[index + 1])
            if text:
                if self.parts:
                    self._write("\n")
                self.headings.append(Heading(self.length, text))
                if token.tag == "h1" and self.first_h1 is None:
                    self.first_h1 = text
                self._write(text + "\n")
            return index + 3
        if kind in ("bullet_list_open", "ordered_list_open"):
            start = token.attrGet("start")
            number = int(start) if start is not None else 1
            self._lists.append([number if "ordered" in kind else None, 0])
            return index + 1
        if kind in ("bullet_list_close", "ordered_list_close"):
            self._lists.pop()
            return index + 1
        if kind == "list_item_open":
            return self._list_item(tokens, index)
        if kind == "paragraph_open":
            self.block(inline_text(tokens[index + 1]))
            return index + 3
        if kind in ("fence", "code_block"):
            language = (token.info or "").split()[0] if token.info else ""
            indent = "  " * len(self._lists)
            code = token.content.rstrip("\n")
            lines = [f"```{language}", *code.split("\n"), "```"]
            self.block("\n".join(indent + line if line else line for line in lines))
            return index + 1
        if kind == "table_open":
            return self._table(tokens, index)
        if kind == "html_block":
            self.block(_html_text(token.content, self.inline))
            return index + 1
        return index + 1  # blockquote, hr, closing tokens: their content is rendered as found

    def _list_item(self, tokens: Sequence[Token], index: int) -> int:
        """One list item: "- text" (or "3. text"), its paragraphs on one line, nested lists and
        code under it."""
        depth = len(self._lists) - 1
        state = self._lists[-1]
        number, written = state
        prefix = list_item_prefix(depth, None if number is None else (number, "1"))
        if number is not None:
            state[0] = number + 1
        # Items follow each other (and a nested list its parent item) without a blank line.
        tight = bool(written) or depth > 0
        state[1] = (written or 0) + 1
        close = _matching_close(tokens, index)
        texts: list[str] = []
        inner = index + 1
        while inner < close and tokens[inner].type == "paragraph_open":
            texts.append(inline_text(tokens[inner + 1]))
            inner += 3
        text = " ".join(t for t in texts if t)
        if text:
            self.block(prefix + text, tight=tight)
        self.render(tokens[inner:close])
        return close + 1

    def _table(self, tokens: Sequence[Token], index: int) -> int:
        close = _matching_close(tokens, index)
        rows: list[list[str]] = []
        header_rows = 0
        in_head = False
        row: list[str] = []
        for token in tokens[index:close]:
            if token.type == "thead_open":
                in_head = True
            elif token.type == "thead_close":
                in_head = False
            elif token.type == "tr_open":
                row = []
            elif token.type == "tr_close":
                rows.append(row)
                header_rows += in_head
            elif token.type == "inline":
                row.append(" ".join(inline_text(token).split()))
        self.block("\n".join(table_lines(rows, header_rows)))
        return close + 1


def _matching_close(tokens: Sequence[Token], index: int) -> int:
    """The index of the token closing the one opened at `index` (same level)."""
    level = tokens[index].level
    closing = tokens[index].type.replace("_open", "_close")
    for position in range(index + 1, len(tokens)):
        if tokens[position].type == closing and tokens[position].level == level:
            return position
    return len(tokens) - 1


def inline_text(token: Token) -> str:
    """An inline run as it reads: link and image text without targets, emphasis without its
    markers, inline code in backticks, HTML tags (and scripts and styles) dropped, soft breaks
    as spaces."""
    parts: list[str] = []
    hidden = False  # inside an inline <script> or <style>: nothing a reader sees
    children = token.children or []
    for index, child in enumerate(children):
        kind = child.type
        if kind == "html_inline" and _HIDDEN_TAG.match(child.content):
            hidden = not child.content.startswith("</")
            continue
        if hidden:
            continue
        if kind == "text":
            parts.append(_SHORTCODE.sub("", _FOOTNOTE_REFERENCE.sub("", child.content)))
        elif kind == "code_inline":
            parts.append(f"`{_SHEBANG.sub('', child.content)}`")
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "image":
            if _is_whole_link(children, index):
                continue  # a badge or a button: the picture is the link, its alt text no words
            parts.append(inline_text(child) if child.children else child.content)
        elif kind == "html_inline" and _BLOCK_TAG.match(child.content):
            parts.append(" ")  # "<li>a</li><li>b</li>": "a b", not "ab"
    return re.sub(r"[ \t]{2,}", " ", "".join(parts)).strip()


def _is_whole_link(children: list[Token], index: int) -> bool:
    """Whether the inline token at `index` is all there is of a link: `[![CI](ci.svg)](url)`."""
    return (
        0 < index < len(children) - 1
        and children[index - 1].type == "link_open"
        and children[index + 1].type == "link_close"
    )


def _html_text(block: str, inline: Callable[[str], str]) -> str:
    """The text of an HTML block: tags, comments and scripts dropped, entities decoded, and
    Markdown written inside it read as Markdown ("![Select](shot.png)" is "Select")."""
    without_comments = _HIDDEN_BLOCK.sub("", re.sub(r"<!--.*?-->", "", block, flags=re.DOTALL))
    lines = (_TAG.sub(" ", line) for line in without_comments.split("\n"))
    texts = (inline(_ATTRIBUTES.sub("", " ".join(line.split()))) for line in lines)
    return "\n".join(text for text in texts if text.strip())

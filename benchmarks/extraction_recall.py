"""How much of each document's visible text the loaders keep: word-token recall per corpus.

    python -m benchmarks.extraction_recall [CORPUS ...] [--json FILE]

CORPUS names a golden corpus (`benchmarks/corpora.py`; default: all available but the pending
ones, which are measured when named). For every document, the loader's extracted text is
compared with an independent reference:

- HTML: the text of `<body>` (or of the element the page marks as main) as lxml sees it
  (scripts, styles, `<nav>` and the page's own table of contents removed: lists and tables
  whose words are almost all links to places on the same page), minus the
  site's chrome, found without the loader's rules: text nodes that recur on at least half of the
  corpus's pages ("Prev", "Next", "Home", a copyright line) and text nodes that are another
  page's title (links to the neighbouring pages);
- PDF: `pdftotext` (poppler-utils), minus running heads and feet: a page's first or last line
  that holds a number and, digits masked, is among the first or last three lines of at least
  three pages ("gnuplot 5.4 #");
- Markdown: the text of the page another renderer makes of it (Python-Markdown with the
  PyMdown extensions MkDocs sites use, from the `bench` extra; icon shortcodes dropped);
- plain text: the file itself.

Recall is the multiset overlap of lower-cased word tokens divided by the reference's tokens,
token-weighted over the corpus. The goal is >= 0.99 on every corpus.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from benchmarks.corpora import ROLES, Corpus, all_corpora, corpus

_WORD = re.compile(r"\w+", re.UNICODE)
# With the attribute list that styles the icon (":material-clock:{ .lg .middle }"): the
# renderer would leave it as text once the icon is gone.
_SHORTCODE = re.compile(r":[a-z0-9_+-]+:(?:\{[^{}\n]*\})?")
_FENCE_ATTRIBUTES = re.compile(r"^(\s*(?:```|~~~)\s*[\w+-]*)[ \t]+\S.*$", re.MULTILINE)
_TAG = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>\n]{0,80})?/?>")
CHROME_SHARE = 0.5
RUNNING_PAGES = 3
RUNNING_LINES = 3


def tokens(text: str) -> Counter[str]:
    """Lower-cased word tokens with counts."""
    return Counter(_WORD.findall(text.lower()))


def recall(extracted: Counter[str], reference: Counter[str]) -> float:
    """Share of the reference's tokens found in the extracted text (multiset)."""
    total = sum(reference.values())
    if total == 0:
        return 1.0
    return sum(min(count, extracted[word]) for word, count in reference.items()) / total


def html_title(path: Path) -> str:
    """The page's <title>."""
    import lxml.html

    titles = lxml.html.fromstring(path.read_bytes()).xpath("//title")
    return " ".join(titles[0].text_content().split()) if titles else ""


def html_text_nodes(path: Path) -> list[str]:
    """The visible text nodes of a page's body, by lxml (not the loader's code)."""
    import lxml.html

    tree = lxml.html.fromstring(path.read_bytes())
    for bad in tree.xpath("//script|//style|//noscript|//template|//nav|//head"):
        bad.drop_tree()
    for contents in in_page_contents(tree):
        contents.drop_tree()
    # A page that marks its main content (ARIA role or HTML element) says where it is.
    marked = tree.xpath("//main|//*[@role='main']|//article")
    body = tree.find("body")
    root = marked[0] if marked else body if body is not None else tree
    return [" ".join(t.split()) for t in root.itertext() if t.strip()]


def in_page_contents(tree: object) -> list[object]:
    """A page's own table of contents: lists and tables whose words are almost all in links to
    places on the same page (`href="#..."`), at least three of them. Navigation, like a site's
    chrome: the headings they point at are counted where they stand."""
    found = []
    for block in tree.xpath("//ul|//ol|//table|//div"):  # type: ignore[attr-defined]
        if any(block in f.iterancestors() for f in found):
            continue
        links = block.xpath(".//a[starts-with(@href, '#')]")
        if len(links) < 3:
            continue
        linked = sum(len(link.text_content().split()) for link in links)
        words = len(block.text_content().split())
        if words and linked >= 0.8 * words:
            found.append(block)
    return found


def references(corpus: Corpus) -> dict[Path, Counter[str]]:
    """The reference tokens of every document of a corpus."""
    files = [p for p in corpus.paths if p.is_file()] or sorted(
        f for p in corpus.paths for f in p.rglob("*") if f.is_file()
    )
    pages = {p: html_text_nodes(p) for p in files if p.suffix.lower() in (".html", ".htm")}
    recurring: Counter[str] = Counter()
    for nodes in pages.values():
        recurring.update(set(nodes))
    chrome = {t for t, n in recurring.items() if len(pages) >= 4 and n >= CHROME_SHARE * len(pages)}
    titles = {p: html_title(p) for p in pages}
    result: dict[Path, Counter[str]] = {}
    for path in files:
        suffix = path.suffix.lower()
        if path in pages:
            # Links to the neighbouring pages name them by their titles: site navigation.
            others = {t for p, t in titles.items() if p != path and t}
            kept = [t for t in pages[path] if t not in chrome and t not in others]
            result[path] = tokens(" ".join(kept))
        elif suffix == ".pdf":
            text = subprocess.run(
                ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
            ).stdout
            result[path] = tokens(without_running_lines(text))
        elif suffix in (".md", ".markdown"):
            result[path] = tokens(markdown_text(path))
        else:
            result[path] = tokens(path.read_text("utf-8", errors="replace"))
    return result


def without_running_lines(text: str) -> str:
    """pdftotext's pages (split at form feeds) without their running heads and feet, found
    without the loader's rule (which learns where the page number is): at a page's top or
    bottom, the run of up to RUNNING_LINES lines whose text, digits masked, opens or ends at
    least RUNNING_PAGES pages, up to the last of them that holds a number ("CONTENTS",
    "gnuplot 5.4", "11"; but "Syntax:" opening three pages is content)."""
    pages = [[line for line in page.split("\n") if line.strip()] for page in text.split("\f")]
    edges = [{_masked(x) for x in page[:RUNNING_LINES] + page[-RUNNING_LINES:]} for page in pages]
    seen = Counter(line for lines in edges for line in lines)
    running = {line for line, count in seen.items() if count >= RUNNING_PAGES}
    kept = []
    for page in pages:
        top = _head_length(page, running)
        bottom = _head_length(page[top:][::-1], running)
        kept.append("\n".join(page[top : len(page) - bottom]))
    return "\f".join(kept)


def _head_length(lines: list[str], running: set[str]) -> int:
    """How many of the first lines are a running head: the running ones, up to the last that
    holds a number."""
    length = 0
    for position, line in enumerate(lines[:RUNNING_LINES]):
        masked = _masked(line)
        if masked not in running:
            break
        if "#" in masked:
            length = position + 1
    return length


def _masked(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split()))


def markdown_text(path: Path) -> str:
    """A Markdown file's visible text as another renderer sees it: Python-Markdown (not the
    loader's markdown-it) to HTML, then lxml's text (link targets and markup are not text).
    Front matter (a YAML block between `---` lines opening the file) is the page's settings,
    not its text: every generator reads it off."""
    import lxml.html
    import markdown

    # Icon and emoji shortcodes (":octicons-arrow-right-24:", ":white_check_mark:") are
    # pictures on the rendered page, not words; so are their attribute lists.
    source = _SHORTCODE.sub("", path.read_text("utf-8", errors="replace"))
    source = re.sub(r"\A---[ \t]*\n.*?\n---[ \t]*\n", "", source, count=1, flags=re.DOTALL)
    # What follows a fence's language (```toml tab="config.toml"```, ```toml config-example```:
    # a site plugin's tabs) is not Markdown: the renderer would take the block for text.
    source = _FENCE_ATTRIBUTES.sub(r"\1", source)
    html = markdown.markdown(
        source,
        extensions=[
            "tables", "admonition", "def_list", "attr_list", "md_in_html",
            "pymdownx.superfences", "pymdownx.tabbed", "pymdownx.details",
        ],
    )  # fmt: skip
    text = lxml.html.fromstring(f"<div>{html}</div>").text_content()
    # HTML inside a table cell (<ul><li>...) is escaped by this renderer and shown as text by
    # a browser's: its tags are markup, not words.
    return _TAG.sub(" ", text)


def measure(corpus: Corpus) -> dict[str, object]:
    """Per-corpus recall (token-weighted) and the five worst documents."""
    from assistant.loaders import load_document

    per_document = []
    found = total = 0
    for path, reference in references(corpus).items():
        document = load_document(path, str(path), 200 * 1024 * 1024)
        extracted = tokens(document.text)
        size = sum(reference.values())
        value = recall(extracted, reference)
        found += value * size
        total += size
        per_document.append((value, str(path)))
    per_document.sort()
    return {
        "recall": found / total if total else 1.0,
        "documents": len(per_document),
        "worst": [{"source": s, "recall": round(v, 4)} for v, s in per_document[:5]],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Print the recall of every chosen corpus."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="*", help="corpus names (default: all available)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    corpora = all_corpora()
    names = args.corpora or [n for n, c in corpora.items() if c.available]
    unknown = [name for name in names if name not in ROLES]
    if unknown:
        parser.error(f"unknown corpus: {', '.join(unknown)} (known: {', '.join(ROLES)})")
    # By name, so that a pending corpus (not in all_corpora) is measured when named.
    results = {name: measure(corpus(name)) for name in names}
    for name, result in results.items():
        shown = result["worst"]
        assert isinstance(shown, list)
        worst = ", ".join(f"{Path(w['source']).name} {w['recall']:.3f}" for w in shown)
        print(f"{name}: recall {result['recall']:.4f} ({result['documents']} docs); worst: {worst}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

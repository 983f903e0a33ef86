"""Text analysis shared by the lexical index and the answerers: terms and sentence spans."""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from assistant.line_shapes import LIST_ITEM

if TYPE_CHECKING:
    from nltk.stem.snowball import SnowballStemmer
    from nltk.tokenize.punkt import PunktSentenceTokenizer

# A compact English stop list: function words plus question words, which carry no topic.
# The PDF loader reads it too (`loaders/reflow`: a line stopping on one goes on): a change
# here changes extraction, and `loaders.EXTRACTION_VERSION` with it.
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can cannot could couldn't did didn't do does doesn't
    doing don't down during each either else ever few for from further get gets got had hadn't
    has hasn't have haven't having he her here hers herself him himself his how however i if in
    into is isn't it it's its itself just let's like may me might more most much must mustn't
    my myself neither no nor not now of off on once only or other ought our ours ourselves out
    over own per please same shall shan't she should shouldn't so some such than that that's
    the their theirs them themselves then there there's these they this those through thus to
    too under until up upon us very via was wasn't we were weren't what what's whatever when
    where whereas whether which while who whom whose why will with within without won't would
    wouldn't yet you your yours yourself yourselves tell explain describe say says said
    according one ones s t
    """.split()  # noqa: SIM905
)
# `words` cuts a word at its apostrophe, so the contractions above never match: "isn't" is read
# as "isn", "won't" as "won", and a negation stays a term ("Why doesn't git push the tag?"
# matches "git push doesn't push tags"). Made stop words, they cost answers
# (docs/evaluation-history.md).

QUESTION_WORDS = frozenset(["who", "whom", "whose", "what", "which", "when", "where", "why", "how"])

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
# One letter of any script (a word character that is neither a digit nor "_").
LETTER = re.compile(r"[^\W\d_]")
# An acronym's plural ("CPUs", "APIs", "PDFs"): its "s" goes before stemming, which keeps it
# after a vowel or without one ("cpus", "pdfs"), so "CPU" would never match "CPUs".
_ACRONYM_PLURAL = re.compile(r"\b([A-Z][A-Z0-9]+)s\b")
# Part of the index's fingerprint: bump it when `terms` changes, so that the lexical index is
# rebuilt with the terms the questions are read with.
TERMS_VERSION = "3"
# Dot leaders ("....", ". . . ."): read from the first dot of their run and never given back
# (possessive), so a long run without a page number after it is read once, not tried from every
# dot (2,000 dots took 29 s, growing with the cube of the run).
DOT_LEADERS = r"(?<!\.)(?<!\.\s)(?:\.\s?){4,}+"
# A table-of-contents or index entry: dot leaders, then page numbers ("Locale . . . . 167",
# "Missing values . . . 169, 185"); a price after leaders ("$2.50") is not one. The first
# number is group 1.
CONTENTS_ENTRY = re.compile(DOT_LEADERS + r"\s*(\d+)(?:\s*[,–-]\s*\d+)*\s*$")

# Abbreviations after which a period does not end a sentence.
_ABBREVIATIONS = {
    "u.s", "u.k", "u.n", "e.u", "dr", "mr", "mrs", "ms", "prof", "sr", "jr", "st", "vs", "etc",
    "e.g", "i.e", "cf", "inc", "ltd", "co", "corp", "no", "nos", "fig", "figs", "approx", "pct",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt",
    "gen", "gov", "sen", "rep", "dept", "est", "vol", "p", "pp", "al", "a.m", "p.m", "ph.d",
}  # fmt: skip


# nltk treats these as optional (ImportError: a stub that raises) and the stemmer and Punkt never
# use them, but nltk's package __init__ imports them when present: 1.3 s of its 1.6 s on 2 cores.
_UNUSED_BY_NLTK_TEXT = ("scipy", "sklearn")
_nltk_lock = threading.Lock()


def _import_nltk() -> None:
    """Import nltk once, on first use, hiding scipy and scikit-learn while it loads (if they are
    not loaded already). First used by the first stem or sentence split: a no-op ingest never
    loads it; `ask` and `serve` (warming up, before serving) load it on the main thread while
    no other thread imports: one importing scipy or scikit-learn meanwhile would not find it."""
    with _nltk_lock:
        if "nltk.tokenize.punkt" in sys.modules:
            return
        hidden = [name for name in _UNUSED_BY_NLTK_TEXT if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # import -> ImportError
        try:
            import nltk.stem.snowball
            import nltk.tokenize.punkt  # noqa: F401
        finally:
            for name in hidden:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]


@lru_cache(maxsize=1)
def _stemmer() -> SnowballStemmer:
    _import_nltk()
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball stem of a lower-cased word (cached: vocabularies are small)."""
    return str(_stemmer().stem(word))


def term(word: str) -> str:
    """The term one word is read as, whole (a code name such as "pg_dump" stays one): lower
    case, an acronym's plural "s" dropped as `words` drops it, diacritics folded, stemmed."""
    return stem(folded(_ACRONYM_PLURAL.sub(r"\1", word).lower()))


def folded(word: str) -> str:
    """A word of the Latin alphabet without its diacritics ("zürich" -> "zurich", "naïve" ->
    "naive", "ﬁle" -> "file"), so that a question typed without them reads as the documents
    do, as FTS5's unicode61 tokenizer reads them in the lexical index. Folded before stemming
    ("résumé" and "resume" are one term). A word of another script stays as written."""
    if word.isascii():
        return word
    bare = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return bare if bare.isascii() else word


def words(text: str) -> list[str]:
    """Lower-cased word tokens, diacritics folded (`folded`); apostrophe suffixes such as ’s
    and an acronym's plural "s" ("CPUs" -> "cpu") are dropped."""
    tokens = []
    for match in _WORD.finditer(_ACRONYM_PLURAL.sub(r"\1", text).lower()):
        token = re.split(r"['’]", match.group())[0]
        if token:
            tokens.append(folded(token))
    return tokens


def terms(text: str) -> list[str]:
    """Stemmed content terms (stop words removed), in order, with repeats."""
    return [stem(word) for word in words(text) if word not in STOPWORDS]


def content_terms(text: str) -> list[str]:
    """Distinct stemmed content terms in first-seen order."""
    return list(dict.fromkeys(terms(text)))


@lru_cache(maxsize=1)
def _sentence_tokenizer() -> PunktSentenceTokenizer:
    _import_nltk()
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    params = PunktParameters()
    params.abbrev_types = set(_ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (absolute offsets) in text[start:end], trimmed of surrounding whitespace.

    Line breaks always end a sentence, so headings and list items stand alone. A list item's
    number opens its first sentence ("1. First, reset ..."; Punkt ends a sentence after it).
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line_start, line_end in _lines(text, start, end):
        line = text[line_start:line_end]
        found = [_trim(line, s, e) for s, e in _sentence_tokenizer().span_tokenize(line)]
        found = [(s, e) for s, e in found if e > s]
        if len(found) > 1 and LIST_ITEM.fullmatch(line[found[0][0] : found[0][1]] + " "):
            found[:2] = [(found[0][0], found[1][1])]
        spans.extend((line_start + s, line_start + e) for s, e in found)
    return spans


# What a sentence opens with (a letter, a digit, an opening quote or bracket); after a "?" or
# "!", anything else goes on with the sentence before. What may close after the mark.
_OPENS_A_SENTENCE = re.compile(r"[\w\"'“‘(\[]")
_CLOSERS = ")]}\"'”’`"


def cut_inside_code(text: str, mark_end: int, next_start: int) -> bool:
    """Whether a sentence end at `mark_end` that Punkt put after a "?" or "!" (on the same
    line as the sentence at `next_start`) lies inside code: a symbol follows ("test ! -f
    /archive/%f", "(valid(2) ? $2 : prior)"), or a lower-case word follows a mark that stands
    alone ("where ? matches any single character"). After "word?" a lower-case word starts a
    sentence, as people type them ("Is that possible? do we need a restart?").

    Punkt ends a sentence at every "?" and "!"; the splitter keeps its cuts (chunks and their
    vectors are built on them), and an evidence window goes on over these ones.
    """
    mark = mark_end - 1
    while mark > 0 and text[mark] in _CLOSERS:
        mark -= 1  # 'say "Hello, world!" | ...': a quote closes after the mark
    following = text[next_start : next_start + 1]
    if mark < 0 or not following or text[mark] not in "?!" or "\n" in text[mark_end:next_start]:
        return False
    if not _OPENS_A_SENTENCE.match(following):
        return True
    before = text[mark - 1] if mark >= 1 else " "
    return following.islower() and not (before.isalnum() or before in _CLOSERS)


def first_sentence(text: str) -> str:
    """The text up to the end of its first sentence (all of it when it has none)."""
    spans = sentence_spans(text)
    return text[: spans[0][1]] if spans else text


# Punkt reads a line at most this long at a time: a longer one is cut at a space before it (a
# sentence across the cut is two). NLTK gives up on a text after 5 s of matching (a 900 kB line
# of "a. a. a. ..." took longer, and its TimeoutError once stopped a whole ingest run).
MAX_LINE_CHARS = 10_000


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    position = start
    while position < end:
        newline = text.find("\n", position, end)
        stop = end if newline < 0 else newline
        while stop - position > MAX_LINE_CHARS:
            space = text.rfind(" ", position + MAX_LINE_CHARS // 2, position + MAX_LINE_CHARS)
            cut = space + 1 if space >= 0 else position + MAX_LINE_CHARS
            if text[position:cut].strip():
                yield position, cut
            position = cut
        if text[position:stop].strip():
            yield position, stop
        position = stop + 1


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def contains_key_term(text: str, terms: Sequence[str]) -> bool:
    """Whether any key term occurs in the text as whole words (case-insensitive)."""
    return any(
        re.search(rf"(?<!\w){re.escape(term.strip())}(?!\w)", text, re.IGNORECASE)
        for term in terms
        if term.strip()
    )


# What a question never needs and a terminal or page may act on. Terminal escape sequences
# (ESC or the one-byte CSI, then their parameters) go whole, as do bidi embeddings, overrides
# and isolates (they make text read differently from what it is), the byte-order mark and lone
# surrogates (not encodable as UTF-8: any output would fail); other controls become spaces.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, screen clears
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC: window titles, links
    r"|\x1b[@-Z\\-_]"  # other two-character escapes
)
_INVISIBLE = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text as it can be stored and shown as UTF-8: a byte of a file name that was not UTF-8
    (Python keeps it as a lone surrogate) becomes U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:  # a surrogate that stands for no byte
            return re.sub("[\ud800-\udfff]", "\ufffd", text)


def for_terminal(text: str) -> str:
    """A name or message as a terminal may show it: escape sequences and control characters
    (a file named so as to clear the screen or recolour it) removed, line breaks kept."""
    text = _without_escapes(text)
    return _CONTROL.sub(lambda m: m.group() if m.group() in "\n\t" else "", text)


def _without_escapes(text: str) -> str:
    """Text without terminal escape sequences, bidi controls and lone surrogates."""
    return _INVISIBLE.sub("", _ESCAPE_SEQUENCE.sub("", text))


def one_line(text: str, limit: int) -> str:
    """Text on one line, cut at a word with "…" when longer than `limit` characters (a
    preview of a quote)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


# How much of a quoted span a preview shows (the chat's source lists, the terminal, exports).
PREVIEW_CHARS = 240


def clean_text(text: str) -> str:
    """Text with control, bidi-override and unencodable characters removed and spaces collapsed."""
    return " ".join(_CONTROL.sub(" ", _without_escapes(text)).split())


# Contractions typed without their apostrophe, as chat often has them ("whats", "doesnt",
# "im"): only those that are no other English word ("cant" and "wont" are hardly ever meant as
# words in a question; "its", "well", "were", "ill", "id", "lets", "shell", "wed" are left).
_CONTRACTIONS = {
    bare: spelled
    for spelled in """
    don't doesn't didn't isn't aren't wasn't weren't hasn't haven't hadn't wouldn't shouldn't
    couldn't mustn't needn't can't won't what's where's who's how's when's why's that's there's
    i'm i've you're they're we've you've they've you'll they'll it'll that'll you'd they'd
    would've should've could've
    """.split()  # noqa: SIM905
    for bare in [spelled.replace("'", "")]
}
# Not inside code or a file name ("--dont", "whats_new", "dont.txt").
_BARE_CONTRACTION = re.compile(
    r"(?<![\w'’.-])(" + "|".join(_CONTRACTIONS) + r")(?![\w'’-]|\.\w)", re.IGNORECASE
)


def with_apostrophes(question: str) -> str:
    """A question with its contractions typed without an apostrophe spelt with one ("whats
    wrong" -> "what's wrong", "Im stuck" -> "I'm stuck"), so that every reading of it (its
    terms, its asking clause, a follow-up's references) sees the word it means. A word in
    capitals ("IM", "DONT") is left as typed."""

    def spelled(match: re.Match[str]) -> str:
        word = match.group(1)
        if word.isupper() and len(word) > 1:
            return word
        out = _CONTRACTIONS[word.lower()]
        if out.startswith("i'"):
            return "I" + out[1:]
        return out[:1].upper() + out[1:] if word[:1].isupper() else out

    return _BARE_CONTRACTION.sub(spelled, question)


def clean_lines(text: str) -> str:
    """`clean_text` line by line: the same characters removed and spaces collapsed within each
    line (indentation too), its line breaks kept (one blank line at most between paragraphs), so
    that an answer's code blocks and lists are still read as blocks and lists."""
    text = _INVISIBLE.sub("", _ESCAPE_SEQUENCE.sub("", text.replace("\r\n", "\n")))
    lines = [" ".join(_CONTROL.sub(" ", line).split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def text_pieces(text: str) -> Iterator[str]:
    """Split text into word-sized pieces that concatenate back to it."""
    for match in re.finditer(r"\S+\s*|\s+", text):
        yield match.group()

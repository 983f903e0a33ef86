"""A question's misspelt words read as the documents spell them ("brokrages" -> "brokerages").

A word typed in a hurry that no document uses finds nothing in the lexical index and reads as
a thing the documents lack: the question is answered from the wrong passages, or refused. A
word of four letters or more is read as another when it is no English word, the documents
(those the question may search) never use it, and one letter off it (one left out, added,
changed, or two neighbours swapped; of a four-letter word, only its middle two swapped) is an
English word they do use (a stop word is in every passage), or, two letters swapped, any word
they use; of several, the one the most passages hold. The first letter is never touched, nor
is the last left out, changed or added to: a word's ending is often its own ("systemd" is not
"system"). A word in capitals, mixed case, quotes, backticks or code (an option, a path, a
snake_case name) stays as typed; the parts of a dotted name are words ("supbrocess.run").
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Sequence
from string import ascii_lowercase

from assistant.interpret import common_terms, english_word
from assistant.text import STOPWORDS, term

# Shorter words are never read as slips: "txa" is as likely "tax" as an acronym.
SHORTEST_WORD = 4
# A plain word: letters only, not joined to code by _ - / @ or a digit, nor by a backtick; a
# part of a dotted name is one ("supbrocess.run": "subprocess.run", "os.path.spiltext").
_WORD = re.compile(rf"(?<![\w\-/@`$%])[A-Za-z]{{{SHORTEST_WORD},}}(?![\w\-/@`])")
# Written exactly: a `code` span, or a word in quotes ('git stauts' as the asker typed it).
_EXACT = re.compile(r"`[^`\n]*`|(?<!\w)'[^'\n]*'(?!\w)|\"[^\"\n]*\"|‘[^’\n]*’|“[^”\n]*”")

Counts = Callable[[Sequence[str]], dict[str, int]]


def respelled(question: str, held: Counts, anywhere: Counts | None = None) -> str:
    """The question with each misspelt word spelt as the documents spell it (the module's
    rule). `held` counts the passages the question may search that hold each term. When those
    are some of the index's, `anywhere` counts over the whole index (kept, so cheaper) to narrow
    the spellings to look up: a term the whole index lacks, the allowed passages lack too, and
    what decides stays what the asker may read. Most questions need no count: only a word that
    is no English word is looked up."""
    spans = [m.span() for m in _EXACT.finditer(question)]
    typed = [
        m
        for m in _WORD.finditer(question)
        if _plain_case(m.group()) and not any(a <= m.start() < b for a, b in spans)
    ]
    common = common_terms()
    lowered = {m.group().lower() for m in typed}
    strange = sorted(w for w in lowered if term(w) not in common and not english_word(w))
    if not strange:
        return question
    own = held([term(word) for word in strange])
    spellings = {
        word: found for word in strange if not own[term(word)] and (found := _spellings(word))
    }
    # A stop word ("whtaever", "beacuse") is in no index and in every passage.
    stop = {
        t for found in spellings.values() for t, spelling in found.items() if spelling in STOPWORDS
    }
    wanted = sorted({t for found in spellings.values() for t in found} - stop)
    if anywhere is not None and wanted:
        wanted = [t for t, n in anywhere(wanted).items() if n > 0]
    counts = (held(wanted) if wanted else {}) | dict.fromkeys(stop, sys.maxsize)
    chosen = {
        word: best for word, found in spellings.items() if (best := _most_held(found, counts))
    }
    if not chosen:
        return question
    pieces, last = [], 0
    for m in typed:
        out = chosen.get(m.group().lower())
        if out is not None:
            pieces += [question[last : m.start()], _cased(out, m.group())]
            last = m.end()
    return "".join(pieces) + question[last:]


def _cased(spelling: str, typed: str) -> str:
    """A spelling capitalised as the word typed is."""
    return spelling[:1].upper() + spelling[1:] if typed[:1].isupper() else spelling


def _plain_case(word: str) -> bool:
    """Lower case, or capitalised as a sentence's first word is ("Brokrages"); not an acronym
    ("NGINX") nor a mixed-case name ("PostgreSQL")."""
    return word[1:].islower()


def _spellings(word: str) -> dict[str, str]:
    """Each term one letter off `word`, never its first, with the spelling that gives it (of
    several, the one nearest its length, then the first in alphabetical order): an English
    word, or any word two swapped letters make ("toeknization": "tokenization"; a swap makes
    one word another far less often than a letter left out, added or changed does)."""
    swapped = {_swapped(word, i) for i in range(1, len(word) - 1)}
    found: dict[str, str] = {}
    for spelling in sorted(set(_one_off(word)), key=lambda s: (abs(len(s) - len(word)), s)):
        if english_word(spelling) or spelling in swapped:
            found.setdefault(term(spelling), spelling)
    found.pop(term(word), None)
    return found


def _one_off(word: str) -> Iterator[str]:
    """Every spelling one letter off `word` (left out, added, changed, or two neighbours
    swapped), its first letter kept. A word of four letters only has its middle two swapped:
    so many short words lie one letter off one another that anything more reads an acronym
    typed in lower case as a word ("hsts": "hosts")."""
    n = len(word)
    if n == SHORTEST_WORD:
        yield _swapped(word, 1)
        return
    for i in range(1, n - 1):
        yield word[:i] + word[i + 1 :]  # one left out
        yield _swapped(word, i)
        for letter in ascii_lowercase:
            yield word[:i] + letter + word[i + 1 :]  # one changed
    for i in range(1, n):
        for letter in ascii_lowercase:
            yield word[:i] + letter + word[i:]  # one added


def _swapped(word: str, i: int) -> str:
    """`word` with its letters i and i + 1 swapped."""
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _most_held(found: dict[str, str], held: dict[str, int]) -> str | None:
    """The spelling whose term the most passages hold; None when none does, or two terms tie."""
    scored = sorted(((held.get(t, 0), t) for t in found), reverse=True)
    if not scored or scored[0][0] == 0:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    return found[scored[0][1]]

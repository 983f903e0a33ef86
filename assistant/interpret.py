"""What a question asks: its interrogative clause, the kind of answer, and its specific things.

Staff ask in scenarios: "We moved the wiki to a new host and every old link gives a 404. What
do I set so the old URLs keep working?" Retrieval uses every content word; the answer is typed
and focused by the clause that asks ("What do I set so the old URLs keep working?"). The
question's specific things (names, commands, numbers, code) are what the corpus must mention
for the question to be answerable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from assistant.phrases import slipped_from
from assistant.text import QUESTION_WORDS, STOPWORDS, content_terms, sentence_spans, stem, words

AnswerType = Literal["number", "date", "person", "reason", "procedure", "name"]

# Where a clause that asks can start inside a sentence.
_CLAUSE_BREAK = re.compile(
    r"[,;:—–-]\s+|\s+(?:and|but|so)\s+(?=(?:" + "|".join(sorted(QUESTION_WORDS)) + r")\b)"
)
_AUXILIARIES = {"do", "does", "did", "can", "could", "should", "would", "is", "are", "was",
                "were", "will", "has", "have", "may", "might", "must", "shall"}  # fmt: skip
_NUMBER_HOW = {"many", "much", "long", "often", "far", "big", "large", "old", "high", "low",
               "small", "fast", "soon"}  # fmt: skip
_DATE_NOUNS = {"year", "date", "month", "day", "time"}
# "What's the latest I can ...", "What is the deadline for ...": a time, a word further on.
_DEADLINE_NOUNS = {"deadline", "latest", "earliest", "cutoff"}
# "How late can I ...", "How early should we ...": a time, not a number.
_TIME_HOW = {"late", "early"}
_CLAUSE_OPENERS = {"and", "but", "so", "then", "or"}
# Leaving a setting alone: "leave it alone", "left the timeout unset", "as is".
_LEAVE_ALONE = r"\b(?:left|leave) (?:it |them |the \w+ )?(?:alone|unset|as is)\b"
# A question about what holds when nobody sets anything: "by default", "out of the box", "if we
# never touch it", "unless told otherwise". Everyday English for a default, in any manual.
_DEFAULT_ASK = re.compile(
    r"\bdefaults?\b|\bout of the box\b|\bunless\b[^?]*\botherwise\b"
    r"|\bunless (?:we|i|you|they|someone|anyone) (?:change|set|configure|touch|specify|give|tell)"
    r"|\bif (?:we|i|you|they|nobody|no one) (?:don'?t|do not|didn'?t|did not|never|leave)\b"
    r"|\b(?:nobody|no one|never) (?:ever )?(?:changed|touched|set|configured|touch|change)\b"
    rf"|{_LEAVE_ALONE}|\buntouched\b"
    r"|\bwithout (?:setting|changing|configuring|specifying|giving)\b",
    re.IGNORECASE,
)
# The words of a default ask in which a negation governs setting something ("if we never touch
# it", "if we don't configure anything", "without setting"): read for a stop, they are not
# one; "if I don't want it to listen" still is.
_CONFIGURE = r"(?:set|change|configur|touch|specif|give|pass|provid|tell)\w*"
_LEFT_UNSET = re.compile(
    rf"\bif (?:we|i|you|they|nobody|no one) (?:don'?t|do not|didn'?t|did not|never) "
    rf"(?:ever )?{_CONFIGURE}\b|\b(?:nobody|no one) (?:ever )?{_CONFIGURE}\b"
    rf"|\bnever (?:ever )?(?:changed|touched|configured|set)\b"
    rf"|{_LEAVE_ALONE}|\bwithout (?:setting|changing|configuring|specifying|giving|passing)\b",
    re.IGNORECASE,
)
# A question that wants something stopped: switched off, skipped, left out, prevented. Its answer
# usually says so in the negative ("set it to false", "disable", "is not included").
_STOP_ASK = re.compile(
    r"\b(?:off|disabl\w*|stop\w*|skip\w*|prevent\w*|exclud\w*|avoid\w*|without|don'?t|not|"
    r"never|no longer|suppress\w*|ignor\w*|remov\w*|drop\w*)\b",
    re.IGNORECASE,
)
# "OK" said of something ("Is that OK, and what should we do instead?", "Is it OK to
# force-push?") names nothing; the OK button, "200 OK" and an option "--ok" do.
_INTERJECTIONS = {"ok", "okay"}
# A path or an address is the asker's own example, as a bare number is their figure: what
# follows a "/" that opens a word ("sends /wiki/AnyPage", "but not /.well-known/"; not
# "~/.bashrc", a file of its own, nor "*.pptx", a format).
_ASKERS_OWN = re.compile(r"(?:^|[\s(\[\"'`])/\.?$")
# The longest of _ASKERS_OWN and _EXTENSION_BEFORE matches ("(/." and "(.").
LOOKBEHIND_CHARS = 3
# The calendar's names (also what a window's date is read by: `answer_kinds`).
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Months and weekdays are capitalised by convention, not as names: "reset on January 1", "since
# Monday" give the asker's own date, as a bare number gives their own figure.
_CALENDAR = frozenset(MONTHS + WEEKDAYS)
_SAYS_ALL_RIGHT = re.compile(r"\s*(?:[?!.,;:]|$|(?:to|if|for|with|when|that)\b)")
# What stands before a dot-name (a file extension ".pptx", a dotfile "~/.bashrc"): its dot, at
# the start or after a space, a bracket, a slash, a glob's star or a quote ("(.xlsx)", "*.pptx",
# "`.odp`"); not a sentence's full stop ("it. Then").
_EXTENSION_BEFORE = re.compile(r"(?:^|[\s(\[/*'\"`“‘])\.$")
# A token with a mark or a digit in it reads as code ("pg_dump", "v2.3", "HTTP/2").
_CODE_SHAPE = re.compile(r"[_./:+#@]|\d")
_TOKEN = re.compile(r"[`'\"“‘]?([\w][\w.:/+#@-]*[\w+#]|\w)[`'\"”’]?")


@dataclass(frozen=True)
class Ask:
    """A question broken down for answering."""

    text: str
    focus: str  # the clause that asks: the whole question when it is one plain question
    answer_type: AnswerType | None
    specific_terms: tuple[str, ...]  # stemmed terms of names, code and numbers in the question
    # A question that capitalises no name: its words that are no common English word.
    uncommon_terms: tuple[str, ...] = ()
    # The noun a "which X" / "what X" question asks for ("companies", "setting"): it names the
    # kind of answer, so a sentence repeating it is no evidence.
    answer_noun: str | None = None
    # Whether it asks what holds when nothing is set (a default value or behaviour).
    asks_default: bool = False
    # Whether its asking clause wants something switched off, skipped, left out or prevented.
    asks_to_stop: bool = False


def analyse(question: str) -> Ask:
    """The interrogative clause, the answer type and the specific terms of a question."""
    focus = focus_clause(question)
    tokens = list(_tokens(question))
    return Ask(
        text=question,
        focus=focus,
        answer_type=answer_type(focus),
        specific_terms=tuple(_specific(tokens)),
        uncommon_terms=tuple(_uncommon(tokens)),
        answer_noun=answer_noun(focus),
        asks_default=bool(_DEFAULT_ASK.search(question)),
        # "if we never touch it", "without setting it": a default's words, not a stop.
        asks_to_stop=bool(_STOP_ASK.search(_LEFT_UNSET.sub(" ", focus))),
    )


def answer_noun(focus: str) -> str | None:
    """The stemmed head noun after a leading "which" or "what" (at most two words on)."""
    tokens = words(focus)
    if tokens[:1] == ["and"]:
        tokens = tokens[1:]
    if tokens[:1] not in (["which"], ["what"]):
        return None
    head = None
    for token in tokens[1:3]:
        if token in _AUXILIARIES or token in STOPWORDS:
            break
        head = token
    terms = content_terms(head) if head else []
    return terms[0] if terms else None


def focus_clause(question: str) -> str:
    """The part of a (scenario) question that asks: its last asking sentence or clause."""
    text = question.strip()
    spans = sentence_spans(text)
    sentences = [text[s:e] for s, e in spans] or [text]
    asking = [s for s in sentences if s.rstrip().endswith("?")] or [sentences[-1]]
    sentence = asking[-1]
    # Inside the sentence, the clause from the last question word that opens a clause.
    best = 0
    for match in _CLAUSE_BREAK.finditer(sentence):
        tail = words(sentence[match.end() :])
        if tail and (tail[0] in QUESTION_WORDS or tail[0] in _AUXILIARIES):
            best = match.end()
    clause = sentence[best:].strip()
    return clause if len(content_terms(clause)) >= 1 else sentence.strip()


# "How come the build fails?" asks why.
_HOW_COME = re.compile(r"\s*(?:(?:and|but|so)\s+)?how\s+come\b", re.IGNORECASE)


def asks_how_come(text: str) -> bool:
    """Whether a question asks why in other words: "How come the build fails?"."""
    return _HOW_COME.match(text) is not None


def answer_type(focus: str) -> AnswerType | None:
    """The kind of answer the asking clause wants, from its question words alone."""
    tokens = words(focus)
    head = tokens[:6]
    if "how" in head:
        after = tokens[tokens.index("how") + 1 : tokens.index("how") + 2]
        if after and after[0] in _TIME_HOW:
            return "date"
        if after and after[0] in _NUMBER_HOW:
            return "number"
        if after and (after[0] in _AUXILIARIES or after[0] == "to"):
            return "procedure"
    # The clause without an opening "and", "but", "so" ...
    opening = head[1:] if head[:1] and head[0] in _CLAUSE_OPENERS else head
    # "When did ...", "And when ...", "Since when ...", "By when ...": a time. "What happens
    # when ..." asks for an outcome, not a date.
    when = opening[1:] if opening[:1] in (["since"], ["until"], ["by"]) else opening
    what = bool({"what", "which"} & set(head[:2]))
    if when[:1] == ["when"] or (
        what and (_DATE_NOUNS & set(head[:3]) or _DEADLINE_NOUNS & set(head[:4]))
    ):
        return "date"
    if {"who", "whom", "whose"} & set(head[:3]):
        return "person"
    if "why" in head[:3] or asks_how_come(focus):
        return "reason"
    if head[:1] == ["which"] or head[:2] == ["and", "which"]:
        return "name"  # "which module", "which regulator": a name the question lacks
    if (
        opening[:1] == ["what"]
        and len(opening) >= 3
        and opening[1] not in _AUXILIARIES
        and opening[1] not in STOPWORDS
        and opening[2] in _AUXILIARIES
    ):
        return "name"  # "what flag do I pass", "what command should we run"
    return None


# A word seen this often in pyspellchecker's English word list (counts from subtitles and
# other common text; 50 is its least) is a common word: about 47,000 of its 160,000 words. Fitted
# on the tuning corpora's questions typed in lower case (docs/evaluation-history.md).
COMMON_WORD_COUNT = 100


@lru_cache(maxsize=1)
def common_words() -> dict[str, tuple[str, ...]]:
    """Common English words by their first letter: those of pyspellchecker's English list seen
    at least `COMMON_WORD_COUNT` times, and the whole words of the bundled embedding model's
    vocabulary ("exchange", "voucher", "cutoff", "resolve"; not "kubernetes", "selinux",
    "quic"). What a word typed in lower case is read against when case says nothing
    (`uncommon_terms`). Read once, on first use (with `common_terms`, most of a second)."""
    from assistant.embedding import default_model_path

    common = [word for word, count in _english().items() if count >= COMMON_WORD_COUNT]
    common += (default_model_path() / "vocab.txt").read_text(encoding="utf-8").split()
    by_initial: dict[str, set[str]] = {}
    for word in common:
        if word.isalpha() and word.islower():
            by_initial.setdefault(word[0], set()).add(word)
    return {initial: tuple(sorted(words)) for initial, words in by_initial.items()}


@lru_cache(maxsize=1)
def _english() -> dict[str, int]:
    """pyspellchecker's English words with their counts (read once)."""
    from spellchecker import SpellChecker

    return dict(SpellChecker(language="en").word_frequency.dictionary)


def english_word(word: str) -> bool:
    """Whether a lower-case word is in pyspellchecker's English list at all, however rare
    ("linter", "spammer"): an English word, not a slip of one."""
    return word in _english()


@lru_cache(maxsize=1)
def common_terms() -> frozenset[str]:
    """The terms of the common English words (`common_words`), so that "resolvers" is as
    common as "resolve"."""
    return frozenset(stem(word) for words in common_words().values() for word in words)


def uncommon_terms(question: str) -> list[str]:
    """Stemmed terms of the words of a question that capitalises no name ("how do i enable
    quic on our resolvers", "Can selinux block it?": no capital but a sentence's first letter
    and "I") that are no common English word (`common_terms`): case says nothing there of
    what is a name, so these stand in for its names when the corpus lacks them
    (`window_features.confidence_features`). None for a question that capitalises a word or
    writes an acronym, nor for its specific things (code, a file, a quoted word) or the
    asker's own path or address."""
    return _uncommon(list(_tokens(question)))


def specific_terms(question: str) -> list[str]:
    """Stemmed terms of the question's specific things: names, acronyms, code, numbers.

    A capitalised word counts unless it opens a sentence; "I" never does.
    """
    return _specific(list(_tokens(question)))


# A question's word or code, whether it names a specific thing, and whether its case does.
_Token = tuple[str, bool, bool]


def _specific(tokens: Sequence[_Token]) -> list[str]:
    # A bare number is usually the asker's own figure ("150 connections").
    found = [t for token, named, _ in tokens if named for t in content_terms(token)]
    return list(dict.fromkeys(t for t in found if re.search(r"[^\W\d]", t)))


def _uncommon(tokens: Sequence[_Token]) -> list[str]:
    if any(cased for _, _, cased in tokens):
        return []
    common, by_initial = common_terms(), common_words()
    found = []
    for token, named, _ in tokens:
        for word in [] if named else words(token):
            term = stem(word)
            if word in STOPWORDS or term in common:
                continue
            # A common word misspelt ("vaaction", "alerady") is no name; a word English knows
            # is no misspelling ("docker" is not "docket").
            if english_word(word) or not slipped_from(word, by_initial.get(word[0], ())):
                found.append(term)
    return list(dict.fromkeys(found))


def _tokens(question: str) -> Iterator[_Token]:
    """The question's words and code, each with whether it names a specific thing (a name,
    an acronym, code, a file, a quoted word) and whether its case does (a capital that opens
    no sentence, an acronym); the asker's own path or address, a short flag and an "OK" said
    of something are left out."""
    for s, e in sentence_spans(question) or [(0, len(question))]:
        sentence = question[s:e]
        for index, match in enumerate(_TOKEN.finditer(sentence)):
            token = match.group(1)
            start = match.start(1)
            raw = match.group(0)
            quoted = raw[:1] in "`'\"“‘" and raw[-1:] in "`'\"”’"
            # A lower-case hyphenated word is English more often than a name ("hard-coding",
            # "built-in", "round-trip"); an option ("--dry-run") or one quoted still counts.
            option = start > 0 and sentence[start - 1] == "-"
            long_option = option and start > 1 and sentence[start - 2] == "-"
            if option and not long_option and len(token) <= 2:
                continue  # "-rf", "-X": a letter or two every tool uses, not a thing named
            # What stands just before the token is read where it ends (both patterns are a few
            # characters long), not in a copy of the whole sentence before it for every token.
            lookback = max(0, start - LOOKBEHIND_CHARS)
            if _ASKERS_OWN.search(sentence, lookback, start) or "@" in token:
                continue  # "/wiki/AnyPage", "bob@build1.example.com": the asker's own
            # A dot-name (".pptx", "~/.bashrc") names a format or a file, as code does.
            extension = _EXTENSION_BEFORE.search(sentence, lookback, start) is not None
            code = option or extension or bool(_CODE_SHAPE.search(token))
            capital = (
                token[:1].isupper()
                and index > 0
                and token != "I"
                and token.lower() not in _CALENDAR
            )
            acronym = len(token) >= 2 and token.isupper()
            if (
                token.lower() in _INTERJECTIONS
                and not (quoted or option)
                and _SAYS_ALL_RIGHT.match(sentence, match.end())
                and not re.search(r"\d\s*$", sentence[: match.start()])  # "200 OK"
            ):
                continue  # "Is that OK?" names nothing the documents must hold
            yield token, quoted or code or capital or acronym, capital or acronym

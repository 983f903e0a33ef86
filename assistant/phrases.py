"""Name what a text is about (no LLM needed): its most specific phrase, its code-like name,
the two things it puts side by side, the several things it names, the words it names a thing
with.

The thing a turn is about is its most specific phrase: a run of content words, names and
code-like tokens (`word_runs`), preferring names and longer runs. What an answer named is
`assistant.named`'s, built on the same runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise

from rapidfuzz.distance import OSA

from assistant.text import STOPWORDS, content_terms

_TOKEN = re.compile(r"[\w][\w.'’/-]*\w|\w")
MAX_PHRASE_WORDS = 6


# Marks that end a phrase of an answer: "Yes: git worktree add", "Use a graceful stop (...)",
# and a table row's cells ("Level: `debug` | Default: `bold`", assistant/loaders/tables.py).
PHRASE_BREAK = re.compile(r"[:;,()\[\]|]")
# A piece of code in an answer: `quoted`, an option (--cached, -m), a placeholder (<path>), a
# dotted or snake_case name (core.hooksPath, max_wal_size).
CODE_MARK = re.compile(
    r"`[^`\n]+`|(?<![\w-])--?[A-Za-z][\w-]*(?:=\S+)?|<[\w.-]+>|\b[a-z]+[._][A-Za-z][\w.]*[A-Za-z]\b"
)
PIECE = re.compile(CODE_MARK.pattern + "|" + _TOKEN.pattern)


# Verbs that hand over a command or an option ("and run git commit --amend", "then pass -j
# 8"); a command's own name may follow "and" too ("and git add --all"), so only these go.
IMPERATIVES = {"run", "use", "call", "pass", "type", "enter", "execute", "invoke", "add",
                "set", "start", "enable", "disable", "restart", "reload"}  # fmt: skip


def word_runs(
    text: str, start: int, end: int, marks_break: bool
) -> Iterator[tuple[list[re.Match[str]], re.Match[str] | None]]:
    """The runs of content words, names and code in text[start:end], in order, each with the
    word that ended it (None: the end, or with `marks_break` a mark such as a comma between
    two words). Stop words end a run; code (`CODE_MARK`) always joins one."""
    pattern = PIECE if marks_break else _TOKEN
    run: list[re.Match[str]] = []
    for piece in [*pattern.finditer(text, start, end), None]:
        if (
            piece is not None
            and run
            and marks_break
            and text[run[-1].end() : piece.start()].strip()
        ):
            yield run, None  # a mark between: the run ends there
            run = []
        if piece is not None and joins_a_run(piece.group()):
            run.append(piece)
            continue
        if run:
            yield run, piece
        run = []


def joins_a_run(token: str) -> bool:
    """Code, or a word that is not a stop word (nor a lone digit) and has a content term."""
    if CODE_MARK.fullmatch(token):
        return True
    lowered = token.lower()
    content = lowered not in STOPWORDS and bool(content_terms(token))
    return content and not (token.isdigit() and len(token) < 2)


ARTICLES = {"a", "an", "the"}
# Words that open what a verb acts on: "keeps only those", "gives you", "uses the".
OPENS_AN_OBJECT = ARTICLES | {"you", "your", "it", "them", "its", "their", "our", "us"}
# Words that open what a verb says or asks ("filltype specifies how the area is filled",
# "filltype specifies one of the following"); after a plural noun they do not follow ("the
# files how" is not English; "the files which" is).
_OPENS_AN_INDIRECT_QUESTION = {"how", "whether", "what", "why", "one"}
# Pronouns that are a verb's object, never a noun's: "point it", "reinstall them".
_OBJECT_PRONOUNS = {"it", "them", "him", "me", "us"}


def verb_before_its_object(word: str, following: str) -> bool:
    """Whether a word in -s is a verb by the word after it: its object's article or pronoun
    ("This example uses the contents"), or what it says or asks ("filltype specifies how")."""
    opens = following.lower()
    return verb_like(word) and (opens in OPENS_AN_OBJECT or opens in _OPENS_AN_INDIRECT_QUESTION)


# A verb in the past tense ("reported", "stopped"; not "need", "speed", "bed").
_PAST_TENSE = re.compile(r"[a-z]{2,}[^e]ed")


def past_before_its_object(word: str, following: str) -> bool:
    """Whether a word in -ed is a verb by its object's article or pronoun after it ("The
    Financial Times first reported the move"): a participle used as an adjective comes before
    its noun, not before an article."""
    return bool(_PAST_TENSE.fullmatch(word)) and following.lower() in OPENS_AN_OBJECT


# "approves or declines", "reads and writes": a verb joined to another.
_OR_ANOTHER_VERB = re.compile(r"\s+(?:or|and)\s+([a-z]+)\b")


def verb_before_another(word: str, after: str) -> bool:
    """Whether a word in -s is a verb by another in -s joined to it (`after`, the text after
    the word): "Your line manager approves or declines the request"."""
    joined = _OR_ANOTHER_VERB.match(after)
    return verb_like(word) and joined is not None and verb_like(joined.group(1))


# A bound on a number that follows a verb ("the active queue holds at most 20000 messages",
# "each retry waits at least 5 seconds"), rarely a plural noun.
_BOUND_AFTER = re.compile(r"\s+(?:at (?:most|least)|no (?:more|fewer|less) than)\b", re.IGNORECASE)


def verb_before_a_bound(word: str, after: str) -> bool:
    """Whether a word in -s is a verb by the bound on a number that follows it (`after`, the
    text after the word): "holds at most", "waits at least", "keeps no more than"."""
    return verb_like(word) and bool(_BOUND_AFTER.match(after))


def reads_as_verb(token: re.Match[str]) -> bool:
    """A lower-case word ending in "s" inside a run, before another word: "maps files",
    "uses PyApp", "records conflict resolutions" (a plural noun ends its run more often)."""
    return verb_like(token.group())


def inner_verb(run: Sequence[re.Match[str]]) -> int | None:
    """The position of the first word inside a run (neither its first nor its last) that reads
    as a verb, if any."""
    return next((i for i in range(1, len(run) - 1) if reads_as_verb(run[i])), None)


def verb_like(word: str) -> bool:
    """A lower-case word that ends in a single "s" and has a vowel before it ("uses",
    "gives"; not "class", not "https")."""
    return (
        word.islower()
        and word.isalpha()
        and word.endswith("s")
        and not word.endswith("ss")
        and any(vowel in word[:-1] for vowel in "aeiouy")
    )


def opens_with_a_verb(tokens: Sequence[re.Match[str]]) -> bool:
    """Whether a run's capitalised first word (a sentence's first) is an imperative or an
    interjection rather than part of a name: alone ("Yes", "Use"), or before a lower-case
    word or a code-like name ("Run git stash", "Add SSLProxyEngine"), not before another
    capitalised word ("Luke Gromen", "Ant Group")."""
    first = tokens[0].group()
    if not first[:1].isupper() or first[1:] != first[1:].lower():
        return False  # lower-case ("graceful") or a name of its own ("PyApp", "JD.com")
    if len(tokens) == 1 or first.lower() in IMPERATIVES:
        return True  # "Use Redirect", "Set MaxRequestWorkers": a verb before a name too
    if _capitalised_later(tokens[0]):
        return False  # "Hatch complies with ... with Hatch serving as ...": a name, not a verb
    second = tokens[1].group()
    return not second[:1].isupper() or second[1:] != second[1:].lower()


def _capitalised_later(token: re.Match[str]) -> bool:
    """Whether the text after a capitalised word writes it again, capitalised, inside a
    sentence (after a lower-case word or a comma, not an article: "as the Install guide
    shows" is a title's word): then it is a name."""
    later = re.compile(r"(?<=[a-z,;] )" + re.escape(token.group()) + r"\b")
    for match in later.finditer(token.string, token.end()):
        before = token.string[: match.start()].split()
        if not before or before[-1].lower() not in ARTICLES:
            return True
    return False


# Words before a noun phrase that counts things: "two data files", "several lines".
_COUNTS = {"two", "three", "four", "five", "several", "many", "multiple", "both", "all", "some"}
MAX_PLURAL_WORDS = 2  # the plural and the word before it: "temp files", "data files"


def plural_phrase(text: str) -> str:
    """The first noun phrase of a text that names several things ("I plot two data files" ->
    "data files", "my changes" -> "changes"): after an article, a possessive, a preposition or
    a count, a plural noun (a lower-case word in a single "s", not "-is" or "-us") and the word
    before it; "" when there is none."""
    run: list[str] = []
    opened = False
    for match in _TOKEN.finditer(text):
        token = match.group()
        lowered = token.lower()
        if lowered in _COUNTS or lowered.isdigit() or lowered in STOPWORDS:
            run, opened = [], lowered in _OPENS_PLURAL or lowered.isdigit()
            continue
        run.append(token)
        if opened and len(token) > 3 and verb_like(token) and not lowered.endswith(("is", "us")):
            return " ".join(run[-MAX_PLURAL_WORDS:])  # not "analysis", "status"
    return ""


def topic_phrase(text: str) -> str:
    """The most specific phrase of a text: the best run of content words, names or code (a
    sentence's first word lower-cased: "Which" is not a name), without a verb before an
    article ("Where can the tool read the API token from?" -> "API token")."""
    best, best_score = "", 0.0
    for run, ended_by in word_runs(text, 0, len(text), marks_break=False):
        following = "" if ended_by is None else ended_by.group().lower()
        if following in _OBJECT_PRONOUNS and len(run) == 1 and run[0].group().islower():
            continue  # "How do I point it there?": a verb before its object, not the topic
        if following in ARTICLES:
            if len(run) == 1:
                continue  # "make the build ...": a verb before its object
            run = run[:-1]  # "the tool read the API token": a name, then its verb
        for part in _around_a_verb(run):
            if (
                len(part) > 2
                and _PAST_TENSE.fullmatch(part[-1].group())
                and modifies_a_verb(part[-2].group())
            ):
                part = part[:-1]  # "When was the policy last updated?": "updated" is its verb
            while part and modifies_a_verb(part[-1].group()):
                part = part[:-1]  # "Who first reported ...": "first" names nothing
            while part and part[0].group().lower() in _COUNTS:
                part = part[1:]  # "How many days ...": the days
            if part and _HOW.search(text, 0, part[0].start()):
                part = part[1:]  # "How long does my password ...": "long" asks, names nothing
            if not part:
                continue
            words = [
                m.group()[0].lower() + m.group()[1:]
                if _starts_sentence(text, m.start())
                else m.group()
                for m in part[:MAX_PHRASE_WORDS]
            ]
            names = sum(is_name(w, i) for i, w in enumerate(words))
            score = len(words) + 1.5 * names
            if score > best_score:
                best, best_score = " ".join(words), score
    return best


# "How" right before a word: "How long", "How big", "How often" ask for a measure.
_HOW = re.compile(r"\bhow\s+$", re.IGNORECASE)


# Adverbs of time and order that stand before a verb ("first reported", "finally approved",
# "Beijing also ordered"): at the end of a run of words they qualify the verb, not a name.
_VERB_ADVERBS = {
    "first", "last", "once", "twice", "also", "just", "only", "still", "already", "ever",
    "never", "then", "later", "soon", "again", "even", "now",
}  # fmt: skip


def modifies_a_verb(word: str) -> bool:
    """Whether a lower-case word reads as an adverb of a verb: one of `_VERB_ADVERBS`, or a
    word in "-ly" ("finally", "recently")."""
    return word.islower() and (word in _VERB_ADVERBS or (len(word) > 4 and word.endswith("ly")))


def _around_a_verb(run: Sequence[re.Match[str]]) -> list[Sequence[re.Match[str]]]:
    """A run as the phrases on either side of a word inside it that reads as a verb ("the old
    server sends /wiki/AnyPage" -> "old server", "wiki/AnyPage"), or whole."""
    verb = inner_verb(run)
    return [run] if verb is None else [run[:verb], run[verb + 1 :]]


# What ends a sentence right before a word: its next word starts the next sentence.
_SENTENCE_END = re.compile(r"[.?!:]\s*$")


def _starts_sentence(text: str, at: int) -> bool:
    """Whether the word at `at` opens the text or follows a sentence's end."""
    return at == 0 or _SENTENCE_END.search(text, max(0, at - 8), at) is not None


def is_name(word: str, position: int) -> bool:
    """A capitalised word (not first), or a code-like token (with _ . / or digits)."""
    return (position > 0 and word[:1].isupper()) or bool(re.search(r"[_./]|\d", word))


# Whole, with its hyphens ("hatch-test.py3.11", not "test.py3.11").
_CODE_NAME = re.compile(r"(?<![\w.-])[A-Za-z_][\w-]*(?:[._][\w-]*\w)+(?:\(\))?|\b[a-z]+_[a-z_]+\b")


def code_name(text: str, exclude: str = "") -> str:
    """The first code-like name in a text (heapq.heappop, max_wal_size), unless in `exclude`."""
    for match in _CODE_NAME.finditer(text):
        name = match.group().rstrip(".")
        # Lower-case dotted or snake_case names are code; "JD.com" is a company.
        code = "_" in name or ("." in name and name[0].islower())
        abbreviation = all(len(part) == 1 for part in name.split("."))  # "e.g", "i.e"
        if code and not abbreviation and name.lower() not in exclude.lower():
            return name
    return ""


# Words after which a noun phrase begins ("the `code` source", "in Hatch environments"), so
# that the words of a run are its modifiers rather than a verb ("we point Hatch environments").
_OPENS_NOUN_PHRASE = {
    "a", "an", "the", "this", "that", "these", "those", "our", "your", "their", "its", "my",
    "his", "her", "of", "in", "on", "for", "with", "from", "by", "at", "into", "each",
    "some", "any", "same", "own",
}  # fmt: skip
# Words after which a plural noun phrase begins: a count, or what opens any noun phrase.
_OPENS_PLURAL = _COUNTS | _OPENS_NOUN_PHRASE


def modifiers_of(text: str, stem: str, phrase: list[str]) -> list[str]:
    """The words before the first run of `text` that ends with a word of the given stem and
    holds the phrase's words ("Use the `code` source", "source" -> ["code"]): a run of
    content words, names or code, at most MAX_PHRASE_WORDS long."""
    stems = {term for word in phrase for term in content_terms(word)}
    run: list[str] = []
    noun_phrase = False  # the run opened after an article, possessive or preposition
    for match in _TOKEN.finditer(text):
        token = re.sub(r"['’]s$", "", match.group())
        if token.lower() in STOPWORDS:
            run, noun_phrase = [], token.lower() in _OPENS_NOUN_PHRASE
            continue
        run.append(token)
        if content_terms(token) == [stem] and noun_phrase:
            following = _TOKEN.search(text, match.end())
            if (
                len(run) > 1
                and following is not None
                and verb_before_its_object(token, following.group())
            ):
                # "This example uses the contents of column 3": the run's verb, not a noun
                # that "that use" (a relative clause's verb) could stand for.
                run, noun_phrase = [], False
                continue
            modifiers = [w for w in run[:-1] if not set(content_terms(w)) <= stems]
            return modifiers[-(MAX_PHRASE_WORDS - len(phrase)) :] if modifiers else []
    return []


# The words that put two things side by side: "graceful and restart", "pip or uv".
_COORDINATORS = {"and", "or", "nor"}


def coordinated_names(text: str) -> tuple[str, str] | None:
    """The first two things a text puts side by side, as written: "the difference between
    apache2ctl graceful and apache2ctl restart" -> ("apache2ctl graceful", "apache2ctl
    restart"); "Ant Group and JD.com's plans" -> ("Ant Group", "JD.com").

    Two runs of content words, names or code joined by "and", "or" or "nor" with nothing else
    between them, at least one with a name or code, so that two verbs or common nouns ("read
    and write", "tables and views") are not taken for things. The first is the name its run
    ends with (`_trailing_name`); the second mirrors it: its leading names when the first is
    all names ("Microsoft and OpenAI announce" -> "OpenAI"), else as many words as the first,
    cut after a possessive. Not taken: the last two of a list ("tar, zip or 7z"; "Which is
    faster, gzip or zstd?" reads the same and is left too). None when the text has no pair.
    """
    runs = list(word_runs(text, 0, len(text), marks_break=True))
    for index, ((first, joined), (second, _)) in enumerate(pairwise(runs)):
        if joined is None or joined.group().lower() not in _COORDINATORS:
            continue
        if text[first[-1].end() : second[0].start()].split() != [joined.group()]:
            continue  # something else between them: not these two side by side
        if index and "," in text[runs[index - 1][0][-1].end() : first[0].start()]:
            continue  # "tar, zip or 7z": a list's last two, not a pair
        first = _trailing_name(text, first)[-MAX_PHRASE_WORDS:]
        names = [is_name(match.group(), 1) for match in second]
        leading = second[: names.index(False) if False in names else len(second)]
        if leading and all(is_name(match.group(), 1) for match in first):
            second = leading
        else:  # "PTO or sick leave paid out": "sick leave"
            second = second[: max(len(first), 2 if not leading else 1)]
        second = _to_possessive(second)
        if any(_named(text, match) for match in [*first, *second]):
            return _as_written(text, first), _as_written(text, second)
    return None


def _trailing_name(text: str, run: list[re.Match[str]]) -> list[re.Match[str]]:
    """The name a run ends with ("cover Maternity Leave" -> "Maternity Leave"; "Regulators
    halted Ant Group" -> "Ant Group"), with the word before a bare number ("node 18"); a run
    that ends in a common word keeps its words ("apache2ctl graceful"), less an opening
    imperative ("Use max_standby_archive_delay")."""
    named = [_named(text, match) for match in run]
    if not named[-1]:
        if len(run) > 1 and _starts_sentence(text, run[0].start()) and opens_with_a_verb(run):
            return run[1:]
        return run
    start = len(run) - 1
    while start > 0 and named[start - 1]:
        start -= 1
    opener = run[start - 1] if start else None
    if (
        opener is not None
        and opener.group()[:1].isupper()
        and _starts_sentence(text, opener.start())
        and not opens_with_a_verb(run[start - 1 :])
    ):
        start -= 1  # "Ant" opens the sentence: a name all the same before "Group"
    if start and all(re.fullmatch(r"[\d.]+", match.group()) for match in run[start:]):
        start -= 1  # "node 18": a version with what it is a version of
    return run[start:]


def _named(text: str, match: re.Match[str]) -> bool:
    """Whether a word of the text is a name or code (a sentence's first word only as code)."""
    return is_name(match.group(), 0 if _starts_sentence(text, match.start()) else 1)


def _to_possessive(run: list[re.Match[str]]) -> list[re.Match[str]]:
    """A run up to its first possessive word ("JD.com's plans" -> "JD.com's")."""
    for index, match in enumerate(run):
        if re.search(r"['’]s$", match.group()):
            return run[: index + 1]
    return run


def _as_written(text: str, run: list[re.Match[str]]) -> str:
    """A run's text as written, without a possessive ending."""
    return re.sub(r"['’]s$", "", text[run[0].start() : run[-1].end()])


# A word typed is a word of the answer misspelt when one letter is left out, added, changed or
# swapped with the next ("pasword", "budjet", "recieve"); "donation" is not "donating".
SLIP_EDITS = 1
_SPELT_WORD = re.compile(r"[^\W\d_][\w'-]*")


def spelled_as(phrase: str, answered: str) -> str:
    """A phrase taken from the asker's words, each word the answer lacks spelt as the answer
    spells it when it is plainly the same word misspelt ("pasword" after "Passwords must be
    ..."): the follow-up that names it searches for the documents' word. A word of four
    letters or fewer, or one no word of the answer is a slip of, stays as typed."""
    spellings: set[str] = set()
    for word in _SPELT_WORD.findall(answered.lower()):
        spellings.add(word)
        if word.endswith("s") and len(word) > 5:
            spellings.add(word[:-1])  # "Passwords": "password"

    def respelt(match: re.Match[str]) -> str:
        word = match.group()
        if word.lower() in spellings:
            return word
        slips = slipped_from(word.lower(), spellings)
        return slips[0] if slips else word

    return _SPELT_WORD.sub(respelt, phrase)


def slipped_from(word: str, spellings: Iterable[str]) -> list[str]:
    """The lower-case spellings `word` is plainly a slip of: one letter off, never the first
    ("import" is not "important"), in alphabetical order. A word of four letters or fewer is
    no slip ("quic" is not "quick")."""
    if len(word) <= 4:
        return []
    return sorted(w for w in spellings if w[:1] == word[0] and OSA.distance(word, w) <= SLIP_EDITS)

"""Name what a text is about: its most specific phrase, or what an answer named (no LLM needed).

The thing a turn is about is its most specific phrase: a run of content words, names and
code-like tokens, preferring names and longer runs. What an answer named is the first such
run of its first clause, as written ("git commit --amend"), without an opening imperative
("Run") and cut before a word that reads as its verb; when that run is only common words
("The file is already tracked; stop tracking it with git rm --cached"), the command or code
the answer gives ("git rm --cached").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from itertools import pairwise

from assistant.text import STOPWORDS, content_terms, first_sentence, words
from assistant.verify import strip_markers

_TOKEN = re.compile(r"[\w][\w.'’/-]*\w|\w")
MAX_PHRASE_WORDS = 6


# Marks that end a phrase of an answer: "Yes: git worktree add", "Use a graceful stop (...)",
# and a table row's cells ("Level: `debug` | Default: `bold`", assistant/loaders/tables.py).
PHRASE_BREAK = re.compile(r"[:;,()\[\]|]")
# Words an answer opens with that point back rather than name: "It must be at least ...".
_POINTING_OPENERS = {"it", "its", "they", "their", "this", "that", "these", "those", "he",
                     "she"}  # fmt: skip


def answer_name(answer: str) -> str:
    """What an answer named: the first phrase of its first sentence's first clause that has
    one, as written ("git commit --amend", "SSLProxyEngine"), without an opening imperative or
    interjection ("Run git stash" -> "git stash"; "Yes: ..." skips "Yes").

    An answer that opens with a pronoun ("It must be ...") names nothing new: "".
    """
    text = strip_markers(answer)
    opening = words(text[:40])
    if not text or (opening and opening[0] in _POINTING_OPENERS):
        return ""
    sentence = first_sentence(text)
    clause_start = 0
    for mark in [*PHRASE_BREAK.finditer(sentence), None]:
        clause_end = len(sentence) if mark is None else mark.start()
        phrase = _literal_phrase(sentence, clause_start, clause_end)
        if (
            clause_start == 0
            and mark is not None
            and _is_adverbial(sentence[:clause_end])
            and not CODE_MARK.search(phrase)
            and not any(is_name(w, i + 1) for i, w in enumerate(phrase.split()))
        ):
            # "By default, ...", "At the same time, ...", "If no options are selected, ..."
            # name nothing; "With the prefork MPM, ..." does.
            clause_start = clause_end + 1
            continue
        if phrase:
            # Common words ("The file is already tracked; stop tracking it with git rm
            # --cached") name less than the command the answer gives.
            code = _code_phrase(sentence)
            if CODE_MARK.search(phrase):
                # "git worktree add <path> <branch> gives": the verb after the code goes.
                rest = phrase[len(code) :].split() if code and phrase.startswith(code) else []
                return code if rest and _verb_like(rest[0]) else phrase
            named = any(is_name(w, i + 1) for i, w in enumerate(phrase.split()))
            return phrase if named else (code or phrase)
        clause_start = clause_end + 1
    # A one-word answer ("Paris.") is its own name.
    return _literal_phrase(sentence, 0, len(sentence), drop_opener=False)


# A sentence's opening clause that sets the scene rather than names a thing: "If you still
# need it, ...", "When set to `uv`, ...", "By default, ...", "At the same time, ...".
_SUBORDINATORS = {"if", "when", "whenever", "once", "unless", "although", "though", "while",
                  "because", "after", "before", "until"}  # fmt: skip
_PREPOSITIONS = {"at", "by", "for", "in", "on", "with", "without", "from", "during", "under",
                 "within", "as", "unlike", "besides"}  # fmt: skip
SHORT_ADVERBIAL_WORDS = 4  # "In that case", "For example", "At the same time"


def _is_adverbial(clause: str) -> bool:
    """Whether a sentence's first clause (before a comma, a colon ...) opens with a word that
    subordinates it, or is a short prepositional phrase."""
    opening = words(clause)
    return bool(opening) and (
        opening[0] in _SUBORDINATORS
        or (opening[0] in _PREPOSITIONS and len(opening) <= SHORT_ADVERBIAL_WORDS)
    )


# A piece of code in an answer: `quoted`, an option (--cached, -m), a placeholder (<path>), a
# dotted or snake_case name (core.hooksPath, max_wal_size).
CODE_MARK = re.compile(
    r"`[^`\n]+`|(?<![\w-])--?[A-Za-z][\w-]*(?:=\S+)?|<[\w.-]+>|\b[a-z]+[._][A-Za-z][\w.]*[A-Za-z]\b"
)
PIECE = re.compile(CODE_MARK.pattern + "|" + _TOKEN.pattern)


def _code_phrase(sentence: str) -> str:
    """The first command or code of a sentence with the words that lead into it, as written:
    "stop tracking it with git rm --cached [1]" -> "git rm --cached"; "git worktree add <path>
    <branch> gives you ..." -> "git worktree add <path> <branch>"; "a merge needs -m <n>" ->
    "-m <n>" (not from before a verb-like word). "" when it has none."""
    runs = list(_runs(sentence, 0, len(sentence), marks_break=True))
    imperative = bool(runs) and runs[0][0][0].start() == 0 and _opens_with_a_verb(runs[0][0])
    for run, ended_by in runs:
        coded = [i for i, m in enumerate(run) if CODE_MARK.fullmatch(m.group())]
        if not coded:
            continue
        preceding = words(sentence[: run[0].start()])
        joined = preceding[-1] if preceding else ""
        lead = run[0].group()
        # "for example git tag -a": a lead-in, not the name; "Stage the files and run git
        # commit --amend": the second of two imperatives, not the name either.
        if coded[0] > 0 and (
            (joined == "for" and lead.lower() in _LEAD_INS)
            or (imperative and joined in _JOINS_A_VERB and lead in _IMPERATIVES)
        ):
            run = run[1:]
            coded = [i - 1 for i in coded]
        # Cut after the last code when the run goes on into a sentence ("<branch> gives you"),
        # not when it ends at a mark ("apache2ctl -k graceful-stop,").
        pieces = run if ended_by is None else run[: coded[-1] + 1]
        verb = [i for i in range(coded[0]) if reads_as_verb(pieces[i])]
        pieces = pieces[verb[-1] + 1 if verb else 0 :][-MAX_PHRASE_WORDS:]
        if pieces[0].start() == 0 and len(pieces) > 1 and _opens_with_a_verb(pieces):
            pieces = pieces[1:]  # "Run git stash": the imperative is not the name
        return sentence[pieces[0].start() : pieces[-1].end()]
    return ""


# "for example ...", "for instance ...": what follows is the example, not these words.
_LEAD_INS = {"example", "instance"}
# A word that joins a second imperative to a first: "Stage the files and run git commit".
_JOINS_A_VERB = {"and", "then", "or"}
# Verbs that hand over a command or an option ("and run git commit --amend", "then pass -j
# 8"); a command's own name may follow "and" too ("and git add --all"), so only these go.
_IMPERATIVES = {"run", "use", "call", "pass", "type", "enter", "execute", "invoke", "add",
                "set", "start", "enable", "disable", "restart", "reload"}  # fmt: skip


def _literal_phrase(sentence: str, start: int, end: int, drop_opener: bool = True) -> str:
    """The first run of content words, names or code in sentence[start:end], as written: the
    subject of "SIGTERM is the smart mode", the object of "Run git stash", cut before a word
    that reads as its verb ("The binary builder uses PyApp" -> "binary builder")."""
    for run, ended_by in _runs(sentence, start, end, marks_break=False):
        tokens = run[:MAX_PHRASE_WORDS]
        opener = drop_opener and tokens[0].start() == 0 and _opens_with_a_verb(tokens)
        if opener:
            tokens = tokens[1:]  # "Run git stash", "Add SSLProxyEngine"; a lone "Yes" or "Use"
        before = words(sentence[start : run[0].start()])
        if (
            drop_opener
            and start > 0
            and not before
            and len(tokens) > 1
            and tokens[0].group() in _IMPERATIVES
        ):
            tokens = tokens[1:]  # "If you forked off the wrong branch, use git-rebase(1)"
        elif drop_opener and before and before[-1] in _BEFORE_A_VERB:
            if len(tokens) == 1:
                continue  # "You can override this for ...": a verb, whatever follows
            tokens = tokens[1:]  # "You can use git stash push", "I asked Git to ..."
        following = "" if ended_by is None else ended_by.group().lower()
        if drop_opener and len(tokens) == 1 and following in _ARTICLES:
            continue  # a verb before its object: "enable the balancer-manager"
        if opener and len(tokens) == 1 and following == "that":
            continue  # a verb before what it says: "Reports indicate that ..."
        verb = next((i for i in range(1, len(tokens) - 1) if reads_as_verb(tokens[i])), None)
        tokens = tokens[:verb] if verb is not None else tokens
        if (
            len(tokens) > 1
            and len(run) <= MAX_PHRASE_WORDS
            # "... keeps the folders"; after code or a path, "libs/common keeps only those"
            and (following in _OPENS_AN_OBJECT or bool(re.search(r"[_./]", tokens[-2].group())))
            and reads_as_verb(tokens[-1])
        ):
            tokens = tokens[:-1]  # "git sparse-checkout set ... keeps only those": not "keeps"
        if tokens:
            left = tokens[0].start()
            while left > start and sentence[left - 1] in "-<`'\"":
                left -= 1
            right = tokens[-1].end()
            while right < end and sentence[right] in ">`'\"":
                right += 1
            return sentence[left:right]
    return ""


def _runs(
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


_ARTICLES = {"a", "an", "the"}
# Words after which a sentence's next word is its verb: a subject pronoun, a modal.
_BEFORE_A_VERB = {"i", "we", "you", "can", "could", "should", "must", "may", "might", "will",
                  "would"}  # fmt: skip
# Words that open what a verb acts on: "keeps only those", "gives you", "uses the".
_OPENS_AN_OBJECT = _ARTICLES | {"you", "your", "it", "them", "its", "their", "our", "us"}
# Pronouns that are a verb's object, never a noun's: "point it", "reinstall them".
_OBJECT_PRONOUNS = {"it", "them", "him", "me", "us"}


def reads_as_verb(token: re.Match[str]) -> bool:
    """A lower-case word ending in "s" inside a run, before another word: "maps files",
    "uses PyApp", "records conflict resolutions" (a plural noun ends its run more often)."""
    return _verb_like(token.group())


def _verb_like(word: str) -> bool:
    """A lower-case word that ends in a single "s" ("uses", "gives"; not "class")."""
    return word.islower() and word.isalpha() and word.endswith("s") and not word.endswith("ss")


def _opens_with_a_verb(tokens: Sequence[re.Match[str]]) -> bool:
    """Whether a run's capitalised first word (a sentence's first) is an imperative or an
    interjection rather than part of a name: alone ("Yes", "Use"), or before a lower-case
    word or a code-like name ("Run git stash", "Add SSLProxyEngine"), not before another
    capitalised word ("Luke Gromen", "Ant Group")."""
    first = tokens[0].group()
    if not first[:1].isupper() or first[1:] != first[1:].lower():
        return False  # lower-case ("graceful") or a name of its own ("PyApp", "JD.com")
    if len(tokens) == 1 or first.lower() in _IMPERATIVES:
        return True  # "Use Redirect", "Set MaxRequestWorkers": a verb before a name too
    second = tokens[1].group()
    return not second[:1].isupper() or second[1:] != second[1:].lower()


# Words before a noun phrase that counts things: "two data files", "several lines".
_COUNTS = {"two", "three", "four", "five", "several", "many", "multiple", "both", "all", "some"}
MAX_PLURAL_WORDS = 2  # the plural and the word before it: "temp files", "data files"
_OPENS_PLURAL = set(_COUNTS)  # and _OPENS_NOUN_PHRASE, defined below


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
        if opened and len(token) > 3 and _verb_like(token) and not lowered.endswith(("is", "us")):
            return " ".join(run[-MAX_PLURAL_WORDS:])  # not "analysis", "status"
    return ""


def topic_phrase(text: str) -> str:
    """The most specific phrase of a text: the best run of content words, names or code (a
    sentence's first word lower-cased: "Which" is not a name), without a verb before an
    article ("Where can the tool read the API token from?" -> "API token")."""
    best, best_score = "", 0.0
    for run, ended_by in _runs(text, 0, len(text), marks_break=False):
        following = "" if ended_by is None else ended_by.group().lower()
        if following in _OBJECT_PRONOUNS and len(run) == 1 and run[0].group().islower():
            continue  # "How do I point it there?": a verb before its object, not the topic
        if following in _ARTICLES:
            if len(run) == 1:
                continue  # "make the build ...": a verb before its object
            run = run[:-1]  # "the tool read the API token": a name, then its verb
        words = [
            m.group()[0].lower() + m.group()[1:] if _starts_sentence(text, m.start()) else m.group()
            for m in run[:MAX_PHRASE_WORDS]
        ]
        names = sum(is_name(w, i) for i, w in enumerate(words))
        score = len(words) + 1.5 * names
        if score > best_score:
            best, best_score = " ".join(words), score
    return best


# What ends a sentence right before a word: its next word starts the next sentence.
_SENTENCE_END = re.compile(r"[.?!:]\s*$")


def _starts_sentence(text: str, at: int) -> bool:
    """Whether the word at `at` opens the text or follows a sentence's end."""
    return at == 0 or _SENTENCE_END.search(text, max(0, at - 8), at) is not None


def is_name(word: str, position: int) -> bool:
    """A capitalised word (not first), or a code-like token (with _ . / or digits)."""
    return (position > 0 and word[:1].isupper()) or bool(re.search(r"[_./]|\d", word))


_CODE_NAME = re.compile(r"[A-Za-z_][\w]*(?:[._][\w]+)+(?:\(\))?|\b[a-z]+_[a-z_]+\b")


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
_OPENS_PLURAL |= _OPENS_NOUN_PHRASE


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
    runs = list(_runs(text, 0, len(text), marks_break=True))
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
        if len(run) > 1 and _starts_sentence(text, run[0].start()) and _opens_with_a_verb(run):
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
        and not _opens_with_a_verb(run[start - 1 :])
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

"""What an answer named, for a follow-up that points back at it (`assistant.condense`): the
first phrase of its first sentence's first clause that has one, as written ("git commit
--amend"), without an opening imperative ("Run") or a clause that only sets the scene ("By
default, ..."), cut before a word that reads as its verb; when that phrase is only common words
("The file is already tracked; stop tracking it with git rm --cached"), the command or code the
answer gives ("git rm --cached"). Built on `assistant.phrases`' runs of words.
"""

from __future__ import annotations

import re

from assistant.phrases import (
    ARTICLES,
    CODE_MARK,
    IMPERATIVES,
    MAX_PHRASE_WORDS,
    PHRASE_BREAK,
    inner_verb,
    is_name,
    modifies_a_verb,
    opens_with_a_verb,
    past_before_its_object,
    reads_as_verb,
    verb_before_a_bound,
    verb_before_another,
    verb_before_its_object,
    verb_like,
    word_runs,
)
from assistant.text import first_sentence, words
from assistant.verify import strip_markers

# Words an answer opens with that point back rather than name: "It must be at least ...".
_POINTING_OPENERS = {"it", "its", "they", "their", "this", "that", "these", "those", "he",
                     "she"}  # fmt: skip


# A line break between two words of one sentence: "before a\nnew plot is displayed".
_SOFT_WRAP = re.compile(r"(?<=[a-z,])[ \t]*\n[ \t]*(?=[a-z])")


def answer_name(answer: str) -> str:
    """What an answer named: the first phrase of its first sentence's first clause that has
    one, as written ("git commit --amend", "SSLProxyEngine"), without an opening imperative or
    interjection ("Run git stash" -> "git stash"; "Yes: ..." skips "Yes").

    An answer that opens with a pronoun ("It must be ...") names nothing new: "".
    """
    # A line wrapped inside a sentence (a PDF's, a hard-wrapped page's) goes on after it.
    text = _SOFT_WRAP.sub(" ", strip_markers(answer))
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
            and not _names_a_thing(phrase)
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
                return code if rest and verb_like(rest[0]) else phrase
            return phrase if _names_a_thing(phrase) else (code or phrase)
        clause_start = clause_end + 1
    # A one-word answer ("Paris.") is its own name.
    return _literal_phrase(sentence, 0, len(sentence), drop_opener=False)


# A run of capitalised words ("Financial Times", "Ant Group", "CSRC"), joined by "of" or "and"
# ("Bank of England").
_PROPER_RUN = re.compile(r"\b[A-Z][\w&.'-]*(?:\s+(?:(?:of|and|&)\s+)?[A-Z][\w&.'-]*)*")


def proper_name(answer: str, exclude: str = "") -> str:
    """The first name in capitals of an answer's first sentence that the question (`exclude`)
    does not hold: the one a "Who ...?" answer named wherever it stands ("This move, first
    reported by Financial Times, ..." -> "Financial Times"). The sentence's opening word counts
    only as part of a longer name ("This" is no name, "Ant Group" is). "" when there is none."""
    sentence = first_sentence(_SOFT_WRAP.sub(" ", strip_markers(answer)))
    asked = {word.lower() for word in words(exclude)}
    for match in _PROPER_RUN.finditer(sentence):
        name = match.group().rstrip(".")
        if match.start() == 0 and len(name.split()) == 1:
            continue
        if not all(word.lower() in asked for word in words(name)):
            return name
    return ""


# A sentence's opening clause that sets the scene rather than names a thing: "If you still
# need it, ...", "When set to `uv`, ...", "By default, ...", "At the same time, ...".
_SUBORDINATORS = {"if", "when", "whenever", "once", "unless", "although", "though", "while",
                  "because", "after", "before", "until"}  # fmt: skip
# "to" opens a purpose too: "To disable this, set `reproducible` to `false`".
_PREPOSITIONS = {"at", "by", "for", "in", "on", "with", "without", "from", "during", "under",
                 "within", "as", "unlike", "besides", "to"}  # fmt: skip
# "In that case", "At the same time", "In a workflow employing long lived topic branches" (a
# clause naming a thing keeps it: "With the prefork MPM"). At 4 words, longer ones were read as
# the name ("workflow employing relatively long lived topic").
ADVERBIAL_WORDS = 10
# Words of degree that open an answer's verdict on a "how close / how much / is it" question
# ("Very close; the active queue holds ...", "Not quite: ...", "Almost, ..."): the verdict
# names nothing, the clause after it does.
_DEGREE_WORDS = {"very", "quite", "fairly", "pretty", "rather", "almost", "nearly", "not",
                 "too", "mostly", "partly", "barely", "hardly", "largely"}  # fmt: skip
# A verdict is a few words: "Very close", "Not by default".
VERDICT_WORDS = 3


def _is_adverbial(clause: str) -> bool:
    """Whether a sentence's first clause (before a comma, a colon ...) opens with a word that
    subordinates it, or is a prepositional phrase of up to `ADVERBIAL_WORDS` words, or a
    verdict of degree of up to `VERDICT_WORDS` ("Very close", "Not quite")."""
    opening = words(clause)
    return bool(opening) and (
        opening[0] in _SUBORDINATORS
        or (opening[0] in _PREPOSITIONS and len(opening) <= ADVERBIAL_WORDS)
        or (opening[0] in _DEGREE_WORDS and len(opening) <= VERDICT_WORDS)
    )


def _code_phrase(sentence: str) -> str:
    """The first command or code of a sentence with the words that lead into it, as written:
    "stop tracking it with git rm --cached [1]" -> "git rm --cached"; "git worktree add <path>
    <branch> gives you ..." -> "git worktree add <path> <branch>"; "a merge needs -m <n>" ->
    "-m <n>" (not from before a verb-like word). "" when it has none."""
    runs = list(word_runs(sentence, 0, len(sentence), marks_break=True))
    imperative = bool(runs) and runs[0][0][0].start() == 0 and opens_with_a_verb(runs[0][0])
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
            or (imperative and joined in _JOINS_A_VERB and lead in IMPERATIVES)
        ):
            run = run[1:]
            coded = [i - 1 for i in coded]
        # Cut after the last code when the run goes on into a sentence ("<branch> gives you"),
        # not when it ends at a mark ("apache2ctl -k graceful-stop,").
        pieces = run if ended_by is None else run[: coded[-1] + 1]
        verb = [i for i in range(coded[0]) if reads_as_verb(pieces[i])]
        pieces = pieces[verb[-1] + 1 if verb else 0 :][-MAX_PHRASE_WORDS:]
        if pieces[0].start() == 0 and len(pieces) > 1 and opens_with_a_verb(pieces):
            pieces = pieces[1:]  # "Run git stash": the imperative is not the name
        return sentence[pieces[0].start() : pieces[-1].end()]
    return ""


# "for example ...", "for instance ...": what follows is the example, not these words.
_LEAD_INS = {"example", "instance"}
# A word that joins a second imperative to a first: "Stage the files and run git commit".
_JOINS_A_VERB = {"and", "then", "or"}


def _literal_phrase(sentence: str, start: int, end: int, drop_opener: bool = True) -> str:
    """The first run of content words, names or code in sentence[start:end], as written: the
    subject of "SIGTERM is the smart mode", the object of "Run git stash", cut before a word
    that reads as its verb ("The binary builder uses PyApp" -> "binary builder")."""
    for run, ended_by in word_runs(sentence, start, end, marks_break=False):
        tokens = run[:MAX_PHRASE_WORDS]
        opener = drop_opener and tokens[0].start() == 0 and opens_with_a_verb(tokens)
        if opener:
            tokens = tokens[1:]  # "Run git stash", "Add SSLProxyEngine"; a lone "Yes" or "Use"
        before = words(sentence[start : run[0].start()])
        if (
            drop_opener
            and start > 0
            and not before
            and len(tokens) > 1
            and tokens[0].group() in IMPERATIVES
        ):
            tokens = tokens[1:]  # "If you forked off the wrong branch, use git-rebase(1)"
        elif drop_opener and before and before[-1] in _BEFORE_A_VERB:
            if len(tokens) == 1:
                continue  # "You can override this for ...": a verb, whatever follows
            tokens = tokens[1:]  # "You can use git stash push", "I asked Git to ..."
        if before and before[-1] == "by" and tokens and tokens[0].group().lower() == "default":
            if len(tokens) == 1:
                continue  # "by default" says when, not what
            tokens = tokens[1:]  # "No: by default Hatch downloads ...": Hatch
        following = "" if ended_by is None else ended_by.group().lower()
        if drop_opener and len(tokens) == 1 and following in ARTICLES:
            continue  # a verb before its object: "enable the balancer-manager"
        if opener and len(tokens) == 1 and following == "that":
            continue  # a verb before what it says: "Reports indicate that ..."
        verb = inner_verb(tokens)
        tokens = tokens[:verb] if verb is not None else tokens
        if (
            len(tokens) > 1
            and len(run) <= MAX_PHRASE_WORDS
            # "... keeps the folders"; after code or a path, "libs/common keeps only those"
            and (
                verb_before_its_object(tokens[-1].group(), following)
                or past_before_its_object(tokens[-1].group(), following)
                or verb_before_a_bound(tokens[-1].group(), sentence[tokens[-1].end() : end])
                or verb_before_another(tokens[-1].group(), sentence[tokens[-1].end() : end])
                or (bool(re.search(r"[_./]", tokens[-2].group())) and reads_as_verb(tokens[-1]))
            )
        ):
            # "git sparse-checkout set ... keeps only those", "the active queue holds at most
            # 20000": not "keeps", not "holds"; "Financial Times first reported the move": not
            # "first reported" either
            tokens = tokens[:-1]
            while len(tokens) > 1 and modifies_a_verb(tokens[-1].group()):
                tokens = tokens[:-1]
        elif (
            len(tokens) > 1
            and tokens[0].start() == 0
            and not opener
            and following in _AFTER_A_VERB
            and reads_as_verb(tokens[-1])
            and all(t.group().istitle() for t in tokens[:-1])
        ):
            # "Hatch complies with ...", "Luke Gromen argues that ..."; after an acronym or a
            # CamelCase name it is the plural of a noun: "HTTP requests to", "NumPy arrays with".
            tokens = tokens[:-1]
        if tokens:
            left = tokens[0].start()
            while left > start and sentence[left - 1] in "-<`'\"":
                left -= 1
            right = tokens[-1].end()
            while right < end and sentence[right] in ">`'\"":
                right += 1
            return _bracketed(sentence, left, right, start, end)
    return ""


# Words after which a sentence's subject's last word ending in "s" was its verb.
_AFTER_A_VERB = {"that", "with", "to", "on", "in", "into", "for", "from", "as", "by", "at",
                 "about"}  # fmt: skip
_BRACKETS = {"{": "}", "(": ")", "[": "]"}
_SIGILS = "$%@"  # "${APACHE_LOG_DIR}", "%{BALANCER_ROUTE_CHANGED}e", "@{upstream}"
# A variable written with a sigil and braces, and the word of it a name check reads.
_VARIABLE = re.compile(r"[$%@]?\{+\s*([^{}\s]+)\s*\}+\w*")


def _bracketed(sentence: str, left: int, right: int, start: int, end: int) -> str:
    """sentence[left:right] with the brackets it stands in or leaves open and the sigil before
    them: a variable is named whole ("%{BALANCER_ROUTE_CHANGED}e", not
    "BALANCER_ROUTE_CHANGED}e"; "${APACHE_LOG_DIR}", not "APACHE_LOG_DIR"; "@{upstream}", not
    "@{upstream"; "{{ page.title }}"). An opener already closed before the phrase, or a closer
    opened again after it, is not the phrase's: it stays as it was."""
    for opener, closer in _BRACKETS.items():
        while True:
            phrase = sentence[left:right]
            missing = phrase.count(closer) - phrase.count(opener)
            if missing > 0:
                found = sentence.rfind(opener, start, left)
                if found < 0 or closer in sentence[found:left]:
                    break
                left = found
            elif missing < 0:
                found = sentence.find(closer, right, end)
                if found < 0 or opener in sentence[right:found]:
                    break
                right = found + 1
            elif (
                start < left - 1
                and right < end
                and sentence[left - 1] == opener
                and sentence[right] == closer
                and sentence[left - 2] in _SIGILS
            ):
                left, right = left - 1, right + 1
            else:
                break
        if start < left and sentence[left - 1] in _SIGILS and sentence[left] == opener:
            left -= 1
    # "%{Host}i": the format letter after a variable's braces is part of it.
    if sentence[left : left + 1] in _SIGILS and sentence[right - 1 : right] == "}":
        while right < end and sentence[right].isalnum():
            right += 1
    return sentence[left:right]


def _names_a_thing(phrase: str) -> bool:
    """Whether a phrase holds a name: a capitalised word, an acronym, or a variable whose word
    is one ("${HOME}", "%{Host}i")."""
    bare = _VARIABLE.sub(lambda m: m.group(1), phrase)
    return any(is_name(w, i + 1) for i, w in enumerate(bare.split()))


# Words after which a sentence's next word is its verb: a subject pronoun, a modal.
_BEFORE_A_VERB = {"i", "we", "you", "can", "could", "should", "must", "may", "might", "will",
                  "would"}  # fmt: skip

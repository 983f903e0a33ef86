"""Turn a follow-up question into a self-contained one using the conversation (no LLM needed).

A question that stands on its own is left exactly as asked. A follow-up is rewritten in one of
two ways:

- its reference ("they", "it", "that", "there", ...) is replaced by the thing the previous turn
  was about, and "do it" / "do that" by what the previous question asked about: "Why did they
  do it?" after "Which companies had to halt their stablecoin plans?" becomes "Why did the
  companies had to halt their stablecoin plans?" (not always grammatical, but it holds the
  words retrieval needs and nothing unrelated);
- an elliptical follow-up ("And on a replica?", "What about Windows?") is merged into the
  previous question: "How do I raise the connection limit on a replica?".

A scenario with its own topic is left alone but for its references to the last turn:

- a demonstrative phrase whose noun the last turn used gets the words that turn named it with
  ("We dumped with that format ..." after "Use the directory format" becomes "We dumped with
  the directory format ...");
- a bare "it", "that", "this" or "there" in its first clause is followed by what the last
  answer named, in parentheses ("Does that (git stash) also take the brand-new files I never
  added to the repository?" after "Run git stash [1]."). Left alone: a reference later in the
  question (it usually points at the question's own first clause: "The build fails. Is that
  related?"), one after words of the question's own when the question shares no word with the
  last turn (a new topic), and "they" or "them" (several things, not one name).

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

from assistant.citations import REFUSAL_TEXT
from assistant.interpret import focus_clause, specific_terms
from assistant.text import QUESTION_WORDS, STOPWORDS, content_terms, sentence_spans, words
from assistant.types import Message
from assistant.verify import strip_markers

_ASKING_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how", "is",
                 "are", "does", "do", "did", "can", "should", "will"}  # fmt: skip
_AUXILIARIES = {"do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "can",
                "could", "will", "would", "should", "must", "may", "might"}  # fmt: skip

# Pronouns that always point back; demonstratives only when they stand alone ("does that
# apply", "why is this"), not as determiners or relative pronouns ("the setting that limits").
_PRONOUN = re.compile(
    r"\b(it|its|they|them|their|theirs|he|him|his|she|her|hers|there)\b", re.IGNORECASE
)
# "there" beside a form of "be" says something exists or is present ("Is there a way",
# "if the file isn't there"): it points at no place.
_EXISTENTIAL_THERE = re.compile(
    r"\b(?:is|are|was|were|be|been|isn['’]t|aren['’]t|wasn['’]t|weren['’]t)(?:\s+not)?\s+there\b"
    r"|\bthere(?:['’]s|\s+(?:is|are|was|were|be|been|isn['’]t|aren['’]t|wasn['’]t|weren['’]t)\b)",
    re.IGNORECASE,
)
_DEMONSTRATIVE = re.compile(r"\b(this|that|these|those)\b(?=\s*(?:[?.!,;:]|$|\s+(\w+)))", re.I)
# "those pilots", "this setting", "that directive" (but not "the setting that controls").
_NO_STOPWORD = r"(?!(?:" + "|".join(sorted(STOPWORDS)) + r")\b)"
_NOT_STOPWORD = _NO_STOPWORD + r"([a-z][\w-]*)"
_DETERMINER = re.compile(
    r"\b(?:these|those|this)\s+"
    + _NOT_STOPWORD
    + r"|\bthat\s+"
    + _NOT_STOPWORD
    + r"(?=\s*(?:[?.!,;:]|$|\s+(?:to|for|in|on|do|does|did|is|are|was|were|need|needs|has|have"
    r"|will|can|(?:is|are|was|were|do|does|did|has|have|wo|ca)n['’]t)\b))",
    re.IGNORECASE,
)
# Adverbs between a demonstrative and its verb: "Is that still in effect?"
_ADVERBS = {"still", "really", "actually", "even", "ever", "always", "already", "usually",
            "normally", "now", "too"}  # fmt: skip
# A demonstrative after an auxiliary is the subject, alone or with its noun, and points back:
# "Does that delete the file?", "Is that related?", "will that pick it up?", "Does that
# command need root?" (a noun after it is left to _DETERMINER when it finds one).
_AUXILIARY_DEMONSTRATIVE = re.compile(
    r"\b(?:do|does|did|is|are|was|were|will|would|can|could|should|has|have|had|may|might|must)"
    r"(?:n['’]t)?\s+(this|that)\b(?!['’])",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(
    r"^\s*(and|but|also|so|or|then|what about|how about|same for|what if)\b[\s,]*", re.IGNORECASE
)
_TOKEN = re.compile(r"[\w][\w.'’/-]*\w|\w")
# Words with which a fragment points back at the previous question ("Same thing?", "That too?").
_POINTING_BACK = {"same", "too", "also", "either", "again", "likewise", "that", "this", "it"}
# A scenario question has its own topic: this many content terms, or several sentences,
# pronouns or not ("Our app writes while the export runs and it fails: which mode helps?").
SELF_CONTAINED_TERMS = 6
# A follow-up this short (in content terms) that opens with "and", "what about", ... is a
# fragment to merge into the previous question.
FRAGMENT_TERMS = 3
# A scenario's asking sentence this short, without a question word, asks nothing of its own.
ELLIPTICAL_ASK_WORDS = 3
MAX_PHRASE_WORDS = 6
# A question that names nothing continues the last turn when it shares this many words with
# the last question and the answer's name.
TOPIC_SHARED_TERMS = 2


def _pronoun(text: str) -> re.Match[str] | None:
    """The first pronoun of a text that points back (not an existential "there")."""
    existential = [m.span() for m in _EXISTENTIAL_THERE.finditer(text)]
    for match in _PRONOUN.finditer(text):
        if match.group(1).lower() == "there" and any(
            s <= match.start() < e for s, e in existential
        ):
            continue
        return match
    return None


def needs_context(question: str) -> bool:
    """Whether the question probably refers back to earlier turns."""
    own_terms = len(content_terms(question))
    scenario = own_terms >= SELF_CONTAINED_TERMS or len(sentence_spans(question)) > 1
    # "And ..." continues the last turn, unless it brings a whole scenario of its own ("And the
    # version matrix we defined on default, does docs get that as well?").
    continues = _CONTINUATION.search(question) and own_terms < SELF_CONTAINED_TERMS
    if own_terms < 2 or continues or _elliptical_ask(question):
        return True
    return not scenario and refers_back(question)


def _elliptical_ask(question: str) -> bool:
    """A scenario whose asking sentence is a bare fragment pointing back: "Our other office
    uses semicolons. Same thing?" (a few words, no question word, not a yes/no question)."""
    if len(sentence_spans(question)) < 2:
        return False
    tokens = words(focus_clause(question))
    return (
        0 < len(tokens) <= ELLIPTICAL_ASK_WORDS
        and not set(tokens) & QUESTION_WORDS
        and tokens[0] not in _AUXILIARIES
        and bool(set(tokens) & _POINTING_BACK)
    )


def refers_back(question: str) -> bool:
    """Whether a text points back at something said before it ("it", "they", "that one")."""
    return bool(_DETERMINER.search(question)) or _bare_reference(question) is not None


def _bare_reference(text: str) -> re.Match[str] | None:
    """The first reference of a text that stands alone: a pronoun ("it", "there") or a
    demonstrative without a noun ("Does that also ...", "Is that related?", "Will that pick it
    up?"), not a determiner ("that branch") or a relative pronoun ("the file that changed")."""
    found = [m for m in (_pronoun(text), _AUXILIARY_DEMONSTRATIVE.search(text)) if m]
    for match in _DEMONSTRATIVE.finditer(text):
        following = match.group(2)
        if following is None or following.lower() in STOPWORDS | _ADVERBS:
            found.append(match)
            break
    return min(found, key=lambda m: m.start(1)) if found else None


def condense(question: str, history: Sequence[Message]) -> str:
    """A standalone form of `question`: itself, or rewritten with the previous turns' topic."""
    question = question.strip()
    previous = _previous_question(history)
    if previous is None:
        return question
    answered = _previous_answer(history) or ""
    if not needs_context(question):
        # A scenario of its own may still name a thing of the last turn by a demonstrative
        # ("With that source the build fails" after "Use the `code` source") or point at it.
        named = _resolve_named_reference(question, previous, answered)
        if named != question:
            return named
        annotated = _annotate_reference(question, previous, answered)
        return annotated if annotated != question else _continue_topic(question, previous, answered)
    if _elliptical_ask(question):
        # The new situation, then the previous question asked again about it.
        ask = focus_clause(question)
        situation = question[: question.rfind(ask)].strip()
        return f"{situation} {previous}"
    fragment = _CONTINUATION.sub("", question, count=1).strip()
    if not content_terms(fragment) and not refers_back(fragment):
        # "Why?", "How?": the same question, asked another way.
        asked = fragment.rstrip("?.! ").strip() or question.rstrip("?.! ").strip()
        return f"{asked}: {previous}"
    elliptical = len(content_terms(fragment)) <= FRAGMENT_TERMS and not refers_back(fragment)
    asks = bool(fragment) and fragment.split()[0].lower() in _ASKING_WORDS
    if _CONTINUATION.search(question) and asks and not elliptical and not refers_back(fragment):
        # "And which outlet reported the move?"
        return _continue_topic(fragment[0].upper() + fragment[1:], previous, answered)
    if _CONTINUATION.search(question) and elliptical:
        return _merge(previous, fragment)
    asked = focus_clause(previous)
    subject, predicate = _subject_and_predicate(asked)
    pronoun = _pronoun(question)
    if subject.endswith("s") and pronoun and pronoun.group(1).lower() in ("it", "its"):
        # "it" cannot be "the tech giants": it is what the previous question asked about.
        subject = topic_phrase(predicate)
    phrase = (
        _code_name(asked)
        or _code_name(answered, exclude=previous)
        # After a situation, the asking sentence is often generic ("Is there an option?"):
        # the thing the answer named is what a follow-up points at.
        or (answer_name(answered) if len(sentence_spans(previous)) > 1 else "")
        or subject
        or topic_phrase(asked)
        or topic_phrase(answered)
    )
    if not phrase:
        return _merge(previous, fragment or question)
    as_asked = question
    if predicate:
        question = _DO_IT.sub(predicate, question, count=1)
    rewritten, count = _replace_reference(question, phrase)
    if count == 0 and rewritten == as_asked:
        # Nothing to resolve ("And if I switch to pdfcairo?"): a new condition on the
        # previous question.
        return _merge(previous, fragment or question)
    return rewritten


# "do it", "did that", "do so": the action the previous question asked about.
_DO_IT = re.compile(
    r"(?<=\w\s)(?:do|does|did|doing)\s+(?:it|that|this|so)\b"
    r"(?=\s*(?:[?.!,;:]|$|\s+(?:for|to|in|on|at|with|because|first|again|anyway|then)\b))",
    re.IGNORECASE,
)
_WH_NOUN = re.compile(
    r"^\s*(?:which|what)\s+((?:[\w.’'-]+\s+){0,3}?[\w.’'-]+?)\s+"
    r"(do|does|did|is|are|was|were|has|have|had|can|could|will|would|should|must)\b\s*(.*)$",
    re.IGNORECASE,
)


# "Which regulator told brokers to stop?": the noun is the subject, the rest the predicate.
_WH_SUBJECT = re.compile(r"^\s*(?:which|what)\s+([\w.’'-]+)\s+(\w+)\b\s*(.*)$", re.IGNORECASE)


_CODE_NAME = re.compile(r"[A-Za-z_][\w]*(?:[._][\w]+)+(?:\(\))?|\b[a-z]+_[a-z_]+\b")


def _code_name(text: str, exclude: str = "") -> str:
    """The first code-like name in a text (heapq.heappop, max_wal_size), unless in `exclude`."""
    for match in _CODE_NAME.finditer(text):
        name = match.group().rstrip(".")
        # Lower-case dotted or snake_case names are code; "JD.com" is a company.
        code = "_" in name or ("." in name and name[0].islower())
        if code and name.lower() not in exclude.lower():
            return name
    return ""


def _subject_and_predicate(previous: str) -> tuple[str, str]:
    """'Which companies had to halt X?' -> ('the companies', 'had to halt X')."""
    match = _WH_NOUN.match(previous.rstrip("?.! "))
    if match is not None and match.group(1).split()[0].lower() in _AUXILIARIES:
        match = None  # "What does X return": no noun after the question word
    if match is None:
        subject = _WH_SUBJECT.match(previous.rstrip("?.! "))
        if subject is None or subject.group(1).lower() in _AUXILIARIES:
            return "", ""
        if not content_terms(subject.group(1)):
            return "", ""
        return f"the {subject.group(1)}", f"{subject.group(2)} {subject.group(3)}".strip()
    noun = match.group(1).strip()
    if not content_terms(noun):
        return "", ""
    # "do it" stands for the verb phrase: drop an auxiliary that the follow-up has already.
    auxiliary, rest = match.group(2).lower(), match.group(3).strip()
    predicate = rest if auxiliary in {"do", "does", "did"} else f"{match.group(2)} {rest}"
    return f"the {noun}", predicate.strip()


def _previous_question(history: Sequence[Message]) -> str | None:
    """The latest user turn, completed with its own predecessor if it was a follow-up."""
    users = [m.content.strip() for m in history if m.role == "user" and m.content.strip()]
    if not users:
        return None
    latest = users[-1]
    if len(users) > 1 and needs_context(latest):
        earlier = [Message(role="user", content=text) for text in users[:-1]]
        return condense(latest, earlier)
    return latest


def _previous_answer(history: Sequence[Message]) -> str | None:
    """The latest answer, unless it was a refusal (which names nothing)."""
    for message in reversed(history):
        if message.role == "assistant" and message.content.strip():
            refused = message.content.strip().startswith(REFUSAL_TEXT)
            return None if refused else message.content
    return None


def _annotate_reference(question: str, previous: str, answered: str) -> str:
    """A scenario whose first clause points back with a bare "it", "that", "this" or "there",
    with what the last answer named (or the last question's topic) after that word, in parentheses.

    Left alone: a reference later in the question (it usually points at the question's own
    first clause), one after words of the question's own that shares no word with the last
    turn (a new topic: "Our export fails and it ..."), and a name the question already has.
    """
    # The first clause: a reference after it points at it ("If I send SIGQUIT instead, what
    # kind of shutdown is that?"), one in it at what came before the question.
    spans = sentence_spans(question)
    first = question[: spans[0][1]] if spans else question
    first = _PHRASE_BREAK.split(first, maxsplit=1)[0]
    reference = _bare_reference(first)
    if reference is None or reference.group(1).lower() not in _SINGULAR_REFERENCES:
        return question  # "its own" is its sentence's; "them" are several things, not one name
    before = content_terms(question[: reference.start(1)])
    shared = set(content_terms(question)) & set(content_terms(f"{previous} {answered}"))
    if before and not shared:
        # Words before the reference may be what it points at, or a new topic: only a
        # question that continues the last turn's topic is read as pointing back at it.
        return question
    name = answer_name(answered) or topic_phrase(focus_clause(previous))
    if not name or _names_already(question, name):
        return question
    end = reference.end(1)
    contraction = _CONTRACTED.match(question, end)
    if contraction is not None:
        end = contraction.end() if contraction.group(1) is None else end + 2
    return f"{question[:end]} ({name}){question[end:]}"


def _continue_topic(question: str, previous: str, answered: str) -> str:
    """A question that names nothing of its own but continues the last turn's topic ("Can our
    test script decide good or bad for each step?" after "A test started failing ... How do I
    find the commit that broke it?" and "Use git bisect ..."), with the name the last answer
    gave in front: "git bisect: Can our ...".

    Left alone: a question with names or code of its own; one after a refusal (which named
    nothing); and a new topic: one that shares fewer than two words with the last question and
    the answer's name (a single shared word, "start" or "server", is as often chance, with or
    without an "And" in front).
    """
    if specific_terms(question) or not answered:
        return question
    name = answer_name(answered)
    # A name of two words or more, or code ("git bisect", "mod_remoteip"): one plain word is
    # as often a verb the answer opens with ("Set it ...") as a thing.
    if not name or (len(name.split()) < 2 and not _code_name(name)):
        return question
    shared = set(content_terms(question)) & set(content_terms(f"{previous} {name}"))
    if len(shared) < TOPIC_SHARED_TERMS:
        return question
    if _names_already(question, name):
        return question
    return f"{name}: {question}"


def _names_already(question: str, name: str) -> bool:
    """Whether the question already holds every word of a name (nothing to add)."""
    return set(content_terms(name)) <= set(content_terms(question))


_SINGULAR_REFERENCES = {"it", "that", "this", "there"}
# Marks that end a phrase of an answer: "Yes: git worktree add", "Use a graceful stop (...)".
_PHRASE_BREAK = re.compile(r"[:;,()\[\]]")
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
    spans = sentence_spans(text)
    sentence = text[: spans[0][1]] if spans else text
    clause_start = 0
    for mark in [*_PHRASE_BREAK.finditer(sentence), None]:
        clause_end = len(sentence) if mark is None else mark.start()
        phrase = _literal_phrase(sentence, clause_start, clause_end)
        if phrase:
            # Common words ("The file is already tracked; stop tracking it with git rm
            # --cached") name less than the command the answer gives.
            code = _code_phrase(sentence)
            if _CODE_MARK.search(phrase):
                # "git worktree add <path> <branch> gives": the verb after the code goes.
                rest = phrase[len(code) :].split() if code and phrase.startswith(code) else []
                return code if rest and _verb_like(rest[0]) else phrase
            named = any(_is_name(w, i + 1) for i, w in enumerate(phrase.split()))
            return phrase if named else (code or phrase)
        clause_start = clause_end + 1
    # A one-word answer ("Paris.") is its own name.
    return _literal_phrase(sentence, 0, len(sentence), drop_opener=False)


# A piece of code in an answer: `quoted`, an option (--cached, -m), a placeholder (<path>), a
# dotted or snake_case name (core.hooksPath, max_wal_size).
_CODE_MARK = re.compile(
    r"`[^`\n]+`|(?<![\w-])--?[A-Za-z][\w-]*(?:=\S+)?|<[\w.-]+>|\b[a-z]+[._][A-Za-z][\w.]*[A-Za-z]\b"
)
_PIECE = re.compile(_CODE_MARK.pattern + "|" + _TOKEN.pattern)


def _code_phrase(sentence: str) -> str:
    """The first command or code of a sentence with the words that lead into it, as written:
    "stop tracking it with git rm --cached [1]" -> "git rm --cached"; "git worktree add <path>
    <branch> gives you ..." -> "git worktree add <path> <branch>"; "a merge needs -m <n>" ->
    "-m <n>" (not from before a verb-like word). "" when it has none."""
    for run, ended_by in _runs(sentence, 0, len(sentence), marks_break=True):
        coded = [i for i, m in enumerate(run) if _CODE_MARK.fullmatch(m.group())]
        if not coded:
            continue
        # Cut after the last code when the run goes on into a sentence ("<branch> gives you"),
        # not when it ends at a mark ("apache2ctl -k graceful-stop,").
        pieces = run if ended_by is None else run[: coded[-1] + 1]
        verb = [i for i in range(coded[0]) if _reads_as_verb(pieces[i])]
        pieces = pieces[verb[-1] + 1 if verb else 0 :][-MAX_PHRASE_WORDS:]
        if pieces[0].start() == 0 and len(pieces) > 1 and _opens_with_a_verb(pieces):
            pieces = pieces[1:]  # "Run git stash": the imperative is not the name
        return sentence[pieces[0].start() : pieces[-1].end()]
    return ""


def _literal_phrase(sentence: str, start: int, end: int, drop_opener: bool = True) -> str:
    """The first run of content words, names or code in sentence[start:end], as written: the
    subject of "SIGTERM is the smart mode", the object of "Run git stash", cut before a word
    that reads as its verb ("The binary builder uses PyApp" -> "binary builder")."""
    for run, ended_by in _runs(sentence, start, end, marks_break=False):
        tokens = run[:MAX_PHRASE_WORDS]
        if drop_opener and tokens[0].start() == 0 and _opens_with_a_verb(tokens):
            tokens = tokens[1:]  # "Run git stash", "Add SSLProxyEngine"; a lone "Yes" or "Use"
        following = "" if ended_by is None else ended_by.group().lower()
        if drop_opener and len(tokens) == 1 and following in _ARTICLES:
            continue  # a verb before its object: "enable the balancer-manager"
        verb = next((i for i in range(1, len(tokens) - 1) if _reads_as_verb(tokens[i])), None)
        tokens = tokens[:verb] if verb is not None else tokens
        if (
            len(tokens) > 1
            and len(run) <= MAX_PHRASE_WORDS
            and following in _OPENS_AN_OBJECT
            and _reads_as_verb(tokens[-1])
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
    two words). Stop words end a run; code (`_CODE_MARK`) always joins one."""
    pattern = _PIECE if marks_break else _TOKEN
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
        if piece is not None and _joins_a_run(piece.group()):
            run.append(piece)
            continue
        if run:
            yield run, piece
        run = []


def _joins_a_run(token: str) -> bool:
    """Code, or a word that is not a stop word (nor a lone digit) and has a content term."""
    if _CODE_MARK.fullmatch(token):
        return True
    lowered = token.lower()
    content = lowered not in STOPWORDS and bool(content_terms(token))
    return content and not (token.isdigit() and len(token) < 2)


_ARTICLES = {"a", "an", "the"}
# Words that open what a verb acts on: "keeps only those", "gives you", "uses the".
_OPENS_AN_OBJECT = _ARTICLES | {"you", "your", "it", "them", "its", "their", "our", "us"}


def _reads_as_verb(token: re.Match[str]) -> bool:
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
    if len(tokens) == 1:
        return True
    second = tokens[1].group()
    return not second[:1].isupper() or second[1:] != second[1:].lower()


def topic_phrase(text: str) -> str:
    """The most specific phrase of a text: the best run of content words, names or code (a
    sentence's first word lower-cased: "Which" is not a name), without a verb before an
    article ("Where can the tool read the API token from?" -> "API token")."""
    best, best_score = "", 0.0
    for run, ended_by in _runs(text, 0, len(text), marks_break=False):
        if ended_by is not None and ended_by.group().lower() in _ARTICLES:
            if len(run) == 1:
                continue  # "make the build ...": a verb before its object
            run = run[:-1]  # "the tool read the API token": a name, then its verb
        words = [
            m.group()[0].lower() + m.group()[1:] if _starts_sentence(text, m.start()) else m.group()
            for m in run[:MAX_PHRASE_WORDS]
        ]
        names = sum(_is_name(w, i) for i, w in enumerate(words))
        score = len(words) + 1.5 * names
        if score > best_score:
            best, best_score = " ".join(words), score
    return best


# What ends a sentence right before a word: its next word starts the next sentence.
_SENTENCE_END = re.compile(r"[.?!:]\s*$")


def _starts_sentence(text: str, at: int) -> bool:
    """Whether the word at `at` opens the text or follows a sentence's end."""
    return at == 0 or _SENTENCE_END.search(text, max(0, at - 8), at) is not None


def _is_name(word: str, position: int) -> bool:
    """A capitalised word (not first), or a code-like token (with _ . / or digits)."""
    return (position > 0 and word[:1].isupper()) or bool(re.search(r"[_./]|\d", word))


def _replace_reference(question: str, phrase: str) -> tuple[str, int]:
    """Replace the first back-reference of the question with the phrase."""
    match = _pronoun(question)
    determiner = _DETERMINER.search(question)
    if determiner is not None and (match is None or determiner.start() < match.start()):
        noun = determiner.group(1) or determiner.group(2)
        bare = phrase[4:] if phrase.lower().startswith("the ") else phrase
        rewritten = f"the {noun} of the {bare}" if bare != noun else f"the {noun}"
        return question[: determiner.start()] + rewritten + question[determiner.end() :], 1
    match = match or _bare_reference(question)
    if match is None:
        return question, 0
    word = match.group(1).lower()
    possessive = f"{phrase}'" if phrase.endswith("s") else f"{phrase}'s"
    replacement = possessive if word in {"its", "their", "theirs", "his", "hers"} else phrase
    if word == "there":
        replacement = f"in {phrase}"
    if word == "her":  # object or possessive: read it as the object
        replacement = phrase
    end = match.end(1)
    contraction = _CONTRACTED.match(question, end)
    if word == "it" and contraction is not None:
        # "once it's built" is "once the binary is built", not "the binary's built".
        verb = "has" if contraction.group(1) else "is"
        replacement, end = f"{phrase} {verb}", end + 2
    return question[: match.start(1)] + replacement + question[end:], 1


# "it's" after the pronoun: "has" before "been" or "got", else "is".
_CONTRACTED = re.compile(r"['’]s\b(?=\s+(been|got)\b)?", re.IGNORECASE)


# "that source", "those environments", "the same fixed date": a demonstrative and the words
# after it (up to the next stop word), one of which names the thing meant.
_NAMED_REFERENCE = re.compile(
    r"\b(?:that|those|this|these|the\s+same)\s+((?:" + _NO_STOPWORD + r"[a-z][\w-]*\s*){1,3})",
    re.IGNORECASE,
)


# Words after which a noun phrase begins ("the `code` source", "in Hatch environments"), so
# that the words of a run are its modifiers rather than a verb ("we point Hatch environments").
_OPENS_NOUN_PHRASE = {
    "a", "an", "the", "this", "that", "these", "those", "our", "your", "their", "its", "my",
    "his", "her", "of", "in", "on", "for", "with", "from", "by", "at", "into", "each",
    "some", "any", "same", "own",
}  # fmt: skip


def _resolve_named_reference(question: str, previous: str, answered: str) -> str:
    """The question with its first demonstrative noun phrase ("that source") given the words
    the last turn named that thing with ("the code source"), or the question unchanged.

    The phrase's noun is matched by its stem, the latest turn first (the answer, then the
    question): a noun shared with the turn before is the usual sign of a reference to it. Only
    a phrase that adds words is taken ("that file" after "extend that file" stays as it is).
    """
    match = _NAMED_REFERENCE.search(question)
    if match is None:
        return question
    words = match.group(1).split()
    turns = [text for text in (answered, previous) if text]
    # The longest run of the phrase's words whose last word the last turn uses: "fixed date
    # come" -> "fixed date".
    for size in range(len(words), 0, -1):
        head = content_terms(words[size - 1])
        if not head:
            continue
        for turn in turns:
            modifiers = _modifiers_of(turn, head[0], words[:size])
            if modifiers:
                named = " ".join([*modifiers, *words[:size]])
                end = match.start(1) + len(" ".join(words[:size]))
                if question[match.start(1) : end] != " ".join(words[:size]):
                    return question  # not single-spaced: leave it alone
                return f"{question[: match.start()]}the {named}{question[end:]}"
    return question


def _modifiers_of(text: str, stem: str, phrase: list[str]) -> list[str]:
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


def _merge(previous: str, fragment: str) -> str:
    """The previous question with the fragment's new focus added: 'How do I X ... on a replica?'

    A fragment that opens with a place or target ("And on a Windows laptop?") replaces the one
    the previous question gave ("... at start-up on Linux?"), and one that only names a thing
    ("And the username?") the thing it acted on: it asks the same thing of another, not of
    both.
    """
    contrasted = _contrast(previous, fragment)
    if contrasted is not None:
        previous, fragment = contrasted
    else:
        named = _noun_contrast(previous, fragment)
        if named is not None:
            return named
    base = previous.rstrip().rstrip("?.!").rstrip()
    addition = fragment.strip().rstrip("?.!").strip()
    if not addition:
        return previous if previous.rstrip().endswith("?") else f"{base}?"
    return f"{base}, {addition}?"


# A thing named with a determiner and up to four content words or names: "the PyPI API token",
# "our staging database".
_NOUN_DETERMINER = re.compile(r"\b(?:the|our|my|your|their|its|a|an)\s+", re.IGNORECASE)
_QUANTIFIERS = {"every", "each", "all", "some", "any", "no", "both", "either", "neither"}
MAX_NOUN_WORDS = 4
# Verbs after which a thing is followed by its own verb: "make the plugin load at startup".
_CAUSATIVES = frozenset(["make", "makes", "let", "lets", "have", "has", "help", "helps", "get"])
# Words after which a thing's name has ended ("read the API token from", "the wheel?"), rather
# than gone on into its verb ("the plugin load at", "the disk fills up").
_ENDS_A_THING = frozenset(
    ["of", "from", "to", "in", "on", "at", "for", "with", "into", "onto", "over", "under", "by",
     "via", "through", "between", "before", "after", "without", "instead", "and", "or", "but",
     "so", "if", "when", "while", "because", "than"]
)  # fmt: skip


def _noun_contrast(previous: str, fragment: str) -> str | None:
    """The previous question asked of another thing: a fragment that only names one with a
    determiner ("And the username? All we have is the token." after "Where can it read the API
    token from?") replaces the one thing its asking clause names with a determiner (or the
    last of those sharing a word with the new one), and the rest of the fragment follows as
    sentences of their own. None (merged as before) when the fragment says more than a thing,
    or the ask names several things or none, or one whose name runs on into a verb ("does the
    server listen", "whether the job succeeded"): which one is meant, or where its name ends,
    is anybody's guess."""
    spans = sentence_spans(fragment)
    if not spans:
        return None
    first = fragment[spans[0][0] : spans[0][1]].strip()
    new = first.rstrip("?.!").strip()
    named = _NOUN_DETERMINER.match(new)
    if not first.endswith("?") or named is None:
        return None
    if _thing_at(new, named.start(), named.end(), verbs=False) != (0, len(new)):
        return None  # "And the token, too?": more than a thing
    ask = focus_clause(previous)
    offset = previous.rfind(ask)
    mentioned = list(_NOUN_DETERMINER.finditer(ask))
    things = [
        thing
        for m in mentioned
        if (thing := _thing_at(ask, m.start(), m.end(), verbs=True)) is not None
    ]
    if offset < 0 or not things:
        return None
    new_terms = set(content_terms(new))
    sharing = [t for t in things if set(content_terms(ask[t[0] : t[1]])) & new_terms]
    if not sharing and len(mentioned) > 1:
        return None
    start, end = (sharing or things)[-1]
    if new_terms <= set(content_terms(ask[start:end])):
        return None  # the same thing again
    replaced = previous[: offset + start] + new + previous[offset + end :]
    rest = fragment[spans[0][1] :].strip()
    return f"{replaced.rstrip()} {rest}" if rest else replaced


def _thing_at(
    text: str, start: int, words_start: int, verbs: bool = False
) -> tuple[int, int] | None:
    """The span of the determiner at `start` and its run of content words or names (up to
    MAX_NOUN_WORDS); None when no such word follows. With `verbs` (the text is a sentence
    with verbs), only a run that ends where a thing's name ends: before a mark, the text's
    end or a preposition or conjunction, and not on a word that reads as a verb; never a
    subject ("does the server listen on") nor the doer after "make", "let" ("make the plugin
    load at"): where its name ends, its verb begins."""
    run: list[re.Match[str]] = []
    for token in _PIECE.finditer(text, words_start):
        if text[run[-1].end() if run else words_start : token.start()].strip():
            break  # punctuation between: the run ended
        if not _joins_a_run(token.group()) or token.group().lower() in _QUANTIFIERS:
            break
        run.append(token)
        if len(run) == MAX_NOUN_WORDS:
            break
    if not run:
        return None
    if verbs:
        before = text[:start].split()
        if (
            (before and before[-1].lower() in _AUXILIARIES | _CAUSATIVES)
            or any(_reads_as_verb(t) for t in run[:-1])
            or _past_tense(run[-1].group())
        ):
            return None
        following = _PIECE.search(text, run[-1].end())
        between = text[run[-1].end() : following.start() if following else len(text)]
        if (
            following is not None
            and not between.strip()
            and (following.group().lower() not in _ENDS_A_THING)
        ):
            return None
    return start, run[-1].end()


def _past_tense(word: str) -> bool:
    """A lower-case word ending in "ed" ("succeeded", "expired"): a verb, not a thing's name."""
    return word.islower() and word.isalpha() and len(word) > 4 and word.endswith("ed")


# Prepositions that name where or for what a question holds ("on Linux", "for the Mac agents").
_PLACES = ("on", "for", "in", "under", "with", "inside", "behind", "via", "over", "from")
_PLACE_PHRASE = re.compile(
    r"\b("
    + "|".join(_PLACES)
    + r")\s+((?:(?!(?:"
    + "|".join(_PLACES)
    + r"|and|or|but|so|if|when|while|that|which|who|to|at|of|by|without|after|before|until|using"
    + r"|because)\b)(?:[^\s,.;:?!]|[.:](?=\w))+\s*)+)",
    re.IGNORECASE,
)


def _place_kind(phrase: str) -> set[str]:
    """What makes a phrase a place or a target rather than a manner ("in parallel", "with
    zero downtime", "for a week"): a name ("Linux", "Ubuntu 24.04", "CI") and / or a thing
    pointed at ("the primary", "a replica", "our build VMs"). Two phrases contrast when they
    share one of these."""
    tokens = phrase.split()
    kinds = set()
    if any(_is_name(token, position + 1) or _CODE_MARK.search(token) for position, token in
           enumerate(tokens)):  # fmt: skip
        kinds.add("name")
    if tokens and tokens[0].lower() in _POINTING_DETERMINERS:
        kinds.add("thing")
    return kinds


_POINTING_DETERMINERS = {"a", "an", "the", "our", "my", "your", "their", "its", "his", "her",
                         "this", "that", "these", "those", "each", "every", "another"}  # fmt: skip


def _contrast(previous: str, fragment: str) -> tuple[str, str] | None:
    """The previous question with its place phrase replaced by the fragment's, and what is
    left of the fragment; None when the fragment opens with no place phrase or the previous
    question has none of the same kind (the same preposition, or one sharing a word)."""
    opening = _PLACE_PHRASE.match(fragment.strip())
    if opening is None or set(words(opening.group(2))) & QUESTION_WORDS:
        return None  # "And for how long?" asks something new of the same place
    new = opening.group(1).lower() + " " + opening.group(2).strip()
    rest = fragment.strip()[opening.end() :].lstrip(" ,")
    new_terms = set(content_terms(opening.group(2)))
    if not new_terms:
        return None
    kind = _place_kind(opening.group(2))
    candidates = [
        m
        for m in _PLACE_PHRASE.finditer(previous)
        if content_terms(m.group(2)) and kind and _place_kind(m.group(2)) & kind
    ]
    same = [m for m in candidates if m.group(1).lower() == opening.group(1).lower()]
    sharing = [m for m in candidates if set(content_terms(m.group(2))) & new_terms]
    matches = same or sharing
    if not matches:
        return None
    chosen = matches[-1]
    if new_terms <= set(content_terms(chosen.group(2))):
        return None
    replaced = previous[: chosen.start()] + new + " " + previous[chosen.end() :].lstrip()
    return " ".join(replaced.split()).replace(" ?", "?").replace(" .", "."), rest

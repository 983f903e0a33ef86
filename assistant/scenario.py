"""A follow-up that is a scenario of its own (it does not need the last turn to be read),
left alone but for its references to the last turn (`assistant.condense` decides which
questions these are):

- a demonstrative phrase whose noun the last turn used gets the words that turn named it with
  ("We dumped with that format ..." after "Use the directory format" becomes "We dumped with
  the directory format ...");
- a bare "it", "that", "this" or "there" in its first clause is followed by what the last
  answer named, in parentheses ("Does that (git stash) also take the brand-new files I never
  added to the repository?" after "Run git stash [1]."). Left alone: a reference later in the
  question (it usually points at the question's own first clause: "The build fails. Is that
  related?"), one after words of the question's own when the question shares no word with the
  last turn (a new topic), and a bare "they" or "them" (several things, not one name);
- one that names nothing of its own but shares two words with the last turn gets the name the
  last answer gave in front ("git bisect: Can our test script decide ...").
"""

from __future__ import annotations

import re

from assistant.backreference import NO_STOPWORD, VERB_IN_S, bare_reference, subject_that
from assistant.interpret import focus_clause, specific_terms
from assistant.named import answer_name
from assistant.phrases import PHRASE_BREAK, code_name, modifiers_of, topic_phrase
from assistant.text import content_terms, first_sentence

# A question that names nothing continues the last turn when it shares this many words with
# the last question and the answer's name.
TOPIC_SHARED_TERMS = 2


def first_clause(question: str) -> str:
    """The question's first clause: a reference after it points at it ("If I send SIGQUIT
    instead, what kind of shutdown is that?"), one in it at what came before the question."""
    return PHRASE_BREAK.split(first_sentence(question), maxsplit=1)[0]


def new_topic(question: str, at: int, previous: str, answered: str) -> bool:
    """Whether a scenario's reference at `at` may point at its own words rather than the last
    turn: words of its own come before it and the question shares no word with the last turn
    ("Our export fails and it ..."). Words before a reference may be what it points at, or a
    new topic: only a question that continues the last turn's topic points back at it."""
    before = content_terms(question[:at])
    shared = set(content_terms(question)) & set(content_terms(f"{previous} {answered}"))
    return bool(before) and not shared


def annotate_reference(question: str, previous: str, answered: str) -> str:
    """A scenario whose first clause points back with a bare "it", "that", "this" or "there",
    with what the last answer named (or the last question's topic) after that word, in parentheses.

    Left alone: a reference later in the question (it usually points at the question's own
    first clause), one after words of the question's own that shares no word with the last
    turn (a new topic: "Our export fails and it ..."), and a name the question already has.
    """
    reference = bare_reference(first_clause(question))
    if reference is None or reference.group(1).lower() not in _SINGULAR_REFERENCES:
        return question  # "its own" is its sentence's; "them" are several things, not one name
    if new_topic(question, reference.start(1), previous, answered):
        return question
    name = answer_name(answered) or topic_phrase(focus_clause(previous))
    if not any(c.isalpha() for c in name) or _names_already(question, name):
        return question  # nothing named, or a bare number ("150 [1].") that "it" is not
    end = reference.end(1)
    contraction = CONTRACTED.match(question, end)
    if contraction is not None:
        end = contraction.end() if contraction.group(1) is None else end + 2
    return f"{question[:end]} ({name}){question[end:]}"


def continue_topic(question: str, previous: str, answered: str) -> str:
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
    if not name or (len(name.split()) < 2 and not code_name(name)):
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


# "it's" after the pronoun: "has" before "been" or "got", else "is".
CONTRACTED = re.compile(r"['’]s\b(?=\s+(been|got)\b)?", re.IGNORECASE)


# "that source", "those environments", "the same fixed date": a demonstrative and the words
# after it (up to the next stop word), one of which names the thing meant.
_NAMED_REFERENCE = re.compile(
    r"\b(?:that|those|this|these|the\s+same)\s+((?:" + NO_STOPWORD + r"[a-z][\w-]*\s*){1,3})",
    re.IGNORECASE,
)


# "that" and a verb in -s after a noun phrase that an article opens ("a separate KSK that rolls
# yearly", "an option that controls it") open a relative clause. After a verb, "that" is a
# demonstrative before its noun ("read that alias file", "flush that DNS cache").
_RELATIVE_THAT = re.compile(
    r"\b(?i:a|an|the|one|each|any|some|another|every)\s+(?:[\w-]+\s+){0,2}?"
    + NO_STOPWORD
    + r"(?i:[a-z][\w-]*)\s+(?i:(that))\s+"
    + VERB_IN_S
    + r"\b"
)


def resolve_named_reference(question: str, previous: str, answered: str) -> str:
    """The question with its first demonstrative noun phrase ("that source") given the words
    the last turn named that thing with ("the code source"), or the question unchanged.

    The phrase's noun is matched by its stem, the latest turn first (the answer, then the
    question): a noun shared with the turn before is the usual sign of a reference to it. Only
    a phrase that adds words is taken ("that file" after "extend that file" stays as it is).
    """
    relative = {m.start(1) for m in _RELATIVE_THAT.finditer(question)}
    # "a KSK that rolls yearly": a relative clause, not a noun to name; a later one may be.
    match = next(
        (m for m in _NAMED_REFERENCE.finditer(question) if m.start() not in relative), None
    )
    subject = subject_that(question)
    if match is None or (subject is not None and subject.start(1) == match.start()):
        return question  # "does that send to ...": a verb, not a noun to name
    words = match.group(1).split()
    turns = [text for text in (answered, previous) if text]
    # The longest run of the phrase's words whose last word the last turn uses: "fixed date
    # come" -> "fixed date".
    for size in range(len(words), 0, -1):
        head = content_terms(words[size - 1])
        if not head:
            continue
        for turn in turns:
            modifiers = modifiers_of(turn, head[0], words[:size])
            if modifiers:
                named = " ".join([*modifiers, *words[:size]])
                end = match.start(1) + len(" ".join(words[:size]))
                if question[match.start(1) : end] != " ".join(words[:size]):
                    return question  # not single-spaced: leave it alone
                return f"{question[: match.start()]}the {named}{question[end:]}"
    return question

"""Turn a follow-up question into a self-contained one using the conversation (no LLM needed).

A question that stands on its own is left exactly as asked. A follow-up is rewritten in one of
these ways:

- its reference ("they", "it", "that", "there", ...) is replaced by the thing the previous turn
  was about (`assistant.phrases` names it), and "do it" / "do that" by what the previous
  question asked about: "Why did they do it?" after "Which companies had to halt their
  stablecoin plans?" becomes "Why did the companies had to halt their stablecoin plans?" (not
  always grammatical, but it holds the words retrieval needs and nothing unrelated);
- after a question for one thing or person ("Which regulator ...?", "Who ...?"), a singular
  "it", "he" or "she" is the one the answer named: "What did it order?" after "The CSRC [1]."
  asks about the CSRC;
- an elliptical follow-up ("And on a replica?", "What about Windows?") is merged into the
  previous question (`assistant.fragments`);
- "either of them", "both of them", "which of them", ... stand for the two things the last
  turn put side by side: "Do either of them reset the counters?" after "... between
  apache2ctl graceful and apache2ctl restart?" asks about both.

A scenario with its own topic is left alone but for its references to the last turn:

- a demonstrative phrase whose noun the last turn used gets the words that turn named it with
  ("We dumped with that format ..." after "Use the directory format" becomes "We dumped with
  the directory format ...");
- a bare "it", "that", "this" or "there" in its first clause is followed by what the last
  answer named, in parentheses ("Does that (git stash) also take the brand-new files I never
  added to the repository?" after "Run git stash [1]."). Left alone: a reference later in the
  question (it usually points at the question's own first clause: "The build fails. Is that
  related?"), one after words of the question's own when the question shares no word with the
  last turn (a new topic), and a bare "they" or "them" (several things, not one name).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from assistant.asked import DO_IT, asked_object, names_the_one_asked_for, subject_and_predicate
from assistant.backreference import (
    CONTINUATION,
    NO_STOPWORD,
    VERB_IN_S,
    bare_reference,
    determiner,
    elliptical_ask,
    first_pronoun,
    like_before,
    needs_context,
    pronoun_kind,
    refers_back,
    subject_that,
)
from assistant.citations import REFUSAL_TEXT
from assistant.fragments import merge
from assistant.interpret import focus_clause, specific_terms
from assistant.named import answer_name
from assistant.phrases import (
    PHRASE_BREAK,
    code_name,
    coordinated_names,
    modifiers_of,
    plural_phrase,
    topic_phrase,
)
from assistant.text import (
    content_terms,
    first_sentence,
    sentence_spans,
)
from assistant.types import Message
from assistant.verify import strip_markers

_ASKING_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how", "is",
                 "are", "does", "do", "did", "can", "should", "will"}  # fmt: skip
# A follow-up this short (in content terms) that opens with "and", "what about", ... is a
# fragment to merge into the previous question.
FRAGMENT_TERMS = 3
# A question that names nothing continues the last turn when it shares this many words with
# the last question and the answer's name.
TOPIC_SHARED_TERMS = 2


def condense(question: str, history: Sequence[Message]) -> str:
    """A standalone form of `question`: itself, or rewritten with the previous turns' topic."""
    return _condense(question, history).text


class _Rewrite(NamedTuple):
    """A question made standalone, and what its pronoun was taken to mean (when it had one)."""

    text: str
    phrase: str = ""  # what the pronoun was replaced with
    pronoun: str = ""  # the pronoun's kind ("it", "they", "he"), see backreference.pronoun_kind


def _condense(question: str, history: Sequence[Message]) -> _Rewrite:
    question = question.strip()
    last = _previous_question(history)
    if last is None:
        return _Rewrite(question)
    previous = last.text
    answered = _previous_answer(history) or ""
    plural = _resolve_plural_reference(question, previous, answered)
    if plural != question:
        return _Rewrite(plural)
    if not needs_context(question):
        # A scenario of its own may still name a thing of the last turn by a demonstrative
        # ("With that source the build fails" after "Use the `code` source") or point at it.
        named = _resolve_named_reference(question, previous, answered)
        if named != question:
            return _Rewrite(named)
        annotated = _annotate_reference(question, previous, answered)
        return _Rewrite(
            annotated if annotated != question else _continue_topic(question, previous, answered)
        )
    if elliptical_ask(question):
        # The new situation, then the previous question asked again about it.
        ask = focus_clause(question)
        situation = question[: question.rfind(ask)].strip()
        return _Rewrite(f"{situation} {previous}")
    fragment = CONTINUATION.sub("", question, count=1).strip()
    if not content_terms(fragment) and not refers_back(fragment):
        # "Why?", "How?": the same question, asked another way.
        asked = fragment.rstrip("?.! ").strip() or question.rstrip("?.! ").strip()
        return _Rewrite(f"{asked}: {previous}")
    elliptical = len(content_terms(fragment)) <= FRAGMENT_TERMS and not refers_back(fragment)
    asks = bool(fragment) and fragment.split()[0].lower() in _ASKING_WORDS
    if CONTINUATION.search(question) and asks and not elliptical and not refers_back(fragment):
        # "And which outlet reported the move?"
        return _Rewrite(_continue_topic(fragment[0].upper() + fragment[1:], previous, answered))
    if CONTINUATION.search(question) and elliptical:
        return _Rewrite(merge(previous, fragment))
    asked = focus_clause(previous)
    subject, predicate = subject_and_predicate(asked)
    pronoun = first_pronoun(question)
    one_asked_for = names_the_one_asked_for(asked, subject, pronoun)
    # "How many people use it?" - "Is it replacing cash?": the same "it" as the last time.
    carried = last.phrase if last.pronoun and last.pronoun == pronoun_kind(pronoun) else ""
    if subject.endswith("s") and pronoun and pronoun.group(1).lower() in ("it", "its"):
        # "it" cannot be "the tech giants": it is what the previous question asked about.
        subject = carried or topic_phrase(predicate)
    # "How do I move the commit to another branch?" - "And if I already pushed it?": the commit.
    acted_on = asked_object(asked) if pronoun_kind(pronoun) == "it" else ""
    phrase = (
        code_name(asked)
        or code_name(answered, exclude=previous)
        or acted_on
        # After a situation, the asking sentence is often generic ("Is there an option?"):
        # the thing the answer named is what a follow-up points at.
        or (answer_name(answered) if len(sentence_spans(previous)) > 1 else "")
        # "Which regulator ...?" - "The CSRC." - "What did it order?": the one thing asked
        # for is the one the answer named, not "the regulator" again.
        or (answer_name(answered) if one_asked_for else "")
        or subject
        or carried
        or topic_phrase(asked)
        or topic_phrase(answered)
    )
    if (
        pronoun is not None
        and pronoun.group(1).lower() == "them"
        and phrase not in (subject, carried)
        and not _reads_plural(phrase)
    ):
        # "them" are several things: "What about making one of them dotted?" after "I plot two
        # data files ..." is about the data files, not what the answer named.
        phrase = plural_phrase(previous) or phrase
    if not phrase:
        return _Rewrite(merge(previous, fragment or question))
    as_asked = question
    if predicate:
        question = DO_IT.sub(predicate, question, count=1)
    rewritten, count = _replace_reference(question, phrase)
    if count == 0 and rewritten == as_asked:
        # Nothing to resolve ("And if I switch to pdfcairo?"): a new condition on the
        # previous question.
        return _Rewrite(merge(previous, fragment or question))
    return _Rewrite(rewritten, phrase, pronoun_kind(pronoun))


def _reads_plural(phrase: str) -> bool:
    """Whether a phrase names several things: its last word ends in a single "s"."""
    last = phrase.split()[-1] if phrase.split() else ""
    return last.endswith("s") and not last.endswith("ss")


# "either of them", "both of them", "which of them": several things at once. A bare "they" or
# "them" is left to `condense`: it is as often the thing a question asked for ("Which ports do
# nginx and Apache listen on?" - "Can they be changed?") as the two things it named.
_QUANTIFIED_REFERENCE = re.compile(
    r"\b(either|neither|both|each|any|all|none|one|which)\s+of\s+(?:them|they)\b",
    re.IGNORECASE,
)


def _resolve_plural_reference(question: str, previous: str, answered: str) -> str:
    """The question with "either of them", "both of them", "which of them", ... standing for
    the two things the last turn put side by side: "Do either of them reset the counters?"
    after "... between apache2ctl graceful and apache2ctl restart?" becomes "Do either
    apache2ctl graceful or apache2ctl restart reset the counters?".

    The last question's two things, else the answer's (`phrases.coordinated_names`). Left
    alone: a reference after the first clause, one after words of a scenario that shares no
    word with the last turn (`_new_topic`), and a last turn with no two things side by side.
    """
    match = _QUANTIFIED_REFERENCE.search(_first_clause(question))
    if match is None:
        return question
    if not needs_context(question) and _new_topic(question, match.start(), previous, answered):
        return question
    pair = (
        coordinated_names(focus_clause(previous))
        or coordinated_names(previous)
        or coordinated_names(first_sentence(strip_markers(answered)))
    )
    if pair is None:
        return question
    one, other = pair
    quantifier = match.group(1).lower()
    if quantifier == "either":
        replacement = f"either {one} or {other}"
    elif quantifier == "neither":
        replacement = f"neither {one} nor {other}"
    elif quantifier == "both":
        replacement = f"both {one} and {other}"
    else:
        replacement = f"{quantifier} of {one} and {other}"
    if match.group(0)[:1].isupper():
        replacement = replacement[0].upper() + replacement[1:]  # "Both of them ..." opens it
    return question[: match.start()] + replacement + question[match.end() :]


def _previous_question(history: Sequence[Message]) -> _Rewrite | None:
    """The latest user turn, completed as it was asked if it was a follow-up: with the turns
    before it, answers included, so that it reads as what was searched for then."""
    asked = [i for i, m in enumerate(history) if m.role == "user" and m.content.strip()]
    if not asked:
        return None
    latest = history[asked[-1]].content.strip()
    if len(asked) > 1 and needs_context(latest):
        return _condense(latest, history[: asked[-1]])
    return _Rewrite(latest)


def _previous_answer(history: Sequence[Message]) -> str | None:
    """The latest answer, unless it was a refusal (which names nothing)."""
    for message in reversed(history):
        if message.role == "assistant" and message.content.strip():
            refused = message.content.strip().startswith(REFUSAL_TEXT)
            return None if refused else message.content
    return None


def _first_clause(question: str) -> str:
    """The question's first clause: a reference after it points at it ("If I send SIGQUIT
    instead, what kind of shutdown is that?"), one in it at what came before the question."""
    return PHRASE_BREAK.split(first_sentence(question), maxsplit=1)[0]


def _new_topic(question: str, at: int, previous: str, answered: str) -> bool:
    """Whether a scenario's reference at `at` may point at its own words rather than the last
    turn: words of its own come before it and the question shares no word with the last turn
    ("Our export fails and it ..."). Words before a reference may be what it points at, or a
    new topic: only a question that continues the last turn's topic points back at it."""
    before = content_terms(question[:at])
    shared = set(content_terms(question)) & set(content_terms(f"{previous} {answered}"))
    return bool(before) and not shared


def _annotate_reference(question: str, previous: str, answered: str) -> str:
    """A scenario whose first clause points back with a bare "it", "that", "this" or "there",
    with what the last answer named (or the last question's topic) after that word, in parentheses.

    Left alone: a reference later in the question (it usually points at the question's own
    first clause), one after words of the question's own that shares no word with the last
    turn (a new topic: "Our export fails and it ..."), and a name the question already has.
    """
    reference = bare_reference(_first_clause(question))
    if reference is None or reference.group(1).lower() not in _SINGULAR_REFERENCES:
        return question  # "its own" is its sentence's; "them" are several things, not one name
    if _new_topic(question, reference.start(1), previous, answered):
        return question
    name = answer_name(answered) or topic_phrase(focus_clause(previous))
    if not any(c.isalpha() for c in name) or _names_already(question, name):
        return question  # nothing named, or a bare number ("150 [1].") that "it" is not
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


def _replace_reference(question: str, phrase: str) -> tuple[str, int]:
    """Replace the first back-reference of the question with the phrase."""
    match = first_pronoun(question)
    found = determiner(question)
    if found is not None and (match is None or found.start() < match.start()):
        noun = found.group(1) or found.group(2)
        bare = phrase[4:] if phrase.lower().startswith("the ") else phrase
        rewritten = f"the {noun} of the {bare}" if bare != noun else f"the {noun}"
        return question[: found.start()] + rewritten + question[found.end() :], 1
    match = match or bare_reference(question)
    like = like_before(question)
    if like is not None and (match is None or like.start() < match.start(1)):
        # "something similar for async code" -> "something similar to time.sleep for ..."
        return f"{question[: like.end()]} to {phrase}{question[like.end() :]}", 1
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


def _resolve_named_reference(question: str, previous: str, answered: str) -> str:
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

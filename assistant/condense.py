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

A scenario with its own topic is left alone but for its references to the last turn
(`assistant.scenario`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from assistant.asked import (
    DO_IT,
    IT_HAPPENED,
    REPORTED_IT,
    as_done,
    asked_object,
    described_subject,
    names_the_one_asked_for,
    subject_and_predicate,
    that_clause,
)
from assistant.backreference import (
    CONTINUATION,
    bare_reference,
    determiner,
    elliptical_ask,
    first_pronoun,
    like_before,
    needs_context,
    pronoun_kind,
    refers_back,
)
from assistant.citations import REFUSAL_TEXT
from assistant.fragments import adds_condition, dependent_clause, merge, whole_question
from assistant.interpret import asks_how_come, focus_clause
from assistant.named import answer_name, proper_name
from assistant.phrases import (
    ARTICLES,
    CODE_MARK,
    code_name,
    coordinated_names,
    plural_phrase,
    spelled_as,
    topic_phrase,
)
from assistant.scenario import (
    CONTRACTED,
    annotate_reference,
    continue_topic,
    first_clause,
    new_topic,
    resolve_named_reference,
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
# How many follow-ups in a row a rewrite reads back through (a chat of hundreds of "and
# then?" turns is resolved in as many steps, not hundreds).
FOLLOW_UP_CHAIN = 20


def condense(question: str, history: Sequence[Message]) -> str:
    """A standalone form of `question`: itself, or rewritten with the previous turns' topic."""
    return _condense(question, history).text


class _Rewrite(NamedTuple):
    """A question made standalone, and what its pronoun was taken to mean (when it had one)."""

    text: str
    phrase: str = ""  # what the pronoun was replaced with
    pronoun: str = ""  # the pronoun's kind ("it", "they", "he"), see backreference.pronoun_kind


def _condense(question: str, history: Sequence[Message], depth: int = 0) -> _Rewrite:
    question = question.strip()
    last = _previous_question(history, depth)
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
        named = resolve_named_reference(question, previous, answered)
        if named != question:
            return _Rewrite(named)
        annotated = annotate_reference(question, previous, answered)
        return _Rewrite(
            annotated if annotated != question else continue_topic(question, previous, answered)
        )
    if elliptical_ask(question):
        # The new situation, then the previous question asked again about it.
        ask = focus_clause(question)
        situation = question[: question.rfind(ask)].strip()
        return _Rewrite(f"{situation} {previous}")
    fragment = _without_opening(question)
    bare_how_come = asks_how_come(fragment) and len(content_terms(fragment)) == 1
    if (not content_terms(fragment) or bare_how_come) and not refers_back(fragment):
        # "Why?", "How?", "How come?": the same question, asked another way.
        asked = fragment.rstrip("?.! ").strip() or question.rstrip("?.! ").strip()
        return _Rewrite(f"{asked}: {previous}")
    elliptical = (
        len(content_terms(fragment)) <= FRAGMENT_TERMS
        and not refers_back(fragment)
        and not whole_question(fragment)
    )
    asks = bool(fragment) and fragment.split()[0].lower() in _ASKING_WORDS
    if CONTINUATION.search(question) and asks and not elliptical and not refers_back(fragment):
        # "And which outlet reported the move?"
        return _Rewrite(continue_topic(fragment[0].upper() + fragment[1:], previous, answered))
    if CONTINUATION.search(question) and elliptical:
        return _Rewrite(merge(previous, fragment))
    # "And if I already pushed it?", "What if they're on holiday?", "Even though I'm a
    # veteran?": the last question on a new condition, its reference resolved below.
    condition = bool(CONTINUATION.search(question)) and adds_condition(fragment)
    if dependent_clause(question):
        condition, fragment = True, fragment[:1].lower() + fragment[1:]
    asked = focus_clause(previous)
    subject, predicate = subject_and_predicate(asked)
    if subject and predicate and IT_HAPPENED.search(question):
        # "When did it happen?" after "Which companies had to halt X?": when did the companies
        # have to halt X.
        happened = f"{subject} {as_done(predicate, 'do')}"
        return _Rewrite(IT_HAPPENED.sub(lambda _: happened, question, count=1))
    pronoun = first_pronoun(question)
    reported = REPORTED_IT.search(question)
    clause = that_clause(asked) if reported else ""
    if reported and clause and (pronoun is None or pronoun.start() > reported.start()):
        # "Who reported it?" after "Which companies had to halt X?": who reported that the
        # companies had to halt X. (In "Did they report it?" "they" is resolved below.)
        return _Rewrite(REPORTED_IT.sub(lambda m: f"{m.group(1)} {clause}", question, count=1))
    one_asked_for = names_the_one_asked_for(asked, subject, pronoun)
    kind = pronoun_kind(pronoun)
    # "How many people use it?" - "Is it replacing cash?": the same "it" as the last time.
    carried = last.phrase if last.pronoun and last.pronoun == kind else ""
    # "How long does HR take to decide on it?" after "What form do I fill out to get into the
    # leave donation program?": the form that I fill out to get into it, not any form. A person
    # ("What does he argue?") or several ("they") are left as the question named them.
    described = described_subject(asked) if kind == "it" else subject
    if subject.endswith("s") and pronoun and pronoun.group(1).lower() in ("it", "its"):
        # "it" cannot be "the tech giants": it is what the previous question asked about.
        subject = described = carried or topic_phrase(predicate)
    # "How do I move the commit to another branch?" - "And if I already pushed it?": the commit.
    acted_on = asked_object(asked) if kind == "it" else ""
    named = answer_name(answered)
    if one_asked_for and subject and not _names_something(named, previous):
        # "Which port ...?" - "The default is 5432." - "How do I change it?": the port, not
        # "default" (an answer's common word names no one thing; "The CSRC." does), nor "the
        # admin console" of "The admin console listens on port 9090.": the question named it.
        named = ""
    if not named and one_asked_for and kind == "they":
        # "Who first reported the move?" - "This move, first reported by Financial Times, ..."
        named = proper_name(answered, exclude=previous)
    if kind == "he" and not _names_a_person(named):
        # "Which macroeconomist ...?" - "At the same time, China uses ..." - "What does he
        # argue?": he is the macroeconomist, not what a wrong answer named.
        named = ""
    # "How do I undo the last commit?" - "Use git reset --soft ..." - "Will that lose my
    # changes?": "that" is the command the answer gave ("it" would be the commit).
    reference = pronoun or bare_reference(question)
    demonstrative = reference is not None and reference.group(1).lower() in ("that", "this")
    phrase = (
        code_name(asked)
        or ("" if kind == "he" else code_name(answered, exclude=previous))
        or (named if demonstrative and CODE_MARK.search(named) else "")
        or acted_on
        # After a situation, the asking sentence is often generic ("Is there an option?"):
        # the thing the answer named is what a follow-up points at.
        or (named if len(sentence_spans(previous)) > 1 else "")
        # "Which regulator ...?" - "The CSRC." - "What did it order?": the one thing asked
        # for is the one the answer named, not "the regulator" again.
        or (named if one_asked_for else "")
        or described
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
    phrase = spelled_as(phrase, answered)
    as_asked = question
    if predicate:
        question = DO_IT.sub(
            lambda done: as_done(predicate, done.group().split()[0]), question, count=1
        )
    elif DO_IT.search(question):
        # "Why did Beijing do that?" with no action known from the last question: "that" is
        # what it asked about as a whole, not a thing to name ("do Financial Times").
        return _Rewrite(f"{question.rstrip('?.! ')}: {previous}")
    if condition:
        # The thing the last question named stays "it" ("How do I undo the last commit if I
        # already pushed it?"); another is named ("... if line manager is on holiday?").
        named_before = phrase.lower() in previous.lower()
        resolved = fragment if named_before else _replace_reference(fragment, phrase)[0]
        return _Rewrite(merge(previous, resolved))
    rewritten, count = _replace_reference(question, phrase)
    if count == 0 and rewritten == as_asked:
        # Nothing to resolve ("And if I switch to pdfcairo?"): a new condition on the
        # previous question.
        return _Rewrite(merge(previous, fragment or question))
    return _Rewrite(rewritten, phrase, kind)


def _without_opening(question: str) -> str:
    """The question without the words that open a follow-up, both of "And what about Paris?";
    "What if that doesn't work?" keeps its condition ("if that doesn't work")."""
    fragment = question.strip()
    for _ in range(2):
        opening = CONTINUATION.match(fragment)
        if opening is None:
            break
        fragment = fragment[opening.end() :].strip()
        if _WHAT_IF.match(opening.group()):
            return f"if {fragment}" if fragment else fragment
    return fragment


def _names_a_person(name: str) -> bool:
    """Whether a name reads as a person's, as "he" or "she" wants: two to four capitalised
    words and nothing else ("Luke Gromen"; not "China", "The CSRC" or "git bisect")."""
    parts = name.split()
    return 2 <= len(parts) <= 4 and all(
        p[:1].isupper() and p[1:].islower() and p.isalpha() and p.lower() not in ARTICLES
        for p in parts
    )


_WHAT_IF = re.compile(r"^\s*what\s+if\b", re.IGNORECASE)


def _names_something(phrase: str, previous: str) -> bool:
    """Whether an answer's phrase names the one thing asked for: not a single common word
    ("default"), nor words all of which the question already had."""
    asked = set(content_terms(previous))
    return not (phrase.isalpha() and phrase.islower()) and not set(content_terms(phrase)) <= asked


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
    word with the last turn (`new_topic`), and a last turn with no two things side by side.
    """
    match = _QUANTIFIED_REFERENCE.search(first_clause(question))
    if match is None:
        return question
    if not needs_context(question) and new_topic(question, match.start(), previous, answered):
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


def _previous_question(history: Sequence[Message], depth: int = 0) -> _Rewrite | None:
    """The latest user turn, completed as it was asked if it was a follow-up: with the turns
    before it, answers included, so that it reads as what was searched for then (up to
    `FOLLOW_UP_CHAIN` follow-ups back; one further back is read as it was asked)."""
    asked = [i for i, m in enumerate(history) if m.role == "user" and m.content.strip()]
    if not asked:
        return None
    latest = history[asked[-1]].content.strip()
    if len(asked) > 1 and depth < FOLLOW_UP_CHAIN and needs_context(latest):
        return _condense(latest, history[: asked[-1]], depth + 1)
    return _Rewrite(latest)


def _previous_answer(history: Sequence[Message]) -> str | None:
    """The latest answer, unless it was a refusal (which names nothing)."""
    for message in reversed(history):
        if message.role == "assistant" and message.content.strip():
            refused = message.content.strip().startswith(REFUSAL_TEXT)
            return None if refused else message.content
    return None


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
    contraction = CONTRACTED.match(question, end)
    if word == "it" and contraction is not None:
        # "once it's built" is "once the binary is built", not "the binary's built".
        verb = "has" if contraction.group(1) else "is"
        replacement, end = f"{phrase} {verb}", end + 2
    spelled = _PRONOUN_CONTRACTION.match(question, end)
    if word in {"they", "he", "she"} and spelled is not None:
        # "What if they're on holiday?": "the line manager is on holiday", not "manager're".
        verb = _CONTRACTED_VERBS[spelled.group(1).lower()]
        if verb in ("are", "have") and word == "they" and not _reads_plural(phrase):
            verb = {"are": "is", "have": "has"}[verb]
        replacement, end = f"{phrase} {verb}", spelled.end()
    return question[: match.start(1)] + replacement + question[end:], 1


# A pronoun's contracted verb: "they're", "they've", "he'll", "she'd".
_PRONOUN_CONTRACTION = re.compile(r"['’](re|ve|ll|d|s)\b", re.IGNORECASE)
_CONTRACTED_VERBS = {"re": "are", "ve": "have", "ll": "will", "d": "would", "s": "is"}

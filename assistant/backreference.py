"""What in a question points back at earlier turns of a conversation: a pronoun ("it",
"they", "there"), a demonstrative standing alone or before its noun ("Is that related?", "those
pilots"), a continuation ("And on a replica?") or a bare fragment after a new situation ("Our
other office uses semicolons. Same thing?"). `assistant.condense` resolves what it finds.
"""

from __future__ import annotations

import re

from assistant.fragments import AUXILIARIES, FRAGMENT_OPENING, dependent_clause
from assistant.interpret import focus_clause
from assistant.text import QUESTION_WORDS, STOPWORDS, content_terms, sentence_spans, words

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
NO_STOPWORD = r"(?!(?:" + "|".join(sorted(STOPWORDS)) + r")\b)"
_NOT_STOPWORD = NO_STOPWORD + r"([a-z][\w-]*)"
DETERMINER = re.compile(
    r"\b(?:these|those|this)\s+"
    + _NOT_STOPWORD
    + r"|\bthat\s+"
    + _NOT_STOPWORD
    + r"(?=\s*(?:[?.!,;:]|$|\s+(?:to|for|in|on|do|does|did|is|are|was|were|need|needs|has|have"
    r"|will|can|(?:is|are|was|were|do|does|did|has|have|wo|ca)n['’]t)\b))",
    re.IGNORECASE,
)
# "that" standing for the thing itself, not a determiner: after an auxiliary, before a bare
# verb and the end, its object, or a preposition and its article ("Does that work?", "What
# signal does that send to the postmaster?"); after a subordinator, before a verb in "-s" or
# "-ed" ("And if that hangs?", "when that failed"); after "is" or "make", before a last word
# that describes ("Is that related?", "Can I make that dashed?"). A noun keeps its "that":
# "Does that command need root?", "if that directory is missing", "Will that flag in
# postgresql.conf be ignored?", "When that process for the backup hangs", "What is this error?".
_THAT_VERB_AFTER = (
    r"(?=\s*(?:[?.!,;:]|$|\s+(?:(?:to|for|in|on|at|with|from|into)\s+)?(?:the|a|an|my|our"
    r"|your|its|their|it|them|me|us|anything|everything|something)\b|\s+(?:up|down|out|off"
    r"|again|too)\b))"
)
# A verb in -s ("hangs", "rolls"; not "is", "has" or a noun in -ss, -us, -is such as "process").
VERB_IN_S = r"[a-z]*[^\W\d_siu]s"
# A word that describes rather than names: "related", "possible", "dangerous", "optional".
_DESCRIBING = r"[a-z]+(?:ed|able|ible|ous|ful|ive|ent|ant|al|ic)"
_SUBJECT_THAT = (
    re.compile(
        r"\b(?:do|does|did|will|would|can|could|should|may|might|must)(?:n['’]t)?\s+(this|that)"
        r"\s+[a-z]+" + _THAT_VERB_AFTER,
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:if|when|once|unless|until|because|after|before)\s+(this|that)\s+"
        r"(?:" + VERB_IN_S + r"|[a-z]+ed)" + _THAT_VERB_AFTER,
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:is|was|isn['’]t|wasn['’]t|make|keep|leave|turn|get)\s+(this|that)\s+"
        + _DESCRIBING
        + r"(?=\s*(?:[?.!,;:]|$))",
        re.IGNORECASE,
    ),
)


def subject_that(text: str) -> re.Match[str] | None:
    """The first "that" or "this" of a text that is the subject of its verb (group 1)."""
    found = [m for m in (pattern.search(text) for pattern in _SUBJECT_THAT) if m]
    return min(found, key=lambda m: m.start(1)) if found else None


def determiner(text: str) -> re.Match[str] | None:
    """The first demonstrative of a text before its noun ("those pilots", "that directive"),
    not one that is the subject of a verb ("does that send to ...")."""
    subjects = {m.start(1) for pattern in _SUBJECT_THAT for m in pattern.finditer(text)}
    return next((m for m in DETERMINER.finditer(text) if m.start() not in subjects), None)


# Adverbs between a demonstrative and its verb: "Is that still in effect?"
_ADVERBS = {"still", "really", "actually", "even", "ever", "always", "already", "usually",
            "normally", "now", "too"}  # fmt: skip
# A demonstrative after an auxiliary is the subject, alone or with its noun, and points back:
# "Does that delete the file?", "Is that related?", "will that pick it up?", "Does that
# command need root?" (a noun after it is left to DETERMINER when it finds one).
_AUXILIARY_DEMONSTRATIVE = re.compile(
    r"\b(?:do|does|did|is|are|was|were|will|would|can|could|should|has|have|had|may|might|must)"
    r"(?:n['’]t)?\s+(this|that)\b(?!['’])",
    re.IGNORECASE,
)
CONTINUATION = re.compile(
    r"^\s*(and|but|also|so|or|then|what about|how about|same for|what if)\b[\s,]*", re.IGNORECASE
)
# Words with which a fragment points back at the previous question ("Same thing?", "That too?").
_POINTING_BACK = {"same", "too", "also", "either", "again", "likewise", "that", "this", "it"}
# A scenario question has its own topic: this many content terms, or several sentences,
# pronouns or not ("Our app writes while the export runs and it fails: which mode helps?").
SELF_CONTAINED_TERMS = 6
# A scenario's asking sentence this short, without a question word, asks nothing of its own.
ELLIPTICAL_ASK_WORDS = 3
# A question this short that opens with a preposition or a focusing adverb and has no verb to
# ask with ("Even on weekends?", "For contractors and interns?") is a piece of the last one.
FRAGMENT_WORDS = 4


def first_pronoun(text: str) -> re.Match[str] | None:
    """The first pronoun of a text that points back (not an existential "there", nor the "it"
    of "Is it safe to ...")."""
    pointing_nowhere = [m.span() for m in _EXISTENTIAL_THERE.finditer(text)]
    pointing_nowhere += [m.span(1) for m in _EXPLETIVE_IT.finditer(text)]
    for match in _PRONOUN.finditer(text):
        if match.group(1).lower() in ("there", "it") and any(
            s <= match.start() < e for s, e in pointing_nowhere
        ):
            continue
        return match
    return None


# "Is it safe to push again?", "Would it be better to rebase?": an "it" that stands for what
# follows, not for anything said before.
_EXPLETIVE_IT = re.compile(
    r"\b(?:is|was|isn['’]t|wasn['’]t|would|will)\s+(it)\s+(?:be\s+|really\s+|still\s+)?"
    r"(?:a\s+good\s+idea|safe|possible|ok|okay|fine|necessary|required|better|best|wise|worth"
    r"|normal|recommended|advisable|allowed|acceptable|enough|easier|faster|bad|wrong)"
    r"\s+(?:to|if|when|that)\b",
    re.IGNORECASE,
)


def needs_context(question: str) -> bool:
    """Whether the question probably refers back to earlier turns."""
    own_terms = len(content_terms(question))
    scenario = own_terms >= SELF_CONTAINED_TERMS or len(sentence_spans(question)) > 1
    # "And ..." continues the last turn, unless it brings a whole scenario of its own ("And the
    # version matrix we defined on default, does docs get that as well?").
    continues = CONTINUATION.search(question) and own_terms < SELF_CONTAINED_TERMS
    if own_terms < 2 or continues or elliptical_ask(question) or dependent_clause(question):
        return True
    return not scenario and (refers_back(question) or _fragment(question))


def _fragment(question: str) -> bool:
    """Whether a question is a short piece without a verb to ask with ("Even on weekends?")."""
    tokens = words(question)
    return (
        question.rstrip().endswith("?")
        and 0 < len(tokens) <= FRAGMENT_WORDS
        and FRAGMENT_OPENING.match(question) is not None
        and not set(tokens) & (QUESTION_WORDS | AUXILIARIES)
    )


def elliptical_ask(question: str) -> bool:
    """A scenario whose asking sentence is a bare fragment pointing back: "Our other office
    uses semicolons. Same thing?" (a few words, no question word, not a yes/no question)."""
    if len(sentence_spans(question)) < 2:
        return False
    tokens = words(focus_clause(question))
    return (
        0 < len(tokens) <= ELLIPTICAL_ASK_WORDS
        and not set(tokens) & QUESTION_WORDS
        and tokens[0] not in AUXILIARIES
        and bool(set(tokens) & _POINTING_BACK)
    )


# "Is there something similar for async code?", "an equivalent on Windows": like what was
# said before (not "similar to X", which names it, nor "a similar setting", a new thing).
_LIKE_BEFORE = re.compile(
    r"\b(?:something|anything|an?|the)\s+(?:similar|equivalent)\b"
    r"(?=\s*(?:[?.!,;:]|$|\s+(?:for|in|on|at|with|from|under|without|that|which|when|if)\b))",
    re.IGNORECASE,
)


def like_before(text: str) -> re.Match[str] | None:
    """The first "something similar", "an equivalent" of a text that compares with what was
    said before without naming it."""
    return _LIKE_BEFORE.search(text)


def refers_back(question: str) -> bool:
    """Whether a text points back at something said before it ("it", "they", "that one",
    "something similar")."""
    return (
        determiner(question) is not None
        or bare_reference(question) is not None
        or like_before(question) is not None
    )


def bare_reference(text: str) -> re.Match[str] | None:
    """The first reference of a text that stands alone: a pronoun ("it", "there") or a
    demonstrative without a noun ("Does that also ...", "Is that related?", "Will that pick it
    up?"), not a determiner ("that branch") or a relative pronoun ("the file that changed")."""
    found = [m for m in (first_pronoun(text), _AUXILIARY_DEMONSTRATIVE.search(text)) if m]
    subject = subject_that(text)  # "And if that hangs?"
    if subject is not None:
        found.append(subject)
    for match in _DEMONSTRATIVE.finditer(text):
        following = match.group(2)
        if following is None or following.lower() in STOPWORDS | _ADVERBS:
            found.append(match)
            break
    return min(found, key=lambda m: m.start(1)) if found else None


# A pronoun's kind: two pronouns of one kind may stand for the same thing.
_PRONOUN_KINDS = {"its": "it", "them": "they", "their": "they", "theirs": "they", "him": "he",
                   "his": "he", "she": "he", "her": "he", "hers": "he"}  # fmt: skip


def pronoun_kind(pronoun: re.Match[str] | None) -> str:
    """The kind of a pronoun: "it", "they" or "he" ("" for none, and for "there")."""
    if pronoun is None:
        return ""
    word = pronoun.group(1).lower()
    kind = _PRONOUN_KINDS.get(word, word)
    return kind if kind in ("it", "they", "he") else ""

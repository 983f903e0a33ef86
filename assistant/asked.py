"""What the last question asked about, for a follow-up that points back at it
(`assistant.condense`): its subject and predicate ("Which companies had to halt X?" -> "the
companies", "had to halt X"), whether it asked for one thing or person ("Which regulator ...?"),
the thing a "How do I <verb> a <thing>?" acts on, and "do it" for its action.
"""

from __future__ import annotations

import re

from assistant.fragments import AUXILIARIES
from assistant.phrases import modifies_a_verb
from assistant.text import content_terms

# Pronouns that stand for one thing or one person.
_SINGULAR_PRONOUNS = {"it", "its", "he", "him", "his", "she", "her", "hers"}
_ASKS_FOR_ONE = re.compile(r"^\s*(?:which|who)\b", re.IGNORECASE)
_ASKS_WHO = re.compile(r"^\s*who\b", re.IGNORECASE)
_THEY = {"they", "them", "their", "theirs"}


def names_the_one_asked_for(asked: str, subject: str, pronoun: re.Match[str] | None) -> bool:
    """Whether the previous question asked which one thing or person ("Which regulator ...?",
    "Who ...?") and the follow-up points at one with a singular pronoun: its referent is then
    the name the answer gave. Not for several ("Which companies ...?" - "they"). After "Who
    ...?", "they" is the one the answer named too ("Who first reported the move?" - "The
    Financial Times." - "Why did they ...?")."""
    if pronoun is None:
        return False
    word = pronoun.group(1).lower()
    if word in _THEY and _ASKS_WHO.match(asked):
        return True
    return (
        word in _SINGULAR_PRONOUNS
        and bool(_ASKS_FOR_ONE.match(asked))
        and not subject.endswith("s")
    )


# "do it", "did that", "do so": the action the previous question asked about.
DO_IT = re.compile(
    r"(?<=\w\s)(?:do|does|did|doing)\s+(?:it|that|this|so)\b"
    r"(?=\s*(?:[?.!,;:]|$|\s+(?:for|to|in|on|at|with|because|first|again|anyway|then)\b))",
    re.IGNORECASE,
)
# Past and third-person forms that the rules of `base_form` would get wrong.
_IRREGULAR = {
    "had": "have", "has": "have", "was": "be", "were": "be", "is": "be", "are": "be",
    "did": "do", "does": "do", "made": "make", "got": "get", "went": "go", "goes": "go",
    "took": "take", "gave": "give", "said": "say", "sent": "send", "found": "find",
    "told": "tell", "kept": "keep", "left": "leave", "paid": "pay", "brought": "bring",
    "bought": "buy", "began": "begin", "ran": "run", "came": "come", "saw": "see",
    "knew": "know", "wrote": "write", "chose": "choose", "built": "build", "lost": "lose",
    "meant": "mean", "held": "hold", "led": "lead", "sold": "sell", "won": "win",
    "broke": "break", "spent": "spend", "stood": "stand", "thought": "think",
}  # fmt: skip
# A stem (its "-ed" cut) that had an "e" before it: "updated", "used", "closed", "enabled",
# "required", "moved", "forced", "changed", "deleted"; not "treated", "focused".
_E_DROPPED = re.compile(r"(?:[^aeiou]at|creat|[aeiou]s|iz|ir|ur|[bdgptkcz]l|let|[vcg])$")
_NO_E = {"focus", "bias", "alias", "canvas"}
# A final consonant doubled before "-ed" ("stopped", "planned", "committed"; not "added").
_DOUBLED = re.compile(r"[^aeiou]?[aeiou]([bdgkmnprt])\1$")


def base_form(word: str) -> str:
    """The bare infinitive of a verb in the past tense or the third person ("had" -> "have",
    "reported" -> "report", "stopped" -> "stop", "created" -> "create", "uses" -> "use"); any
    other word as it is."""
    lower = word.lower()
    if lower in _IRREGULAR:
        return _IRREGULAR[lower]
    if not word.isalpha() or not word.islower() or len(word) < 4:
        return word
    if word.endswith("ied"):
        return word[:-3] + "y"
    if word.endswith("ed") and not word.endswith("eed"):
        stem = word[:-2]
        if len(stem) > 3 and _DOUBLED.search(stem):
            return stem[:-1]
        return stem + "e" if _E_DROPPED.search(stem) and stem not in _NO_E else stem
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def as_done(predicate: str, do: str) -> str:
    """The previous question's predicate in the place of the follow-up's "do it" (`do`, the
    verb as the follow-up wrote it): after "do", its verb in the bare form ("Why did they do
    it?" after "Which companies had to halt X?" -> "have to halt X"); otherwise as it was."""
    if do.lower() != "do":
        return predicate
    start = 0  # past the adverbs before the verb ("first reported the move")
    while (word := re.match(r"([a-z]+)\s+", predicate[start:])) and modifies_a_verb(word[1]):
        start += word.end()
    verb = re.match(r"[A-Za-z]+", predicate[start:])
    if verb is None:
        return predicate
    end = start + verb.end()
    return predicate[:start] + base_form(verb.group()) + predicate[end:]


# "When did it happen?": "it" is the event the previous question asked about, its subject
# doing its predicate ("the companies have to halt X"), not a thing it named.
IT_HAPPENED = re.compile(
    r"(?<=\w\s)(?:it|that|this)\s+(?:happen|occur|take\s+place)\b(?=\s*(?:[?.!,;:]|$))",
    re.IGNORECASE,
)


# "Who reported it?": a verb of telling or finding out with "it" as its object, last. After
# "Which companies had to halt X?" what was reported is that event (`that_clause`), not a
# thing the question named ("Who reported Hong Kong?").
REPORTED_IT = re.compile(
    r"\b((?:report|announc|confirm|reveal|disclos|predict|discover|notic|leak)\w*|"
    r"say|says|said|claim\w*|den(?:y|ies|ied))\s+(?:it|this|that)(?=\s*(?:[?.!,;:]|$))",
    re.IGNORECASE,
)


_WH_NOUN = re.compile(
    r"^\s*(?:which|what)\s+((?:[\w.’'-]+\s+){0,3}?[\w.’'-]+?)\s+"
    r"(do|does|did|is|are|was|were|has|have|had|can|could|will|would|should|must)\b\s*(.*)$",
    re.IGNORECASE,
)


# "Who first reported the move?": the one asked for did what follows "who".
_WHO_ACTED = re.compile(r"^\s*who\s+(\w+)\b\s*(.*)$", re.IGNORECASE)
# "Which regulator told brokers to stop?": the noun is the subject, the rest the predicate.
_WH_SUBJECT = re.compile(r"^\s*(?:which|what)\s+([\w.’'-]+)\s+(\w+)\b\s*(.*)$", re.IGNORECASE)


def subject_and_predicate(previous: str) -> tuple[str, str]:
    """'Which companies had to halt X?' -> ('the companies', 'had to halt X'); 'Who first
    reported the move?' -> ('', 'first reported the move'): the subject is whom the answer
    named."""
    who = _WHO_ACTED.match(previous.rstrip("?.! "))
    if who is not None and who.group(1).lower() not in AUXILIARIES:
        return "", f"{who.group(1)} {who.group(2)}".strip()
    match = _WH_NOUN.match(previous.rstrip("?.! "))
    if match is not None and match.group(1).split()[0].lower() in AUXILIARIES:
        match = None  # "What does X return": no noun after the question word
    if match is None:
        subject = _WH_SUBJECT.match(previous.rstrip("?.! "))
        if subject is None or subject.group(1).lower() in AUXILIARIES:
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


def described_subject(previous: str) -> str:
    """'What form do I fill out to get into X?' -> 'the form that I fill out to get into X': the
    thing the question asked for with what it said of it ('Which option can I use to skip
    hooks?' -> 'the option that I can use to skip hooks'); its bare subject ('the port') when
    it asked with "does" or "did" ('Which port does the console listen on?': the verb would
    need an ending of its own) or of another thing named after the auxiliary ('Which port is
    the console on?'), '' when it names none."""
    subject, predicate = subject_and_predicate(previous)
    match = _WH_NOUN.match(previous.rstrip("?.! "))
    auxiliary = match.group(2).lower() if match is not None else ""
    if not subject or not predicate or auxiliary in ("does", "did"):
        return subject
    if match is not None and auxiliary != "do":
        # "Which option can I use ...?": the thing is what "I can use ..." (the auxiliary
        # after its subject again); "Which port is the console on?": left bare.
        inverted = _INVERTED_SUBJECT.match(match.group(3))
        if inverted is not None:
            rest = match.group(3)[inverted.end() :].strip()
            return f"{subject} that {inverted.group(1)} {match.group(2)} {rest}".rstrip()
        if _DETERMINER_FIRST.match(match.group(3)):
            return subject
    return f"{subject} that {predicate}"


# The subject after an auxiliary that asks ("can I", "should we", "is it").
_INVERTED_SUBJECT = re.compile(r"(i|we|you|they|he|she|it)\b", re.IGNORECASE)
_DETERMINER_FIRST = re.compile(
    r"(?:the|a|an|my|our|your|their|its|his|her|this|that|these|those)\b", re.IGNORECASE
)


def that_clause(previous: str) -> str:
    """'Which companies had to halt X?' -> 'that the companies had to halt X': the event the
    question asked about, as a clause; '' when it names no subject and predicate, or asked
    with do ('Which companies did Beijing stop?': its verb has no tense of its own)."""
    question = previous.rstrip("?.! ")
    match = _WH_NOUN.match(question)
    if match is not None and match.group(2).lower() in ("do", "does", "did"):
        return ""
    subject, predicate = subject_and_predicate(question)
    return f"that {subject} {predicate}" if subject and predicate else ""


# "How do I add a dependency only for ...?": what the asker wants to act on, after the verb.
_ASKED_OBJECT = re.compile(
    r"^\s*(?:how|where|when|why)\s+(?:do|does|can|could|should|would|will|did)\s+"
    r"(?:i|we|you|one)\s+[a-z]+\s+(?:a|an|the|my|our|your)\s+((?:[\w.-]+\s+){0,2}?[\w.-]+?)"
    r"(?=\s+(?:only|just|to|for|in|on|at|with|from|into|so|when|if|without|before|after|by|as"
    r"|and|or|that|which)\b|\s*[?.!,]|$)",
    re.IGNORECASE,
)


def asked_object(asked: str) -> str:
    """The thing a "How do I <verb> a <thing> ...?" question acts on, with its article ("the
    dependency"); "" when the question is not of that shape."""
    match = _ASKED_OBJECT.match(asked)
    if match is None or not content_terms(match.group(1)):
        return ""
    return f"the {match.group(1)}"

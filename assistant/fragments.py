"""Merge an elliptical follow-up into the previous question (no LLM needed).

An elliptical follow-up ("And on a replica?", "What about Windows?") is merged into the
previous question: "How do I raise the connection limit on a replica?". A fragment that opens
with another place or target ("And on a Windows laptop?") replaces the previous question's
("... at start-up on Linux?"), and one that only names a thing ("And the username?") the thing
that question acted on: it asks the same thing of another, not of both.
"""

from __future__ import annotations

import re

from assistant.interpret import focus_clause
from assistant.phrases import CODE_MARK, PIECE, is_name, joins_a_run, reads_as_verb
from assistant.text import QUESTION_WORDS, STOPWORDS, content_terms, sentence_spans, words

AUXILIARIES = {"do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "can",
               "could", "will", "would", "should", "must", "may", "might"}  # fmt: skip
# Auxiliaries a main verb follows ("can I see", "does the office open"), unlike "is" or "has".
MAIN_VERB_AUXILIARY = r"(?:can|could|do|does|did|will|would|should|shall|must|may|might)\b"


# What a piece of a question opens with when it has no verb: a preposition or a focusing
# adverb ("even on weekends", "for contractors and interns"). Merged, it reads on in lower case.
FRAGMENT_OPENING = re.compile(
    r"\s*(?:even|only|also|just|especially|still|for|on|in|with|without|over|under|during"
    r"|after|before|at|from|via|through|inside|outside|across|per)\b",
    re.IGNORECASE,
)


def merge(previous: str, fragment: str) -> str:
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
        named = (
            _noun_contrast(previous, fragment)
            or _same_head(previous, fragment)
            or _name_contrast(previous, fragment)
        )
        if named is not None:
            return named
    base = previous.rstrip().rstrip("?.!").rstrip()
    addition = fragment.strip().rstrip("?.!").strip()
    if not addition:
        return previous if previous.rstrip().endswith("?") else f"{base}?"
    if FRAGMENT_OPENING.match(addition):
        addition = addition[:1].lower() + addition[1:]
    # A condition reads on from the question ("How do I reset my password if that fails?").
    joint = " " if adds_condition(addition) else ", "
    return f"{base}{joint}{addition}?"


# "when" with an auxiliary after it asks ("when can I see my payslip"), it sets no condition.
_CONDITION = re.compile(
    r"(?:if|unless|once|when(?!\s+" + MAIN_VERB_AUXILIARY + r"|\s+(?:is|are|was|were)\b))\b",
    re.IGNORECASE,
)


def adds_condition(fragment: str) -> bool:
    """Whether a fragment is a condition ("if I already pushed it"), not a question."""
    return bool(_CONDITION.match(fragment))


# A clause that cannot stand alone: it opens with a subordinating conjunction ("even though
# I'm a veteran?", "If I already pushed it?", "unless we're on a replica?").
_SUBORDINATE = re.compile(
    r"\s*(?:even\s+(?:if|though|when)|although|though|unless|if|once|as\s+long\s+as|in\s+case"
    r"|because|since(?!\s+when\b))\s",
    re.IGNORECASE,
)
_AUXILIARY = r"(?:" + "|".join(sorted(AUXILIARIES)) + r"|am)"
_SUBJECT = r"(?:i|we|you|they|he|she|it|there|that|this)\b"
# Its question, when it has one: an auxiliary before its subject ("... do I still get it?"),
# or an asking word or auxiliary after a break ("If we switch that on, will npm test ...").
_MAIN_QUESTION = re.compile(
    r"\b" + _AUXILIARY + r"(?:n['’]t)?\s+" + _SUBJECT
    + r"|[,;:.!?—–]\s*(?:" + "|".join(sorted(QUESTION_WORDS)) + r"|" + _AUXILIARY + r")\b",
    re.IGNORECASE,
)  # fmt: skip


def dependent_clause(question: str) -> bool:
    """Whether a follow-up is a condition alone, with no question of its own ("even though I'm
    a veteran?"): it reads on from the last question, as "And if ...?" does. "If we switch
    that on, will npm test still run?" asks its own."""
    opening = _SUBORDINATE.match(question)
    return opening is not None and not _MAIN_QUESTION.search(question, opening.end())


# An asking word, an auxiliary a main verb follows, and its subject: "when can I see my
# payslip", "how long can I work from abroad" (not "what's the limit", "how about Paris").
_WHOLE_QUESTION = re.compile(
    r"(?:who|what|which|when|where|why|how(?:\s+(?:long|much|many|often|soon|far))?)\s+"
    + MAIN_VERB_AUXILIARY
    + r"(?:n['’]t)?\s+(?:i|we|you|they|he|she|the|my|our|your|their|a|an)\b",
    re.IGNORECASE,
)
# What such a question says after its asking words: this many content terms or more, and it
# names its own thing ("I see my payslip"), not only the last one's again ("I stay").
WHOLE_QUESTION_TERMS = 2


def whole_question(fragment: str) -> bool:
    """Whether a short follow-up after "And" asks a whole question of its own ("And when can I
    see my payslip?") rather than a fragment to merge into the last one ("And how long can I
    stay?", "And what's the limit?")."""
    opening = _WHOLE_QUESTION.match(fragment.strip())
    return opening is not None and (
        len(content_terms(fragment[opening.end() :])) >= WHOLE_QUESTION_TERMS
    )


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


# A name of up to three capitalised words ("Paris", "New York"), not an acronym ("VPN").
_TITLE_WORD = r"(?!I['’])[A-Z][\w'’-]*[a-z][\w'’-]*"
_NAME = re.compile(rf"\b{_TITLE_WORD}(?:\s+{_TITLE_WORD}){{0,2}}\b")


def _name_contrast(previous: str, fragment: str) -> str | None:
    """The previous question asked of another name: a fragment that is only a name ("And what
    about Paris?") replaces the one name the previous question gives ("I'm flying to Munich
    next week, how much can the hotel cost?"). None when it gives none or several ("How do I
    install Hatch on Linux?": which one is meant is anybody's guess), or the fragment says
    more than a name."""
    new = fragment.strip().rstrip("?.!").strip()
    if not fragment.strip().endswith("?") or _NAME.fullmatch(new) is None:
        return None
    openings = {start for start, _ in sentence_spans(previous)}
    names = [
        m
        for m in _NAME.finditer(previous)
        if m.start() not in openings and m.group().lower() != new.lower()
    ]
    if len(names) != 1 or new.lower() in previous.lower():
        return None
    name = names[0]
    return previous[: name.start()] + new + previous[name.end() :]


# A bare noun phrase of a few words: "part-time employees", "weekend shifts".
_BARE_THING = re.compile(r"^(?:[\w-]+\s+){1,2}([\w-]+)$")


def _same_head(previous: str, fragment: str) -> str | None:
    """The previous question asked of another kind of the same thing: a fragment that is a
    bare noun phrase ("And part-time employees?") whose last word ends a phrase of the
    previous question with other words before it ("... do full-time employees get?")
    replaces that phrase ("... do part-time employees get?"). None otherwise."""
    new = fragment.strip().rstrip("?.!").strip()
    bare = _BARE_THING.match(new)
    if bare is None or not fragment.strip().endswith("?"):
        return None
    words_new = new.split()
    if any(word.lower() in STOPWORDS for word in words_new):
        return None
    head = bare.group(1)
    for match in re.finditer(rf"((?:[\w-]+\s+){{1,2}}){re.escape(head)}\b", previous, re.I):
        # "do full-time employees": the words right before the head, back to a stop word.
        modifiers: list[re.Match[str]] = []
        for word in reversed(list(re.finditer(r"[\w-]+", match.group(1)))):
            if word.group().lower() in STOPWORDS:
                break
            modifiers.insert(0, word)
        said = [m.group().lower() for m in modifiers]
        if not modifiers or said == [w.lower() for w in words_new[:-1]]:
            continue
        start = match.start(1) + modifiers[0].start()
        return previous[:start] + new + previous[match.end() :]
    return None


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
    for token in PIECE.finditer(text, words_start):
        if text[run[-1].end() if run else words_start : token.start()].strip():
            break  # punctuation between: the run ended
        if not joins_a_run(token.group()) or token.group().lower() in _QUANTIFIERS:
            break
        run.append(token)
        if len(run) == MAX_NOUN_WORDS:
            break
    if not run:
        return None
    if verbs:
        before = text[:start].split()
        if (
            (before and before[-1].lower() in AUXILIARIES | _CAUSATIVES)
            or any(reads_as_verb(t) for t in run[:-1])
            or _past_tense(run[-1].group())
        ):
            return None
        following = PIECE.search(text, run[-1].end())
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
    if any(is_name(token, position + 1) or CODE_MARK.search(token) for position, token in
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

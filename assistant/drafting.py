"""Questions drafted from a document's own sentences (no LLM needed).

Four templates, from the most to the least natural question:

- *term*: a defined term (an API signature, a glossary entry) and the first sentence of its
  description: "What does json.dumps() do?";
- *definition*: a sentence of the form "X is/are/returns/provides ... ": "What is a venv?";
- *subject*: a sentence opening with a name: "Beijing regulators pulled the plug on ..." ->
  "Who pulled the plug on ...?";
- *cloze*: a sentence holding a number or a year, with it blanked out.

Every draft quotes its source sentence verbatim and names two or three key terms from it (the
answer's rarest words, by IDF). Golden-set drafts (assistant.evaluation.generate) and the chat's
suggested questions (assistant.suggestions) are both made here.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from assistant.fences import INTRODUCES
from assistant.text import STOPWORDS, sentence_spans, stem, term, words
from assistant.types import Heading

_PRONOUNS = {"it", "this", "that", "these", "those", "they", "there", "he", "she", "we", "you",
             "its", "their", "such", "here", "both", "each", "another", "other", "see", "note",
             "for", "if", "when", "in", "on", "however", "also", "then", "so", "following",
             "example", "result", "output", "because", "although", "while", "since", "as",
             "after", "before", "but", "and", "or", "yet", "with", "by", "from", "at", "to",
             "of", "during", "despite", "unlike", "like", "instead", "meanwhile"}  # fmt: skip
_DEFINITION = re.compile(
    r"^(?P<subject>(?:(?:The|A|An) )?[A-Za-z][\w.\-]*(?: [\w.\-]+){0,4}?) "
    r"(?P<verb>is|are|returns|provides|contains|allows|means|represents|creates) "
    r"(?P<rest>[^.?!]{12,}[.?!]?)$"
)
_VERB_BASE = {"provides": "provide", "contains": "contain", "allows": "allow", "means": "mean",
              "represents": "represent", "creates": "create", "returns": "return"}  # fmt: skip
_NUMBER = re.compile(r"(?<![\w.:/-])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w.:/-])")
_VERBS = {"said", "says", "has", "have", "had", "is", "are", "was", "were", "will", "would",
          "can", "could", "made", "makes", "took", "takes", "gave", "gives", "told", "tells",
          "sent", "sends", "became", "becomes", "began", "begins", "won", "wins", "lost", "holds",
          "held", "runs", "ran", "uses", "provides", "supports", "allows", "requires", "returns",
          "must", "may", "might", "should", "does", "did", "saw", "sees", "led", "leads", "set",
          "sets", "built", "builds", "wrote", "writes", "chose", "keeps", "kept",
          "owns"}  # fmt: skip
# Verbs whose subject is a person or an organisation: "Who said ...?".
_SPEECH = {"said", "says", "told", "tells", "argued", "reported", "claimed", "warned", "noted",
           "announced", "wrote", "writes", "stated", "explained", "believes", "believed",
           "suggested", "added", "confirmed", "denied"}  # fmt: skip
_CONNECTORS = {"and", "of", "the", "&", "de", "for"}
_AGENTS = {"regulators", "authorities", "officials", "analysts", "investors", "companies",
           "government", "ministry", "bank", "banks", "people", "critics", "users", "team",
           "staff", "researchers", "experts", "firms", "executives", "lawmakers"}  # fmt: skip
_YEAR = re.compile(r"^(1[6-9]|20)\d\d$")
_CODEY = re.compile(r"[(){}\[\]=<>`$#@|\\]|>>>|\.\.\.")


TEMPLATES = ("term", "definition", "subject", "cloze")


@dataclass(frozen=True)
class Draft:
    """One candidate question and the sentence that answers it."""

    question: str
    kind: str  # the golden kind label: factual, who, numeric, date
    answer: str
    quote: str
    source: str
    template: str
    key_terms: tuple[str, ...]
    # Where the answer stands in the document's text: the sentence, or a heading's section.
    span: tuple[int, int] | None = None


def document_drafts(
    source: str,
    title: str,
    text: str,
    headings: tuple[Heading, ...],
    rarity: Callable[[str], float],
) -> Iterator[Draft]:
    spans = sentence_spans(text)
    for heading in headings:
        if heading.kind == "term":
            draft = _term_draft(source, text, heading, spans, rarity)
            if draft is not None:
                yield draft
    lowered = set(words(text.lower()))
    for start, end in spans:
        sentence = text[start:end]
        if not _prose(sentence):
            continue
        draft = (
            _definition_draft(source, sentence, text, lowered, rarity)
            or _subject_draft(source, sentence, rarity)
            or _cloze_draft(source, title, sentence)
        )
        if draft is not None:
            yield replace(draft, span=(start, end))


# "11.7.1. ", "2) ", "A.3 ": the numbering in front of a heading. Its digit groups are never
# given back (possessive): a heading of 30 digits took the plain pattern minutes of backtracking.
_NUMBERING = re.compile(r"^\s*(?:[\dA-Z]{1,3}[.)]?(?:\d+[.)]?)*+\s+)+(?=\S)")
_HOW_TO = re.compile(r"^how to\s+", re.IGNORECASE)
# Words that may follow a gerund that names a task ("Setting up", "Working with", "Making a").
_TASK_NEXT = {"a", "an", "the", "your", "my", "our", "their", "its", "this", "that", "these",
              "those", "up", "out", "down", "off", "in", "on", "with", "without", "to", "for",
              "from", "into", "over", "between", "across", "through", "by", "if", "whether",
              "when", "which", "what", "how", "multiple", "several", "many", "all", "each",
              "every", "one", "two", "new", "existing", "older", "another", "other",
              "more", "less"}  # fmt: skip
# A heading speaks to the reader; the question is the reader's own.
_ASKERS = {"your": "my", "yours": "mine", "yourself": "myself"}
# Words ending in -ing that are nouns, not gerunds.
_ING_NOUNS = {"string", "thing", "ring", "king", "spring", "wing", "swing", "sibling",
              "evening", "morning", "ceiling", "nothing", "something", "anything",
              "everything", "heading", "ending", "bring", "sing", "cling", "sting"}  # fmt: skip


def heading_drafts(source: str, text: str, headings: tuple[Heading, ...]) -> Iterator[Draft]:
    """Task questions from headings that name a task: "Configuring Log Rotation" -> "How do I
    configure log rotation?", "How to reset a password" -> "How do I reset a password?", and
    headings that already are questions. Other headings (topics, numbers) make none."""
    vocabulary = set(words(text.lower()))
    ends = [h.offset for h in headings[1:]] + [len(text)] if headings else []
    for heading, end in zip(headings, ends, strict=True):
        if heading.kind != "heading":
            continue
        title = _NUMBERING.sub("", " ".join(heading.title.split())).rstrip(":.").strip()
        question = _task_question(title, vocabulary)
        after = heading.offset + len(heading.title)
        if question is None or not text[after:end].strip():
            continue
        yield Draft(question, "procedural", "", title, source, "task", (), (heading.offset, end))


def _task_question(title: str, vocabulary: set[str]) -> str | None:
    if title.endswith("?"):
        return title if len(title.split()) >= 3 else None
    tokens = _HOW_TO.sub("", title).split()
    if len(tokens) < 2 or _CODEY.search(title):
        return None
    if title.lower().startswith("how to"):
        verb = tokens[0].lower()
    elif tokens[0].lower().endswith("ing") and tokens[0][:1].isupper():
        # "Making a base backup" is a task; "Streaming Replication", "Starting values" and
        # "String encoding" name things: the gerund must be followed by a function word.
        base = _base_form(tokens[0].lower(), vocabulary)
        if base is None or tokens[0].lower() in _ING_NOUNS or tokens[1].lower() not in _TASK_NEXT:
            return None
        verb = base
    else:
        return None
    # "How to reset your password": the asker's own, "How do I reset my password?".
    rest = [_ASKERS.get(token.lower(), _common_case(token, vocabulary)) for token in tokens[1:]]
    return f"How do I {verb} {' '.join(rest)}?"


def _base_form(gerund: str, vocabulary: set[str]) -> str | None:
    """'configuring' -> 'configure', 'running' -> 'run', 'installing' -> 'install', if the
    document uses that form."""
    stem_ = gerund[:-3]
    if len(stem_) < 2:
        return None
    candidates = [stem_ + "e", stem_]
    if len(stem_) > 2 and stem_[-1] == stem_[-2]:
        candidates.insert(0, stem_[:-1])
    return next((word for word in candidates if word in vocabulary), None)


def _common_case(token: str, vocabulary: set[str]) -> str:
    """A Title-Cased heading word in lower case when the text uses it so ('Log' -> 'log')."""
    if token[:1].isupper() and token[1:].islower() and token.lower() in vocabulary:
        return token.lower()
    return token


def _prose(sentence: str) -> bool:
    """A self-contained prose sentence of reasonable length: not one that introduces what
    follows it ("Basic usage is as follows - there are two normal usage patterns:"), whose
    answer is not in it."""
    tokens = sentence.split()
    if not 6 <= len(tokens) <= 45 or _CODEY.search(sentence) or INTRODUCES.search(sentence):
        return False
    return tokens[0].lower().strip(",") not in _PRONOUNS and sentence[0].isupper()


def _term_draft(
    source: str,
    text: str,
    heading: Heading,
    spans: list[tuple[int, int]],
    rarity: Callable[[str], float],
) -> Draft | None:
    signature = heading.title.strip()
    is_class = signature.startswith("class ")
    name = signature.removeprefix("class ").split("(")[0].strip()
    last = name.rsplit(".", 1)[-1]
    # An unqualified or dunder name ("maps", "__init__") makes a question nobody would ask.
    if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+", name) or last.startswith("__"):
        return None
    after = heading.offset + len(heading.title)
    following = next(((s, e) for s, e in spans if s >= after), None)
    if following is None:
        return None
    sentence = text[following[0] : following[1]]
    if len(sentence.split()) < 5 or not sentence[:1].isupper() or _CODEY.search(sentence[:40]):
        return None
    if is_class:
        question = f"What is the {name} class?"
    elif "(" in signature:
        question = f"What does {name}() do?"
    else:
        question = f"What is {name}?"
    terms = key_terms(sentence, question, rarity)
    span = (heading.offset, following[1])
    return Draft(question, "factual", sentence, sentence, source, "term", terms, span)


def _definition_draft(
    source: str, sentence: str, text: str, lowered: set[str], rarity: Callable[[str], float]
) -> Draft | None:
    match = _DEFINITION.match(sentence)
    if match is None:
        return None
    subject, verb, rest = match.group("subject"), match.group("verb"), match.group("rest")
    first, *others = subject.split()
    if first.lower() in _PRONOUNS or len(words(subject)) > 5:
        return None
    if first == "The" and not any(_specific(word) for word in others):
        return None  # "The problem is ..." leans on the previous sentence
    if verb in ("is", "are") and not re.match(r"(a|an|the|one of)\b", rest):
        return None  # "Sorts are guaranteed to be stable" is no definition
    if first in ("The", "A", "An") or (first.lower() in lowered and not _specific(first)):
        subject = subject[0].lower() + subject[1:]  # a common word, not a name
    if verb in ("is", "are"):
        question = f"What {verb} {subject}?"
    else:
        plural = subject.endswith("s") and not subject.endswith("ss")
        question = f"What {'do' if plural else 'does'} {subject} {_VERB_BASE[verb]}?"
    terms = key_terms(rest, question, rarity)
    if not terms:
        return None
    return Draft(question, "factual", rest.rstrip("."), sentence, source, "definition", terms)


def _subject_draft(source: str, sentence: str, rarity: Callable[[str], float]) -> Draft | None:
    """ "Beijing regulators pulled the plug on ..." -> "Who pulled the plug on ...?"."""
    tokens = sentence.rstrip(".!").split()
    end = 0
    while end < len(tokens) and (
        tokens[end][:1].isupper() or (end and tokens[end].lower() in _CONNECTORS)
    ):
        end += 1
    while end and tokens[end - 1].lower() in _CONNECTORS:
        end -= 1
    if end == 0 or end >= len(tokens) - 5:
        return None
    if not _verb_like(tokens[end]):
        if end + 1 >= len(tokens) or not _verb_like(tokens[end + 1]) or _verb_like(tokens[end]):
            return None
        end += 1  # "Beijing regulators", "Chinese officials"
    subject = " ".join(tokens[:end]).rstrip(",")
    if "," in subject or ":" in subject or tokens[0].lower() in _PRONOUNS:
        return None  # a list, a label ("WARNING: config-gen", "Why: this"), a pronoun
    opener = words(tokens[0])[0] if words(tokens[0]) else ""
    if opener in STOPWORDS and not any(_specific(word) for word in tokens[1:end]):
        return None  # "All", "It's", "Once we": a sentence's common first words name nothing
    agent = tokens[end - 1].lower() in _AGENTS or tokens[end].lower().strip(",") in _SPEECH
    question = f"{'Who' if agent else 'What'} {' '.join(tokens[end:]).rstrip(',;:')}?"
    core = subject.removeprefix("The ")
    names = [word for word in core.split() if word[:1].isupper()]
    rarest = sorted(names, key=lambda word: -rarity(word))[:1]
    terms = tuple(dict.fromkeys([core, *rarest]))
    return Draft(
        question, "who" if agent else "factual", subject, sentence, source, "subject", terms
    )


def _verb_like(token: str) -> bool:
    word = token.lower().strip(",")
    return word in _VERBS or (word.endswith("ed") and len(word) > 4)


def _specific(word: str) -> bool:
    """A name or a code-like word, not a common noun."""
    return word[:1].isupper() or any(ch in word for ch in "._") or any(c.isdigit() for c in word)


def _cloze_draft(source: str, title: str, sentence: str) -> Draft | None:
    match = _NUMBER.search(sentence)
    if match is None or match.start() == 0:
        return None
    value = match.group(1)
    blanked = sentence[: match.start()] + "____" + sentence[match.end() :]
    kind = "date" if _YEAR.match(value) else "numeric"
    # "Page — Site name": the site's name adds nothing to the question.
    short = re.split(r" [—|] ", title)
    name = " — ".join(short[:-1]) if len(short) > 1 else title
    question = f"In “{name}”, what fills the blank: {blanked.rstrip('.')}?"
    return Draft(question, kind, value, sentence, source, "cloze", (value,))


def rarity_from(
    idf: Callable[[list[str]], dict[str, float]], chunks: int
) -> Callable[[str], float]:
    """A word's rarity from the catalog's IDF lookup, scaled to 0..1 by the index's size (the
    templates only compare rarities, so the scale changes no draft)."""
    scale = math.log(2 + chunks)

    @functools.cache
    def rarity(word: str) -> float:
        read = term(word)  # as the index reads it ("CPUs" -> cpu)
        return idf([read]).get(read, 0.0) / scale

    return rarity


def key_terms(
    answer: str, question: str, rarity: Callable[[str], float], limit: int = 3
) -> tuple[str, ...]:
    """Up to `limit` of the answer's rarest words (by IDF) that the question does not hold."""
    asked = {stem(word) for word in words(question)}
    tokens = [token.strip(".,;:!?\"'“”’()") for token in answer.split()]
    if tokens and tokens[0][:1].isupper():
        tokens = tokens[1:]  # sentence-initial: usually the verb ("Return ...")
    candidates = [
        token
        for token in dict.fromkeys(tokens)
        if len(token) >= 3
        and token.lower() not in STOPWORDS
        and term(token) not in asked
        and re.fullmatch(r"[\w.+-]+", token)
    ]
    ranked = sorted(candidates, key=lambda token: -rarity(token))
    return tuple(ranked[:limit])

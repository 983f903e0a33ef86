"""Draft golden questions from an indexed corpus, for a person to review (no LLM needed).

Four templates, from the most to the least natural question:

- *term*: a defined term (an API signature, a glossary entry) and the first sentence of its
  description: "What does json.dumps() do?";
- *definition*: a sentence of the form "X is/are/returns/provides ... ": "What is a venv?";
- *subject*: a sentence opening with a name: "Beijing regulators pulled the plug on ..." ->
  "Who pulled the plug on ...?";
- *cloze*: a sentence holding a number or a year, with it blanked out.

Every draft quotes its source sentence verbatim, names two or three key terms from it, and is
marked `draft: true`; its key terms are the answer's rarest words (by IDF). Given an answerer,
each draft is also asked, and a cited answer from the draft's source is added as a candidate
answer (an LLM answerer words it more shortly).
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from assistant.core import Assistant
from assistant.evaluation.golden import ExpectedSource, GoldenItem, Kind
from assistant.text import STOPWORDS, sentence_spans, stem, words
from assistant.types import Heading
from assistant.verify import strip_markers

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
    kind: Kind
    answer: str
    quote: str
    source: str
    template: str
    key_terms: tuple[str, ...]


Ask = Callable[[str], tuple[str, list[str]] | None]


def draft_questions(
    assistant: Assistant, n: int = 20, seed: int = 0, skip_quotes: frozenset[str] = frozenset()
) -> list[Draft]:
    """Up to `n` drafts spread over the indexed documents (deterministic for a seed)."""
    rng = random.Random(seed)
    records = assistant.documents()
    rng.shuffle(records)  # with fewer questions than documents, sample documents evenly

    @functools.cache
    def rarity(word: str) -> float:
        term = stem(word.lower())
        return assistant.catalog.idf([term]).get(term, 0.0)

    per_document = []
    for record in records:
        text, headings, _ = assistant.catalog.document_structure(record.doc_id)
        drafts = [
            d
            for d in _drafts_for(record.source, record.title, text, headings, rarity)
            if d.quote not in skip_quotes
        ]
        rng.shuffle(drafts)
        drafts.sort(key=lambda d: TEMPLATES.index(d.template))  # the most natural first
        per_document.append(drafts)
    chosen: list[Draft] = []
    seen_questions: set[str] = set()
    while len(chosen) < n and any(per_document):
        for drafts in per_document:
            while drafts and len(chosen) < n:
                draft = drafts.pop(0)
                if draft.question.lower() not in seen_questions:
                    seen_questions.add(draft.question.lower())
                    chosen.append(draft)
                    break
    return chosen


def draft_items(
    drafts: list[Draft], start: int = 1, answerer: Ask | None = None
) -> list[GoldenItem]:
    """Golden items marked as drafts, numbered from `start`.

    `answerer(question)` may return (answer text, cited sources): a cited answer from the
    draft's source becomes a second candidate answer.
    """
    return [_to_item(draft, start + i, answerer) for i, draft in enumerate(drafts)]


def _to_item(draft: Draft, number: int, answerer: Ask | None) -> GoldenItem:
    answers = [draft.answer]
    note = f"drafted by the {draft.template} template; check the question reads naturally"
    if answerer is not None:
        reply = answerer(draft.question)
        expected = ExpectedSource(source=draft.source)
        if reply is None:
            note += "; the answerer refused it"
        elif any(expected.matches(source) for source in reply[1]):
            answers.append(strip_markers(reply[0]))
        else:
            note += "; the answerer cited another document"
    return GoldenItem(
        id=f"draft-{number:03d}",
        question=draft.question,
        kind=draft.kind,
        answers=tuple(dict.fromkeys(answers)),
        must_contain_any=draft.key_terms,
        sources=(ExpectedSource(source=draft.source, quote=draft.quote),),
        draft=True,
        note=note,
    )


def _drafts_for(
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
            yield draft


def _prose(sentence: str) -> bool:
    """A self-contained prose sentence of reasonable length."""
    tokens = sentence.split()
    if not 6 <= len(tokens) <= 45 or _CODEY.search(sentence):
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
    return Draft(question, "factual", sentence, sentence, source, "term", terms)


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
    if "," in subject or tokens[0].lower() in _PRONOUNS:
        return None
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
    kind: Kind = "date" if _YEAR.match(value) else "numeric"
    # "Page — Site name": the site's name adds nothing to the question.
    short = re.split(r" [—|] ", title)
    name = " — ".join(short[:-1]) if len(short) > 1 else title
    question = f"In “{name}”, what fills the blank: {blanked.rstrip('.')}?"
    return Draft(question, kind, value, sentence, source, "cloze", (value,))


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
        and stem(token.lower()) not in asked
        and re.fullmatch(r"[\w.+-]+", token)
    ]
    ranked = sorted(candidates, key=lambda token: -rarity(token))
    return tuple(ranked[:limit])

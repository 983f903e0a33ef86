"""Suggested questions for the empty chat: short questions a person would ask, each one asked
of the documents first and offered only if the answer comes from where the question was made.

Candidates come from the documents (assistant.drafting): headings that name a task, defined
terms, definitions, sentences opening with a name; never section numbers or bare headings. A
candidate is kept when it reads as a question (short, no "this"/"above" pointing at text the
person cannot see, no chapter numbers) and when the assistant, asked it as the reader, quotes
the sentence (or the section) it was made from, or that document with the sentence's key
terms: the suggestion is known to work before anyone clicks it. None good: no suggestions.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from itertools import zip_longest
from typing import TYPE_CHECKING

from assistant.answerers.base import Answerer, Question
from assistant.catalog import DocumentText
from assistant.drafting import Draft, document_drafts, heading_drafts, rarity_from
from assistant.retrieval import Retrieval
from assistant.text import QUESTION_WORDS, contains_key_term, content_terms, words
from assistant.types import Answer

if TYPE_CHECKING:
    from assistant.account_types import User
    from assistant.core import Assistant

# Templates that make questions a person would ask, most natural first: tasks named by
# headings, defined terms, definitions, questions about what a name did ("Who halted ...?").
# Other subject questions ("What can be selected by writing multiple -e switches?") read as a
# quiz, and cloze questions ("what fills the blank") are for golden sets only.
TEMPLATES = ("task", "term", "definition", "subject")
MAX_WORDS = 14
MAX_CHARS = 100
# The largest documents are drafted from, a few candidates each; every candidate costs one
# answer (~30 ms), and at most this many answers are tried per suggestion wanted.
MAX_DOCUMENTS = 40
CANDIDATES_PER_DOCUMENT = 3
TRIES_PER_SUGGESTION = 5
# Distinct (generation, limit, readable documents) sets of suggested questions kept in memory.
SUGGESTION_SETS_KEPT = 32
DRAFTED_CHARS = 60_000
# A term or definition question must name a word this rare (IDF scaled to 0..1).
SPECIFIC_RARITY = 0.3
# Words that point at text the person cannot see, or at the document's furniture.
_POINTING = re.compile(
    r"\b(this|that|these|those|such|above|below|following|previous|latter|former|here|"
    r"same|it|they|them)\b|\b(chapter|section|table|figure|appendix|example|page|step)\s*\d",
    re.IGNORECASE,
)
_CODE_PUNCTUATION = re.compile(r"[{}\[\]<>|\\`$#@=*]")
_WORD_FORM = re.compile(r"(?<![\w-])[\w][\w-]*")
_MID_SENTENCE_CAPITAL = re.compile(r"(?<=[a-z,] )[A-Z][a-z]+\b")
_TITLE_CASE = re.compile(r"[A-Z][a-z]+(?:-[a-z]+)*")


class KeptSuggestions:
    """Suggested questions per index generation, limit and set of readable documents, kept
    until one of them changes (a few dozen answers each: too slow to redo per empty chat)."""

    def __init__(self) -> None:
        self._kept: dict[tuple[int, int, tuple[str, ...]], tuple[str, ...]] = {}

    def for_reader(self, assistant: Assistant, limit: int, user: User | None) -> list[str]:
        """Up to `limit` suggestions from the documents `user` may read (None: every one)."""
        from assistant.answerers.extractive import ExtractiveAnswerer

        records = sorted(assistant.documents(user), key=lambda r: (-r.chunks, r.source))
        key = (assistant.catalog.generation(), limit, tuple(r.doc_id for r in records))
        kept = self._kept.get(key)
        if kept is not None:
            return list(kept)
        texts = (assistant.document_text(r.doc_id, user) for r in records[:MAX_DOCUMENTS])
        # The extractive answerer judges whether the documents answer: fast and deterministic,
        # whatever answerer the chat uses.
        ask = ask_quietly(
            ExtractiveAnswerer(assistant.settings),
            lambda question: assistant.prepare_question(question, user=user),
            lambda query: assistant.retrieve(query, user=user),
        )
        rarity = rarity_from(assistant.catalog.idf, assistant.catalog.chunk_count())
        found = suggested_questions([t for t in texts if t is not None], ask, rarity, limit)
        if len(self._kept) >= SUGGESTION_SETS_KEPT:
            self._kept.clear()
        self._kept[key] = tuple(found)
        return found


def suggested_questions(
    documents: list[DocumentText],
    ask: Callable[[str], Answer],
    rarity: Callable[[str], float],
    limit: int,
) -> list[str]:
    """Up to `limit` questions that `ask` answers from their own document, taking turns across
    `documents` (largest first) so that each gets a voice."""
    if limit <= 0:
        return []
    per_document = [_candidates(document, rarity) for document in documents[:MAX_DOCUMENTS]]
    chosen: list[str] = []
    seen: set[str] = set()
    tries = 0
    for round_ in zip_longest(*per_document):
        for draft in round_:
            if draft is None or draft.question.lower() in seen:
                continue
            if tries >= limit * TRIES_PER_SUGGESTION:
                return chosen
            tries += 1
            seen.add(draft.question.lower())
            if _answered(draft, ask(draft.question)):
                chosen.append(draft.question)
                if len(chosen) == limit:
                    return chosen
    return chosen


def _candidates(document: DocumentText, rarity: Callable[[str], float]) -> list[Draft]:
    """A document's best few drafts: natural templates first, then the shortest."""
    record = document.record
    # Sentences are drafted from the start of a long document only (splitting a 300-page
    # manual into sentences takes seconds); its headings are read whole.
    head = document.text[:DRAFTED_CHARS]
    opening = tuple(h for h in document.headings if h.offset < len(head))
    found = [
        *heading_drafts(record.source, document.text, document.headings),
        *document_drafts(record.source, record.title, head, opening, rarity),
    ]
    usage = _Usage(document.text)
    drafts = []
    for draft in found:
        if draft.template not in TEMPLATES:
            continue
        if draft.template == "subject":
            if draft.kind != "who" and not usage.is_name(draft.answer):
                continue  # "What may be added in the future?"
            # "Who pulled the plug on X, sending shockwaves through Y?": the first clause.
            draft = replace(draft, question=draft.question.split(",")[0].rstrip("?") + "?")
        if draft.template in ("term", "definition") and not _specific(draft.question, rarity):
            continue  # "What is a line?" in a plotting manual
        if reads_well(draft.question):
            drafts.append(replace(draft, question=usage.tidy(draft.question)))
    drafts.sort(key=lambda d: (TEMPLATES.index(d.template), len(d.question)))
    return drafts[:CANDIDATES_PER_DOCUMENT]


class _Usage:
    """How a document writes its words: how often each form occurs, and which capitalised words
    it uses in mid-sentence (names) rather than only at the start of a sentence or heading."""

    def __init__(self, text: str) -> None:
        self.counts = Counter(_WORD_FORM.findall(text))
        self.mid_sentence = set(_MID_SENTENCE_CAPITAL.findall(text))

    def is_name(self, subject: str) -> bool:
        """A multi-word proper name ("Hong Kong", "Ant Group"), not "The SHA algorithms"."""
        names = [w for w in subject.split() if _TITLE_CASE.fullmatch(w) and w in self.mid_sentence]
        return len(names) >= 2

    def tidy(self, question: str) -> str:
        """'What are Locales?' -> 'What are locales?' where the text mostly writes the word in
        lower case."""
        tokens = question.split(" ")
        for index, token in enumerate(tokens[1:], start=1):
            bare = token.rstrip("?")
            if _TITLE_CASE.fullmatch(bare) and self.counts[bare.lower()] > self.counts[bare]:
                tokens[index] = token[:1].lower() + token[1:]
        return " ".join(tokens)


def reads_well(question: str) -> bool:
    """Short, self-contained and free of markup: a question someone would type."""
    body = question.rstrip("?")
    if len(body.split()) > MAX_WORDS or len(question) > MAX_CHARS:
        return False
    if _POINTING.search(body) or _CODE_PUNCTUATION.search(body):
        return False
    if re.search(r"\b(\w+) \1\b", body, re.IGNORECASE):
        return False  # "What is Avs avs?": a heading run into its own first line
    return body.count("(") <= 1 and not re.search(r"\d+\.\d+\.", body)


def _specific(question: str, rarity: Callable[[str], float]) -> bool:
    """Whether the question names something the index does not mention everywhere."""
    named = [word for word in words(question) if word not in QUESTION_WORDS and content_terms(word)]
    return any(rarity(word) >= SPECIFIC_RARITY for word in named)


def _answered(draft: Draft, answer: Answer) -> bool:
    """The answer is not a refusal and comes from the draft's own place: it quotes a span of
    the draft's document overlapping the sentence (or the heading's section) the draft was
    made from, or it quotes that document and holds the sentence's key terms."""
    if answer.refused or draft.span is None:
        return False
    start, end = draft.span
    own = [citation for citation in answer.citations if citation.source == draft.source]
    if any(citation.start < end and start < citation.end for citation in own):
        return True
    return bool(own and draft.key_terms) and contains_key_term(answer.text, draft.key_terms)


def ask_quietly(
    answerer: Answerer,
    prepare: Callable[[str], Question],
    retrieve: Callable[[str], Retrieval],
) -> Callable[[str], Answer]:
    """Ask without recording the question (suggestions are not questions anyone asked)."""

    def ask(text: str) -> Answer:
        question = prepare(text)
        return answerer.answer(question, retrieve(question.standalone))

    return ask

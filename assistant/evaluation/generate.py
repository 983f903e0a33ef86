"""Draft golden questions from an indexed corpus, for a person to review (no LLM needed).

The four templates (term, definition, subject, cloze) live in assistant.drafting.
Every draft quotes its source sentence verbatim, names two or three key terms from it (the
answer's rarest words, by IDF), and is marked `draft: true`. Given an answerer, each draft is
also asked, and a cited answer from the draft's source is added as a candidate answer (an LLM
answerer words it more shortly).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable

from assistant.core import Assistant
from assistant.drafting import TEMPLATES, Draft, document_drafts, rarity_from
from assistant.evaluation.golden import ExpectedSource, GoldenItem
from assistant.verify import strip_markers

Ask = Callable[[str], tuple[str, list[str]] | None]


def draft_questions(
    assistant: Assistant, n: int = 20, seed: int = 0, skip_quotes: frozenset[str] = frozenset()
) -> list[Draft]:
    """Up to `n` drafts spread over the indexed documents (deterministic for a seed)."""
    rng = random.Random(seed)
    records = assistant.documents()
    rng.shuffle(records)  # with fewer questions than documents, sample documents evenly

    rarity = rarity_from(assistant.catalog.idf, assistant.catalog.chunk_count())
    per_document = []
    for record in records:
        text, headings, _ = assistant.catalog.document_structure(record.doc_id)
        drafts = [
            d
            for d in document_drafts(record.source, record.title, text, headings, rarity)
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


def next_draft_number(ids: Iterable[str]) -> int:
    """The number after the highest "draft-NNN" among a golden file's ids (1 when there is
    none): what `draft_items` numbers appended drafts from. An id in other digits ("draft-²",
    a digit to `str.isdigit` but no number to `int`) is not a draft's."""
    numbers = [int(m.group(1)) for m in map(_DRAFT_ID.fullmatch, ids) if m is not None]
    return max(numbers, default=0) + 1


_DRAFT_ID = re.compile(r"draft-([0-9]+)")


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

"""Example questions for the empty chat, made from the indexed documents' headings and titles."""

from __future__ import annotations

import re
from itertools import zip_longest

from assistant.accounts import User
from assistant.core import Assistant

_MAX_WORDS = 12
_SIGNATURE = re.compile(r"^([\w.]+)\(")


def example_questions(assistant: Assistant, limit: int, user: User | None = None) -> list[str]:
    """Up to `limit` questions from the documents `user` may read (None: all), taking turns
    across documents so each gets a voice."""
    if limit <= 0:
        return []
    records = sorted(assistant.documents(user), key=lambda r: (-r.chunks, r.source))
    per_document = [
        _candidates(assistant, record.doc_id, record.title, user) for record in records[:50]
    ]
    questions: list[str] = []
    seen: set[str] = set()
    for round_ in zip_longest(*per_document):
        for question in round_:
            if question and question.lower() not in seen:
                seen.add(question.lower())
                questions.append(question)
                if len(questions) == limit:
                    return questions
    return questions


def _candidates(assistant: Assistant, doc_id: str, title: str, user: User | None) -> list[str]:
    """Questions about one document: its section headings first, then its title."""
    document = assistant.document_text(doc_id, user)
    questions = []
    for heading in document.headings if document else ():
        text = " ".join(heading.title.split())
        if heading.kind == "heading" and (text == title or not 1 < len(text.split()) <= _MAX_WORDS):
            continue
        question = question_for(text, heading.kind)
        if question:
            questions.append(question)
    title_question = question_for(" ".join(title.split()), "heading")
    if title_question and len(title.split()) <= _MAX_WORDS:
        questions.append(title_question)
    return questions


def question_for(topic: str, kind: str = "heading") -> str | None:
    """A natural request about a heading (kept as-is when it already is one) or an API term."""
    topic = topic.strip().rstrip(":.").strip()
    if not topic or not any(ch.isalpha() for ch in topic):
        return None
    if topic.endswith("?"):
        return topic
    if kind == "term":
        match = _SIGNATURE.match(topic)
        name = match.group(1) if match else topic.split()[0]
        return f"What does {name} do?"
    if topic.split()[0] in ("The", "A", "An"):  # "the Dual Strategy", not "The Dual Strategy"
        topic = topic[0].lower() + topic[1:]
    return f"Tell me about {topic}"

"""A stored conversation as its reader sees it: answers citing documents they may no longer read
withheld, searched in what is shown, and exported as Markdown."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from assistant.citations import RELATED_HEADING
from assistant.conversations import SEARCH_WORDS
from assistant.text import PREVIEW_CHARS, one_line
from assistant.types import Answer, Conversation

WITHHELD = "This answer quoted a document you may not read now, so it is not shown."


def withhold_unreadable(conversation: Conversation, readable: Collection[str]) -> Conversation:
    """The conversation with each answer that cites a document outside `readable` (catalog
    ids) replaced by a note, and the passages listed to read on from such documents left out:
    what a user's grants no longer cover is not shown again."""
    turns = []
    for turn in conversation.turns:
        answer = turn.answer
        if not all(citation.doc_id in readable for citation in answer.citations):
            answer = Answer(question=turn.question, text=WITHHELD)
        elif not all(passage.doc_id in readable for passage in answer.related):
            related = tuple(passage for passage in answer.related if passage.doc_id in readable)
            answer = answer.model_copy(update={"related": related})
        turns.append(turn if answer is turn.answer else turn.model_copy(update={"answer": answer}))
    return conversation.model_copy(update={"turns": tuple(turns)})


def mentions_all(conversation: Conversation, query: str) -> bool:
    """Whether every word of `query` (as `list_conversations` takes them) occurs in the title,
    a question or an answer, ignoring case."""
    parts = [conversation.title]
    for turn in conversation.turns:
        parts += [turn.question, turn.answer.text]
    text = "\n".join(parts).casefold()
    return all(word.casefold() in text for word in query.split()[:SEARCH_WORDS])


def conversation_markdown(conversation: Conversation) -> str:
    """A conversation as Markdown: each question, its answer and the answer's numbered sources
    (title, location, full quote), as the chat shows them."""
    lines = [f"# {conversation.title}", ""]
    when = _date(conversation.updated_at)
    count = len(conversation.turns)
    lines += [f"_Exported conversation, last updated {when}; {count} question(s)._", ""]
    for turn in conversation.turns:
        answer = turn.answer
        lines += [f"## {' '.join(turn.question.split())}", ""]
        if answer.standalone_question:
            lines += [f"_Searched for: {answer.standalone_question}_", ""]
        if answer.notice:
            lines += [f"> {answer.notice}", ""]
        if answer.refused:
            lines += ["**Not found in the documents.**", ""]
        lines += [answer.text.strip(), ""]
        unsupported = [s.text for s in answer.sentences if not s.supported]
        if unsupported:
            lines += ["_Not supported by a cited passage: " + " ".join(unsupported) + "_", ""]
        if answer.citations:
            lines += ["Sources:", ""]
            for citation in answer.citations:
                title = citation.title or citation.source
                lines.append(f"[{citation.id}] **{title}** — {citation.location()}")
                lines += [f"> {line}" if line else ">" for line in citation.quote.splitlines()]
                lines.append("")
        if answer.related:
            lines += [f"{RELATED_HEADING}:", ""]
            for passage in answer.related:
                lines.append(f"- **{passage.title or passage.source}** — {passage.location()}")
                lines.append(f"  > {one_line(passage.text, PREVIEW_CHARS)}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _date(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")

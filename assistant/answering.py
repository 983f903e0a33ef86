"""A question answered: checked and cleaned, made standalone with the history, retrieved for,
answered whole or streamed, then logged and audited.

The flow behind `Assistant.ask`, `Assistant.stream` and `Assistant.prepare_question`, which
delegate here; it reaches the index and the answerer only through the Assistant's public API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING

from assistant.account_types import User
from assistant.answerers import Answerer, Condenser, Question, StreamingAnswerer
from assistant.citations import related_passages
from assistant.condense import condense
from assistant.errors import BadArgumentError, BadQuestionError
from assistant.questionlog import new_entry
from assistant.respell import respelled
from assistant.retrieval import Retrieval
from assistant.settings_pipeline import MAX_TOP_K
from assistant.text import clean_lines, clean_text, text_pieces, with_apostrophes
from assistant.types import Answer, Message

if TYPE_CHECKING:
    from assistant.core import Assistant

HistoryLike = Sequence[Message | dict[str, str] | tuple[str, str]]


def ask(
    assistant: Assistant,
    question: str,
    history: HistoryLike | None,
    *,
    k: int | None,
    answerer: Answerer | None,
    collections: Sequence[str] | None,
    user: User | None,
    request_id: str | None,
) -> Answer:
    """The checked, logged and audited Answer to a question (`Assistant.ask`)."""
    started = time.perf_counter()
    chosen = _chosen(assistant, answerer)
    check_arguments(k, user)
    prepared = assistant.prepare_question(
        question, history, answerer=chosen, collections=collections, user=user
    )
    retrieval = assistant.retrieve(prepared.standalone, k, collections=collections, user=user)
    clock = time.perf_counter()
    answer = chosen.answer(prepared, retrieval)
    return _finish(
        assistant, answer, prepared, retrieval, clock, started, collections, user, request_id
    )


def stream(
    assistant: Assistant,
    question: str,
    history: HistoryLike | None,
    *,
    k: int | None,
    answerer: Answerer | None,
    collections: Sequence[str] | None,
    user: User | None,
    request_id: str | None,
) -> Iterator[str | Answer]:
    """Text pieces as they are produced, then the final Answer (`Assistant.stream`). A bad
    question, history, answerer, `k` or `user` raises here, before the first piece is asked
    for and before anything is read."""
    started = time.perf_counter()
    answerer = _chosen(assistant, answerer)
    check_arguments(k, user)
    prepared = assistant.prepare_question(
        question, history, answerer=answerer, collections=collections, user=user
    )
    return _pieces(assistant, prepared, answerer, k, collections, user, request_id, started)


def _pieces(
    assistant: Assistant,
    prepared: Question,
    answerer: Answerer,
    k: int | None,
    collections: Sequence[str] | None,
    user: User | None,
    request_id: str | None,
    started: float,
) -> Iterator[str | Answer]:
    retrieval = assistant.retrieve(prepared.standalone, k, collections=collections, user=user)
    clock = time.perf_counter()
    final: Answer | None = None
    if isinstance(answerer, StreamingAnswerer):
        for event in answerer.stream(prepared, retrieval):
            if isinstance(event, Answer):
                final = event
            else:
                yield event
    else:
        final = answerer.answer(prepared, retrieval)
        yield from text_pieces(final.text)
    if final is None:
        raise RuntimeError(f"answerer {answerer.name!r} ended its stream without an answer")
    yield _finish(
        assistant, final, prepared, retrieval, clock, started, collections, user, request_id
    )


def prepare_question(
    assistant: Assistant,
    question: str,
    history: HistoryLike | None,
    *,
    answerer: Answerer | None,
    collections: Sequence[str] | None = None,
    user: User | None = None,
) -> Question:
    """The question checked, cleaned and made standalone (`Assistant.prepare_question`)."""
    if not isinstance(question, str):
        raise BadQuestionError("the question must be text")
    limit = assistant.settings.max_question_chars
    if len(question) > limit:
        raise BadQuestionError(
            f"the question is too long ({len(question)} characters; the limit is {limit})"
        )
    cleaned = with_apostrophes(clean_text(question))
    if not cleaned:
        raise BadQuestionError("the question is empty")
    if history is not None and (
        isinstance(history, (str, bytes)) or not isinstance(history, Sequence)
    ):
        shown = "text" if isinstance(history, (str, bytes)) else type(history).__name__
        raise BadQuestionError(f"the history must be a list of earlier turns, not {shown}")
    messages = tuple(
        _clean_message(_message(item, number)) for number, item in enumerate(history or (), 1)
    )
    asked = _respelled(assistant, cleaned, collections, user)
    condenser = _chosen(assistant, answerer) if messages else None
    if isinstance(condenser, Condenser):  # an LLM rewrites follow-ups
        return Question(cleaned, condenser.condense(asked, messages), messages)
    return Question(cleaned, condense(asked, messages), messages)


def _respelled(
    assistant: Assistant,
    question: str,
    collections: Sequence[str] | None,
    user: User | None,
) -> str:
    """The question with its misspelt words spelt as the documents it may search spell them
    (`assistant.respell`); as typed while there is no index."""
    catalog = assistant.catalog

    @cache
    def scope() -> tuple[bool, tuple[str, ...] | None]:
        """Whether there is an index, and which of its collections the question may search:
        read once, and only for a word no English one is (rarely)."""
        if not catalog.exists():
            return False, None
        return True, assistant.check_collections(collections, user)

    def held(terms: Sequence[str]) -> dict[str, int]:
        present, allowed = scope()
        return catalog.term_counts(terms, allowed) if present else dict.fromkeys(terms, 0)

    restricted = collections is not None or user is not None
    return respelled(question, held, catalog.term_counts if restricted else None)


def _chosen(assistant: Assistant, answerer: object) -> Answerer:
    """The answerer given for this question, or the configured one (BadArgumentError for
    anything else: a backend's name is a setting, not an answerer)."""
    if answerer is None:
        return assistant.answerer
    if not isinstance(answerer, Answerer):
        raise BadArgumentError(
            "answerer must be an Answerer (assistant.answerers.create_answerer(name, "
            f"settings)) or None for the configured one, not {answerer!r}"
        )
    return answerer


def _finish(
    assistant: Assistant,
    answer: Answer,
    prepared: Question,
    retrieval: Retrieval,
    answer_started: float,
    started: float,
    collections: Sequence[str] | None,
    user: User | None,
    request_id: str | None,
) -> Answer:
    timings = dict(retrieval.timings_ms)
    timings.update(answer.timings_ms)
    timings["answer"] = (time.perf_counter() - answer_started) * 1000
    timings["total"] = (time.perf_counter() - started) * 1000
    answer = answer.model_copy(
        update={
            "question": prepared.text,
            "standalone_question": prepared.standalone if prepared.is_rewritten else None,
            # The answerer's own list (its best windows), else retrieval's passages.
            "related": answer.related or related_passages(retrieval.passages, answer.citations),
            "timings_ms": timings,
        }
    )
    entry = new_entry(
        answer.question,
        answer.standalone_question,
        user=None if user is None else user.name,
        groups=() if user is None else user.groups,
        collections=collections,
        refused=answer.refused,
        confidence=answer.confidence,
        total_ms=timings["total"],
        answer_chars=len(answer.text),
        sources=[citation.source for citation in answer.citations],
    )
    assistant.questions.record(entry)
    assistant.audit.record(
        "question",
        entry.user,
        request_id,
        question_id=entry.id if assistant.questions.enabled else None,
        collections=None if collections is None else list(collections),
        refused=answer.refused,
        cited=list(dict.fromkeys(c.doc_id or c.source for c in answer.citations)),
    )
    return answer


def _clean_message(message: Message) -> Message:
    # An answer keeps its line breaks, so that its code block and list are read as such
    # (condense); a question is one line, read as the question asked now is.
    if message.role == "assistant":
        return message.model_copy(update={"content": clean_lines(message.content)})
    return message.model_copy(update={"content": with_apostrophes(clean_text(message.content))})


def _message(item: object, number: int) -> Message:
    """A turn of the history given as a Message, a {"role", "content"} mapping or a (role,
    content) pair; BadQuestionError saying which turn is wrong, and how, for anything else."""
    if isinstance(item, Message):
        return item
    if isinstance(item, tuple) and len(item) == 2:
        item = {"role": item[0], "content": item[1]}
    problem = "a turn is a {'role': 'user' or 'assistant', 'content': text} mapping"
    if isinstance(item, Mapping):
        role, content = item.get("role"), item.get("content")
        if role not in ("user", "assistant"):
            problem = f"its role must be 'user' or 'assistant', not {role!r}"
        elif not isinstance(content, str):
            problem = f"its content must be text, not {type(content).__name__}"
        else:
            return Message(role=role, content=content)
    raise BadQuestionError(f"turn {number} of the history is not a turn: {problem}")


def check_arguments(k: object, user: object) -> None:
    """A call's `k` and `user` as the HTTP API and the command line would take them
    (BadArgumentError, before anything is read)."""
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_TOP_K):
        raise BadArgumentError(f"k must be a whole number from 1 to {MAX_TOP_K}, not {k!r}")
    if user is not None and not isinstance(user, User):
        raise BadArgumentError(
            f"user must be an assistant User (Assistant.accounts.user(name)), not {user!r}"
        )

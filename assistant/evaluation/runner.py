"""Run a golden set through an Assistant and judge each answer, its citations and retrieval."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.account_types import User
from assistant.core import Assistant
from assistant.errors import BadQuestionError
from assistant.evaluation import metrics
from assistant.evaluation.attribution import Attribution, Support, attribute, normalize_quote
from assistant.evaluation.golden import GoldenItem
from assistant.retrieval import Retrieval
from assistant.text import contains_key_term
from assistant.types import Answer, Message
from assistant.verify import SUPPORTED_MIN, Verifier

NDCG_DEPTH = 10


@dataclass(frozen=True)
class RetrievalVerdict:
    """How the retrieved ranking of one question scores against its expected sources."""

    ranked_sources: tuple[str, ...]  # source of each retrieved passage, best first
    hit_at_k: float
    recall_at_k: float
    reciprocal_rank: float
    ndcg_at_10: float
    evidence_at_k: float | None  # an expected quote lies inside a top-k passage
    key_term_at_k: float | None = None  # a key term lies in a top-k passage of an expected source


@dataclass(frozen=True)
class ItemResult:
    """A golden item, the answer given, and the verdicts on it."""

    item: GoldenItem
    answer: Answer
    key_term_hit: bool
    cited_expected_source: bool
    exact_match: float = 0.0
    f1: float = 0.0
    retrieval: RetrievalVerdict | None = None
    attribution: Attribution | None = None
    error: str | None = None
    cited_expected_page: bool | None = None  # None: no expected source names a page
    # A key term in the answer or in the sentences it lists to read on (Answer.related).
    key_term_in_reach: bool = False

    @property
    def correct(self) -> bool:
        """Answerable: answered with a key term. Unanswerable: refused."""
        if self.error is not None:
            return False
        if not self.item.answerable:
            return self.answer.refused
        return not self.answer.refused and self.key_term_hit

    @property
    def _in_reach(self) -> str:
        """Said of a missed key term that a sentence the answer lists to read on holds: the
        search found it and the answer's choice of window missed it."""
        return " (a sentence under Also found holds one)" if self.key_term_in_reach else ""

    @property
    def failures(self) -> list[str]:
        """Why this question fails, in words (empty when it passes)."""
        if self.error is not None:
            return [f"error: {self.error}"]
        reasons = []
        if not self.item.answerable and not self.answer.refused:
            reasons.append("answered a question the documents do not answer")
        elif self.item.answerable and self.answer.refused:
            reasons.append("refused a question the documents answer" + self._in_reach)
        elif self.item.answerable and self.item.key_terms and not self.key_term_hit:
            terms = self.item.key_terms
            reason = "the answer holds none of the key terms: " + ", ".join(terms)
            reasons.append(reason + self._in_reach)
        answered_answerable = self.item.answerable and not self.answer.refused
        if answered_answerable and self.item.sources and not self.cited_expected_source:
            expected = ", ".join(source.source for source in self.item.sources)
            reasons.append(f"no citation of an expected source ({expected})")
        if self.attribution is not None:
            invalid = self.attribution.invalid_ids()
            if invalid:
                numbers = ", ".join(f"[{n}]" for n in invalid)
                reasons.append(f"citation {numbers} does not support the sentence citing it")
        return reasons

    @property
    def passed(self) -> bool:
        """Correct, citing an expected source, and every citation valid."""
        return not self.failures


def judge(
    item: GoldenItem,
    answer: Answer,
    retrieval: RetrievalVerdict | None = None,
    support: Support | None = None,
    support_bar: float = SUPPORTED_MIN,
) -> ItemResult:
    """Verdicts on one answer; citations are judged when a `support` function is given."""
    cited = any(
        expected.matches(citation.source)
        for expected in item.sources
        for citation in answer.citations
    )
    paged = [expected for expected in item.sources if expected.page is not None]
    cited_page = (
        any(
            expected.matches(citation.source) and citation.page == expected.page
            for expected in paged
            for citation in answer.citations
        )
        if paged
        else None
    )
    given = "" if answer.refused else answer.text
    answers = item.references
    return ItemResult(
        item=item,
        answer=answer,
        # With no key terms (only `sources`), the answer holds what it should when it cites one.
        key_term_hit=contains_key_term(given, item.key_terms) if item.key_terms else cited,
        cited_expected_source=cited,
        exact_match=metrics.exact_match(given, answers) if answers else 0.0,
        f1=metrics.token_f1(given, answers) if answers else 0.0,
        retrieval=retrieval,
        attribution=(
            None if support is None else attribute(answer, item.sources, support, support_bar)
        ),
        cited_expected_page=cited_page,
        key_term_in_reach=contains_key_term(
            "\n\n".join([given, *(passage.text for passage in answer.related)]),
            item.key_terms,
        ),
    )


def judge_retrieval(item: GoldenItem, retrieval: Retrieval, k: int) -> RetrievalVerdict | None:
    """Ranking scores by expected source (None when the item names no source)."""
    if not item.sources:
        return None
    sources = tuple(passage.source for passage in retrieval.passages)
    relevant = [any(e.matches(source) for e in item.sources) for source in sources]
    wanted = {e.source for e in item.sources}
    found = {e.source for e in item.sources if any(e.matches(s) for s in sources[:k])}
    # nDCG over distinct documents: a source's first passage is its rank.
    distinct: list[bool] = []
    seen: set[str] = set()
    for source, hit in zip(sources, relevant, strict=True):
        if source not in seen:
            seen.add(source)
            distinct.append(hit)
    quotes = [normalize_quote(e.quote) for e in item.sources if e.quote]
    top_text = [normalize_quote(passage.text) for passage in retrieval.passages[:k]]
    evidence = (
        float(any(quote in text for quote in quotes for text in top_text)) if quotes else None
    )
    terms = item.key_terms
    key_term = (
        float(
            any(
                contains_key_term(passage.text, terms)
                for passage in retrieval.passages[:k]
                if any(e.matches(passage.source) for e in item.sources)
            )
        )
        if terms
        else None
    )
    return RetrievalVerdict(
        key_term_at_k=key_term,
        ranked_sources=sources,
        hit_at_k=metrics.hit_at(relevant, k),
        recall_at_k=len(found) / len(wanted),
        reciprocal_rank=metrics.reciprocal_rank(relevant),
        ndcg_at_10=metrics.ndcg_at(distinct, NDCG_DEPTH, len(wanted)),
        evidence_at_k=evidence,
    )


def evaluate(
    assistant: Assistant,
    items: Sequence[GoldenItem],
    on_result: Callable[[ItemResult], None] | None = None,
    k: int | None = None,
    collections: Sequence[str] | None = None,
    user: User | None = None,
    own_answers: bool = False,
) -> list[ItemResult]:
    """Ask every golden question (with its history) and judge answers, citations and retrieval.

    Retrieval is scored on a separate ranking of depth max(k, 10) for the same standalone
    question; the answer comes from `Assistant.ask`, so its timings are the real ones.
    Citations are judged with the verifier on the assistant's own embedder. `collections`
    limits every question to those collections and `user` to what that user may read, as
    `Assistant.ask` does. With `own_answers`, a follow-up is asked after the assistant's own
    answer to the question before it (`after_own_answer`), as in the chat.
    """
    depth = k or assistant.settings.top_k
    support = Verifier(assistant.embedder).support
    results = []
    for item in items:
        result = evaluate_item(assistant, item, depth, support, collections, user, own_answers)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def evaluate_item(
    assistant: Assistant,
    item: GoldenItem,
    k: int,
    support: Support,
    collections: Sequence[str] | None = None,
    user: User | None = None,
    own_answers: bool = False,
) -> ItemResult:
    """Ask one golden question and judge the answer, its citations and the retrieval (after
    the assistant's own answer to the question before it, with `own_answers`: the result's
    item then holds that history)."""
    try:
        if own_answers:
            item = after_own_answer(assistant, item, collections, user)
        question = assistant.prepare_question(item.question, item.history)
    except BadQuestionError as exc:
        refusal = Answer(question=item.question, text="", refused=True)
        return ItemResult(item, refusal, False, False, error=str(exc))
    ranking = assistant.retrieve(
        question.standalone, max(k, NDCG_DEPTH), collections=collections, user=user
    )
    answer = assistant.ask(item.question, history=item.history, collections=collections, user=user)
    return judge(item, answer, judge_retrieval(item, ranking, k), support)


def is_followup(item: GoldenItem) -> bool:
    """Whether a golden question is asked after an answer: its history ends in a question and
    the answer to it."""
    history = item.history
    return len(history) >= 2 and history[-1].role == "assistant" and history[-2].role == "user"


def after_own_answer(
    assistant: Assistant,
    item: GoldenItem,
    collections: Sequence[str] | None = None,
    user: User | None = None,
) -> GoldenItem:
    """A follow-up whose history ends in an answer, with that answer replaced by the
    assistant's own to the question before it (asked after the turns before that, as they
    are): what the chat would have shown, right or wrong, is what the follow-up points back at.
    Any other item, and one whose question before it the assistant refuses to take (too long,
    say: history turns have no such limit), is returned as it is."""
    if not is_followup(item):
        return item
    *before, asked, _ = item.history
    try:
        own = assistant.ask(asked.content, history=before, collections=collections, user=user)
    except BadQuestionError:
        return item
    answered = Message(role="assistant", content=own.text)
    return item.model_copy(update={"history": (*before, asked, answered)})

"""Run a golden set through an Assistant and judge each answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.core import Assistant
from assistant.evaluation.golden import GoldenItem
from assistant.types import Answer


@dataclass(frozen=True)
class ItemResult:
    """A golden item, the answer given, and the verdicts on it."""

    item: GoldenItem
    answer: Answer
    key_term_hit: bool
    cited_expected_source: bool

    @property
    def correct(self) -> bool:
        """Answerable: answered with a key term. Unanswerable: refused."""
        if not self.item.answerable:
            return self.answer.refused
        return not self.answer.refused and self.key_term_hit


def contains_key_term(text: str, terms: Sequence[str]) -> bool:
    """Whether any key term occurs in the text as whole words (case-insensitive)."""
    return any(
        re.search(rf"(?<!\w){re.escape(term.strip())}(?!\w)", text, re.IGNORECASE)
        for term in terms
        if term.strip()
    )


def judge(item: GoldenItem, answer: Answer) -> ItemResult:
    """Verdicts on one answer."""
    cited = any(
        expected.matches(citation.source)
        for expected in item.sources
        for citation in answer.citations
    )
    return ItemResult(
        item=item,
        answer=answer,
        key_term_hit=contains_key_term(answer.text, item.must_contain_any or item.answers),
        cited_expected_source=cited,
    )


def evaluate(
    assistant: Assistant,
    items: Sequence[GoldenItem],
    on_result: Callable[[ItemResult], None] | None = None,
) -> list[ItemResult]:
    """Ask every golden question (with its history) and judge the answers."""
    results = []
    for item in items:
        answer = assistant.ask(item.question, history=item.history)
        result = judge(item, answer)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results

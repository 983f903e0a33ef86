"""A judged golden question as readable text: what was asked, answered, cited and expected."""

from __future__ import annotations

import textwrap

from assistant.evaluation.runner import ItemResult


def explain(result: ItemResult, width: int = 100) -> str:
    """Question, history, answer with its citations, what was expected, and why it fails."""
    item, answer = result.item, result.answer
    lines = [f"golden question {item.id} ({item.kind})"]
    for turn in item.history:
        lines.append(_field(f"  {turn.role}", turn.content, width))
    lines.append(_field("question", item.question, width))
    if answer.standalone_question:
        lines.append(_field("  as", answer.standalone_question, width))
    if result.error:
        lines.append(_field("error", result.error, width))
    else:
        shown = answer.text + ("  (refused)" if answer.refused else "")
        lines.append(_field("answer", shown, width))
        invalid = set(result.attribution.invalid_ids()) if result.attribution else set()
        for citation in answer.citations:
            where = citation.source + (f" § {citation.section}" if citation.section else "")
            verdict = "  UNSUPPORTED" if citation.id in invalid else ""
            lines.append(f"  [{citation.id}] {where}{verdict}")
            lines.append(textwrap.indent(textwrap.fill(f"“{citation.quote}”", width - 6), " " * 6))
    lines.append("expected:")
    if not item.answerable:
        lines.append("  a refusal: the documents don't answer this")
    if item.answers:
        lines.append(_field("  answers", " | ".join(item.answers), width))
    if item.must_contain_any:
        lines.append(_field("  key terms", ", ".join(item.must_contain_any), width))
    for source in item.sources:
        lines.append(f"  source {source.source}")
        if source.quote:
            lines.append(textwrap.indent(textwrap.fill(f"“{source.quote}”", width - 6), " " * 6))
    if result.retrieval is not None:
        rank = result.retrieval.reciprocal_rank
        position = str(round(1 / rank)) if rank else "-"
        lines.append(f"  (first passage of an expected source: rank {position})")
    lines.append("why it fails:" if result.failures else "passes")
    lines += [f"  - {reason}" for reason in result.failures]
    return "\n".join(lines)


def _field(label: str, value: str, width: int) -> str:
    prefix = f"{label}: "
    return textwrap.fill(
        " ".join(value.split()),
        width,
        initial_indent=prefix,
        subsequent_indent=" " * len(prefix),
    )

"""Judge an answer's citations offline, in the sense of ALCE (Gao et al., 2023).

Each answer sentence (without the section label an answer may put before a quote) is checked
against the quotes it cites with `assistant.verify.Verifier`
(exact, fuzzy or embedding+lexical support) instead of an NLI model:

- a sentence is *supported* (faithfulness) when its cited quotes together support it;
- a sentence is *covered* (citation recall) when it is supported, or one of its citations holds
  the golden set's expected evidence quote from the expected source;
- a citation is *valid* (citation precision) when its quote alone supports the sentence citing
  it, or it holds the expected evidence, or the sentence is supported by its citations jointly
  but no longer without this one (ALCE's "partial support");
- a marker `[n]` with no citation `n` is never valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.evaluation.golden import ExpectedSource
from assistant.evaluation.metrics import rate
from assistant.text import sentence_spans
from assistant.types import Answer, Citation

_MARKER_NUMBER = re.compile(r"\[(\d+)\]")
Support = Callable[[str, str], float]


@dataclass(frozen=True)
class CitationVerdict:
    """One use of a citation by one answer sentence."""

    citation_id: int
    sentence_index: int
    support: float
    evidence: bool
    valid: bool


@dataclass(frozen=True)
class SentenceVerdict:
    """One answer sentence, the citations it carries and how well they support it."""

    text: str
    citation_ids: tuple[int, ...]
    support: float
    supported: bool
    covered: bool


@dataclass(frozen=True)
class Attribution:
    """The verdicts on every sentence and citation of one answer."""

    sentences: tuple[SentenceVerdict, ...]
    citations: tuple[CitationVerdict, ...]

    @property
    def citation_recall(self) -> float | None:
        """Share of sentences covered by their citations."""
        return rate([s.covered for s in self.sentences])

    @property
    def citation_precision(self) -> float | None:
        """Share of citation uses that are valid (None when nothing is cited)."""
        return rate([c.valid for c in self.citations])

    @property
    def faithfulness(self) -> float | None:
        """Share of sentences supported by their cited spans."""
        return rate([s.supported for s in self.sentences])

    @property
    def has_valid_citation(self) -> bool:
        """Whether at least one citation is valid."""
        return any(c.valid for c in self.citations)

    def invalid_ids(self) -> list[int]:
        """Numbers of the citations used at least once without support, in order."""
        return sorted({c.citation_id for c in self.citations if not c.valid})


def normalize_quote(text: str) -> str:
    """Lower case with runs of whitespace collapsed, for comparing quotes."""
    return " ".join(text.lower().split())


def holds_evidence(citation: Citation, expected: Sequence[ExpectedSource]) -> bool:
    """Whether the citation quotes (most of) an expected evidence quote from its source."""
    quote = normalize_quote(citation.quote)
    for source in expected:
        if source.quote is None or not source.matches(citation.source):
            continue
        wanted = normalize_quote(source.quote)
        # The expected quote may be a clause of the cited sentence, or span two sentences of
        # which the citation quotes the larger part.
        if wanted in quote or (quote in wanted and 2 * len(quote) >= len(wanted)):
            return True
    return False


def answer_sentences(answer: Answer) -> list[tuple[str, tuple[int, ...]]]:
    """The answer's sentences with the citation numbers each carries."""
    if answer.sentences:
        return [(s.text, s.citations or _markers(s.text)) for s in answer.sentences]
    return [(answer.text[a:b], _markers(answer.text[a:b])) for a, b in sentence_spans(answer.text)]


def _markers(text: str) -> tuple[int, ...]:
    return tuple(dict.fromkeys(int(number) for number in _MARKER_NUMBER.findall(text)))


def attribute(
    answer: Answer, expected: Sequence[ExpectedSource], support: Support, bar: float
) -> Attribution:
    """Judge every sentence and citation of an answer; `support(claim, text)` scores 0..1."""
    if answer.refused:
        return Attribution((), ())
    by_id = {citation.id: citation for citation in answer.citations}
    sentences: list[SentenceVerdict] = []
    verdicts: list[CitationVerdict] = []
    for index, (said, ids) in enumerate(answer_sentences(answer)):
        cited = [by_id[number] for number in ids if number in by_id]
        text = _without_label(said, cited)
        alone = {c.id: support(text, c.quote) for c in cited}
        evidence = {c.id: holds_evidence(c, expected) for c in cited}
        joint = _joint_support(text, cited, alone, support)
        supported = joint >= bar
        for number in ids:
            citation = by_id.get(number)
            if citation is None:  # an invented marker
                verdicts.append(CitationVerdict(number, index, 0.0, False, False))
                continue
            needed = (
                supported
                and len(cited) > 1
                and _joint_support(text, [c for c in cited if c.id != number], alone, support) < bar
            )
            valid = alone[number] >= bar or evidence[number] or needed
            verdicts.append(CitationVerdict(number, index, alone[number], evidence[number], valid))
        covered = supported or any(evidence.values())
        sentences.append(SentenceVerdict(said, ids, joint, supported, covered))
    return Attribution(tuple(sentences), tuple(verdicts))


def _without_label(text: str, cited: Sequence[Citation]) -> str:
    """A sentence without the label an answer puts before a quote ("shared_buffers (integer):
    The default is ..."): the title of the section a cited quote stands in, which the citation
    names as its `section`; the quote supports what follows it."""
    sections = [c.section for c in cited if c.section]
    for colon in reversed([m.start() for m in re.finditer(r":\s", text)]):  # the longest first
        label = text[:colon].strip()
        if label and any(label in section for section in sections):
            return text[colon + 1 :].strip()
    return text


def _joint_support(
    text: str, cited: list[Citation], alone: dict[int, float], support: Support
) -> float:
    """Support of a sentence by the concatenation of its cited quotes."""
    if not cited:
        return 0.0
    if len(cited) == 1:
        return alone[cited[0].id]
    return max(support(text, " ".join(c.quote for c in cited)), *(alone[c.id] for c in cited))

"""Citation verification: find the span of a passage that supports a claim, and how strongly.

A claim (one answer sentence) is aligned to a passage by, in order: an exact quote (whitespace
and case aside), a fuzzy quote (RapidFuzz ratio over sentences and sentence pairs), else
semantic similarity with the bundled embedder blended with the share of the claim's content
terms the span holds. Numbers in the claim that the span lacks cap the score: a wrong figure is
never "supported".
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rapidfuzz import fuzz

from assistant.embedding import Embedder
from assistant.text import STOPWORDS, content_terms
from assistant.types import Passage

Method = Literal["exact", "fuzzy", "semantic", "none"]

_MARKER = re.compile(r"\s*\[\d+\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"[^\W\d_][\w.’'-]*")
FUZZY_MIN = 85.0  # RapidFuzz ratio (0..100) from which a span counts as quoted
SUPPORTED_MIN = 0.6  # score from which a claim counts as supported


@dataclass(frozen=True)
class Alignment:
    """Where in a passage a claim is supported: absolute document offsets and a 0..1 score."""

    start: int
    end: int
    score: float
    method: Method

    @property
    def supported(self) -> bool:
        """Whether the score reaches the support bar."""
        return self.score >= SUPPORTED_MIN


def strip_markers(text: str) -> str:
    """The text without [n] citation markers."""
    return _MARKER.sub("", text).strip()


class Verifier:
    """Aligns claims to passages. Cheap to build; the embedder loads on first semantic check."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def align(self, claim: str, passage: Passage) -> Alignment:
        """The best-supporting span of `passage` for `claim`."""
        claim = strip_markers(claim)
        if not claim:
            return Alignment(passage.start, passage.start, 0.0, "none")
        exact = _find_loosely(claim, passage.text)
        if exact is not None:
            start, end = exact
            return Alignment(passage.start + start, passage.start + end, 1.0, "exact")
        spans = _candidate_spans(passage)
        if not spans:
            return Alignment(passage.start, passage.end, 0.0, "none")
        texts = [passage.sentence_text(start, end) for start, end in spans]
        ratios = [fuzz.ratio(claim.lower(), text.lower()) for text in texts]
        best = int(np.argmax(ratios))
        if ratios[best] >= FUZZY_MIN:
            score = _cap_numbers(claim, texts[best], ratios[best] / 100.0)
            return Alignment(*spans[best], score, "fuzzy")
        scores = self._semantic_scores(claim, texts)
        best = int(np.argmax(scores))
        score = _cap_names(claim, passage.text, float(scores[best]))
        return Alignment(*spans[best], score, "semantic")

    def support(self, claim: str, text: str) -> float:
        """How strongly `text` supports `claim`, 0..1 (for judging a given quote)."""
        claim = strip_markers(claim)
        if not claim or not text.strip():
            return 0.0
        if _find_loosely(claim, text) is not None:
            return 1.0
        ratio = fuzz.ratio(claim.lower(), text.lower())
        if ratio >= FUZZY_MIN:
            return _cap_numbers(claim, text, ratio / 100.0)
        return _cap_names(claim, text, float(self._semantic_scores(claim, [text])[0]))

    def _semantic_scores(self, claim: str, texts: list[str]) -> np.ndarray:
        vectors = self.embedder.embed_texts([claim, *texts])
        similarities = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
        claim_terms = set(content_terms(claim))
        scores = []
        for text, similarity in zip(texts, similarities, strict=True):
            found = set(content_terms(text))
            recall = len(claim_terms & found) / len(claim_terms) if claim_terms else 0.0
            scores.append(_cap_numbers(claim, text, 0.6 * float(similarity) + 0.4 * recall))
        return np.array(scores)


def _find_loosely(claim: str, text: str) -> tuple[int, int] | None:
    """Offsets of `claim` in `text`, ignoring case and differences in whitespace."""
    words = claim.rstrip(".!?").split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(word) for word in words)
    match = re.search(pattern, text, re.IGNORECASE)
    return None if match is None else (match.start(), match.end())


def _candidate_spans(passage: Passage) -> list[tuple[int, int]]:
    """Each sentence of the passage and each pair of neighbouring sentences."""
    spans = list(passage.sentence_spans)
    pairs = [(a[0], b[1]) for a, b in itertools.pairwise(spans)]
    return spans + pairs


def _cap_names(claim: str, context: str, score: float) -> float:
    """A claim naming someone or something the context never mentions is at best weak."""
    names = {
        token.strip(".’'").lower()
        for token in _NAME.findall(claim)[1:]  # the first word is capitalised anyway
        if token[0].isupper() and token.lower() not in STOPWORDS
    }
    lowered = context.lower()
    missing = {name for name in names if name and name not in lowered}
    return min(score, 0.3) if missing else score


def _cap_numbers(claim: str, text: str, score: float) -> float:
    """A claim whose numbers the text lacks is at best weakly supported."""
    missing = set(_NUMBER.findall(claim)) - set(_NUMBER.findall(text))
    return min(score, 0.3) if missing else score

"""Citation verification: find the span of a passage that supports a claim, and how strongly.

A claim (one answer sentence) is aligned to a passage by, in order: an exact quote (whitespace
and case aside), a fuzzy quote (RapidFuzz ratio over sentences and sentence pairs), else
semantic similarity with the bundled embedder blended with the share of the claim's content
terms the span holds. Numbers in the claim that the span lacks cap the score: a wrong figure is
never "supported"; so do names the passage never mentions, and a span holding less than
`RECALL_MIN` of the claim's content terms (same topic, different claim).

`Verifier.check` does this for a whole generated answer: it splits the answer into sentences,
reads the [n] markers each carries, aligns the sentence to the sources it cites and, when those
do not support it (or it cites none), to any retrieved source. Numbers that point at no source
are reported as dangling; a sentence no source supports is unsupported. Instruction-like
sentences of a document (a prompt injection) never count as support.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rapidfuzz import fuzz

from assistant.embedding import Embedder
from assistant.injection import instruction_spans
from assistant.text import STOPWORDS, content_terms, sentence_spans
from assistant.types import Passage

Method = Literal["exact", "fuzzy", "semantic", "none"]

# [n], [n, m] and [n; m], also as models mangle them: [ 1 ], [[1]], 【1】, full-width digits.
_MARKER = re.compile(r"\s*[\[【]+\s*\d+(?:\s*[,;]\s*\d+)*\s*[\]】]+")
_MARKER_NUMBERS = re.compile(r"[\[【]+\s*(\d+(?:\s*[,;]\s*\d+)*)\s*[\]】]+")
_LIST_PREFIX = re.compile(r"^[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+", re.MULTILINE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"[^\W\d_][\w.’'-]*")
FUZZY_MIN = 85.0  # RapidFuzz ratio (0..100) from which a span counts as quoted
SUPPORTED_MIN = 0.6  # score from which a claim counts as supported
SEMANTIC_CANDIDATES = 4  # spans per passage compared by embedding
RECALL_MIN = 0.6  # share of a claim's content terms a span must hold to support it


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
    """The text without [n] (or [n, m]) citation markers."""
    return _MARKER.sub("", text).strip()


@dataclass(frozen=True)
class Claim:
    """One sentence of a generated answer, without its markers, and the numbers it cites."""

    text: str
    cited: tuple[int, ...] = ()

    @property
    def substantive(self) -> bool:
        """Whether it says anything checkable (has content words), unlike "Sure!"."""
        return bool(content_terms(self.text))


@dataclass(frozen=True)
class Support:
    """A span supporting a claim: the 0-based index of its passage and the alignment."""

    passage: int
    alignment: Alignment


@dataclass(frozen=True)
class CheckedClaim:
    """A claim and what verification found for it."""

    claim: Claim
    supports: tuple[Support, ...]  # supporting spans, best first; empty: unsupported
    dangling: tuple[int, ...]  # cited numbers that point at no source
    score: float  # the best alignment score found anywhere, 0..1

    @property
    def supported(self) -> bool:
        """Whether some retrieved passage supports the claim."""
        return bool(self.supports)


def split_claims(text: str) -> list[Claim]:
    """The sentences of a generated answer with the [n] numbers each one carries.

    A marker standing alone after a sentence's full stop ("... stop. [2]") belongs to that
    sentence; list bullets and numbering are dropped.
    """
    claims: list[Claim] = []
    text = _LIST_PREFIX.sub("", text)
    for start, end in sentence_spans(text):
        piece = text[start:end]
        numbers = tuple(
            dict.fromkeys(
                int(number)
                for group in _MARKER_NUMBERS.findall(piece)
                for number in re.split(r"\s*[,;]\s*", group)
            )
        )
        body = strip_markers(piece)
        if not body.strip(" .,;:!?"):
            if claims and numbers:
                last = claims[-1]
                claims[-1] = Claim(last.text, tuple(dict.fromkeys(last.cited + numbers)))
            continue
        claims.append(Claim(" ".join(body.split()), numbers))
    return claims


class Verifier:
    """Aligns claims to passages. Cheap to build; the embedder loads on first semantic check."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def align(
        self, claim: str, passage: Passage, vectors: dict[str, np.ndarray] | None = None
    ) -> Alignment:
        """The best-supporting span of `passage` for `claim`.

        `vectors` caches embeddings across calls (one answer's claims share passages).
        """
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
        # Only the spans sharing most words with the claim are embedded: with little overlap
        # the blended score cannot reach the bar anyway, and embedding every span is slow.
        shortlist = _lexical_shortlist(claim, texts, SEMANTIC_CANDIDATES)
        scores = self._semantic_scores(claim, [texts[i] for i in shortlist], vectors)
        pick = int(np.argmax(scores))
        score = _cap_names(claim, passage.text, float(scores[pick]))
        return Alignment(*spans[shortlist[pick]], score, "semantic")

    def check(self, answer: str, passages: Sequence[Passage]) -> list[CheckedClaim]:
        """Verify every sentence of a generated answer against the numbered passages (from 1)."""
        vectors: dict[str, np.ndarray] = {}
        return [self.check_claim(claim, passages, vectors) for claim in split_claims(answer)]

    def check_claim(
        self,
        claim: Claim,
        passages: Sequence[Passage],
        vectors: dict[str, np.ndarray] | None = None,
    ) -> CheckedClaim:
        """Align one claim to the passages it cites, else to any passage."""
        vectors = {} if vectors is None else vectors
        valid = [n for n in claim.cited if 1 <= n <= len(passages)]
        dangling = tuple(n for n in claim.cited if n not in valid)
        tried: dict[int, Alignment] = {}
        for number in valid:
            tried[number - 1] = self._align_safely(claim.text, passages[number - 1], vectors)
        supports = [Support(i, a) for i, a in tried.items() if a.supported]
        if not supports:  # uncited, or cited the wrong source: look everywhere
            for index, passage in enumerate(passages):
                if index not in tried:
                    tried[index] = self._align_safely(claim.text, passage, vectors)
            best = max(tried.items(), key=lambda item: item[1].score, default=None)
            if best is not None and best[1].supported:
                supports = [Support(*best)]
        supports.sort(key=lambda support: -support.alignment.score)
        score = max((a.score for a in tried.values()), default=0.0)
        return CheckedClaim(claim, tuple(supports), dangling, score)

    def _align_safely(
        self, claim: str, passage: Passage, vectors: dict[str, np.ndarray]
    ) -> Alignment:
        """`align`, except that an instruction-like span (an injection) supports nothing."""
        alignment = self.align(claim, passage, vectors)
        for start, end in instruction_spans(passage.text):
            if passage.start + start < alignment.end and alignment.start < passage.start + end:
                return Alignment(alignment.start, alignment.end, 0.0, "none")
        return alignment

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

    def _semantic_scores(
        self, claim: str, texts: list[str], cache: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        cache = {} if cache is None else cache
        missing = list(dict.fromkeys(t for t in [claim, *texts] if t not in cache))
        if missing:  # one batch for everything not embedded yet
            cache.update(zip(missing, self.embedder.embed_texts(missing), strict=True))
        matrix = np.stack([cache[text] for text in texts])
        similarities = np.clip(matrix @ cache[claim], 0.0, 1.0)
        claim_terms = set(content_terms(claim))
        scores = []
        for text, similarity in zip(texts, similarities, strict=True):
            found = set(content_terms(text))
            recall = len(claim_terms & found) / len(claim_terms) if claim_terms else 0.0
            score = 0.6 * float(similarity) + 0.4 * recall
            if recall < RECALL_MIN:  # mostly words the span lacks: similar topic, other claim
                score = min(score, 0.5)
            scores.append(_cap_numbers(claim, text, score))
        return np.array(scores)


def _find_loosely(claim: str, text: str) -> tuple[int, int] | None:
    """Offsets of `claim` in `text`, ignoring case and differences in whitespace."""
    words = claim.rstrip(".!?").split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(word) for word in words)
    match = re.search(pattern, text, re.IGNORECASE)
    return None if match is None else (match.start(), match.end())


def _lexical_shortlist(claim: str, texts: Sequence[str], size: int) -> list[int]:
    """Indices of the `size` texts holding the largest share of the claim's content terms."""
    claim_terms = set(content_terms(claim))
    overlap = [len(claim_terms & set(content_terms(text))) for text in texts]
    return sorted(range(len(texts)), key=lambda i: (-overlap[i], i))[:size]


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

"""The default answerer, no LLM: quote the sentence(s) of the passages that answer the question.

Each candidate sentence is described by features that need no model call at query time: its
late-chunked vector against the query vector, the IDF-weighted share of the question's terms it
holds, whether it holds the kind of answer asked for (a name, a date, a number), whether it is a
line of code, and how much of the question the whole passage covers. A linear score ranks the
sentences; a logistic model of the best one's features gives the answer's confidence, and below
the calibrated threshold the answerer refuses. Weights and threshold were fitted on the golden
sets (see docs/evaluation.md and `python -m assistant.evaluation.calibrate`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from assistant.answerers.base import Question
from assistant.citations import (
    REFUSAL_TEXT,
    citation_for,
    with_marker,
    without_document_markers,
)
from assistant.injection import looks_like_instruction
from assistant.retrieval import Retrieval, cosine_rows
from assistant.settings import Settings
from assistant.text import QUESTION_WORDS, STOPWORDS, content_terms, words
from assistant.types import Answer, AnswerSentence, Citation, Passage, heading_at

# Ranking weights (sentence choice) and the confidence model, fitted on the golden sets.
RANK_WEIGHTS = {
    "semantic": 0.75,
    "lexical": 0.25,
    "passage_lexical": 0.25,
    "code": -0.2,
    "short": -0.1,
    "named_section": 0.25,
}
# A sentence without a name cannot answer "who" or "which companies".
NAME_MISSING_FACTOR = 0.7
CONFIDENCE_WEIGHTS = {"semantic": 10.546, "passage_lexical": 1.47, "missing": -0.633}
CONFIDENCE_BIAS = -4.635
# A question that names a section ("Tell me about the Regulatory Hammer Drops") is answered
# from it: the corpus demonstrably covers the topic the question asks about.
NAMED_SECTION_CONFIDENCE = 0.9
SECOND_SENTENCE_RATIO = 0.92

_YEAR = r"\b(1[5-9]\d\d|20\d\d)s?\b"
_MONTH = (
    r"\b(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?"
    r"|oct(ober)?|nov(ember)?|dec(ember)?)\b"
)
_DATE = re.compile(
    rf"{_YEAR}|{_MONTH}|\b\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}\b|\b(yesterday|today|since|"
    r"decade|century|week|month|year)s?\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"hundreds?|thousands?|millions?|billions?|trillions?|dozens?|percent|half|double|triple|"
    r"once|twice|single|none|zero|several|many|few|all)\b",
    re.IGNORECASE,
)
_CODE_START = re.compile(r"^\s*(>>>|\.\.\.|\$ |#!|class |def |import |from \S+ import|@\w)")
_SYMBOLS = set("()[]{}=_<>:*;\\|/'\"`")
_ENTITY_WORDS = {
    "company", "companies", "firm", "firms", "organisation", "organization", "regulator",
    "agency", "newspaper", "outlet", "person", "people", "author", "authors", "country",
    "countries", "city", "group", "bank", "module", "function", "class", "library", "tool",
}  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage and the features it is judged by."""

    passage: Passage
    start: int
    end: int
    semantic: float
    lexical: float
    passage_lexical: float
    missing: float
    type_ok: bool
    code: bool
    short: bool
    wants_name: bool = False
    named_section: bool = False  # the sentence is in the section the question names

    def features(self) -> dict[str, float]:
        """The features as numbers."""
        return {
            "semantic": self.semantic,
            "lexical": self.lexical,
            "passage_lexical": self.passage_lexical,
            "missing": self.missing,
            "type_ok": float(self.type_ok),
            "code": float(self.code),
            "short": float(self.short),
            "named_section": float(self.named_section),
        }

    @property
    def rank_score(self) -> float:
        """How well this sentence answers the question, for choosing among sentences."""
        features = self.features()
        score = sum(weight * features[name] for name, weight in RANK_WEIGHTS.items())
        if self.wants_name and not self.type_ok:
            score *= NAME_MISSING_FACTOR
        return score

    @property
    def confidence(self) -> float:
        """Estimated probability that an answer built on this sentence is right."""
        features = self.features()
        z = CONFIDENCE_BIAS + sum(
            weight * features[name] for name, weight in CONFIDENCE_WEIGHTS.items()
        )
        probability = 1.0 / (1.0 + math.exp(-z))
        return max(probability, NAMED_SECTION_CONFIDENCE) if self.named_section else probability

    @property
    def text(self) -> str:
        """The sentence itself."""
        return self.passage.sentence_text(self.start, self.end)


class ExtractiveAnswerer:
    """Answers with verbatim sentences from the passages, or refuses when none is good enough."""

    name = "extractive"

    def __init__(self, settings: Settings) -> None:
        self.threshold = settings.refusal_threshold
        self.max_sentences = settings.max_answer_sentences

    def answer(self, question: Question, retrieval: Retrieval) -> Answer:
        """Quote the best sentences with [n] markers, or refuse."""
        candidates = score_candidates(question, retrieval)
        confidence = candidates[0].confidence if candidates else 0.0
        if not candidates or confidence < self.threshold:
            return Answer(
                question=question.text, text=REFUSAL_TEXT, refused=True, confidence=confidence
            )
        chosen = [candidates[0]]
        for candidate in candidates[1 : 2 * self.max_sentences]:
            if len(chosen) >= self.max_sentences:
                break
            good_enough = candidate.rank_score >= SECOND_SENTENCE_RATIO * chosen[0].rank_score
            if good_enough and not any(_overlaps(candidate, other) for other in chosen):
                chosen.append(candidate)
        if len({c.passage.doc_id for c in chosen}) == 1:  # read in document order
            chosen.sort(key=lambda c: c.start)
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        for number, candidate in enumerate(chosen, start=1):
            start, text = _with_defined_term(candidate)
            citations.append(
                citation_for(number, candidate.passage, start, candidate.end, candidate.confidence)
            )
            # A verbatim quote is supported by its own span by construction. Bracketed numbers
            # in the document ("[7]") are left out of the answer text, where they would pose
            # as citations; the citation's quote keeps the exact document text.
            sentences.append(
                AnswerSentence(
                    text=with_marker(without_document_markers(text), number),
                    citations=(number,),
                    supported=True,
                    support=1.0,
                )
            )
        return Answer(
            question=question.text,
            text=" ".join(sentence.text for sentence in sentences),
            citations=tuple(citations),
            confidence=confidence,
            sentences=tuple(sentences),
            support=1.0,
        )


def score_candidates(question: Question, retrieval: Retrieval) -> list[Candidate]:
    """Every distinct sentence of the retrieved passages, best first."""
    focus = content_terms(question.text) or content_terms(question.standalone)
    weights = {term: retrieval.idf.get(term, 1.0) for term in focus}
    total_weight = sum(weights.values())
    expected = answer_type(question.text)
    asked = set(content_terms(question.standalone))
    seen: dict[tuple[str, int, int], Candidate] = {}
    for passage in retrieval.passages:
        if not passage.sentence_spans:
            continue
        similarities = cosine_rows(passage.sentence_vectors, retrieval.query_vector)
        heading = heading_at(passage.headings, passage.start)
        context_terms = set(
            content_terms(" ".join([passage.title, heading.title if heading else "", passage.text]))
        )
        passage_lexical = _coverage(context_terms, weights, total_weight)
        missing = max((w for t, w in weights.items() if t not in context_terms), default=0.0)
        missing /= max(weights.values(), default=1.0) or 1.0
        for (start, end), similarity in zip(passage.sentence_spans, similarities, strict=True):
            key = (passage.doc_id, start, end)
            if key in seen:
                continue
            sentence = passage.sentence_text(start, end)
            sentence_terms = set(content_terms(sentence))
            if not sentence_terms - asked:
                continue  # it only repeats the question (e.g. the heading it names)
            if looks_like_instruction(sentence):
                continue  # a prompt injection is never quoted as an answer (injection.py)
            section = heading_at(passage.headings, start)
            seen[key] = Candidate(
                passage=passage,
                start=start,
                end=end,
                semantic=float(np.clip(similarity, 0.0, 1.0)),
                lexical=_coverage(sentence_terms, weights, total_weight),
                passage_lexical=passage_lexical,
                missing=missing,
                type_ok=_has_type(sentence, expected, question.text),
                code=looks_like_code(sentence),
                short=len(sentence.split()) < 5,
                wants_name=expected in ("person", "entity"),
                named_section=section is not None and _names(asked, section.title),
            )
    return sorted(seen.values(), key=lambda c: -c.rank_score)


def answer_type(question: str) -> str | None:
    """The kind of answer asked for: 'person', 'entity', 'date', 'number' or None."""
    tokens = words(question)
    head = tokens[:4]
    if "how" in head:
        after = tokens[tokens.index("how") + 1 : tokens.index("how") + 2]
        if after and after[0] in {"many", "much", "long", "old", "often", "far"}:
            return "number"
    if "when" in head or ("what" in head and {"year", "date", "month"} & set(tokens)):
        return "date"
    if {"who", "whom", "whose"} & set(head):
        return "person"
    if {"which", "what"} & set(head) and _ENTITY_WORDS & set(tokens[:6]):
        return "entity"
    return None


def looks_like_code(sentence: str) -> bool:
    """Whether a line is code (a prompt, a signature, markup) rather than prose."""
    if _CODE_START.match(sentence):
        return True
    symbols = sum(character in _SYMBOLS for character in sentence)
    return symbols / max(1, len(sentence)) > 0.08


def _has_type(sentence: str, expected: str | None, question: str) -> bool:
    if expected is None:
        return True
    if expected == "date":
        return bool(_DATE.search(sentence))
    if expected == "number":
        return bool(_NUMBER.search(sentence))
    # A name: a capitalised or code-like word (not sentence-initial) the question lacks.
    asked = {_bare(word) for word in _NAME_TOKEN.findall(question)}
    tokens = [_bare(token) for token in _NAME_TOKEN.findall(sentence)]
    originals = _NAME_TOKEN.findall(sentence)
    return any(
        (original[0].isupper() or "_" in original or "." in original.strip("."))
        and token not in asked
        and token not in STOPWORDS
        and token not in QUESTION_WORDS
        for original, token in zip(originals[1:], tokens[1:], strict=True)
    )


_NAME_TOKEN = re.compile(r"[^\W_][\w.’'-]*")


def _bare(token: str) -> str:
    """Lower-cased, without possessive 's and trailing punctuation."""
    return re.sub(r"['’]s?$", "", token.lower().rstrip(".-")).rstrip(".-")


def _with_defined_term(candidate: Candidate) -> tuple[int, str]:
    """Start the quote at the defined term (e.g. an API signature) the sentence describes.

    "Return the greatest common divisor ..." says little without "math.gcd(*integers)" above it.
    """
    passage = candidate.passage
    heading = heading_at(passage.headings, candidate.start)
    if heading is None or heading.kind != "term" or heading.offset < passage.start:
        return candidate.start, candidate.text
    between = passage.sentence_text(heading.offset + len(heading.title), candidate.start)
    if between.strip() or heading.offset == candidate.start:
        return candidate.start, candidate.text
    return heading.offset, f"{heading.title}: {candidate.text}"


def _names(asked: set[str], heading: str) -> bool:
    """Whether the question names this heading ("Tell me about Stablecoin Shutdown")."""
    heading_terms = set(content_terms(heading))
    return len(heading_terms) >= 2 and heading_terms <= asked


def _coverage(found: set[str], weights: dict[str, float], total: float) -> float:
    if total <= 0:
        return 0.0
    return sum(weight for term, weight in weights.items() if term in found) / total


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.passage.doc_id == b.passage.doc_id and a.start < b.end and b.start < a.end

"""Generative answers: an LLM writes from numbered sources, then every citation is verified.

The shared logic of every LLM backend (`llamacpp`, `openai`; the tests' `fake` double too); a
backend only says how to build its llama-index `LLM`. For each question:

1. Gate: the extractive answerer's calibrated confidence on the same retrieval; below
   `llm_gate_threshold` the answer is a refusal and the model is not called (small models
   invent answers to questions the documents don't answer).
2. Generate: the prompt files' system and answer messages with the best evidence windows (the
   extractive ranking's, `evidence.py`) fenced as numbered
   data; tokens are streamed as they come. A failure, a timeout or an unreachable endpoint gives
   the extractive answer with a notice instead, never an exception.
3. Verify: the text is split into sentences, each aligned to a span of a source it cites (else
   of any retrieved source). Supported sentences keep renumbered citations of those exact spans;
   unsupported ones are flagged and left out of the text; dangling numbers disappear. When
   fewer than `min_support` of the sentences are supported, the answer becomes a refusal.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from assistant.answerers.base import Question
from assistant.answerers.extractive import ExtractiveAnswerer, assess, related_windows
from assistant.answerers.prompting import Prompts
from assistant.answerers.window_features import Candidate
from assistant.backreference import needs_context
from assistant.citations import REFUSAL_TEXT, citation_for, with_markers
from assistant.condense import condense as condense_by_rules
from assistant.embedding import Embedder
from assistant.evidence import as_passage
from assistant.retrieval import Retrieval
from assistant.settings import Settings
from assistant.text import content_terms
from assistant.types import Answer, AnswerSentence, Citation, Message, Passage
from assistant.verify import CheckedClaim, Verifier

if TYPE_CHECKING:
    from llama_index.core.base.llms.types import ChatMessage, ChatResponseGen
    from llama_index.core.llms import LLM

log = logging.getLogger(__name__)

# How a model says the sources lack the answer (the prompt asks for the first form).
_MODEL_REFUSAL = re.compile(
    r"^\W*(i'?m sorry,? )?(the )?(sources?|documents?|context|text|article)s? (do(es)?n'?t|do(es)? "
    r"not|did not|didn'?t) (answer|contain|mention|say|provide|include|specify|state)"
    r"|^\W*(i (do not|don'?t|cannot|can'?t) (know|find|answer))"
    r"|^\W*(there is|i found) no (information|mention)"
    r"|^\W*(this|that|the answer) is not (mentioned|stated|given|provided|in the)",
    re.IGNORECASE,
)
MAX_CITATIONS_PER_SENTENCE = 2
CONDENSE_MAX_TOKENS = 64


class LLMUnavailableError(Exception):
    """The language model failed, timed out or could not be reached; `reason` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GenerativeAnswerer:
    """Answers with an LLM and verifies every sentence; subclasses provide `create_llm`."""

    name = "generative"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.prompts = Prompts.load(settings.prompts_dir)  # a bad prompt file fails here, early
        self.fallback = ExtractiveAnswerer(settings)
        self.verifier = Verifier(Embedder.from_settings(settings))
        self._llm: LLM | None = None
        self._lock = threading.Lock()

    # -- the backend ----------------------------------------------------------------------
    def create_llm(self) -> LLM:
        """The llama-index LLM of this backend (called once, on first use)."""
        raise NotImplementedError

    def describe_failure(self, error: Exception) -> str:
        """A short, secret-free reason for a failed generation, shown to the user."""
        first_line = (str(error).strip().splitlines() or [""])[0][:160]
        return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__

    @property
    def llm(self) -> LLM:
        """The backend's LLM, built on first use."""
        with self._lock:
            if self._llm is None:
                self._llm = self.create_llm()
            return self._llm

    @property
    def gate_threshold(self) -> float:
        """Confidence below which the model is not asked: the setting, else the fitted one."""
        gate = self.settings.llm_gate_threshold
        return self.fallback.threshold if gate is None else gate

    # -- answering ------------------------------------------------------------------------
    def answer(self, question: Question, retrieval: Retrieval) -> Answer:
        """The verified answer (the last event of `stream`)."""
        final: Answer | None = None
        for event in self.stream(question, retrieval):
            if isinstance(event, Answer):
                final = event
        if final is None:  # pragma: no cover - stream always ends with an Answer
            raise RuntimeError("the answer stream ended without an answer")
        return final

    def stream(self, question: Question, retrieval: Retrieval) -> Iterator[str | Answer]:
        """Tokens as the model writes them, then the verified Answer."""
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        assessment = assess(question, retrieval, self.fallback.model)
        confidence = assessment.confidence
        timings["gate"] = _ms(clock)
        if not retrieval.passages or confidence < self.gate_threshold:
            refusal = _refusal(question, confidence, timings)
            yield refusal.text
            yield refusal.model_copy(update={"related": related_windows(assessment.candidates, ())})
            return

        passages = evidence_passages(assessment.candidates)
        messages = self.prompts.answer_messages(question.standalone, passages)
        pieces: list[str] = []
        clock = time.perf_counter()
        try:
            for delta in self.generate(messages):
                pieces.append(delta)
                yield delta
            if not "".join(pieces).strip():  # e.g. `choices: []`: nothing to check, no refusal
                raise LLMUnavailableError("the model returned no text")
        except LLMUnavailableError as exc:
            log.warning("%s answerer fell back to extractive: %s", self.name, exc.reason)
            fallback = self._fallback(question, retrieval, exc.reason, timings)
            if not pieces:
                yield fallback.text
            yield fallback
            return
        timings["generate"] = _ms(clock)

        clock = time.perf_counter()
        answer = self.verified_answer(question, "".join(pieces), passages, confidence)
        timings["verify"] = _ms(clock)
        yield answer.model_copy(
            update={
                "timings_ms": {**timings, **answer.timings_ms},
                "related": related_windows(assessment.candidates, answer.citations),
            }
        )

    def generate(
        self, messages: Sequence[ChatMessage], max_tokens: int | None = None
    ) -> Iterator[str]:
        """Stream the model's reply; any failure or overrun becomes LLMUnavailableError."""
        timeout = self.settings.llm_timeout
        deadline = time.monotonic() + timeout
        options: dict[str, Any] = {}
        if max_tokens is not None:
            options["max_tokens"] = max_tokens
        try:
            for response in self.llm.stream_chat(messages, **options):
                if response.delta:
                    yield response.delta
                if time.monotonic() > deadline:
                    raise LLMUnavailableError(f"no complete answer within {timeout:g} s")
        except LLMUnavailableError:
            raise
        except Exception as exc:  # any backend error: the user gets the fallback, not a trace
            raise LLMUnavailableError(self.describe_failure(exc)) from exc

    def verified_answer(
        self, question: Question, generated: str, passages: Sequence[Passage], confidence: float
    ) -> Answer:
        """The generated text checked sentence by sentence against the passages."""
        if _MODEL_REFUSAL.search(generated.strip()):
            return _refusal(question, confidence, {})
        claims = [c for c in self.verifier.check(generated, passages) if c.claim.substantive]
        supported = [c for c in claims if c.supported]
        support = len(supported) / len(claims) if claims else 0.0
        if not supported or support < self.settings.min_support:
            refusal = _refusal(question, confidence, {})
            notice = (
                "The language model's answer was withheld: the documents support "
                f"{len(supported)} of its {len(claims)} sentences."
                if claims
                else None
            )
            return refusal.model_copy(update={"support": support, "notice": notice})
        citations, sentences = _cite(claims, passages)
        dropped = len(claims) - len(supported)
        dangling = sorted({n for c in claims for n in c.dangling})
        return Answer(
            question=question.text,
            text=" ".join(s.text for s in sentences if s.supported),
            citations=tuple(citations),
            confidence=confidence,
            sentences=tuple(sentences),
            support=support,
            notice=_verification_notice(dropped, dangling),
        )

    # -- follow-ups -----------------------------------------------------------------------
    def condense(self, question: str, history: Sequence[Message]) -> str:
        """A self-contained form of a follow-up, written by the LLM (rules as the fallback)."""
        by_rules = condense_by_rules(question, history)
        if not history or not needs_context(question):
            return by_rules  # as asked, or a scenario's reference to the last turn resolved
        messages = self.prompts.condense_messages(question, history)
        try:
            reply = "".join(self.generate(messages, max_tokens=CONDENSE_MAX_TOKENS))
        except LLMUnavailableError as exc:
            log.warning("condensing with the LLM failed (%s); using rules", exc.reason)
            return by_rules
        rewritten = _clean_condensed(reply)
        own_terms = set(content_terms(question))
        kept = own_terms & set(content_terms(rewritten))
        # A small model may answer instead of rewriting, or drop the question's own topic.
        if not rewritten or len(rewritten) > 300 or len(kept) < len(own_terms) / 2:
            return by_rules
        return rewritten

    # -- helpers --------------------------------------------------------------------------
    def _fallback(
        self, question: Question, retrieval: Retrieval, reason: str, timings: dict[str, float]
    ) -> Answer:
        answer = self.fallback.answer(question, retrieval)
        notice = f"The language model was unavailable ({reason}); showing quoted sentences instead."
        return answer.model_copy(update={"notice": notice, "timings_ms": timings})


def chat_stream(deltas: Iterable[str]) -> ChatResponseGen:
    """llama-index chat responses from text pieces (for the LLM adapters of the backends)."""
    from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole

    text = ""
    for delta in deltas:
        text += delta
        message = ChatMessage(role=MessageRole.ASSISTANT, content=text)
        yield ChatResponse(message=message, delta=delta)


def _cite(
    claims: Sequence[CheckedClaim], passages: Sequence[Passage]
) -> tuple[list[Citation], list[AnswerSentence]]:
    """Citations of the supporting spans, numbered by first use, and the answer's sentences."""
    citations: list[Citation] = []
    numbers: dict[tuple[str, int, int], int] = {}
    sentences: list[AnswerSentence] = []
    for checked in claims:
        if not checked.supported:
            sentences.append(
                AnswerSentence(text=checked.claim.text, supported=False, support=checked.score)
            )
            continue
        ids: list[int] = []
        for found in checked.supports[:MAX_CITATIONS_PER_SENTENCE]:
            passage = passages[found.passage]
            span = found.alignment
            key = (passage.doc_id, span.start, span.end)
            if key not in numbers:
                numbers[key] = len(citations) + 1
                citations.append(
                    citation_for(numbers[key], passage, span.start, span.end, span.score)
                )
            if numbers[key] not in ids:
                ids.append(numbers[key])
        sentences.append(
            AnswerSentence(
                text=with_markers(checked.claim.text, ids),
                citations=tuple(ids),
                supported=True,
                support=checked.supports[0].alignment.score,
            )
        )
    return citations, sentences


def _verification_notice(dropped: int, dangling: Sequence[int]) -> str | None:
    parts = []
    if dropped:
        noun = "sentence" if dropped == 1 else "sentences"
        parts.append(f"{dropped} {noun} the documents don't support left out")
    if dangling:
        marks = ", ".join(f"[{n}]" for n in dangling)
        parts.append(f"citation {marks} pointing at no source removed")
    if not parts:
        return None
    return "Checked against the documents: " + "; ".join(parts) + "."


def _refusal(question: Question, confidence: float, timings: dict[str, float]) -> Answer:
    return Answer(
        question=question.text,
        text=REFUSAL_TEXT,
        refused=True,
        confidence=confidence,
        timings_ms=dict(timings),
    )


# The LLM reads the best evidence windows (the extractive ranking's), not whole chunks.
EVIDENCE_WINDOWS = 5


def evidence_passages(candidates: Sequence[Candidate]) -> list[Passage]:
    """The best distinct, non-overlapping evidence windows as numbered sources."""
    chosen: list[Candidate] = []
    for candidate in candidates:
        if not any(candidate.window.overlaps(c.window) for c in chosen):
            chosen.append(candidate)
        if len(chosen) == EVIDENCE_WINDOWS:
            break
    return [as_passage(c.window) for c in chosen]


def _clean_condensed(reply: str) -> str:
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    text = re.sub(r"^(self-contained question|question|rewritten)\s*:\s*", "", lines[0], flags=re.I)
    return text.strip().strip("\"'“”").strip()


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000

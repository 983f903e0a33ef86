"""What the extractive answerer judges evidence windows by, no model call beyond one embedding
of the question's asking clause.

Each window (`evidence.py`) of the retrieved passages gets ranking features: its sentence
vector against the question and against that clause, the IDF-weighted share of the question's
terms it holds, what it adds beyond the question, whether it holds the kind of answer asked for,
and how its passage ranked. The question as a whole gets confidence features: how well the best
windows match the ask, and which of its specific things the evidence or the corpus lacks. The
fitted models that weigh them are in `extractive_model.json` (`extractive.py`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.answerers import answer_kinds
from assistant.answerers.base import Question
from assistant.backreference import refers_back
from assistant.evidence import GOES_ON, Window, window_for
from assistant.evidence_lines import is_fence_line, is_heading_at
from assistant.fences import renders_whole
from assistant.injection import looks_like_instruction
from assistant.interpret import analyse
from assistant.line_shapes import looks_like_code, only_bare_tags
from assistant.phrases import slipped_from
from assistant.retrieval import Retrieval, cosine_rows
from assistant.text import (
    CONTENTS_ENTRY,
    STOPWORDS,
    content_terms,
    cut_inside_code,
    sentence_spans,
    stem,
    words,
)
from assistant.types import Passage, heading_at
from assistant.verify import strip_markers

# A term's absence counts fully from 10**ABSENCE_FULL_AT chunks on (less in smaller corpora).
ABSENCE_FULL_AT = 3.0
# The confidence looks at the coverage of the best few windows, not only the first.
TOP_WINDOWS = 5

RANK_FEATURES = (
    "semantic", "semantic_focus", "semantic_rel", "section_semantic", "lexical",
    "lexical_focus", "lexical_rel", "section_lexical",
    "novelty", "type_ok", "type_missing", "default_ok",
    "passage_rank", "passage_lexical", "code", "short", "expanded", "dangling",
    "stop_ok", "stop_missing", "instructs",
    "context", "context_focus", "context_rel", "context_focus_rel",
)  # fmt: skip
CONFIDENCE_FEATURES = (
    "semantic", "lexical_focus", "specific_absent_evidence", "focus_absent_corpus",
)  # fmt: skip

# A table of contents has at least this many entries in a passage (see _is_contents).
MIN_CONTENTS_ENTRIES = 3


@dataclass(frozen=True)
class Candidate:
    """An evidence window of a retrieved passage and the features it is judged by."""

    window: Window
    features: dict[str, float]
    score: float = 0.0  # the ranking model's probability that the window answers

    @property
    def passage(self) -> Passage:
        """The passage the window lies in."""
        return self.window.passage

    @property
    def text(self) -> str:
        """The window's text."""
        return self.window.text


def confidence_features(
    question: Question, retrieval: Retrieval, ranked: Sequence[Candidate]
) -> dict[str, float]:
    """Question-level features: how well the evidence matches the ask, and what it lacks.

    Four, each with the sign one expects (more similar and more covered: answerable; specific
    things missing: not). Models with more features fitted the tuning corpora better and
    transferred worse between them (leave-one-corpus-out, docs/evaluation-history.md).
    """
    ask = analyse(question.standalone)
    # The retrieved passages' words as written (for slips, below) and their terms.
    evidence_words: set[str] = set()
    for passage in retrieval.passages:
        evidence_words |= set(words(passage.title + "\n" + passage.text))
    evidence_terms = {stem(word) for word in evidence_words if word not in STOPWORDS}
    # What the question asks about is its asking clause: a scenario's own names ("the Paris
    # office", "over SSH") need not be in the documents; the ask's ("export to MP4") must.
    focus_terms = content_terms(ask.focus)
    in_focus = set(focus_terms)
    specific = [t for t in ask.specific_terms if t in in_focus]
    # A question that capitalises no name names its things in lower case: a word that is no
    # common English word and that the corpus never uses ("how do i enable quic") is one,
    # unless it is plainly a slip of a word the evidence holds ("brokrages").
    specific += [
        t
        for t in ask.uncommon_terms
        if t in in_focus
        and t not in specific
        and retrieval.term_counts.get(t, 1) == 0
        and not slipped_from(t, evidence_terms)
    ]
    # An ask that points back at its scenario ("How do we switch that behaviour off?", "Which
    # option generates one?") is about the scenario's things: what the corpus lacks is then
    # measured over the whole question, not over "switch", "behaviour" and "off".
    scope = content_terms(question.standalone) if refers_back(ask.focus) else focus_terms
    focus = {t: term_weight(retrieval, t) for t in scope}
    # A word the corpus lacks that is plainly a slip of one the evidence holds ("brokreages")
    # is that word, not a thing the documents lack (read as typed: stems of two words can be
    # one letter apart, "current" and "currenc-y").
    typed = {stem(word): word for word in words(question.standalone)}
    absent = sum(
        w
        for t, w in focus.items()
        if retrieval.term_counts.get(t, 1) == 0
        and not (t in typed and slipped_from(typed[t], evidence_words))
    )
    # Absence from a large corpus is strong evidence, from a handful of chunks weak.
    strength = min(1.0, math.log10(1 + retrieval.chunk_count) / ABSENCE_FULL_AT)
    return {
        "semantic": max(c.features["semantic"] for c in ranked),
        "lexical_focus": max(c.features["lexical_focus"] for c in ranked[:TOP_WINDOWS]),
        # The share of the ask's names, code and quoted terms no retrieved passage holds.
        "specific_absent_evidence": sum(t not in evidence_terms for t in specific)
        / max(1, len(specific)),
        # The IDF-weighted share of the ask's terms (its scope) the corpus never uses.
        "focus_absent_corpus": strength * absent / (sum(focus.values()) or 1.0),
    }


def candidate_features(
    question: Question,
    retrieval: Retrieval,
    embed_focus: Callable[[str], np.ndarray] | None = None,
) -> list[tuple[Window, dict[str, float]]]:
    """Every distinct evidence window of the retrieved passages with its features."""
    ask = analyse(question.standalone)
    asked = set(content_terms(question.standalone))
    weights = {term: term_weight(retrieval, term) for term in asked if term != ask.answer_noun}
    focus_terms = (set(content_terms(ask.focus)) or asked) - {ask.answer_noun}
    focus_weights = {term: weights.get(term, term_weight(retrieval, term)) for term in focus_terms}
    focus_vector = retrieval.focus_vector
    if focus_vector is None and embed_focus is not None and ask.focus != question.standalone:
        focus_vector = embed_focus(ask.focus)
    said_before = _previous_answer_text(question)
    # What the follow-up brings that the last question did not ("And for partners?"): a window
    # said before that holds it answers the new ask, and is no mere repeat.
    brought = set(content_terms(question.text)) - set(content_terms(_last_said(question, "user")))
    wants_a_place = bool(_WHERE.search(ask.focus))
    seen: set[tuple[str, int, int]] = set()
    result: list[tuple[Window, dict[str, float]]] = []
    for passage in retrieval.passages:
        if not passage.sentence_spans:
            continue
        similarities, focus_similarities = _similarities(
            passage.sentence_vectors, retrieval.query_vector, focus_vector
        )
        # Each sentence embedded on its own after its title and section (an index built before
        # those vectors has only the pooled ones).
        contextual = passage.context_vectors
        context_similarities, context_focus_similarities = _similarities(
            passage.sentence_vectors if contextual is None else contextual,
            retrieval.query_vector,
            focus_vector,
        )
        heading = heading_at(passage.headings, passage.start)
        context_terms = set(
            content_terms(" ".join([passage.title, heading.title if heading else "", passage.text]))
        )
        passage_lexical = _coverage(context_terms, weights)
        # A sentence inherits what its section (the description under a heading or a defined
        # term) says: "The default is five minutes." answers only because of where it stands.
        sections: dict[int, list[int]] = {}
        for index, (start, _) in enumerate(passage.sentence_spans):
            owner = heading_at(passage.headings, start)
            sections.setdefault(-1 if owner is None else owner.offset, []).append(index)
        section_of = {i: key for key, members in sections.items() for i in members}
        section_similarity = {
            key: float(max(max(similarities[i], focus_similarities[i]) for i in members))
            for key, members in sections.items()
        }
        section_terms_of = {
            key: set(
                content_terms(
                    " ".join(passage.sentence_text(*passage.sentence_spans[i]) for i in members)
                )
            )
            for key, members in sections.items()
        }
        contents = _is_contents(passage.text)
        joined = _joined_over_code_cuts(passage)
        for index, (start, end) in enumerate(passage.sentence_spans):
            if index not in joined:
                continue  # the rest of a sentence Punkt cut inside code ("test ! -f ...")
            end = joined[index]
            if is_heading_at(passage, start):
                continue  # a heading names a topic; it does not answer
            window = window_for(passage, start, end)
            sentence = passage.sentence_text(start, end)
            if (is_fence_line(passage, start) and not window.expanded) or not renders_whole(
                window.text
            ):
                continue  # a code fence alone says nothing (grown, it is its block)
            if window.inside_block:
                continue  # one line from inside a block it could not grow to: alone it says nothing
            if (
                GOES_ON.match(window.text.lstrip())
                and not looks_like_code(sentence)
                and _left_open(passage, window.start)
            ):
                continue  # "or the number of digits ...": the rest of a sentence begun before it
            if contents and all(CONTENTS_ENTRY.search(x) for x in _lines_of(passage, window)):
                continue  # a table of contents says where the answer is, not what it is
            key = (passage.doc_id, window.start, window.end)
            if key in seen:
                continue
            if window.cut_open or only_bare_tags(window.text):
                continue  # code cut out of its statement, or a lone tag, reads as nothing whole
            text = window.text
            window_terms = set(content_terms(text))
            if not window_terms - asked:
                continue  # it only repeats the question
            if looks_like_instruction(sentence):
                continue  # a prompt injection is never quoted as an answer (injection.py)
            if points_elsewhere(text, wants_a_place=wants_a_place):
                continue  # "See also git-tag(1).", a bare link: where an answer is, not what
            if (
                said_before
                and " ".join(sentence.split()) in said_before
                and not brought & window_terms
            ):
                continue  # a follow-up wants something new, not the last answer again
            seen.add(key)
            novel = window_terms - asked
            says_stop = ask.asks_to_stop and answer_kinds.says_stop(text)
            section = heading_at(passage.headings, start)
            section_terms = set(content_terms(section.title)) if section else set()
            key_of_section = section_of[index]
            result.append(
                (
                    window,
                    {
                        "semantic": float(np.clip(similarities[index], 0.0, 1.0)),
                        "semantic_focus": float(np.clip(focus_similarities[index], 0.0, 1.0)),
                        "context": float(context_similarities[index]),
                        "context_focus": float(context_focus_similarities[index]),
                        "section_semantic": float(
                            np.clip(section_similarity[key_of_section], 0.0, 1.0)
                        ),
                        "section_lexical": _coverage(
                            section_terms | section_terms_of[key_of_section], focus_weights
                        ),
                        "lexical": _coverage(window_terms | section_terms, weights),
                        "lexical_focus": _coverage(window_terms | section_terms, focus_weights),
                        "novelty": min(1.0, len(novel) / 8.0),
                        "type_ok": float(
                            ask.answer_type is not None and answer_kinds.has_type(text, ask)
                        ),
                        "type_missing": float(
                            ask.answer_type is not None and not answer_kinds.has_type(text, ask)
                        ),
                        "default_ok": float(
                            ask.asks_default and answer_kinds.states_default(passage, window, asked)
                        ),
                        "asks_default": float(ask.asks_default),
                        "stop_ok": float(says_stop),
                        "stop_missing": float(ask.asks_to_stop and not says_stop),
                        "instructs": float(answer_kinds.instructs(text)),
                        "passage_rank": 1.0 / (1.0 + passage.rank),
                        "passage_lexical": passage_lexical,
                        "code": float(looks_like_code(sentence)),
                        "short": float(len(words(text)) < 5),
                        "expanded": float(window.expanded),
                        "dangling": float(window.dangling),
                    },
                )
            )
    set_relative([values for _, values in result])
    return result


def set_relative(candidates: Sequence[dict[str, float]]) -> None:
    """Give a question's candidates (their feature dicts) the features that are relative to
    its best candidate: comparable across questions and corpora."""
    for name, relative in _RELATIVE_FEATURES:
        best = max((values[name] for values in candidates), default=0.0)
        for values in candidates:
            values[relative] = values[name] - best


# Features also given relative to the question's best candidate, and the relative one's name.
_RELATIVE_FEATURES = (
    ("semantic", "semantic_rel"),
    ("lexical_focus", "lexical_rel"),
    ("context", "context_rel"),
    ("context_focus", "context_focus_rel"),
)


def _similarities(
    vectors: np.ndarray, query: np.ndarray, focus: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's cosine with the question, and with its asking clause (the question's again
    when the clause has no vector of its own)."""
    to_query = cosine_rows(vectors, query)
    return to_query, to_query if focus is None else cosine_rows(vectors, focus)


# Added to every term's IDF: in a small corpus a term found in every chunk has an IDF near 0,
# and coverage would hang on the one or two rarer words of the question.
TERM_WEIGHT_FLOOR = 1.0


def term_weight(retrieval: Retrieval, term: str) -> float:
    """How much a question term counts in coverage: its IDF plus a floor."""
    return retrieval.idf.get(term, 1.0) + TERM_WEIGHT_FLOOR


def _joined_over_code_cuts(passage: Passage) -> dict[int, int]:
    """Each sentence of a passage that starts one, by index, with its end: past the cuts that
    Punkt made inside code after a "?" or "!" (`text.cut_inside_code`). A sentence that goes
    on such a cut is not a key."""
    text, offset = passage.text, passage.start
    joined: dict[int, int] = {}
    first = -1
    for index, (start, end) in enumerate(passage.sentence_spans):
        if first >= 0 and cut_inside_code(text, joined[first] - offset, start - offset):
            joined[first] = end
        else:
            first = index
            joined[index] = end
    return joined


def _last_said(question: Question, role: str) -> str:
    """What the history's last message of `role` says ("" without one)."""
    return next((m.content for m in reversed(question.history) if m.role == role), "")


def _previous_answer_text(question: Question) -> str:
    """The last answer as plain text: without its [n] markers, which stand before a sentence's
    full stop ("... in Hong Kong [1].") where the quoted sentence has none."""
    return " ".join(strip_markers(_last_said(question, "assistant")).split())


def _is_contents(text: str) -> bool:
    """Whether a passage is (part of) a table of contents: at least three entries with dot
    leaders whose page numbers never go down ("Maximum connections ...... 100" in a list of
    settings is a value, not a page; an index's entries, in the order of their words, stay
    windows)."""
    pages = [int(m.group(1)) for m in map(CONTENTS_ENTRY.search, text.splitlines()) if m]
    return len(pages) >= MIN_CONTENTS_ENTRIES and pages == sorted(pages)


def _lines_of(passage: Passage, window: Window) -> list[str]:
    """The whole lines a window lies on (a sentence splitter cuts "Locale . . . 167" apart)."""
    text = passage.text
    start = text.rfind("\n", 0, window.start - passage.start) + 1
    end = text.find("\n", window.end - passage.start)
    return text[start : len(text) if end < 0 else end].splitlines()


def _left_open(passage: Passage, start: int) -> bool:
    """Whether the text before `start` leaves a sentence unfinished: `start` lies inside a
    line, or the line before it ends without a full stop, colon, question or exclamation mark
    (a list item or a sentence of its own that opens in lower case follows a finished one:
    "if set to all, the server logs every statement", an R function "get(x) returns ...")."""
    before = passage.text[: start - passage.start]
    line_start = before.rfind("\n") + 1
    if before[line_start:].strip():
        return True
    previous = before[:line_start].rstrip()
    return not previous or previous[-1] not in ".:!?"


_WHERE = re.compile(r"\bwhere\b", re.IGNORECASE)  # "Where can I download ...?", not "anywhere"
# A link on its own, after an optional label ("Web site and issue trackers: http://...").
_BARE_LINK = re.compile(r"^(?:[^:\n]{1,60}:\s+)?<?(?:https?|ftp)://\S+?>?[.,;]?$")
# A sentence that only sends the reader elsewhere: "See also git-tag(1).", "Refer to ...",
# "In the next section, we discuss ...", "The next section describes how to ...", "For
# additional information on tuning these settings, see Section 30.5.". Not "For more
# information, review the BREACH attacks": it names what to read about.
_CROSS_REFERENCE = re.compile(
    r"^(?:\(?(?:please\s+)?see\b|refer\s+to\b"
    r"|for\s+(?:more|additional|further)\s+(?:information|details)\b[^.;:]{0,80},\s*"
    r"(?:please\s+)?(?:see|refer\s+to|consult)\b[^,;:]{0,60}$"
    r"|in\s+the\s+(?:next|following|previous)\s+(?:sections?|chapters?)\b"
    r"|the\s+(?:next|following)\s+(?:sections?|chapters?)\s+(?:describe|explain|show|cover|discuss)"
    r")",
    re.IGNORECASE,
)


def points_elsewhere(text: str, wants_a_place: bool = False) -> bool:
    """Whether a window only says where to look: a bare link (unless the ask is for a place:
    "Where can I download ...?"), or sentences that all send the reader elsewhere."""
    if _BARE_LINK.match(text.strip()):
        return not wants_a_place
    sentences = [text[start:end] for start, end in sentence_spans(text)]
    return bool(sentences) and all(_CROSS_REFERENCE.match(s.strip()) for s in sentences)


def _coverage(found: set[str], weights: dict[str, float]) -> float:
    # math.fsum: exactly rounded, so the result does not depend on the order the terms come
    # in (a set's, which changes from process to process with string hashing); a plain sum
    # differed in the last bit between runs, and the fits made from such features with it.
    total = math.fsum(weights.values())
    if total <= 0:
        return 0.0
    return math.fsum(weight for term, weight in weights.items() if term in found) / total

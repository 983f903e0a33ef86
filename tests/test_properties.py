"""Property-based tests (hypothesis): the chunker, the citation parser and verifier, settings.

Example counts are shares of the active hypothesis profile's `max_examples` and the profile
decides randomness (tests/conftest.py): the default `ci` profile is derandomised, so CI sees the
same few dozen examples every run, and `make fuzz` (the `fuzz` profile) runs random ones, many
more. A failure prints the shrunk example to add as an `@example`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from assistant import Assistant, Settings
from assistant.answerers.base import Question
from assistant.chunking import Chunker
from assistant.cli import main
from assistant.embedding import Embedder
from assistant.verify import split_claims, strip_markers
from tests.conftest import SEED_FILE, make_settings
from tests.fake_answerer import FakeAnswerer


def share_of_profile(fraction: float) -> int:
    """A share of the loaded profile's `max_examples`: 40 % of `ci`'s 100 is 40 examples, of
    `fuzz`'s 2000 is 800. Derandomisation is left to the profile, never set here."""
    return max(1, round(settings().max_examples * fraction))


BOUNDED = settings(
    max_examples=share_of_profile(0.4),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# -- the chunker --------------------------------------------------------------------------

SEED_SENTENCES = re.split(r"(?<=[.!?])\s+", SEED_FILE.read_text("utf-8"))
ODD_PIECES = [
    "\r\n", "\n\n", "\r\n\r\n", " ", "\t", "  ", ".", "。", "!", "?", "🙂", "👩‍👩‍👧", "🇵🇱",
    "e\u0301", "a\u0308\u0301", "ﷺ", "\u200b", "\u00a0", "\u2028", "\ufeff", "日本語の文です。",
    # Structure the chunker glues into runs: lead-ins, items, fences, one-line labels.
    "Run the following commands:\n", "\n- an item of a list\n", "\n```toml\nkey = 1\n```\n",
    "\n\nNote\n\n", "\n1. a numbered step\n",
]  # fmt: skip
PIECES = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30),
    st.sampled_from(ODD_PIECES),
    st.sampled_from(SEED_SENTENCES),
    st.text(alphabet="abcdefghijklmnop", min_size=200, max_size=1500),  # a word without spaces
    st.text(alphabet="🙂e\u0301ü", min_size=50, max_size=400),
)
TEXTS = st.lists(PIECES, min_size=1, max_size=30).map("".join)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """The bundled model's tokenizer (and model, for the verifier)."""
    return Embedder()


@BOUNDED
@given(text=TEXTS, size=st.sampled_from([64, 120, 200]))
@example(text="Alpha beta. " * 400 + "End.", size=64)
@example(text=("Same paragraph here.\n\n" * 30) + "Tail", size=64)
@example(text="abcdefghijklmnop" * 200, size=64)
@example(
    text=("Intro.\n\nShip it with the following table:\n\n```toml\n" + "a = 1\n" * 40 + "```\n\n"
          "Note\n\n" + "- one more item of the note\n" * 12),
    size=64,
)  # fmt: skip
@example(text="e\u0301" * 300 + "\r\n\r\n" + "🙂" * 200, size=120)
def test_chunks_map_back_exactly_and_cover_every_visible_character(
    embedder: Embedder, text: str, size: int
) -> None:
    chunks = Chunker(size, size // 5, embedder.tokenize_ids).chunk("doc", text)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    covered = bytearray(len(text))
    previous = -1
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.start > previous, "chunks go forward"
        previous = chunk.start
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    missed = [i for i, c in enumerate(text) if not c.isspace() and not covered[i]]
    assert missed == [], f"uncovered: {text[missed[0] : missed[0] + 20]!r}"


# -- the citation parser and verifier ---------------------------------------------------------

MARKERS = ["[1]", "[2]", "[3]", "[0]", "[999]", "[1,2]", "[1, 3]", "[ 1 ]", "[[1]]", "[1][2]",
           "[]", "[-1]", "[1.5]", "[x]", "[2;3]", "【1】", "[１]"]  # fmt: skip


@BOUNDED
@given(st.lists(st.one_of(st.sampled_from(MARKERS), PIECES), max_size=12).map(" ".join))
def test_split_claims_reads_markers_and_leaves_none_in_the_claims(text: str) -> None:
    for claim in split_claims(text):
        assert claim.text == claim.text.strip()
        assert not re.search(r"\[\s*\[?\s*\d+(\s*[,;]\s*\d+)*\s*\]", claim.text), claim.text
        assert all(number >= 0 for number in claim.cited)
    assert not re.search(r"\[\s*\d+\s*\]", strip_markers(text))


@pytest.fixture(scope="module")
def verifying(seed_index: Path) -> tuple[FakeAnswerer, Assistant, Any]:
    """The generative answerer's verifier and passages retrieved from the seed index."""
    assistant = Assistant(make_settings(seed_index))
    retrieval = assistant.retrieve("Which companies had to halt their stablecoin plans?", k=3)
    return FakeAnswerer(assistant.settings), assistant, retrieval.passages


def _generated(passages: Any) -> st.SearchStrategy[str]:
    sentences = [p.sentence_text(s, e) for p in passages for s, e in p.sentence_spans]
    words = st.sampled_from(sentences).map(lambda s: " ".join(s.split()[:6]))
    pieces = st.one_of(st.sampled_from(sentences), words, st.sampled_from(MARKERS), PIECES)
    return st.lists(pieces, min_size=1, max_size=10).map(" ".join)


@settings(
    max_examples=share_of_profile(0.6), deadline=None, suppress_health_check=list(HealthCheck)
)
@given(data=st.data())
def test_verified_answers_cite_only_exact_spans_of_the_passages(
    verifying: tuple[FakeAnswerer, Assistant, Any], data: st.DataObject
) -> None:
    answerer, assistant, passages = verifying
    generated = data.draw(_generated(passages))
    question = Question("q", "q", ())
    answer = answerer.verified_answer(question, generated, passages, confidence=1.0)
    ids = [citation.id for citation in answer.citations]
    assert ids == list(range(1, len(ids) + 1))
    for citation in answer.citations:
        text, _, _ = assistant.catalog.document_structure(citation.doc_id or "")
        assert citation.quote == text[citation.start : citation.end]
        assert any(
            p.doc_id == citation.doc_id and p.start <= citation.start < citation.end <= p.end
            for p in passages
        ), "a citation outside the retrieved passages"
    if answer.refused:
        assert answer.citations == ()
        return
    used = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert used == set(ids), f"markers {sorted(used)} vs citations {ids}: {answer.text!r}"
    for sentence in answer.sentences:
        assert set(sentence.citations) <= set(ids)
    # Malformed markers the model wrote never survive as look-alike citations.
    assert not re.search(r"\[\s+\d|\d\s+\]|\[\[|\]\]|\[\d+\s*[,;]", answer.text), answer.text


# -- settings -------------------------------------------------------------------------------


def _scalar_fields() -> dict[str, tuple[type | None, Any, dict[str, float]]]:
    """Fields read from one environment variable: name -> (type, literal values, bounds)."""
    found = {}
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        args = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) is Literal:
            found[name] = (None, get_args(annotation), {})
            continue
        kind = annotation if annotation in (int, float, bool) else None
        if kind is None and len(args) == 1 and args[0] in (int, float):
            kind = args[0]  # an optional number
        if kind is None:
            continue
        bounds = {}
        for meta in field.metadata:
            for key in ("ge", "gt", "le", "lt"):
                if getattr(meta, key, None) is not None:
                    bounds[key] = getattr(meta, key)
        found[name] = (kind, None, bounds)
    return found


FIELDS = _scalar_fields()


def _valid_value(name: str) -> st.SearchStrategy[Any]:
    kind, literals, bounds = FIELDS[name]
    if literals is not None:
        return st.sampled_from(literals)
    if kind is bool:
        return st.booleans()
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    if name == "chunk_size":  # above its own bound and the default chunk_overlap
        low = max(low, Settings.model_fields["chunk_overlap"].default + 1)
    if kind is int:
        return st.integers(
            int(low) + ("gt" in bounds) if low is not None else -(10**6),
            int(high) - ("lt" in bounds) if high is not None else 10**6,
        )
    return st.floats(
        low if low is not None else -1e6,
        high if high is not None else 1e6,
        exclude_min="gt" in bounds,
        exclude_max="lt" in bounds,
        allow_nan=False,
    )


def test_the_property_tests_see_the_numeric_settings() -> None:
    assert {"top_k", "chunk_size", "refusal_threshold", "max_file_mb", "embedding_backend"} <= set(
        FIELDS
    )


@BOUNDED
@given(data=st.data())
def test_valid_environment_values_round_trip(
    monkeypatch: pytest.MonkeyPatch, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(FIELDS)))
    value = data.draw(_valid_value(name))
    text = str(value).lower() if isinstance(value, bool) else str(value)
    with monkeypatch.context() as patch:
        patch.setenv(f"ASSISTANT_{name.upper()}", text)
        loaded = Settings()
    assert getattr(loaded, name) == value
    assert Settings.model_validate(loaded.model_dump()) == loaded
    assert loaded.with_overrides() == loaded


BAD_TEXT = {
    int: ["abc", "1.5", "12abc", "", "0x10", "1_000_"],
    float: ["abc", "1,5", "", "one", "--1"],
    bool: ["maybe", "2", "yes please", ""],
    None: ["bogus", "", "ONNX "],
}


def _bad_value(name: str) -> st.SearchStrategy[str]:
    kind, literals, bounds = FIELDS[name]
    wrong = list(BAD_TEXT[kind if literals is None else None])
    if "ge" in bounds:
        wrong.append(str(bounds["ge"] - 1))
    if "le" in bounds:
        wrong.append(str(bounds["le"] + 1))
    return st.sampled_from(wrong)


@BOUNDED
@given(data=st.data())
def test_wrong_environment_values_give_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(FIELDS)))
    text = data.draw(_bad_value(name))
    with monkeypatch.context() as patch:
        patch.setenv(f"ASSISTANT_{name.upper()}", text)
        with pytest.raises(ValidationError) as raised:
            Settings()
        assert raised.value.errors()[0]["loc"] == (name,)
        capsys.readouterr()
        assert main(["ask", "anything"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"assistant: error: invalid setting {name}: ")
    assert "Traceback" not in error
    assert len(error.strip().splitlines()) == 1

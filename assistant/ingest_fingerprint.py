"""The ingest fingerprint: what the stored vectors and chunks depend on, and what changed
between two of them.

Ingestion (`assistant.ingest`) compares the index's fingerprint with the current one and
rebuilds when they differ; the versions that go into it (index format, chunker, extraction,
term analysis) are bumped in their own modules, so the list of parts and the reasons named
for a rebuild live here, in one place, rather than inside the ingest run.
"""

from __future__ import annotations

from assistant.catalog import SCHEMA_VERSION
from assistant.chunking import CHUNKER_VERSION
from assistant.embedding import Embedder
from assistant.loaders import EXTRACTION_VERSION
from assistant.settings import Settings
from assistant.text import TERMS_VERSION

# The parts of the ingest fingerprint, in order, as a person would name what changed.
_FINGERPRINT_PARTS = (
    "the index format",
    "the chunker",
    "the text extraction",
    "the term analysis",
    "the embedding model",
    "chunk_size",
    "chunk_overlap",
)


def ingest_fingerprint(settings: Settings, embedder: Embedder) -> str:
    """What the stored vectors and chunks depend on; a change forces a rebuild."""
    return "|".join(
        [
            SCHEMA_VERSION,
            CHUNKER_VERSION,
            f"x{EXTRACTION_VERSION}",
            f"t{TERMS_VERSION}",
            f"{embedder.model_path.parent.name}/{embedder.model_path.name}" + embedder.vector_kind,
            str(settings.chunk_size),
            str(settings.chunk_overlap),
        ]
    )


def rebuild_reasons(before: str | None, after: str) -> tuple[str, ...]:
    """What changed between two ingest fingerprints, e.g. ("chunk_size 256 -> 200",)."""
    if before is None:
        return ()
    old, new = before.split("|"), after.split("|")
    at = _FINGERPRINT_PARTS.index("the term analysis")
    if len(old) == len(new) - 1 and not (old[at][:1] == "t" and old[at][1:].isdigit()):
        old.insert(at, "t1")  # built before the term analysis had a version of its own
    if len(old) != len(new):
        return ("the index format",)
    reasons = []
    for name, a, b in zip(_FINGERPRINT_PARTS, old, new, strict=False):
        if a != b:
            reasons.append(f"{name} {a} -> {b}" if name.startswith("chunk_") else name)
    return tuple(reasons)

"""Collections: which documents a question may be answered from.

Every document belongs to one collection (`default` unless an ingest or the settings'
`collection_folders` say otherwise). A question can be limited to chosen collections; the limit
is applied inside retrieval, to the dense and the lexical search alike, before fusion and before
the top-k cut (`retrieval.py`), so a document outside the chosen collections can neither appear
nor push a chosen one out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError

DEFAULT_COLLECTION = "default"
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")


class CollectionError(AssistantError, ValueError):
    """A collection name is malformed or names no collection of the index."""


@dataclass(frozen=True)
class CollectionInfo:
    """A collection of the index and its size."""

    name: str
    documents: int
    chunks: int


def check_name(name: str) -> str:
    """A valid collection name (lower case letters, digits, `_`, `.`, `-`; at most 63)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise CollectionError(
            f"bad collection name {name!r}: use 1-63 lower-case letters, digits, '_', '.' or "
            "'-', starting with a letter or digit"
        )
    return name


def collection_for(
    path: Path, folders: Mapping[Path, str], chosen: str | None, current: str | None
) -> str:
    """A file's collection: the one chosen for this ingest, else its deepest mapped folder,
    else the one it is already in (an ingest without a choice moves nothing), else `default`."""
    if chosen is not None:
        return chosen
    resolved = path.resolve()
    best: tuple[int, str] | None = None
    for folder, name in folders.items():
        root = folder.resolve()
        if resolved == root or root in resolved.parents:
            depth = len(root.parts)
            if best is None or depth > best[0]:
                best = (depth, name)
    if best is not None:
        return best[1]
    return current or DEFAULT_COLLECTION


def restrict(asked: Iterable[str] | None, known: Iterable[str]) -> tuple[str, ...] | None:
    """The collections a question searches: None (all) or the asked ones, each checked (a
    single name given as text is one collection, not a list of letters)."""
    if asked is None:
        return None
    if isinstance(asked, str):
        asked = [asked]
    if not isinstance(asked, Iterable):
        raise CollectionError(
            f"collections must be a list of collection names, not {type(asked).__name__}"
        )
    names = tuple(dict.fromkeys(check_name(name) for name in asked))
    if not names:
        raise CollectionError("choose at least one collection (or none, to search them all)")
    unknown = [name for name in names if name not in set(known)]
    if unknown:
        listed = ", ".join(sorted(known)) or "none yet"
        raise CollectionError(f"unknown collection {unknown[0]!r} (known: {listed})")
    return names

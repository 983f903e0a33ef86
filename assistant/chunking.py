"""Sentence-aware chunking that keeps each chunk's exact offsets into the document text."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import Document as LlamaDocument

from assistant.types import Chunk

Tokenize = Callable[[str], Sequence[int]]


class Chunker:
    """Splits documents into chunks of at most `size` tokens (of the embedding model)."""

    def __init__(self, size: int, overlap: int, tokenize: Tokenize) -> None:
        self._splitter = SentenceSplitter(
            chunk_size=size,
            chunk_overlap=overlap,
            tokenizer=tokenize,
            paragraph_separator="\n\n",
            include_metadata=False,
            include_prev_next_rel=False,
        )

    def chunk(self, doc_id: str, text: str) -> list[Chunk]:
        """Chunks covering the text, each with text == text[start:end]."""
        nodes = self._splitter.get_nodes_from_documents([LlamaDocument(text=text)])
        chunks: list[Chunk] = []
        cursor = 0
        for node in nodes:
            content = node.get_content()
            start, end = _locate(text, content, getattr(node, "start_char_idx", None), cursor)
            if end <= start:
                continue
            chunks.append(Chunk(doc_id, len(chunks), start, end, text[start:end]))
            cursor = start + 1
        return chunks


def _locate(text: str, content: str, hint: int | None, cursor: int) -> tuple[int, int]:
    """Where `content` lies in `text`: the splitter's offset when exact, else a search."""
    if hint is not None and text.startswith(content, hint):
        return hint, hint + len(content)
    found = text.find(content, cursor)
    if found >= 0:
        return found, found + len(content)
    # The splitter may have normalised whitespace; match the words with any whitespace between.
    pieces = content.split()
    if not pieces:
        return 0, 0
    pattern = r"\s+".join(re.escape(piece) for piece in pieces)
    match = re.compile(pattern).search(text, cursor)
    if match is None:
        raise ValueError("chunk text not found in document text")
    return match.start(), match.end()

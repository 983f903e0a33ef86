"""Prompt-injection defence: find sentences in documents that read like instructions to an AI.

Documents are data. A sentence such as "Ignore previous instructions and ..." is hidden from the
language model (replaced by a placeholder in the prompt) and can never count as support for an
answer, so an injected document cannot steer what the assistant says or cites.
"""

from __future__ import annotations

import re

from assistant.text import sentence_spans

PLACEHOLDER = "[instruction-like text removed]"

_PATTERNS = [
    # "ignore/disregard/forget (all) (the) previous/above instructions/rules/prompt"
    r"\b(ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,40}\b(previous|prior|above|earlier|"
    r"preceding|all|any|your|system|these|those)\b[^.!?\n]{0,30}\b(instructions?|rules|prompts?|"
    r"directions|guidelines|constraints|context)\b",
    r"\b(system|developer) (prompt|message|instructions?)\b",
    r"\byou are now\b|\bfrom now on,? you\b|\bnew instructions?\s*:",
    r"\b(respond|reply|answer|say|output|print)\b[^.!?\n]{0,30}\bonly (with|the word)\b",
    r"\bas an? (ai|language model|assistant)\b[^.!?\n]{0,40}\b(must|should|will)\b",
    # "ignore the documents", "disregard the sources above"
    r"\b(ignore|disregard)\b[^.!?\n]{0,20}\b(documents?|sources?|passages?|context)\b",
    # Chat-template and role markers copied into a document to fake a system turn:
    # "<|im_start|>system", "<|system|>", "[INST]", "<<SYS>>", "### System:", "SYSTEM:".
    r"<\|\s*(im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\s*\|>",
    r"\[/?(inst|sys|system)\]|<</?sys>>",
    r"(?:^|\n)[ \t]*(?:#{1,6}[ \t]*)?(system|developer|assistant)(?: prompt| message)?[ \t]*:",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.MULTILINE)


def looks_like_instruction(text: str) -> bool:
    """Whether the text addresses an AI with instructions (a likely prompt injection)."""
    return _INSTRUCTION.search(text) is not None


def instruction_spans(text: str) -> list[tuple[int, int]]:
    """Offsets of the sentences of `text` that read like instructions to an AI."""
    return [(s, e) for s, e in sentence_spans(text) if looks_like_instruction(text[s:e])]


def neutralize(text: str) -> str:
    """The text with every instruction-like sentence replaced by a placeholder."""
    pieces: list[str] = []
    position = 0
    for start, end in instruction_spans(text):
        pieces += [text[position:start], PLACEHOLDER]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)

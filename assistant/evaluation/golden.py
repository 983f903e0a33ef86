"""Golden question sets: a documented JSONL (or YAML) format, loaded into typed items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import AssistantError
from assistant.types import Message

Kind = Literal["factual", "list", "numeric", "date", "who", "followup", "unanswerable", "draft"]


class ExpectedSource(BaseModel):
    """A document an answer should cite, optionally with a quote the citation should contain."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    quote: str | None = None

    def matches(self, cited_source: str) -> bool:
        """Whether a cited path is this source (same path, or ends with it at a '/')."""
        cited = cited_source.replace("\\", "/")
        wanted = self.source.replace("\\", "/").lstrip("./")
        return cited == wanted or cited.endswith("/" + wanted)


class GoldenItem(BaseModel):
    """One golden question with what a correct answer looks like."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    question: str
    kind: Kind = "factual"
    history: tuple[Message, ...] = ()
    answers: tuple[str, ...] = ()
    must_contain_any: tuple[str, ...] = ()
    sources: tuple[ExpectedSource, ...] = ()
    draft: bool = Field(False, description="Generated, not yet reviewed by a person.")

    @property
    def answerable(self) -> bool:
        """Whether the documents hold the answer."""
        return self.kind != "unanswerable"


class GoldenFormatError(AssistantError):
    """A golden file is not in the documented format."""


def load_golden(path: Path) -> list[GoldenItem]:
    """Read a golden set from .jsonl (one object per line) or .yaml/.yml (a list)."""
    raw: list[object]
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in {".yaml", ".yml"}:
        import yaml

        loaded = yaml.safe_load(text) or []
        if not isinstance(loaded, list):
            raise GoldenFormatError(f"{path}: expected a list of questions")
        raw = loaded
    else:
        raw = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip() and not line.lstrip().startswith("//"):
                try:
                    raw.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise GoldenFormatError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc
    items = []
    for index, entry in enumerate(raw, start=1):
        try:
            items.append(GoldenItem.model_validate(entry))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise GoldenFormatError(f"{path}: item {index}: {where}: {first['msg']}") from exc
    ids = [item.id for item in items]
    duplicates = {item_id for item_id in ids if ids.count(item_id) > 1}
    if duplicates:
        raise GoldenFormatError(f"{path}: duplicate ids {sorted(duplicates)}")
    return items

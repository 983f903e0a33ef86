"""Golden question sets: a documented JSONL (or YAML) format, loaded into typed items."""

from __future__ import annotations

import json
import re
from difflib import SequenceMatcher, get_close_matches
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from assistant.atomic import write_text_atomic
from assistant.evaluation.config import EvalInputError
from assistant.types import Message

# A question's label. Teams choose their own ("procedural", "why", "two-part", ...); reports
# group by it. Only `unanswerable` means something to the scorer: the right answer is a refusal.
Kind = str
UNANSWERABLE = "unanswerable"
_LABEL = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
# How alike a label must be to `unanswerable` to be read as it mistyped ("unanswerble").
_TYPO = 0.85


class ExpectedSource(BaseModel):
    """A document an answer should cite, optionally with a quote the citation should contain."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    quote: str | None = None
    page: int | None = Field(None, ge=1, description="1-based page holding the quote (PDF).")

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
    note: str | None = Field(None, description="Free text for reviewers; ignored when scoring.")
    origin: str | None = Field(
        None, description="Where the question came from, e.g. the feedback it was made from."
    )

    @field_validator("id", "question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("kind")
    @classmethod
    def _label(cls, value: str) -> str:
        label = value.strip().lower()
        if not _LABEL.fullmatch(label):
            raise ValueError(
                "a label of lower-case letters, digits, '-' or '_' (at most 40), "
                f"e.g. factual, procedural, unanswerable; got {value!r}"
            )
        return label

    @field_validator("answers", "must_contain_any")
    @classmethod
    def _no_blank_terms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not term.strip() for term in value):
            raise ValueError("an empty term matches every answer; remove it")
        return value

    @model_validator(mode="after")
    def _judgeable(self) -> GoldenItem:
        """An answerable question needs key terms or sources to be judged by; an unanswerable
        one takes none; a label a letter or two from `unanswerable` is that word mistyped."""
        near = SequenceMatcher(None, self.kind, UNANSWERABLE).ratio() >= _TYPO
        if near and self.kind not in (UNANSWERABLE, "answerable"):
            raise ValueError(f"kind {self.kind!r}: did you mean {UNANSWERABLE!r}?")
        if self.answerable and not (self.key_terms or self.sources or self.draft):
            raise ValueError(
                "nothing to judge the answer by: give `answers` or `must_contain_any` (what a "
                "correct answer holds), or `sources` (the document it cites), or "
                f"`kind: {UNANSWERABLE}` when the documents do not answer it"
            )
        if not self.answerable and (self.answers or self.must_contain_any or self.sources):
            raise ValueError(
                f"a `kind: {UNANSWERABLE}` question is right when refused: it takes no "
                "`answers`, `must_contain_any` or `sources`"
            )
        return self

    @property
    def answerable(self) -> bool:
        """Whether the documents hold the answer."""
        return self.kind != UNANSWERABLE

    @property
    def key_terms(self) -> tuple[str, ...]:
        """What a correct answer must hold one of: `must_contain_any`, else `answers` (none:
        the answer is judged by the sources it cites)."""
        return self.must_contain_any or self.answers

    @property
    def references(self) -> tuple[str, ...]:
        """What an answer is compared with word by word: `answers`, else `must_contain_any`."""
        return self.answers or self.must_contain_any


class GoldenFormatError(EvalInputError):
    """A golden file is not in the documented format."""


def load_golden(path: Path | str) -> list[GoldenItem]:
    """Read a golden set from .jsonl (one object per line) or .yaml/.yml (a list), UTF-8 with or
    without a byte order mark."""
    raw: list[object]
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldenFormatError(f"cannot read golden file {path}: {exc}") from exc
    if path.suffix.lower() in {".yaml", ".yml"}:
        import yaml

        try:
            loaded = yaml.safe_load(text) or []
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "not YAML"
            raise GoldenFormatError(f"{path}: invalid YAML{where}: {problem}") from exc
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
            raise GoldenFormatError(f"{path}: item {index}{_named(entry)}: {_said(exc)}") from exc
    ids = [item.id for item in items]
    duplicates = {item_id for item_id in ids if ids.count(item_id) > 1}
    if duplicates:
        raise GoldenFormatError(f"{path}: duplicate ids {sorted(duplicates)}")
    return items


def _named(entry: object) -> str:
    """An item's id, to say which one is wrong."""
    item_id = entry.get("id") if isinstance(entry, dict) else None
    return f" ({item_id!r})" if isinstance(item_id, str) and item_id.strip() else ""


def _said(exc: ValidationError) -> str:
    """The first problem of an item in a team's words: the field, then what is wrong with it
    (a mistyped field's likely name; "a list", not pydantic's "tuple")."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        known = {*GoldenItem.model_fields, *ExpectedSource.model_fields, *Message.model_fields}
        close = get_close_matches(str(first["loc"][-1]), sorted(known), n=1)
        message = "unknown field" + (f"; did you mean {close[0]!r}?" if close else "")
    elif first["type"] == "tuple_type":
        message = "should be a list"
    return f"{where}: {message}" if where else message


def load_golden_files(paths: list[Path]) -> list[GoldenItem]:
    """Several golden files as one set; ids must be unique across them."""
    items: list[GoldenItem] = []
    origin: dict[str, Path] = {}
    read: set[Path] = set()
    for path in paths:
        if path.resolve() in read:
            raise GoldenFormatError(f"{path} is named twice")
        read.add(path.resolve())
        for item in load_golden(path):
            if item.id in origin:
                raise GoldenFormatError(f"{path}: id {item.id!r} is also used in {origin[item.id]}")
            origin[item.id] = path
            items.append(item)
    return items


def golden_record(item: GoldenItem) -> dict[str, object]:
    """An item as the documented JSON object (fields left at their defaults omitted)."""
    record: dict[str, object] = {"id": item.id, "question": item.question, "kind": item.kind}
    record.update(item.model_dump(mode="json", exclude_defaults=True))
    return record


def dumps_golden(items: list[GoldenItem], yaml_format: bool = False) -> str:
    """A golden set as JSONL text (one object per line) or as a YAML list."""
    records = [golden_record(item) for item in items]
    if yaml_format:
        import yaml

        return str(yaml.safe_dump(records, allow_unicode=True, sort_keys=False, width=100))
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def write_golden(items: list[GoldenItem], path: Path) -> None:
    """Write a golden set; the format follows the suffix (.yaml/.yml, else JSONL)."""
    yaml_format = path.suffix.lower() in {".yaml", ".yml"}
    write_text_atomic(path, dumps_golden(items, yaml_format))

"""A team's evaluation setup: `[tool.assistant.eval]` in pyproject.toml, and threshold checks.

```toml
[tool.assistant.eval]
golden = ["tests/golden/handbook.jsonl"]   # golden files (relative to pyproject.toml)
index = "index"                            # an existing index, or:
documents = ["handbook/"]                  # documents the pytest plugin indexes (cached)
answerer = "extractive"
k = 5
report = "eval-report"                     # where `assistant eval` writes JSON + HTML
question_failures = "fail"                 # or "xfail": only the thresholds fail the session
own_answers = true                         # follow-ups asked after the assistant's own answer
compare = "baseline/result.json"           # `assistant eval` compares with this run, and
fail_on_regression = true                  # fails when a question broke or a metric dropped
tolerance = 0.02                           # by more than this
min_accuracy = 0.8                         # min_<metric> / max_<metric> thresholds
min_citation_precision = 0.9
max_false_refusal_rate = 0.2
```
Read with the standard library only: the pytest plugin reads it at start-up.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.errors import AssistantError

Bound = Literal["min", "max"]
_KNOWN_KEYS = {
    "golden", "index", "documents", "answerer", "k", "report", "question_failures",
    "include_drafts", "compare", "fail_on_regression", "tolerance", "own_answers",
}  # fmt: skip


class EvalInputError(AssistantError):
    """An input of the evaluation (config, golden file, result file) is not usable."""


class EvalConfigError(EvalInputError):
    """`[tool.assistant.eval]`, a command-line option or a threshold is not valid."""


@dataclass(frozen=True)
class Threshold:
    """A bound on one metric: `min` (at least) or `max` (at most)."""

    metric: str
    bound: Bound
    value: float

    def check(self, metrics: dict[str, float | None]) -> dict[str, Any]:
        """The check's outcome; a metric that could not be measured fails."""
        actual = metrics.get(self.metric)
        if actual is None:
            ok = False
        elif self.bound == "min":
            ok = actual >= self.value - 1e-9
        else:
            ok = actual <= self.value + 1e-9
        return {
            "metric": self.metric,
            "bound": self.bound,
            "value": self.value,
            "actual": actual,
            "ok": ok,
        }


def describe_check(check: dict[str, Any]) -> str:
    """A check as one line, e.g. `accuracy 0.700 >= 0.660 ok`."""
    actual = check["actual"]
    shown = "n/a" if actual is None else f"{actual:.3f}"
    sign = ">=" if check["bound"] == "min" else "<="
    verdict = "ok" if check["ok"] else "FAILED"
    return f"{check['metric']} {shown} (needs {sign} {check['value']:g}) {verdict}"


def parse_threshold(text: str, bound: Bound) -> Threshold:
    """`NAME=VALUE` from the command line."""
    name, sep, value = text.partition("=")
    if not sep:
        raise EvalConfigError(f"--{bound} expects NAME=VALUE, got {text!r}")
    return make_threshold(name.strip().replace("-", "_"), bound, value.strip())


def make_threshold(metric: str, bound: Bound, value: object) -> Threshold:
    """A validated threshold on a known metric."""
    from assistant.evaluation.metrics import LATENCY_STAGES, METRICS, is_known_metric, is_rate

    if not is_known_metric(metric):
        known = ", ".join(METRICS)
        stages = ", ".join(LATENCY_STAGES)
        raise EvalConfigError(
            f"unknown metric {metric!r} (known: {known}, and latency_<stage>_p50_ms or "
            f"_p95_ms of a stage: {stages})"
        )
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        message = f"threshold {bound}_{metric} must be a number, got {value!r}"
        raise EvalConfigError(message) from None
    if not math.isfinite(number) or number < 0 or (is_rate(metric) and number > 1):
        scale = "from 0 to 1" if is_rate(metric) else "0 or more"
        raise EvalConfigError(f"threshold {bound}_{metric} must be {scale}, got {value!r}")
    return Threshold(metric, bound, number)


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate and the thresholds to meet; paths are absolute."""

    golden: tuple[Path, ...] = ()
    index: Path | None = None
    documents: tuple[Path, ...] = ()
    answerer: str | None = None
    k: int | None = None
    report: Path | None = None
    question_failures: Literal["fail", "xfail"] = "fail"
    include_drafts: bool = False
    compare: Path | None = None
    fail_on_regression: bool = False
    tolerance: float | None = None
    thresholds: tuple[Threshold, ...] = ()
    # Follow-ups asked after the assistant's own answer to the question before, not the
    # golden history's (runner.after_own_answer).
    own_answers: bool = False
    source: Path | None = field(default=None, compare=False)  # the pyproject.toml read

    @property
    def configured(self) -> bool:
        """Whether a pyproject.toml named golden files to evaluate."""
        return bool(self.golden)


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start`."""
    for directory in [start, *start.parents]:
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(pyproject: Path | None) -> EvalConfig:
    """`[tool.assistant.eval]` of a pyproject.toml (an empty config without file or section)."""
    if pyproject is None:
        return EvalConfig()
    try:
        data = tomllib.loads(pyproject.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EvalConfigError(f"cannot read {pyproject}: {exc}") from exc
    section = data.get("tool", {}).get("assistant", {}).get("eval")
    if section is None:
        return EvalConfig(source=pyproject)
    if not isinstance(section, dict):
        raise EvalConfigError(f"{pyproject}: [tool.assistant.eval] must be a table")
    return _parse(section, pyproject)


def _parse(section: dict[str, Any], pyproject: Path) -> EvalConfig:
    base = pyproject.parent
    where = f"{pyproject}: [tool.assistant.eval]"
    thresholds = []
    for key, value in section.items():
        if key.startswith(("min_", "max_")):
            bound: Bound = "min" if key.startswith("min_") else "max"
            try:
                thresholds.append(make_threshold(key[4:], bound, value))
            except EvalConfigError as exc:
                raise EvalConfigError(f"{where}: {exc}") from None
        elif key not in _KNOWN_KEYS:
            known = ", ".join(sorted(_KNOWN_KEYS))
            raise EvalConfigError(f"{where}: unknown key {key!r} (known: {known}, min_*, max_*)")

    def paths(key: str) -> tuple[Path, ...]:
        value = section.get(key, [])
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise EvalConfigError(f"{where}: {key} must be a path or a list of paths")
        return tuple((base / item).resolve() for item in items)

    def optional(key: str, kind: type) -> Any:
        value = section.get(key)
        if value is not None and not isinstance(value, kind):
            wanted = {str: "a string", int: "a whole number", bool: "true or false"}[kind]
            raise EvalConfigError(f"{where}: {key} must be {wanted}")
        return value

    failures = section.get("question_failures", "fail")
    if failures not in ("fail", "xfail"):
        raise EvalConfigError(f"{where}: question_failures must be 'fail' or 'xfail'")
    index = optional("index", str)
    report = optional("report", str)
    baseline = optional("compare", str)
    tolerance = section.get("tolerance")
    if tolerance is not None and (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, int | float)
        or not 0 <= tolerance < math.inf  # TOML has nan and inf
    ):
        raise EvalConfigError(f"{where}: tolerance must be a finite number of 0 or more")
    return EvalConfig(
        golden=paths("golden"),
        index=None if index is None else (base / index).resolve(),
        documents=paths("documents"),
        answerer=optional("answerer", str),
        k=optional("k", int),
        report=None if report is None else (base / report).resolve(),
        question_failures=failures,
        include_drafts=bool(optional("include_drafts", bool)),
        compare=None if baseline is None else (base / baseline).resolve(),
        fail_on_regression=bool(optional("fail_on_regression", bool)),
        tolerance=None if tolerance is None else float(tolerance),
        thresholds=tuple(thresholds),
        own_answers=bool(optional("own_answers", bool)),
        source=pyproject,
    )


def merge_thresholds(
    configured: tuple[Threshold, ...], given: list[Threshold]
) -> tuple[Threshold, ...]:
    """Thresholds from the file, each replaced by one given on the command line."""
    chosen = {(t.metric, t.bound): t for t in configured}
    chosen.update({(t.metric, t.bound): t for t in given})
    return tuple(chosen.values())

"""pytest plugin (entry point `pytest11`): golden questions as tests, thresholds as a gate.

With `golden = [...]` in `[tool.assistant.eval]` of the rootdir's pyproject.toml, every question
of those files becomes a test item (`tests/golden/qa.jsonl::q-017`) whose failure shows the
question, the answer, its citations and what was expected; a last `thresholds` item per file
fails when the file's aggregate metrics miss a `min_*`/`max_*` bound. The `assistant_eval`
fixture gives tests an `EvalSession` for their own checks. Without that configuration the
plugin collects nothing and imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from assistant.evaluation.config import EvalConfig
    from assistant.evaluation.golden import GoldenItem
    from assistant.evaluation.runner import ItemResult
    from assistant.evaluation.session import EvalSession
    from assistant.settings import Settings


@dataclass
class _State:
    config: EvalConfig
    cache_dir: Path | None
    session: EvalSession | None = None
    results: dict[Path, list[ItemResult]] = field(default_factory=dict)

    def eval_session(self) -> EvalSession:
        """The shared session, its index built from `documents` on first use if asked."""
        if self.session is None:
            from assistant.evaluation.session import EvalSession

            self.session = EvalSession(_settings(self.config, self.cache_dir),
                                       self.config.thresholds,
                                       own_answers=self.config.own_answers)  # fmt: skip
        return self.session


_STATE = pytest.StashKey[_State]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """--no-assistant-eval turns the golden-question collection off for one run."""
    group = parser.getgroup("assistant-eval", "answer-quality evaluation (assistant)")
    group.addoption(
        "--no-assistant-eval",
        action="store_true",
        help="do not collect the golden questions of [tool.assistant.eval]",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Read [tool.assistant.eval]; stay inert when it names no golden files."""
    config.addinivalue_line("markers", "assistant_eval: a golden question (assistant eval)")
    pyproject = config.rootpath / "pyproject.toml"
    if not pyproject.is_file():
        return
    from assistant.evaluation.config import EvalInputError, load_config

    try:
        eval_config = load_config(pyproject)
    except EvalInputError as exc:
        raise pytest.UsageError(f"assistant eval: {exc}") from None
    if eval_config.configured and not config.getoption("no_assistant_eval"):
        missing = [str(path) for path in eval_config.golden if not path.is_file()]
        if missing:
            raise pytest.UsageError(f"assistant eval: no golden file at {', '.join(missing)}")
        config.stash[_STATE] = _State(eval_config, _cache_dir(config))


def _cache_dir(config: pytest.Config) -> Path | None:
    """The plugin's folder in pytest's cache; None when the cache is off (-p no:cacheprovider)."""
    cache = getattr(config, "cache", None)
    return cache.mkdir("assistant-eval") if cache is not None else None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A configured golden file is collected as a file of question items."""
    state = parent.config.stash.get(_STATE, None)
    if state is None or file_path.resolve() not in state.config.golden:
        return None
    collector: GoldenFile = GoldenFile.from_parent(parent, path=file_path)
    return collector


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """One line of metrics per golden file, and where its report was written."""
    state = config.stash.get(_STATE, None)
    if state is None or not state.results:
        return
    from assistant.evaluation.command import counted, write_report
    from assistant.evaluation.results import FOLLOWUPS_AFTER, EvalRun

    terminalreporter.section("answer quality")
    for path, results in state.results.items():
        meta = {
            "golden": [str(path)],
            "followups_after": FOLLOWUPS_AFTER[state.config.own_answers],
        }
        run = EvalRun.from_results(results, meta)
        keys = ("accuracy", "citation_precision", "refusal_accuracy", "hit_at_k", "f1")
        shown = ", ".join(f"{k} {_fmt(run.metrics.get(k))}" for k in keys)
        accuracy = run.intervals.get("accuracy")
        if accuracy:  # how far a set this size pins it down (docs/evaluation.md, Metrics)
            shown += f" (accuracy 95% CI {accuracy['low']:.2f}-{accuracy['high']:.2f})"
        line = f"{path.name}: {counted(len(results), 'question')}, {shown}"
        if state.config.report is not None:
            paths = write_report(run.with_(checks=[t.check(run.metrics) for t in
                                                   state.config.thresholds]),
                                 state.config.report / path.stem)  # fmt: skip
            line += f"; report {paths['html']}"
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def assistant_eval(request: pytest.FixtureRequest) -> EvalSession:
    """An EvalSession on the configured index (or the settings' one): judge questions, gate."""
    state = request.config.stash.get(_STATE, None)
    if state is not None:
        return state.eval_session()
    from assistant.evaluation.config import load_config
    from assistant.evaluation.session import EvalSession

    pyproject = request.config.rootpath / "pyproject.toml"
    eval_config = load_config(pyproject if pyproject.is_file() else None)
    cache = _cache_dir(request.config)
    return EvalSession(
        _settings(eval_config, cache), eval_config.thresholds, own_answers=eval_config.own_answers
    )


def _settings(config: EvalConfig, cache_dir: Path | None) -> Settings:
    """Settings (environment, assistant.toml) with the evaluation's index, answerer and k."""
    from assistant.settings import Settings

    settings = Settings().with_overrides(
        index_dir=config.index, answerer=config.answerer, top_k=config.k
    )
    if config.documents and config.index is None:
        # Index the team's documents once; later sessions only re-read changed files.
        from assistant.core import Assistant

        index = (cache_dir or Path(".assistant-eval")) / "index"
        settings = settings.with_overrides(index_dir=index)
        report = Assistant(settings).ingest(list(config.documents))
        if report.failed:
            failed = ", ".join(f"{f.source} ({f.error})" for f in report.failed)
            raise pytest.UsageError(f"assistant eval: could not index {failed}")
    return settings


class GoldenFile(pytest.File):
    """A golden file: one item per question, then the thresholds item."""

    def collect(self) -> Iterator[pytest.Item]:
        """Question items in file order, then `thresholds` when bounds are configured."""
        from assistant.evaluation.golden import GoldenFormatError, load_golden

        state = self.config.stash[_STATE]
        try:
            items = load_golden(self.path)
        except GoldenFormatError as exc:
            raise self.CollectError(str(exc)) from None
        lines = _item_lines(self.path, len(items))
        for item, line in zip(items, lines, strict=True):
            yield GoldenQuestion.from_parent(self, name=item.id, golden=item, line=line)
        if state.config.thresholds:
            yield GoldenThresholds.from_parent(self, name="thresholds")


class _ExplainedItem(pytest.Item):
    """An item whose own failures are shown as their explanation, without a traceback."""

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        """The readable explanation of a wrong answer, an unmet threshold or a setup error."""
        from assistant.errors import AssistantError
        from assistant.evaluation.session import GoldenFailure

        if isinstance(excinfo.value, GoldenFailure | ThresholdsNotMet):
            return str(excinfo.value)
        if isinstance(excinfo.value, AssistantError):  # e.g. no index: one line, no traceback
            return f"assistant eval: {excinfo.value}"
        return super().repr_failure(excinfo, style)


class GoldenQuestion(_ExplainedItem):
    """One golden question: passes when answered correctly with valid citations."""

    def __init__(self, *, golden: GoldenItem, line: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.golden = golden
        self.line = line
        self.add_marker(pytest.mark.assistant_eval)
        if golden.draft and not self.config.stash[_STATE].config.include_drafts:
            self.add_marker(pytest.mark.skip(reason="unreviewed draft (draft: true)"))

    def runtest(self) -> None:
        """Ask, judge, record for the thresholds item, and fail (or xfail) readably."""
        from assistant.evaluation.session import GoldenFailure

        state = self.config.stash[_STATE]
        result = state.eval_session().judge(self.golden)
        state.results.setdefault(self.path, []).append(result)
        if result.passed:
            return
        if state.config.question_failures == "xfail":
            pytest.xfail("; ".join(result.failures))
        raise GoldenFailure(result)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Location (the item's line in a JSONL file) and title shown in reports."""
        return self.path, self.line, f"{self.golden.id}: {self.golden.question}"


class GoldenThresholds(_ExplainedItem):
    """Fails when the file's aggregate metrics miss a configured bound."""

    def runtest(self) -> None:
        """Aggregate the questions that ran in this session and check every bound."""
        from assistant.evaluation.results import EvalRun

        state = self.config.stash[_STATE]
        results = state.results.get(self.path, [])
        if not results:
            pytest.skip("no golden question of this file ran")
        run = EvalRun.from_results(results, {})
        checks = [threshold.check(run.metrics) for threshold in state.config.thresholds]
        if not all(check["ok"] for check in checks):
            raise ThresholdsNotMet(len(results), checks)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Location and title shown in reports."""
        return self.path, 0, f"answer-quality thresholds of {self.path.name}"


class ThresholdsNotMet(AssertionError):
    """Aggregate metrics below (or above) their configured bounds."""

    def __init__(self, questions: int, checks: list[dict[str, Any]]) -> None:
        from assistant.evaluation.config import describe_check

        lines = [f"answer-quality thresholds not met over {questions} questions:"]
        lines += [("  " if c["ok"] else "! ") + describe_check(c) for c in checks]
        super().__init__("\n".join(lines))


def _item_lines(path: Path, count: int) -> list[int]:
    """0-based line of each item in a JSONL file (0 for YAML, whose items span lines)."""
    if path.suffix.lower() in {".yaml", ".yml"}:
        return [0] * count
    lines = path.read_text("utf-8").splitlines()
    numbers = [
        n for n, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("//")
    ]
    return numbers[:count]


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"

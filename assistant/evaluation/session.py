"""An evaluation session for tests: judge golden questions one at a time, gate on thresholds."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.evaluation.config import Threshold, describe_check, make_threshold
from assistant.evaluation.golden import GoldenItem, load_golden

if TYPE_CHECKING:
    from assistant.core import Assistant
    from assistant.evaluation.results import EvalRun
    from assistant.evaluation.runner import ItemResult
    from assistant.settings import Settings
    from assistant.types import Answer


class GoldenFailure(AssertionError):
    """A golden question was answered wrongly; the message says what and why."""

    def __init__(self, result: ItemResult) -> None:
        from assistant.evaluation.explain import explain

        super().__init__(explain(result))
        self.result = result


class EvalSession:
    """One Assistant (built on first use) shared by every check of a test session."""

    def __init__(
        self, settings: Settings, thresholds: Sequence[Threshold] = (), own_answers: bool = False
    ) -> None:
        self.settings = settings
        self.thresholds = tuple(thresholds)
        # Follow-ups asked after the assistant's own answer (runner.after_own_answer).
        self.own_answers = own_answers
        self._assistant: Assistant | None = None
        self._lock = threading.Lock()

    @property
    def assistant(self) -> Assistant:
        """The Assistant under test."""
        with self._lock:
            if self._assistant is None:
                from assistant.core import Assistant

                # Golden questions are not what staff asked: keep them out of the question log.
                self._assistant = Assistant(self.settings, question_log_days=0)
            return self._assistant

    def ask(self, question: str, history: Sequence[Any] = ()) -> Answer:
        """Ask the assistant under test directly."""
        return self.assistant.ask(question, history=list(history))

    def judge(self, item: GoldenItem | dict[str, Any]) -> ItemResult:
        """Ask one golden question and judge it (never raises on a wrong answer)."""
        from assistant.evaluation.runner import evaluate_item
        from assistant.verify import Verifier

        golden = item if isinstance(item, GoldenItem) else GoldenItem.model_validate(item)
        assistant = self.assistant
        support = Verifier(assistant.embedder).support
        return evaluate_item(
            assistant, golden, self.settings.top_k, support, own_answers=self.own_answers
        )

    def check(self, item: GoldenItem | dict[str, Any]) -> ItemResult:
        """Judge one golden question; raise GoldenFailure (readable) when it fails."""
        result = self.judge(item)
        if not result.passed:
            raise GoldenFailure(result)
        return result

    def run(
        self, golden: Path | str | Sequence[GoldenItem], include_drafts: bool = False
    ) -> EvalRun:
        """Evaluate a golden file or list of items and aggregate the metrics."""
        from assistant.evaluation.command import run_evaluation

        items = load_golden(Path(golden)) if isinstance(golden, str | Path) else list(golden)
        items = [item for item in items if include_drafts or not item.draft]
        meta = {"golden": [str(golden)] if isinstance(golden, str | Path) else []}
        return run_evaluation(
            self.settings, items, meta, progress=False, own_answers=self.own_answers
        )

    def assert_thresholds(self, run: EvalRun, **bounds: float) -> EvalRun:
        """Raise AssertionError listing every unmet bound (min_<metric>=x, max_<metric>=x).

        Without bounds, the thresholds of [tool.assistant.eval] apply.
        """
        thresholds = [
            make_threshold(name[4:], "min" if name.startswith("min_") else "max", value)
            for name, value in bounds.items()
            if name.startswith(("min_", "max_"))
        ]
        unknown = [name for name in bounds if not name.startswith(("min_", "max_"))]
        if unknown:
            raise TypeError(f"bounds are min_<metric> or max_<metric>, not {unknown}")
        checks = [t.check(run.metrics) for t in thresholds or self.thresholds]
        failed = [describe_check(check) for check in checks if not check["ok"]]
        if failed:
            raise AssertionError("answer-quality thresholds not met:\n  " + "\n  ".join(failed))
        return run.with_(checks=checks)

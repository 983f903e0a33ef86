"""The pytest plugin, driven with pytester: inert by default, golden questions as test items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SEED_FILE, SEEDS

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
SOURCES = [{"source": SEED_FILE.name}]
GOLDEN = [
    {"id": "q-halt", "question": QUESTION, "must_contain_any": ["Ant Group"], "sources": SOURCES},
    {"id": "q-capital", "question": "What is the capital city of Canada?", "kind": "unanswerable"},
    {"id": "q-wrong", "question": QUESTION, "must_contain_any": ["zebra"], "sources": SOURCES},
    {"id": "q-draft", "question": "Who wrote it?", "draft": True},
]


@pytest.fixture(autouse=True)
def _one_encoder_for_the_inner_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytester's in-process runs get a fresh HOME and drop the modules they imported when they
    end. With their own (empty) model cache, each would export the ONNX graph again, importing
    torch anew, which cannot be loaded twice in one process. They share this process's cache
    and its encoder, loaded here, outside any inner run."""
    from assistant.embedding import Embedder, default_cache_dir

    cache = default_cache_dir()
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE_DIR", str(cache))
    assert Embedder(cache_dir=cache).encoder is not None


FIXTURE_TESTS = f"""
import pytest
from assistant.evaluation.session import GoldenFailure

QUESTION = {QUESTION!r}


def test_fixture_checks_one_question(assistant_eval):
    item = {{"id": "f1", "question": QUESTION, "must_contain_any": ["JD.com"]}}
    assert assistant_eval.check(item).passed
    with pytest.raises(GoldenFailure, match="key terms: zebra"):
        assistant_eval.check({{"id": "f2", "question": QUESTION, "must_contain_any": ["zebra"]}})


def test_fixture_runs_a_golden_file(assistant_eval):
    run = assistant_eval.run("golden/qa.jsonl")
    assert run.counts["questions"] == 3  # the draft is left out
    assistant_eval.assert_thresholds(run, min_accuracy=0.6)
    with pytest.raises(AssertionError, match="accuracy 0.667 .needs >= 0.99. FAILED"):
        assistant_eval.assert_thresholds(run, min_accuracy=0.99)
"""


def team_project(pytester: pytest.Pytester, settings: str) -> None:
    """A team's repository: a golden file and a pyproject with [tool.assistant.eval]."""
    golden = pytester.mkdir("golden") / "qa.jsonl"
    golden.write_text("".join(json.dumps(item) + "\n" for item in GOLDEN), "utf-8")
    pytester.makepyprojecttoml('[tool.assistant.eval]\ngolden = ["golden/qa.jsonl"]\n' + settings)


def test_plugin_is_inert_without_configuration(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[project]\nname = 'team'\n")
    (pytester.mkdir("golden") / "qa.jsonl").write_text(json.dumps(GOLDEN[0]) + "\n", "utf-8")
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    pytester.makeconftest(
        "import sys\n\n"
        "def pytest_sessionfinish(session):\n"
        "    heavy = [m for m in ('assistant.core', 'torch', 'chromadb', 'pydantic') "
        "if m in sys.modules]\n"
        "    open('imported.txt', 'w').write(','.join(heavy))\n"
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    assert (pytester.path / "imported.txt").read_text() == ""
    assert "answer quality" not in result.stdout.str()
    # It is installed and loaded all the same (entry point pytest11).
    plugins = pytester.runpytest_subprocess("--help")
    assert "--no-assistant-eval" in plugins.stdout.str()


def test_each_golden_question_is_a_test_with_a_readable_failure(
    pytester: pytest.Pytester, seed_index: Path
) -> None:
    team_project(
        pytester,
        f"index = {json.dumps(str(seed_index))}\n"
        'report = "eval-report"\nmin_accuracy = 0.6\nmin_citation_precision = 0.9\n'
        "min_refusal_accuracy = 0.6\n",
    )
    pytester.makepyfile(test_answers=FIXTURE_TESTS)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=5, failed=1, skipped=1)
    output = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*q-wrong: Which tech giants had their*",
            "golden question q-wrong (factual)",
            f"question: {QUESTION}",
            "answer: *Ant Group*",
            "  ?1? *000_4f69a52559980107.txt*",
            "expected:",
            "  key terms: zebra",
            "why it fails:",
            "  - the answer holds none of the key terms: zebra",
        ]
    )
    assert "def runtest" not in output  # no plugin traceback, only the explanation
    assert "unreviewed draft" in output
    result.stdout.fnmatch_lines(
        ["*answer quality*", "qa.jsonl: 3 questions, accuracy 0.667*(accuracy 95% CI 0.21-0.94)*"]
    )
    assert (pytester.path / "eval-report" / "qa" / "report.html").is_file()
    checks = json.loads((pytester.path / "eval-report" / "qa" / "result.json").read_text())
    assert all(check["ok"] for check in checks["checks"])

    # One flag turns the collection off; the fixture tests still run.
    off = pytester.runpytest("--no-assistant-eval", "--collect-only", "-q")
    assert "q-halt" not in off.stdout.str()
    off.stdout.fnmatch_lines(["*2 tests collected*"])


OWN_ANSWER_TESTS = """
def test_a_follow_up_comes_after_the_assistants_own_answer(assistant_eval):
    asked = "Which regulator ordered the halt in Hong Kong?"
    history = [{"role": "user", "content": asked},
               {"role": "assistant", "content": "The Hong Kong Monetary Authority [1]."}]
    item = {"id": "f3", "question": "Which firms did it give that directive to?",
            "history": history, "must_contain_any": ["brokerages"]}
    result = assistant_eval.judge(item)
    assert result.item.history[-1].content == assistant_eval.ask(asked).text
"""


def test_own_answers_in_the_configuration_reach_the_fixture_and_the_report(
    pytester: pytest.Pytester, seed_index: Path
) -> None:
    team_project(
        pytester,
        f'index = {json.dumps(str(seed_index))}\nreport = "eval-report"\nown_answers = true\n',
    )
    pytester.makepyfile(test_own=OWN_ANSWER_TESTS)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=3, failed=1, skipped=1)  # q-wrong fails, as above
    kept = json.loads((pytester.path / "eval-report" / "qa" / "result.json").read_text())
    assert kept["meta"]["followups_after"] == "own answer"


def test_thresholds_fail_the_session_when_questions_only_xfail(pytester: pytest.Pytester) -> None:
    # No index given: the plugin indexes the team's documents into the pytest cache.
    team_project(
        pytester,
        f"documents = [{json.dumps(str(SEEDS))}]\n"
        'question_failures = "xfail"\nmin_accuracy = 0.9\nmax_f1 = 1.0\n',
    )
    result = pytester.runpytest("-rxf")
    result.assert_outcomes(passed=2, xfailed=1, skipped=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*answer-quality thresholds of qa.jsonl*",
            "answer-quality thresholds not met over 3 questions:",
            "! accuracy 0.667 (needs >= 0.9) FAILED",
            "  f1 * (needs <= 1) ok",
            "XFAIL golden/qa.jsonl::q-wrong - the answer holds none of the key terms: zebra",
            "FAILED golden/qa.jsonl::thresholds*",
        ]
    )
    assert (pytester.path / ".pytest_cache/d/assistant-eval/index/catalog.sqlite3").is_file()
    # Deselecting every question skips the thresholds instead of judging nothing.
    only = pytester.runpytest("-k", "thresholds")
    only.assert_outcomes(skipped=1, deselected=4)


def test_a_missing_index_fails_each_question_with_one_line(pytester: pytest.Pytester) -> None:
    team_project(pytester, 'index = "no-such-index"\n')
    result = pytester.runpytest("-k", "q-halt")
    result.assert_outcomes(failed=1, deselected=3)
    result.stdout.fnmatch_lines(["assistant eval: no index at *no-such-index*"])
    assert "Traceback" not in result.stdout.str()


def test_bad_configuration_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.assistant.eval]\ngolden = ['qa.jsonl']\nmin_bogus = 1\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "assistant eval:" in result.stderr.str()
    assert "unknown metric 'bogus'" in result.stderr.str()


def test_the_plugin_works_with_pytest_cache_off(pytester: pytest.Pytester) -> None:
    # CI often runs `pytest -p no:cacheprovider`: the documents are indexed beside the project.
    team_project(pytester, f"documents = [{json.dumps(str(SEEDS))}]\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "q-halt")
    result.assert_outcomes(passed=1, deselected=3)
    assert (pytester.path / ".assistant-eval" / "index" / "catalog.sqlite3").is_file()


def test_a_configured_golden_file_that_is_missing_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    team_project(pytester, "")
    pytester.makepyprojecttoml(
        '[tool.assistant.eval]\ngolden = ["golden/qa.jsonl", "golden/missing.jsonl"]\n'
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "assistant eval: no golden file at " in result.stderr.str()
    assert "missing.jsonl" in result.stderr.str()

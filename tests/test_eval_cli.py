"""`assistant eval` end to end on the seed index: thresholds, exit codes, result file, compare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation.compare import compare
from assistant.evaluation.metrics import METRICS
from assistant.evaluation.results import load_run
from tests.conftest import GOLDEN, SEED_FILE, SEEDS, EvalRunOutput, run_cli

Runs = tuple[EvalRunOutput, EvalRunOutput]


def test_thresholds_from_a_teams_pyproject_fail_with_exit_1(seed_eval_runs: Runs) -> None:
    old, _ = seed_eval_runs
    assert old.returncode == 1, old.stderr
    assert "8 questions" in old.stdout
    assert "latency_total_p95_ms" in old.stdout
    assert "FAILED" in old.stdout
    checks = {check["metric"]: check for check in old.result["checks"]}
    assert checks["accuracy"]["ok"]
    assert not checks["latency_total_p95_ms"]["ok"]
    assert (old.report / "report.html").is_file()


def test_seed_golden_set_meets_its_thresholds(seed_eval_runs: Runs) -> None:
    _, new = seed_eval_runs
    assert new.returncode == 0, new.stdout + new.stderr
    result = new.result
    assert result["schema"] == "assistant-eval/1"
    assert result["counts"]["questions"] == 50
    assert result["counts"]["unanswerable"] == 14
    assert set(METRICS) <= set(result["metrics"])
    assert all(check["ok"] for check in result["checks"])
    assert {c["metric"] for c in result["checks"]} == {
        "accuracy", "citation_precision", "refusal_accuracy", "false_refusal_rate", "hit_at_k"
    }  # fmt: skip
    for stage in ("retrieve", "embed", "answer", "total"):
        assert result["latency_ms"][stage]["p95"] >= result["latency_ms"][stage]["p50"] > 0
        assert f"latency_{stage}_p95_ms" in result["metrics"]
    assert "best refusal_threshold = " in new.stdout
    assert "To refuse at most 5% of the answerable questions (the shipped model's rule): 0." in (
        " ".join(new.stdout.split())
    )
    for name in ("report.html", "metrics.svg", "latency.svg", "stages.svg"):
        assert (new.report / name).stat().st_size > 500


def test_every_question_is_recorded_with_exact_citations(seed_eval_runs: Runs) -> None:
    _, new = seed_eval_runs
    items = new.result["items"]
    assert len(items) == 50
    text = SEED_FILE.read_text("utf-8")
    for item in items:
        verdict = item["verdict"]
        assert verdict["passed"] == (not verdict["failures"])
        if item["refused"]:
            assert not item["citations"]
        for citation in item["citations"]:
            assert text[citation["start"] : citation["end"]] == citation["quote"]
            assert citation["valid"] is True  # the extractive answerer quotes verbatim
    accuracy = sum(item["verdict"]["correct"] for item in items) / len(items)
    assert new.result["metrics"]["accuracy"] == pytest.approx(accuracy, abs=1e-4)


def test_compare_lists_metric_changes_and_question_changes(seed_eval_runs: Runs) -> None:
    old, new = seed_eval_runs
    comparison = new.result["comparison"]
    assert comparison["against"].endswith("result.json")
    assert sum(q["change"] == "new" for q in comparison["questions"]) == 42
    assert "compared with" in new.stdout
    # Flip one question of the old run to passing and make its accuracy perfect: comparing the
    # new run against it must report that question as broken and accuracy as a regression.
    doctored = old.result
    failing = next((i for i in new.result["items"][:8] if not i["verdict"]["passed"]), None)
    assert failing is not None, "the first 8 seed questions all pass; pick another subset"
    for item in doctored["items"]:
        if item["id"] == failing["id"]:
            item["verdict"]["passed"] = True
    doctored["metrics"]["accuracy"] = 1.0
    path = old.report.parent / "doctored.json"
    path.write_text(json.dumps(doctored), "utf-8")
    diff = compare(load_run(new.report / "result.json"), load_run(path))
    rows = {row["metric"]: row for row in diff["metrics"]}
    assert rows["accuracy"]["change"] == "regression"
    assert {"id": failing["id"], "change": "broke"}.items() <= diff["questions"][0].items()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min", "bogus=1"], "unknown metric 'bogus'"),
        (["--min", "accuracy"], "expects NAME=VALUE"),
        (["--max", "accuracy=high"], "must be a number"),
        (["--min-accuracy", "5"], "threshold min_accuracy must be from 0 to 1, got 5.0"),
        (["--min", "accuracy=nan"], "threshold min_accuracy must be from 0 to 1, got 'nan'"),
        (["--max", "latency_total_p95_ms=-3"], "must be 0 or more, got '-3'"),
        (["--compare", "nowhere.json"], "cannot read result file"),
        (
            ["--compare", str(GOLDEN / "seed_qa.jsonl")],
            "is not an `assistant eval` result file (result.json): not one JSON document",
        ),
        (["--tolerance", "0.02"], "--tolerance is the regression gate's: use it with --compare"),
        (["--answerer", "oracle"], "unknown answerer 'oracle'"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    args: list[str], message: str, tmp_path: Path, seed_index: Path
) -> None:
    result = run_cli(
        "eval", str(GOLDEN / "seed_qa.jsonl"), "--index", str(seed_index), *args, cwd=tmp_path
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_a_report_place_that_cannot_be_written_or_an_empty_golden_file_exit_2_at_once(
    tmp_path: Path, seed_index: Path
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("a file, not a folder", encoding="utf-8")
    golden = str(GOLDEN / "seed_qa.jsonl")
    result = run_cli("eval", golden, "--index", str(seed_index), "--report", str(taken))
    assert result.returncode == 2, result.stderr
    assert f"cannot write the report to {taken}: it is a file, not a folder" in result.stderr
    assert result.stdout == ""  # refused before any question was asked
    assert taken.read_text(encoding="utf-8") == "a file, not a folder"
    crowded = tmp_path / "crowded"
    (crowded / "report.html").mkdir(parents=True)  # a folder where a report file goes
    result = run_cli("eval", golden, "--index", str(seed_index), "--report", str(crowded))
    assert result.returncode == 2, result.stderr
    assert f"cannot write the report to {crowded}: report.html there is a folder" in result.stderr
    assert result.stdout == ""
    long = tmp_path / "long.jsonl"
    long.write_text(
        json.dumps({"id": "wordy", "question": "Why? " * 500, "answers": ["x"]}) + "\n", "utf-8"
    )
    result = run_cli("eval", str(long), "--index", str(seed_index), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "1 question over the 2000-character limit (max_question_chars): wordy" in result.stderr
    assert result.stdout == ""
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    result = run_cli("eval", str(empty), "--index", str(seed_index), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "nothing to evaluate: the golden files hold no questions" in result.stderr


def test_missing_golden_file_or_index_exit_2(tmp_path: Path) -> None:
    nothing = run_cli("eval", cwd=tmp_path)
    assert nothing.returncode == 2
    assert "give a golden file" in nothing.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\n', "utf-8")
    broken = run_cli("eval", str(bad), cwd=tmp_path)
    assert broken.returncode == 2
    assert "item 1 ('a'): question: Field required" in broken.stderr
    no_index = run_cli("eval", str(GOLDEN / "seed_qa.jsonl"), "--index", "none", cwd=tmp_path)
    assert no_index.returncode == 2
    assert "run `assistant ingest`" in no_index.stderr


def test_an_llm_answerers_stages_are_timed(seed_index: Path, fake_answerer: str) -> None:
    """The `fake` LLM goes through the generative path: gate, generate and verify are timed."""
    from assistant.evaluation.command import run_evaluation
    from assistant.evaluation.golden import load_golden
    from tests.conftest import make_settings

    items = load_golden(GOLDEN / "seed_qa.jsonl")[:4]
    run = run_evaluation(
        make_settings(seed_index, answerer=fake_answerer), items, {}, progress=False
    )
    assert {"generate", "verify", "retrieve", "total"} <= set(run.latency)
    assert list(run.latency)[-1] == "total"
    assert run.metrics["latency_generate_p95_ms"] is not None
    assert run.meta["answerer"] == fake_answerer
    assert run.counts["answered"] + run.counts["refused"] == 4


def test_regression_gate_passes_on_the_baseline_and_fails_on_a_planted_regression(
    seed_eval_runs: Runs, seed_index: Path, tmp_path: Path
) -> None:
    """A team's CI gate: the same index and settings pass; `--k 1` (fewer passages) fails."""
    _, baseline = seed_eval_runs
    base = ["eval", str(GOLDEN / "seed_qa.jsonl"), "--index", str(seed_index)]
    gate = ["--compare", str(baseline.report / "result.json"), "--fail-on-regression"]
    same = run_cli(*base, *gate, "--report", str(tmp_path / "same"))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "no regression against the baseline (tolerance 0)" in same.stdout
    assert json.loads((tmp_path / "same" / "result.json").read_text())["comparison"]["notes"] == []

    worse = run_cli(*base, *gate, "--k", "1", "--report", str(tmp_path / "worse"))
    assert worse.returncode == 1, worse.stdout + worse.stderr
    result = json.loads((tmp_path / "worse" / "result.json").read_text("utf-8"))
    verdict = result["comparison"]["gate"]
    assert verdict["failed"]
    assert verdict["reasons"]
    broke = [q for q in result["comparison"]["questions"] if q["change"] == "broke"]
    assert broke, "k=1 was expected to break at least one seed question"
    lines = worse.stdout.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("compared with")))
    # New failures come first and each one is named with its question.
    for offset, row in enumerate(broke, start=1):
        assert lines[start + offset] == f"  broke: {row['id']} {row['question']}"
    assert "REGRESSION" in worse.stdout
    assert "note: k differs: 5 -> 1" in worse.stdout
    assert "Regression gate failed" in (tmp_path / "worse" / "report.html").read_text("utf-8")


def test_the_gate_needs_a_baseline_and_a_sane_tolerance(seed_index: Path) -> None:
    golden = str(GOLDEN / "seed_qa.jsonl")
    missing = run_cli("eval", golden, "--index", str(seed_index), "--fail-on-regression")
    assert missing.returncode == 2
    assert "--fail-on-regression needs a baseline" in missing.stderr
    negative = run_cli("eval", golden, "--index", str(seed_index), "--tolerance", "-1")
    assert negative.returncode == 2
    assert "tolerance must be 0 or more" in negative.stderr


def test_documents_for_the_plugin_are_no_index_for_the_command(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.assistant.eval]\n"
        f"golden = [{json.dumps(str(GOLDEN / 'seed_qa.jsonl'))}]\n"
        f"documents = [{json.dumps(str(SEEDS))}]\n",
        encoding="utf-8",
    )
    result = run_cli("eval", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "`documents` in [tool.assistant.eval] is indexed by the pytest plugin only" in (
        result.stderr
    )

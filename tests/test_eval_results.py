"""Aggregation, thresholds, configuration, comparison and HTML escaping, on crafted verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Answer, Citation, RelatedPassage
from assistant.evaluation.command import format_summary
from assistant.evaluation.compare import metric_change
from assistant.evaluation.config import (
    EvalConfigError,
    Threshold,
    describe_check,
    find_pyproject,
    load_config,
    merge_thresholds,
    parse_threshold,
)
from assistant.evaluation.golden import ExpectedSource, GoldenItem
from assistant.evaluation.html import render_report
from assistant.evaluation.results import EvalRun, load_run, summarize
from assistant.evaluation.runner import ItemResult, RetrievalVerdict, judge

REFUSAL = "The documents don't answer this."


def item(item_id: str, answerable: bool = True) -> GoldenItem:
    return GoldenItem(
        id=item_id,
        question=f"Question {item_id}?",
        kind="factual" if answerable else "unanswerable",
        answers=("Ant Group",) if answerable else (),
        must_contain_any=("Ant Group",) if answerable else (),
        sources=(ExpectedSource(source="a.txt", quote="Ant Group"),) if answerable else (),
    )


def reply(text: str, source: str = "docs/a.txt") -> Answer:
    if text == REFUSAL:
        return Answer(question="q", text=text, refused=True, timings_ms={"total": 10.0})
    quote = text.removesuffix(" [1].")
    citation = Citation(id=1, source=source, start=0, end=len(quote), quote=quote, score=1.0)
    timings = {"embed": 5.0, "dense": 2.0, "answer": 3.0, "total": 12.0}
    return Answer(question="q", text=text, citations=(citation,), timings_ms=timings)


def verdicts() -> list[ItemResult]:
    hit = RetrievalVerdict(("docs/a.txt",), 1.0, 1.0, 1.0, 1.0, 1.0)
    miss = RetrievalVerdict(("docs/b.txt", "docs/a.txt"), 0.0, 0.0, 0.5, 0.63, 0.0)
    support = lambda claim, text: 1.0  # noqa: E731 - logic test: every quote supports
    return [
        judge(item("1"), reply("Ant Group [1]."), hit, support),  # right
        judge(item("2"), reply("Tencent did it [1].", "docs/b.txt"), miss, support),  # wrong
        judge(item("3"), reply(REFUSAL), hit, support),  # false refusal
        judge(item("4", answerable=False), reply(REFUSAL), None, support),  # right refusal
        judge(item("5", answerable=False), reply("Ant Group [1]."), None, support),  # answered
        ItemResult(item("6"), reply(REFUSAL), False, False, error="the question is too long"),
    ]


def test_a_key_term_in_a_listed_passage_is_within_reach_not_an_answer() -> None:
    found = RelatedPassage(source="docs/a.txt", start=0, end=16, text="Ant Group halted")
    refused = reply(REFUSAL).model_copy(update={"related": (found,)})
    elsewhere = found.model_copy(update={"text": "Tencent too"})
    results = [
        judge(item("1"), refused),  # the closest passage holds it
        judge(item("2"), reply("Tencent did it [1].").model_copy(update={"related": (elsewhere,)})),
        judge(item("3"), reply("Ant Group [1].")),
    ]
    assert [r.key_term_hit for r in results] == [False, False, True]
    assert [r.key_term_in_reach for r in results] == [True, False, True]
    # A failure says so: the search found it, the answer's choice of window missed it.
    assert results[0].failures == [
        "refused a question the documents answer (a sentence under Also found holds one)"
    ]
    assert results[1].failures[0] == "the answer holds none of the key terms: Ant Group"
    metrics, _ = summarize(results)
    assert metrics["key_term_hit_rate"] == pytest.approx(1 / 3)
    assert metrics["key_term_in_reach_rate"] == pytest.approx(2 / 3)


def test_summary_counts_each_metric_over_the_right_questions() -> None:
    metrics, counts = summarize(verdicts())
    assert counts == {
        "questions": 6, "answerable": 4, "unanswerable": 2, "answered": 3, "refused": 2,
        "errors": 1, "with_sources": 3, "sentences": 3, "citations": 3,
    }  # fmt: skip
    assert metrics["accuracy"] == pytest.approx(2 / 6)  # errors count as wrong
    assert metrics["key_term_hit_rate"] == pytest.approx(1 / 3)  # over answerable, no errors
    assert metrics["exact_match"] == pytest.approx(1 / 3)
    assert metrics["hit_at_k"] == pytest.approx(2 / 3)
    assert metrics["mrr"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert metrics["refusal_precision"] == 0.5  # 2 refusals, 1 of an unanswerable question
    assert metrics["refusal_recall"] == 0.5
    assert metrics["false_refusal_rate"] == pytest.approx(1 / 3)
    assert metrics["refusal_accuracy"] == pytest.approx(3 / 5)
    assert metrics["source_citation_rate"] == 0.5  # 2 answered answerable, 1 cites a.txt
    assert metrics["citation_precision"] == 1.0
    assert metrics["evidence_at_k"] == pytest.approx(2 / 3)


def test_failures_say_why_in_words() -> None:
    results = verdicts()
    assert results[0].failures == []
    assert "none of the key terms: Ant Group" in results[1].failures[0]
    assert "no citation of an expected source (a.txt)" in results[1].failures[1]
    assert results[2].failures == ["refused a question the documents answer"]
    assert results[4].failures == ["answered a question the documents do not answer"]
    assert results[5].failures == ["error: the question is too long"]


def test_a_question_with_only_sources_is_judged_by_the_document_it_cites() -> None:
    # `assistant quality promote --source` writes such items: no key terms to look for.
    only = item("8").model_copy(update={"answers": (), "must_contain_any": ()})
    right = judge(only, reply("Tencent did it [1]."))
    assert right.correct
    assert right.failures == []
    wrong = judge(only, reply("Tencent did it [1].", "docs/b.txt"))
    assert not wrong.correct
    assert wrong.failures == ["no citation of an expected source (a.txt)"]


def test_latency_per_stage_includes_a_derived_retrieve_stage() -> None:
    run = EvalRun.from_results(verdicts(), {})
    assert list(run.latency) == ["retrieve", "embed", "dense", "answer", "total"]
    assert run.latency["retrieve"]["p50"] == 7.0  # embed + dense
    assert run.latency["total"]["n"] == 5  # the errored question has no timings
    assert run.metrics["latency_total_p95_ms"] == run.latency["total"]["p95"]


def test_report_escapes_document_text() -> None:
    hostile = judge(item("7"), reply("<script>alert('x')</script> Ant Group [1]."))
    html = render_report(EvalRun.from_results([*verdicts(), hostile], {"golden": ["a.jsonl"]}))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert html.count("<tr data-id=") == 7
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html


def test_thresholds_check_and_describe() -> None:
    metrics: dict[str, float | None] = {"accuracy": 0.7, "refusal_precision": None}
    assert Threshold("accuracy", "min", 0.7).check(metrics)["ok"]
    assert not Threshold("accuracy", "min", 0.71).check(metrics)["ok"]
    assert Threshold("accuracy", "max", 0.7).check(metrics)["ok"]
    missing = Threshold("refusal_precision", "min", 0.5).check(metrics)
    assert not missing["ok"]
    assert describe_check(missing) == "refusal_precision n/a (needs >= 0.5) FAILED"
    assert parse_threshold("latency-total-p95-ms=900", "max").metric == "latency_total_p95_ms"
    with pytest.raises(EvalConfigError, match="unknown metric 'latency_total_p99_ms'"):
        parse_threshold("latency_total_p99_ms=1", "max")
    with pytest.raises(EvalConfigError, match=r"unknown metric 'latency_totl_p95_ms' .*: embed,"):
        parse_threshold("latency_totl_p95_ms=100", "max")  # a typo, refused before the run
    assert parse_threshold("latency_retrieve_p50_ms=50", "max").bound == "max"
    merged = merge_thresholds(
        (Threshold("accuracy", "min", 0.9), Threshold("f1", "min", 0.2)),
        [Threshold("accuracy", "min", 0.5)],
    )
    assert merged == (Threshold("accuracy", "min", 0.5), Threshold("f1", "min", 0.2))


def test_pyproject_configuration(tmp_path: Path) -> None:
    project = tmp_path / "team"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'team'\n\n[tool.assistant.eval]\n"
        'golden = ["tests/qa.jsonl", "tests/more.yaml"]\nindex = "index"\n'
        'documents = "handbook"\nk = 8\nquestion_failures = "xfail"\nown_answers = true\n'
        "min_accuracy = 0.8\nmax_false_refusal_rate = 0.1\n",
        "utf-8",
    )
    found = find_pyproject(project / "tests")
    assert found == project / "pyproject.toml"
    config = load_config(found)
    assert config.configured
    assert config.golden == (project / "tests/qa.jsonl", project / "tests/more.yaml")
    assert config.index == project / "index"
    assert config.documents == (project / "handbook",)
    assert config.k == 8
    assert config.question_failures == "xfail"
    assert config.own_answers
    assert set(config.thresholds) == {
        Threshold("accuracy", "min", 0.8), Threshold("false_refusal_rate", "max", 0.1)
    }  # fmt: skip
    assert not load_config(None).configured


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("golden = 3", "golden must be a path or a list of paths"),
        ("colour = 'red'", "unknown key 'colour'"),
        ("min_speed = 1", "unknown metric 'speed'"),
        ("min_accuracy = 'high'", "must be a number"),
        ("question_failures = 'ignore'", "question_failures must be 'fail' or 'xfail'"),
        ("k = 'five'", "k must be a whole number"),
        ("own_answers = 'yes'", "own_answers must be true or false"),
    ],
)
def test_bad_configuration_is_reported_with_its_file(
    tmp_path: Path, section: str, message: str
) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f"[tool.assistant.eval]\n{section}\n", "utf-8")
    with pytest.raises(EvalConfigError) as error:
        load_config(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_metric_changes_ignore_rounding_and_latency_noise() -> None:
    assert metric_change("accuracy", 0.70, 0.72) == "improvement"
    assert metric_change("accuracy", 0.70, 0.7004) == "same"
    assert metric_change("false_refusal_rate", 0.1, 0.2) == "regression"
    assert metric_change("latency_total_p95_ms", 100.0, 110.0) == "same"  # within 20 %
    assert metric_change("latency_total_p95_ms", 100.0, 150.0) == "regression"
    assert metric_change("latency_total_p95_ms", 2.0, 6.0) == "same"  # under 5 ms
    assert metric_change("accuracy", None, 0.5) == "n/a"


def test_each_rate_comes_with_its_interval_and_question_count(tmp_path: Path) -> None:
    run = EvalRun.from_results(verdicts(), {})
    hits = run.intervals["key_term_hit_rate"]  # 1 of 3 answerable questions without an error
    assert hits["n"] == 3.0
    assert hits["low"] < run.metrics["key_term_hit_rate"] < hits["high"]
    assert run.intervals["accuracy"]["n"] == 6.0  # an error counts: over every question
    assert run.intervals["refusal_recall"]["n"] == 2.0
    assert "exact_match" not in run.intervals  # a mean, not a rate of questions
    assert "faithfulness" not in run.intervals  # sentences of one answer are not independent
    summary = format_summary(run)
    ci = next(line for line in summary if line.strip().startswith("95% CI"))
    assert "key_term_hit_rate 0.06-0.79 of 3" in ci
    # Written and read back; a result file from before intervals reads as having none.
    path = tmp_path / "result.json"
    run.write(path)
    assert load_run(path).intervals == {
        name: {key: round(value, 4) for key, value in bounds.items()}
        for name, bounds in run.intervals.items()
    }
    older = run.to_json()
    del older["intervals"]
    path.write_text(json.dumps(older), "utf-8")
    assert load_run(path).intervals == {}
    assert "95% CI" not in "\n".join(format_summary(load_run(path)))


def test_the_metric_chart_draws_rates_as_bars_and_a_length_as_its_number() -> None:
    from assistant.evaluation.charts import metric_bars

    svg = metric_bars({"accuracy": 0.5, "answer_chars_p50": 324.0}, {"answer_chars_p50": 300.0})
    length = svg[svg.index("data-metric='answer_chars_p50'") :]
    length = length[: length.index("</g>")]
    assert "324 characters (was 300)" in length
    assert length.count("<rect") == 1  # the empty track, no bar filled to 100 %
    rate = svg[svg.index("data-metric='accuracy'") :]
    assert rate[: rate.index("</g>")].count("<rect") == 2

"""The HTML report renders in the real browser: self-contained, charts drawn, failures first."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from assistant.evaluation.metrics import METRICS
from tests.conftest import EvalRunOutput


@pytest.mark.browser
def test_report_renders_offline_with_charts_and_failures_first(
    browser: Browser, seed_eval_runs: tuple[EvalRunOutput, EvalRunOutput]
) -> None:
    _, run = seed_eval_runs
    items = run.result["items"]
    failing = sum(not item["verdict"]["passed"] for item in items)
    page = browser.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto((run.report / "report.html").as_uri())

    assert requests == [(run.report / "report.html").as_uri()]  # nothing else is fetched
    assert "All thresholds met" in page.locator("#verdict").inner_text()
    assert page.locator("#checks li").count() == 5
    bars = page.locator("#metric-chart svg g.metric")
    assert bars.count() == len(METRICS)
    box = page.locator("#metric-chart svg").bounding_box()
    assert box is not None
    assert box["width"] > 400
    assert box["height"] > 300
    assert page.locator("#latency-charts svg rect.bin").count() == 20
    assert page.locator("#latency-charts svg g.stage").count() >= 4
    assert page.locator("#comparison").is_visible()
    # Each rate with its 95 % interval and question count, as in result.json; the questions
    # of both runs weighed against chance.
    accuracy = run.result["intervals"]["accuracy"]
    cells = page.locator("#metrics tr[data-metric='accuracy'] td").all_inner_texts()
    assert cells[3] == f"{accuracy['low']:.2f}–{accuracy['high']:.2f} ({accuracy['n']:.0f})"
    assert page.locator("#metrics tr[data-metric='mrr'] td").nth(3).inner_text() == ""
    paired = page.locator("#comparison li[data-paired]").all_inner_texts()
    assert len(paired) == 3
    assert paired[0].startswith("correct: ")

    rows = page.locator("#questions tbody tr")
    assert rows.count() == 50
    flags = rows.evaluate_all("rows => rows.map(r => r.dataset.passed)")
    assert flags == ["false"] * failing + ["true"] * (50 - failing)
    first = rows.first.inner_text()
    assert "fail" in first
    # Answers and quotes keep their line breaks (code and lists read as the chat shows them).
    kept = "e => getComputedStyle(e).whiteSpace"
    assert page.locator("#questions .answer").first.evaluate(kept) == "pre-wrap"
    assert page.locator("#questions .quote").first.evaluate(kept) == "pre-wrap"
    assert rows.first.locator(".reasons li").count() >= 1

    # Each answer's Also found sentences, marked where one holds a key term, as in result.json.
    listed = [passage for item in items for passage in item["related"]]
    assert listed
    assert page.locator("#questions .related").count() == len(listed)
    holding = sum(passage["holds_key_term"] for passage in listed)
    assert page.locator("#questions .related .badge.ok").count() == holding
    shown = page.locator("#questions .related .quote").all_text_contents()
    assert sorted(shown) == sorted(passage["text"] for passage in listed)  # each its sentence

    page.locator("#failures-only").check()
    assert page.locator("#questions tbody tr:visible").count() == failing
    page.locator("#failures-only").uncheck()
    page.locator("#find").fill("Ant Group")
    visible = page.locator("#questions tbody tr:visible")
    assert 0 < visible.count() < 50
    assert all("ant group" in text.lower() for text in visible.all_inner_texts())
    assert errors == []
    page.close()

"""The self-contained HTML report of a run: verdict, charts, comparison and every question."""

from __future__ import annotations

from html import escape
from typing import Any

from assistant.evaluation.charts import latency_histogram, metric_bars, stage_bars
from assistant.evaluation.compare import describe_paired
from assistant.evaluation.config import describe_check
from assistant.evaluation.metrics import METRICS
from assistant.evaluation.results import EvalRun, followups_note

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2329;
background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:16px;margin:12px 0}
.meta{color:#5b6670;font-size:13px}.verdict{font-weight:600;font-size:16px}
.ok{color:#1e7b46}.bad{color:#b3261e}.warn{color:#9a6200}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600}
.badge.ok{background:#dcf2e4}.badge.bad{background:#fbe0de}.badge.na{background:#eceff2}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #e6e9ed}
th{background:#f0f2f5;font-weight:600;font-size:13px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{max-width:100%;height:auto}
.quote{color:#39424b;border-left:3px solid #c9d1da;padding-left:6px;margin:3px 0}
.answer,.quote{white-space:pre-wrap;overflow-wrap:anywhere}
.cite{margin:4px 0}.reasons{color:#b3261e;margin:0;padding-left:18px}
.small{font-size:12px;color:#5b6670}
.regression{color:#b3261e;font-weight:600}.improvement{color:#1e7b46;font-weight:600}
#controls{display:flex;gap:16px;align-items:center;margin:8px 0}
"""

_SCRIPT = """
(function(){
  var only=document.getElementById('failures-only'),find=document.getElementById('find');
  function apply(){
    var q=find.value.toLowerCase();
    document.querySelectorAll('#questions tbody tr').forEach(function(row){
      var show=(!only.checked||row.dataset.passed==='false')&&
               (!q||row.textContent.toLowerCase().indexOf(q)>=0);
      row.style.display=show?'':'none';
    });
  }
  only.addEventListener('change',apply);find.addEventListener('input',apply);
})();
"""


def render_report(run: EvalRun) -> str:
    """The report page as one HTML string."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>Answer-quality report: {escape(_golden_names(run))}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        _header(run),
        "<h2>Metrics</h2><div class='card charts' id='metric-chart'>",
        metric_bars(run.metrics, run.compared_metrics()),
        "</div>",
        _metric_table(run),
        _label_table(run),
    ]
    if run.comparison:
        parts.append(_comparison(run.comparison))
    parts += [
        "<h2>Latency</h2><div class='card charts' id='latency-charts'>",
        latency_histogram(run.total_latencies()),
        stage_bars(run.latency),
        "</div>",
        _questions(run),
        f"<script>{_SCRIPT}</script></main></body></html>",
    ]
    return "".join(parts)


def _golden_names(run: EvalRun) -> str:
    return ", ".join(str(path).rsplit("/", 1)[-1] for path in run.meta.get("golden", []))


def _header(run: EvalRun) -> str:
    meta, counts = run.meta, run.counts
    if not run.checks:
        verdict = "<span class='verdict'>No thresholds configured</span>"
    elif run.passed:
        verdict = "<span class='verdict ok'>All thresholds met</span>"
    else:
        failed = sum(not check["ok"] for check in run.checks)
        verdict = f"<span class='verdict bad'>{failed} threshold(s) not met</span>"
    checks = "".join(
        f"<li class='{'ok' if c['ok'] else 'bad'}'>{escape(describe_check(c))}</li>"
        for c in run.checks
    )
    details = [
        f"golden: {escape(', '.join(meta.get('golden', [])))}",
        f"index: {escape(str(meta.get('index', '')))}",
        f"answerer: {escape(str(meta.get('answerer', '')))}, k={escape(str(meta.get('k', '')))}",
        f"{counts.get('questions', 0)} questions ({counts.get('unanswerable', 0)} unanswerable), "
        f"{counts.get('refused', 0)} refused, {counts.get('errors', 0)} errors",
        f"run {escape(str(meta.get('created', '')))} in {meta.get('seconds', 0):.1f} s",
    ]
    if meta.get("skipped_drafts"):
        details.append(f"{meta['skipped_drafts']} unreviewed draft question(s) skipped")
    note = followups_note(meta)
    if note is not None:
        details.append(note)
    return (
        "<header class='card'><h1>Answer-quality report</h1>"
        f"<div class='meta'>{'<br>'.join(details)}</div><p id='verdict'>{verdict}</p>"
        f"<ul id='checks'>{checks}</ul></header>"
    )


def _metric_table(run: EvalRun) -> str:
    rows = []
    for metric in METRICS.values():
        value = run.metrics.get(metric.name)
        shown = "n/a" if value is None else f"{value:.3f}"
        bounds = run.intervals.get(metric.name)
        span = f"{bounds['low']:.2f}–{bounds['high']:.2f} ({bounds['n']:.0f})" if bounds else ""
        rows.append(
            f"<tr data-metric='{metric.name}'><td>{escape(metric.label)}</td>"
            f"<td class='small'>{escape(metric.group)}</td><td class='num'>{shown}</td>"
            f"<td class='num small'>{span}</td>"
            f"<td class='small'>{escape(metric.description)}</td></tr>"
        )
    return (
        "<div class='card'><table id='metrics'><thead><tr><th>metric</th><th>group</th>"
        "<th>value</th><th title='Wilson score interval; in brackets, the questions the rate "
        "is over'>95 % interval</th><th>what it measures</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def _label_table(run: EvalRun) -> str:
    rows = "".join(
        f"<tr data-label='{escape(label)}'><td>{escape(label)}</td>"
        f"<td class='num'>{row['questions']:.0f}</td><td class='num'>{row['correct']:.0f}</td>"
        f"<td class='num'>{row['accuracy']:.3f}</td></tr>"
        for label, row in run.by_label().items()
    )
    return (
        "<div class='card'><table id='labels'><thead><tr><th>label</th><th>questions</th>"
        "<th>correct</th><th>accuracy</th></tr></thead><tbody>" + rows + "</tbody></table></div>"
    )


def _comparison(comparison: dict[str, Any]) -> str:
    summary = comparison["summary"]
    rows = []
    for row in comparison["metrics"]:
        if row["change"] in ("regression", "improvement"):
            rows.append(
                f"<tr class='{row['change']}'><td>{escape(row['metric'])}</td>"
                f"<td class='num'>{row['old']:.3f}</td><td class='num'>{row['new']:.3f}</td>"
                f"<td class='num'>{row['delta']:+.3f}</td><td>{row['change']}</td></tr>"
            )
    questions = "".join(
        f"<tr class='{'regression' if q['change'] == 'broke' else 'improvement'}'>"
        f"<td>{escape(q['id'])}</td><td>{escape(q['change'])}</td>"
        f"<td>{escape(q['question'])}</td><td>{escape(q['old_answer'] or '')}</td>"
        f"<td>{escape(q['new_answer'] or '')}</td></tr>"
        for q in comparison["questions"]
    )
    verdict = comparison.get("gate")
    notes = "".join(
        f"<p class='meta'>note: {escape(note)}</p>"
        for note in [*comparison.get("notes", []), *(verdict or {}).get("notes", [])]
    )
    paired = "".join(
        f"<li data-paired='{escape(verdict)}'>{escape(describe_paired(verdict, row))}</li>"
        for verdict, row in comparison.get("paired", {}).items()
    )
    paired = f"<p>Questions in both runs, against chance:</p><ul>{paired}</ul>" if paired else ""
    if verdict is None:
        gate = ""
    elif verdict["failed"]:
        items = "".join(f"<li>{escape(reason)}</li>" for reason in verdict["reasons"])
        gate = f"<p class='verdict bad' id='gate'>Regression gate failed:</p><ul>{items}</ul>"
    else:
        gate = (
            f"<p class='verdict ok' id='gate'>No regression (tolerance "
            f"{verdict['tolerance']:g}).</p>"
        )
    return (
        f"<h2>Compared with {escape(comparison['against'])}</h2><div class='card' id='comparison'>"
        f"{gate}<p>{summary['regression']} metric regression(s), {summary['improvement']} "
        f"improvement(s); {summary['broke']} question(s) broke, {summary['fixed']} fixed.</p>"
        f"{notes}{paired}"
        "<table><thead><tr><th>metric</th><th>before</th><th>now</th><th>change</th><th></th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<table><thead><tr><th>id</th><th>change</th><th>question</th><th>answer before</th>"
        f"<th>answer now</th></tr></thead><tbody>{questions}</tbody></table></div>"
    )


def _questions(run: EvalRun) -> str:
    # sorted() is stable: failures first, each group in golden-file order.
    ordered = sorted(run.items, key=lambda item: item["verdict"]["passed"])
    failing = sum(not item["verdict"]["passed"] for item in run.items)
    rows = "".join(_question_row(item) for item in ordered)
    return (
        f"<h2>Questions ({failing} of {len(run.items)} failing, shown first)</h2>"
        "<div class='card'><div id='controls'><label><input type='checkbox' id='failures-only'> "
        "failures only</label><label>find <input type='search' id='find'></label></div>"
        "<table id='questions'><thead><tr><th>result</th><th>question</th><th>answer and "
        f"citations</th><th>expected</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _question_row(item: dict[str, Any]) -> str:
    verdict = item["verdict"]
    passed = verdict["passed"]
    badge = "<span class='badge {}'>{}</span>".format(
        *(("ok", "pass") if passed else ("bad", "fail"))
    )
    reasons = "".join(f"<li>{escape(reason)}</li>" for reason in verdict["failures"])
    history = "".join(
        f"<div class='small'>{escape(turn['role'])}: {escape(turn['content'])}</div>"
        for turn in item["history"]
    )
    standalone = item.get("standalone_question")
    rewritten = f"<div class='small'>as: {escape(standalone)}</div>" if standalone else ""
    retrieval = verdict.get("retrieval")
    ranking = ""
    if retrieval is not None:
        rank = round(1 / retrieval["reciprocal_rank"]) if retrieval["reciprocal_rank"] else None
        ranking = (
            f"<div class='small'>expected source at rank {rank if rank else '—'}, "
            f"nDCG@10 {retrieval['ndcg_at_10']:.2f}</div>"
        )
    return (
        f"<tr data-id='{escape(item['id'])}' data-passed='{str(passed).lower()}'>"
        f"<td>{badge}<div class='small'>{escape(item['id'])}<br>{escape(item['kind'])}"
        f"{' · draft' if item['draft'] else ''}</div></td>"
        f"<td>{history}<div>{escape(item['question'])}</div>{rewritten}"
        f"<ul class='reasons'>{reasons}</ul></td>"
        f"<td>{_answer_cell(item)}</td><td>{_expected_cell(item)}{ranking}</td></tr>"
    )


def _answer_cell(item: dict[str, Any]) -> str:
    if item["error"]:
        return f"<div class='bad'>error: {escape(item['error'])}</div>"
    refused = " <span class='badge na'>refused</span>" if item["refused"] else ""
    parts = [f"<div class='answer'>{escape(item['answer'])}{refused}</div>"]
    for citation in item["citations"]:
        valid = citation["valid"]
        state = {True: ("ok", "valid"), False: ("bad", "unsupported")}.get(valid, ("na", "unused"))
        where = _where(citation)
        evidence = ""
        if citation["evidence"]:
            evidence = " <span class='badge ok'>expected evidence</span>"
        parts.append(
            f"<div class='cite'>[{citation['id']}] <span class='small'>{where}</span> "
            f"<span class='badge {state[0]}'>{state[1]}</span>{evidence}"
            f"<div class='quote'>{escape(citation['quote'])}</div></div>"
        )
    for passage in item.get("related", []):  # a result file from before the list has none
        holds = passage["holds_key_term"]
        badge = " <span class='badge ok'>holds a key term</span>" if holds else ""
        text = passage.get("text")  # a result file from before the sentences has none
        quote = "" if text is None else f"<div class='quote'>{escape(text)}</div>"
        parts.append(
            f"<div class='related small'>also found: {_where(passage)}{badge}{quote}</div>"
        )
    parts.append(f"<div class='small'>confidence {item['confidence']:.2f}</div>")
    return "".join(parts)


def _where(span: dict[str, Any]) -> str:
    """A cited or listed span's file, section and page, escaped."""
    where = escape(span["source"])
    if span.get("section"):
        where += f" · {escape(span['section'])}"
    if span.get("page"):
        where += f" · p. {span['page']}"
    return where


def _expected_cell(item: dict[str, Any]) -> str:
    expected = item["expected"]
    if item["kind"] == "unanswerable":
        parts = ["<div><em>a refusal (the documents don't answer this)</em></div>"]
    else:
        parts = []
    if expected["answers"]:
        answers = " | ".join(expected["answers"])
        parts.append(f"<div>{escape(answers)}</div>")
    if expected["must_contain_any"]:
        terms = ", ".join(expected["must_contain_any"])
        parts.append(f"<div class='small'>key terms: {escape(terms)}</div>")
    for source in expected["sources"]:
        parts.append(f"<div class='small'>{escape(source['source'])}</div>")
        if source.get("quote"):
            parts.append(f"<div class='quote'>{escape(source['quote'])}</div>")
    return "".join(parts)

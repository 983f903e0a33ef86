"""Write docs/benchmarks.md and its plots from benchmarks/results/*.json.

python -m benchmarks.report [--results DIR] [--docs DIR]

Each section's tables come from its results file; the prose written by hand about a run (what
changed, how to read it) lives in benchmarks/notes/NAME.md and follows the section NAME, so a
rerun rewrites the numbers and keeps the notes.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, RESULTS

DOCS = REPO / "docs"
NOTES = Path(__file__).resolve().parent / "notes"


def load(name: str, results: Path = RESULTS) -> dict[str, Any] | None:
    """A saved result, if that benchmark ran."""
    path = results / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    """'met' or 'missed' for a measured value against its target."""
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "**missed**"


def ingest_section(data: dict[str, Any], docs: Path = DOCS) -> list[str]:
    """Markdown for the ingest benchmark, and its plot."""
    ratios = data["ratios"]
    corpus = data["corpus"]
    llama = data["llama_index_default"]
    _bar_plot(
        {
            "assistant ingest": data["ingest"]["chunks_per_s"],
            "bare encoder\n(the limit)": data["bare_encoder"]["chunks_per_s"],
            "llama-index\ndefault": llama["chunks_per_s"],
        },
        "chunks per second (medians of interleaved rounds; higher is better)",
        docs / "bench-ingest.png",
    )

    def row(label: str, item: dict[str, Any]) -> str:
        return (
            f"| {label} | {item['seconds']} | {item['cpu_seconds']} | {item['chunks_per_s']} | "
            f"{item['chunks_per_cpu_s']} |"
        )

    return [
        "## Ingest throughput",
        "",
        f"`python -m benchmarks.bench_ingest --files {corpus['files']} --rounds "
        f"{data.get('rounds', 1)}`. Corpus: "
        f"{corpus['files']} pages of the Python 3.11 docs (Debian `python3.11-doc`), "
        f"{corpus['megabytes']} MB of HTML, {corpus['chunks']} chunks. Embedding backend: "
        f"`{data['embedding_backend']}`. Load average at the end of the run: "
        f"{data['machine']['load_average_1m']} on {data['machine']['cpus']} cores. Our ingest, "
        "the bare encoder and llama-index's pipeline ran interleaved in one process, "
        f"{data.get('rounds', 1)} rounds, each round in another order; the table gives the "
        "medians, and the ratios of the medians are judged by the clock (per CPU-second beside).",
        "",
        "| pipeline | wall s | CPU s | chunks/s | chunks/CPU-s |",
        "|---|---|---|---|---|",
        row("`assistant ingest` (parse, chunk, embed, store)", data["ingest"]),
        row(
            "bare `SentenceTransformer.encode` of the same inputs (the limit)", data["bare_encoder"]
        ),
        row("our encoder alone on the same inputs (once)", data["our_encoder_alone"]),
        row(
            f"llama-index `VectorStoreIndex.from_documents` into Chroma, same model and chunk "
            f"sizes ({llama['nodes']} nodes)",
            llama,
        ),
        f"| no-op re-ingest (nothing changed) | {data['noop_reingest']['seconds']} | | | |",
        "",
        "| ratio | wall clock | per CPU-second | target | |",
        "|---|---|---|---|---|",
        f"| ingest / bare encoder | {ratios['ingest_vs_bare_encoder']}x | "
        f"{ratios['cpu_ingest_vs_bare_encoder']}x | >= 0.85x | "
        f"{verdict(ratios['ingest_vs_bare_encoder'], 0.85)} |",
        f"| ingest / llama-index default | {ratios['ingest_vs_llama_index']}x | "
        f"{ratios['cpu_ingest_vs_llama_index']}x | >= 1.3x | "
        f"{verdict(ratios['ingest_vs_llama_index'], 1.3)} |",
        f"| no-op re-ingest / full ingest | {100 * ratios['noop_vs_full']:.2f} % | | <= 3 % | "
        f"{verdict(ratios['noop_vs_full'], 0.03, higher_is_better=False)} |",
        "",
        "![ingest throughput](bench-ingest.png)",
        "",
    ]


def int8_section(data: dict[str, Any], docs: Path = DOCS) -> list[str]:
    """Markdown for the float against the 8-bit encoder (interleaved rounds, one process)."""
    r = data["int8_encoder"]
    return [
        '### The 8-bit encoder (`embedding_backend = "onnx-int8"`)',
        "",
        f"Every 10th input of the ingest above ({r['inputs']} texts), embedded by the float "
        f"and the 8-bit ONNX graphs in turn, {r['rounds']} rounds in one process (medians): "
        f"{r['float_seconds']} s against {r['int8_seconds']} s, **{r['wall_speedup']}x** "
        f"faster by the clock ({r['cpu_speedup']}x per CPU-second). The vectors stay close "
        f"(cosine with the float vector: mean {r['cosine_mean']}, lowest {r['cosine_min']}); "
        "what that does to answers is in docs/evaluation.md. "
        "`python -m benchmarks.bench_ingest --int8-only` reruns this step alone.",
        "",
    ]


def edit_section(data: dict[str, Any], docs: Path = DOCS) -> list[str]:
    """Markdown for the re-ingest after a one-word edit of every file."""
    r = data["edit_reingest"]
    return [
        "### An edited document",
        "",
        f"Copies of the {r['files']} files ({r['chunks']} passages) ingested into a fresh index, "
        'then one word changed in the middle of every file (the first " the " after the '
        'middle that the extracted text holds became " a ") and ingested again: '
        f"{r['full_seconds']} s for the first ingest, {r['edit_seconds']} s for the edit "
        f"(**{100 * r['edit_vs_full']:.1f} %**; CPU "
        f"{r['full_cpu_seconds']} and {r['edit_cpu_seconds']} s). {r['chunks_reused']} of the "
        f"{r['chunks']} passages kept their vectors: a passage that reads the same under the "
        "same title and section is not embedded again, nor is a sentence in the same context. "
        "`python -m benchmarks.bench_ingest --edit-only` reruns this step alone (load average "
        f"{data['machine']['load_average_1m']} at its end).",
        "",
    ]


def query_section(data: dict[str, Any], docs: Path = DOCS) -> list[str]:
    """Markdown for the query-latency benchmark, and its plot."""
    rows = data["sizes"]
    lines = [
        "## Query latency (warm, extractive answerer)",
        "",
        "98 golden questions after 10 warm-up ones. Sizes beyond the real corpus (~2.3k chunks) "
        "are noisy copies of it (see `benchmarks/bench_query.py`). The floor is one query "
        "embedding plus the vector search, measured in the same run. The BM25 lookup (lexical) "
        "runs in a thread beside the embedding and the vector search, so the total is not the "
        "sum of the stages. Each index is measured in a fresh process that only opens it and "
        "asks, as a serving replica: RSS is that process's memory (model, catalog connection "
        "and the Chroma client with its HNSW index), not the build's. Each index is measured "
        "twice: the first pass right after the build reads it from disk into the page cache "
        "(its p95 in the last column); the table shows the second, a replica that has been "
        "answering.",
        "",
        "| chunks | p50 total | p95 total | embed p50 | dense p50 | lexical p50 | fuse p50 "
        "| answer p50 | floor p50 | RSS MB | build s | first pass p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        stages = row["stages_ms"]
        first = row.get("first_pass_total_ms", {}).get("p95", "-")
        lines.append(
            f"| {row['chunks']:,} | {stages['total']['p50']} | {stages['total']['p95']} | "
            f"{stages['embed']['p50']} | {stages['dense']['p50']} | {stages['lexical']['p50']} | "
            f"{stages['fuse']['p50']} | {stages['answer']['p50']} | {row['floor_ms']['p50']} | "
            f"{row['rss_mb']} | {row['build_s']} | {first} |"
        )
    ten_k = min(rows, key=lambda row: abs(row["chunks"] - 10_000))
    p50 = ten_k["stages_ms"]["total"]["p50"]
    p95 = ten_k["stages_ms"]["total"]["p95"]
    lines += [
        "",
        f"At {ten_k['chunks']:,} chunks: p50 {p50} ms (target <= 40 ms: {verdict(p50, 40, False)}),"
        f" p95 {p95} ms (target <= 80 ms: {verdict(p95, 80, False)}).",
    ]
    million = max(rows, key=lambda row: row["chunks"])
    if million["chunks"] >= 900_000:
        p95 = million["stages_ms"]["total"]["p95"]
        rss = million["rss_mb"]
        lines.append(
            f"At {million['chunks']:,} chunks: p95 {p95} ms (target <= 100 ms: "
            f"{verdict(p95, 100, False)}), RSS {rss} MB (target <= 2,500 MB: "
            f"{verdict(rss, 2500, False)})."
        )
    with_postgres = [row for row in rows if "postgres" in row]
    if with_postgres:
        lines += [
            "",
            "The same indexes with the catalog copied into PostgreSQL (`--postgres`; the same "
            "vectors, a fresh process each):",
            "",
            "| chunks | p50 total | p95 total | lexical p50 | fuse p50 | p95 / embedded p95 |",
            "|---|---|---|---|---|---|",
        ]
        for row in with_postgres:
            stages = row["postgres"]["stages_ms"]
            lines.append(
                f"| {row['chunks']:,} | {stages['total']['p50']} | {stages['total']['p95']} | "
                f"{stages['lexical']['p50']} | {stages['fuse']['p50']} | "
                f"{row['postgres_p95_ratio']} |"
            )
    lines += [
        "",
        "![query latency](bench-query.png)",
        "",
    ]
    _latency_plot(rows, docs / "bench-query.png")
    return lines


def coldstart_section(data: dict[str, Any], docs: Path = DOCS) -> list[str]:
    """Markdown for the cold-start benchmark."""
    return [
        "## Cold start",
        "",
        f"`python -m benchmarks.bench_coldstart --runs {data['runs']}` "
        f"(benchmarks/results/coldstart.json; load average at the end "
        f"{data['machine']['load_average_1m']} on {data['machine']['cpus']} cores): "
        f"p50 of {data['runs']} runs, seed index: `assistant serve` serves the page after "
        f"{data['serve_page_ms']['p50'] / 1000:.1f} s and answers its first question after "
        f"{data['serve_first_answer_ms']['p50'] / 1000:.1f} s. A one-shot `assistant ask` is in "
        "*Start-up* below.",
        "",
    ]


def startup_section(data: dict[str, Any], docs: Path = DOCS) -> list[str]:
    """Markdown for the start-up benchmark (fresh processes, interleaved rounds, medians)."""
    labels = {"ask": "cold `assistant ask`", "noop_ingest": "no-op `assistant ingest`",
              "help": "`assistant --help`"}  # fmt: skip
    after, before, targets = data["commands"], data.get("before"), data["targets_s"]
    header = (
        "| command | before s | after s | target s | | before CPU s | after CPU s |"
        if before
        else "| command | s | | CPU s |"
    )
    lines = [
        "## Start-up",
        "",
        f"`python -m benchmarks.bench_startup --rounds {data['rounds']}"
        + (" --before DIR`" if before else "`")
        + f": each command as a fresh process on the seed index, {data['rounds']} interleaved "
        "rounds, median wall-clock seconds (model and store opening included; file cache warm; "
        "judged against the target) and median CPU seconds of the process. "
        + (
            f"Before: the package of {data.get('before_name', 'an older commit')} (`git archive` "
            "of it into DIR), measured in the same rounds. "
            if before
            else ""
        )
        + f"Load average at the end: {data['machine']['load_average_1m']} on "
        f"{data['machine']['cpus']} cores.",
        "",
        header,
        "|---|---|---|---|---|---|---|" if before else "|---|---|---|---|",
    ]
    for name, label in labels.items():
        now = after[name]["median_s"]
        target = targets.get(name)
        judged = verdict(now, target, higher_is_better=False) if target else ""
        cpu = after[name].get("median_cpu_s", "")
        if before:
            was, was_cpu = before[name]["median_s"], before[name].get("median_cpu_s", "")
            lines.append(
                f"| {label} | {was} | {now} | {target or ''} | {judged} | {was_cpu} | {cpu} |"
            )
        else:
            lines.append(f"| {label} | {now} | {judged} | {cpu} |")
    return [*lines, ""]


def restricted_section(data: dict[str, Any], docs: Path = DOCS) -> list[str]:
    """Markdown for the restricted-question benchmark (collections and grants)."""
    totals, ratios = data["total_ms"], data["ratio_to_unrestricted"]
    labels = {
        "unrestricted": "unrestricted (trusted caller)",
        "one_collection": "one collection (`collections=[...]`)",
        "member_granted": f"a member granted {data['granted_to_member']} collections",
    }
    lines = [
        "## Restricted questions (collections and grants)",
        "",
        f"`python -m benchmarks.bench_restricted`: {data['chunks']} chunks dealt into "
        f"{data['collections']} collections; {data['questions']} golden questions asked "
        f"{data['rounds']} times per variant, interleaved; whole-question latency. Goal: a "
        f"restricted p95 at most {data['goal_p95_ratio']}x the unrestricted one.",
        "",
        "| question | p50 ms | p95 ms | p95 ratio | |",
        "|---|---|---|---|---|",
    ]
    for name, label in labels.items():
        ratio = ratios.get(name, {}).get("p95")
        judged = "" if ratio is None else verdict(ratio, data["goal_p95_ratio"], False)
        shown = "1.00" if ratio is None else f"{ratio:.2f}"
        lines.append(
            f"| {label} | {totals[name]['p50']} | {totals[name]['p95']} | {shown} | {judged} |"
        )
    return [*lines, ""]


def generative_section(data: dict[str, Any], docs: Path = DOCS) -> list[str]:
    """Markdown for the generative-latency benchmark."""
    ratio = data["full_answer_ms"]["p50"] / data["extractive_full_answer_ms"]["p50"]
    return [
        "## Generative latency (SmolLM2-135M via llama.cpp)",
        "",
        f"{data['model']}; {data['questions']} answerable seed questions, streamed, the "
        "retrieval gate opened so that every question generates.",
        "",
        "| | p50 ms | p95 ms |",
        "|---|---|---|",
        _p50_p95_row("time to first token", data["first_token_ms"]),
        _p50_p95_row("full verified answer", data["full_answer_ms"]),
        _p50_p95_row(
            "extractive answer (baseline, same questions)", data["extractive_full_answer_ms"]
        ),
        "",
        f"A generated answer takes {ratio:.0f}x the extractive one at p50.",
        "",
    ]


def ocr_section(data: dict[str, Any], docs: Path = DOCS) -> list[str]:
    """Markdown for the OCR benchmark (error rate and time per scanned page)."""
    runs = data["runs"]
    lines = [
        "## OCR of scanned pages",
        "",
        f"`{data['command']}`: pages of real prose (the seed article, then the Python "
        f"tutorial) printed at {data['font_points']} pt as a scanner delivers them, each an "
        "image-only PDF read by the PDF loader with OCR on and no cache (render, Tesseract, "
        "text), page by page interleaved with a bare `pytesseract.image_to_string` of the same "
        "image. Character error rate: Levenshtein distance to the printed text over its length "
        "(whitespace runs as one space). Seconds are medians per page; load average at the end "
        f"{data['machine']['load_average_1m']} on {data['machine']['cpus']} cores.",
        "",
        "| scan | pages | characters | error rate | worst page | target | | s per page "
        "(ingest) | bare Tesseract s | ingest / bare |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        target = data["target_cer"] if run["dpi"] == 300 else None
        judged = verdict(run["cer"], target, higher_is_better=False) if target else ""
        lines.append(
            f"| {run['dpi']} dpi | {run['pages']} | {run['characters']:,} | {run['cer']:.2%} | "
            f"{run['worst_page_cer']:.2%} | {'' if target is None else f'<= {target:.0%}'} | "
            f"{judged} | {run['loader_s_per_page']} | {run['bare_tesseract_s_per_page']} | "
            f"{run['loader_vs_bare']}x |"
        )
    return [*lines, ""]


def _p50_p95_row(label: str, values: dict[str, float]) -> str:
    return f"| {label} | {values['p50']} | {values['p95']} |"


def _bar_plot(values: dict[str, float], label: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3))
    axis.barh(list(values), list(values.values()), color=["#2b6cb0", "#718096", "#c05621"])
    axis.set_xlabel(label)
    axis.invert_yaxis()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _latency_plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [row["chunks"] for row in rows]
    figure, axis = plt.subplots(figsize=(6, 3.5))
    for stage in ("total", "embed", "dense", "lexical", "answer"):
        axis.plot(sizes, [row["stages_ms"][stage]["p50"] for row in rows], marker="o", label=stage)
    axis.plot(sizes, [row["stages_ms"]["total"]["p95"] for row in rows], "k--", label="total p95")
    axis.set_xscale("log")
    axis.set_xlabel("chunks in the index")
    axis.set_ylabel("ms (p50 unless noted)")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def notes(name: str) -> list[str]:
    """The hand-written prose that follows section `name`, if any, and a blank line."""
    path = NOTES / f"{name}.md"
    if not path.exists():
        return []
    return [*path.read_text(encoding="utf-8").rstrip("\n").split("\n"), ""]


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results to report")
    parser.add_argument("--docs", type=Path, default=DOCS, help="where benchmarks.md goes")
    args = parser.parse_args(argv)
    args.docs.mkdir(parents=True, exist_ok=True)  # the plots are written as sections are
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m benchmarks.report` from "
        "`benchmarks/results/*.json`); every ratio compares against a baseline measured in the "
        "same run on the same machine (2 cores, shared: absolute numbers move with load). "
        "The prose after a section's tables is written by hand about the run it names "
        "(`benchmarks/notes/`); a rerun rewrites the tables and keeps it.",
        "",
    ]
    for name, section in (
        ("ingest", ingest_section),
        ("ingest-int8", int8_section),
        ("ingest-edit", edit_section),
        ("query", query_section),
        ("restricted", restricted_section),
        ("generative", generative_section),
        ("coldstart", coldstart_section),
        ("startup", startup_section),
        ("ocr", ocr_section),
    ):
        data = load(name, args.results)
        if data is not None:
            lines += section(data, args.docs)
            lines += notes(name)
    (args.docs / "benchmarks.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.docs / 'benchmarks.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

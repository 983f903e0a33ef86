"""Every benchmark module imports, the ones that take arguments answer --help, and every
benchmark runs end to end on a tiny size, writing only under a temporary folder: a renamed
function breaks `make check`, not the next `make bench` an hour in. (The benchmarks that need a
server or llama.cpp run in tests/test_benchmark_serving.py and tests/test_benchmark_llm.py.)"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.answerers.extractive import shipped_model
from assistant.embedding import default_model_path
from tests.conftest import REPO

MODULES = sorted(
    path.stem for path in (REPO / "benchmarks").glob("*.py") if path.stem != "__init__"
)
RESULTS = REPO / "benchmarks" / "results"


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_module_imports_and_its_main_parses_help(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    main = getattr(module, "main", None)
    if main is None or not inspect.signature(main).parameters:
        return  # a library module, or a benchmark without options (nothing to parse)
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "usage:" in capsys.readouterr().out


# What the real runs write: results, the docs' numbers and charts, the shipped model.
WRITTEN_BY_REAL_RUNS = (
    *RESULTS.glob("*.json"),
    *(REPO / "docs" / "evaluation").glob("*"),
    REPO / "docs" / "benchmarks.md",
    REPO / "assistant" / "answerers" / "extractive_model.json",
)


def results_digest() -> dict[str, str]:
    """The committed outputs of the benchmarks, by content."""
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in WRITTEN_BY_REAL_RUNS
        if path.is_file()
    }


@pytest.fixture
def results_untouched() -> Iterator[None]:
    """A tiny run must never write over the real results, docs or model in the repository."""
    before = results_digest()
    yield
    assert results_digest() == before


def run(name: str, *argv: str) -> None:
    """`python -m benchmarks.NAME ARGV`, in this process (the model is already loaded)."""
    main = importlib.import_module(f"benchmarks.{name}").main
    assert main(list(argv)) in (0, None)


def written(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.usefixtures("results_untouched")
def test_query_latency_on_a_tiny_index(tmp_path: Path) -> None:
    run("bench_query", "--tiny", "--queries", "3", "--out", str(tmp_path), "--postgres")
    sizes = written(tmp_path / "query.json")["sizes"]
    assert isinstance(sizes, list)
    assert [size["target"] for size in sizes] == [3, 20]
    assert sizes[1]["chunks"] >= 20  # the synthetic copies were made
    assert all(size["stages_ms"]["total"]["p50"] > 0 for size in sizes)
    # Measured twice: the first pass after the build is kept beside the reported one.
    assert all(size["first_pass_total_ms"]["p95"] > 0 for size in sizes)
    # The same index with its catalog in PostgreSQL: the same chunks, measured apart.
    assert all(size["postgres"]["chunks"] == size["chunks"] for size in sizes)
    assert all(size["postgres_p95_ratio"] > 0 for size in sizes)


@pytest.mark.usefixtures("results_untouched")
def test_restricted_questions_on_a_tiny_index_in_two_collections(tmp_path: Path) -> None:
    run("bench_restricted", "--tiny", "--queries", "3", "--out", str(tmp_path))
    data = written(tmp_path / "restricted.json")
    assert data["collections"] == 2
    assert data["chunks"] >= 20  # type: ignore[operator]
    ratios = data["ratio_to_unrestricted"]
    assert set(ratios) == {"one_collection", "member_granted"}  # type: ignore[arg-type]
    assert all(r["p95"] > 0 for r in ratios.values())  # type: ignore[attr-defined]


@pytest.mark.usefixtures("results_untouched")
def test_ingest_throughput_on_seeds(tmp_path: Path) -> None:
    run("bench_ingest", "--tiny", "--rounds", "2", "--out", str(tmp_path))
    data = written(tmp_path / "ingest.json")
    assert data["rounds"] == 2  # interleaved rounds, medians compared
    assert data["corpus"]["files"] == 1  # type: ignore[index]
    ratios = data["ratios"]
    assert ratios["ingest_vs_bare_encoder"] > 0  # type: ignore[index,operator]
    assert ratios["cpu_ingest_vs_bare_encoder"] > 0  # type: ignore[index,operator]
    assert data["ingest"]["chunks_per_s"] > 0  # type: ignore[index]
    assert data["bare_encoder"]["chunks_per_s"] > 0  # type: ignore[index]
    assert data["noop_reingest"]["seconds"] < data["ingest"]["seconds"]  # type: ignore[index]
    int8 = written(tmp_path / "ingest-int8.json")["int8_encoder"]
    assert int8["rounds"] == 3  # type: ignore[index]
    assert 0.97 < int8["cosine_mean"] < 1  # type: ignore[index,operator]
    edit = written(tmp_path / "ingest-edit.json")["edit_reingest"]
    assert edit["files"] == 1  # type: ignore[index]
    # The seed article edited by one word: some passages kept their vectors, not all.
    assert 0 < edit["chunks_reused"] < edit["chunks"]  # type: ignore[index,operator]


@pytest.mark.usefixtures("results_untouched")
def test_encoder_thread_scaling_on_seeds(tmp_path: Path) -> None:
    run("bench_ingest", "--tiny", "--threads", "1,2", "--out", str(tmp_path))
    scaling = written(tmp_path / "ingest-threads.json")["thread_scaling"]
    assert set(scaling["threads"]) == {"1", "2"}  # type: ignore[index]
    assert scaling["threads"]["1"]["speedup"] == 1.0  # type: ignore[index]
    assert scaling["threads"]["2"]["inputs_per_second"] > 0  # type: ignore[index]


@pytest.mark.usefixtures("results_untouched")
def test_start_up_of_fresh_processes_and_its_report(tmp_path: Path) -> None:
    run("bench_startup", "--rounds", "1", "--out", str(tmp_path))
    commands = written(tmp_path / "startup.json")["commands"]
    assert isinstance(commands, dict)
    assert set(commands) == {"ask", "noop_ingest", "help"}
    assert all(item["median_s"] > 0 for item in commands.values())
    # The report renders it (the ingest and query sections also draw plots: the [bench] extra).
    run("report", "--results", str(tmp_path), "--docs", str(tmp_path / "docs"))
    page = (tmp_path / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert "## Start-up" in page
    assert "| cold `assistant ask` |" in page


@pytest.mark.usefixtures("results_untouched")
def test_ocr_error_rate_and_time_of_one_short_scanned_page_and_its_report(tmp_path: Path) -> None:
    run("bench_ocr", "--tiny", "--out", str(tmp_path))
    (scan,) = written(tmp_path / "ocr.json")["runs"]  # type: ignore[misc]
    assert scan["dpi"] == 300
    assert scan["cer"] <= 0.02  # six clean lines of the seed article, printed and read back
    assert scan["loader_s_per_page"] > 0
    assert scan["bare_tesseract_s_per_page"] > 0
    run("report", "--results", str(tmp_path), "--docs", str(tmp_path / "docs"))
    page = (tmp_path / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert "## OCR of scanned pages" in page
    assert "| 300 dpi | 1 |" in page


@pytest.mark.usefixtures("results_untouched")
def test_answerers_comparison_on_two_seed_questions(tmp_path: Path) -> None:
    out = tmp_path / "answerers.json"
    run(
        "answerers", "--set", "seed", "--limit", "2", "--answerer", "extractive", "--json", str(out)
    )
    runs = written(out)["runs"]
    assert isinstance(runs, list)
    assert [len(item["answers"]) for item in runs] == [2]


@pytest.mark.usefixtures("results_untouched")
def test_the_pdf_reference_drops_running_heads_recurring_at_the_page_edges() -> None:
    """pdftotext's pages lose a head that recurs (digits masked) among their first or last
    three lines on three pages or more, even split over lines, up to its last line holding a
    number; a line seen twice stays, and so does a recurring line without a number."""
    from benchmarks.extraction_recall import without_running_lines

    pages = [
        "CONTENTS\ngnuplot 5.4\n11\nLocale . . . 167",
        "12\ngnuplot 5.4\nCONTENTS\nLogscale . . . 168",
        "CONTENTS\ngnuplot 5.4\n13\nMacros . . . 169",
        "gnuplot 5.4 14\nMonth names\nSyntax:",
        "gnuplot 5.4 15\nDay names\nSyntax:",
        "gnuplot 5.4 16\nFonts",
        "Syntax:\nset key",
    ]
    kept = without_running_lines("\f".join(pages)).split("\f")
    assert kept == [
        "Locale . . . 167",
        "CONTENTS\nLogscale . . . 168",  # after the head's last number
        "Macros . . . 169",
        "Month names\nSyntax:",
        "Day names\nSyntax:",
        "Fonts",
        "Syntax:\nset key",
    ]


def test_retrieval_sweep_and_extraction_recall_on_the_seed_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = ("--work", str(tmp_path / "w"))
    run("tune_retrieval", "--corpora", "seed", "--configs", "", "rerank=0,depth=5", *work)
    table = capsys.readouterr().out
    assert "| seed | shipped |" in table
    assert "| seed | rerank=0,depth=5 |" in table
    with pytest.raises(SystemExit, match="never tuned on"):
        run("tune_retrieval", "--corpora", "sqlite", *work)
    with pytest.raises(SystemExit, match="unknown knob"):
        run("tune_retrieval", "--corpora", "seed", "--configs", "weight=1", *work)
    run("extraction_recall", "seed", "--json", str(tmp_path / "recall.json"))
    assert written(tmp_path / "recall.json")["seed"]["recall"] > 0.9  # type: ignore[index]
    with pytest.raises(SystemExit):
        run("extraction_recall", "no-such-corpus")
    assert "unknown corpus: no-such-corpus" in capsys.readouterr().err


@pytest.mark.usefixtures("results_untouched")
def test_evaluation_protocol_on_the_seed_corpus_alone(tmp_path: Path) -> None:
    run(
        "eval_corpora",
        *("--corpora", "seed", "--work", str(tmp_path / "w"), "--charts", str(tmp_path / "c")),
        *("--json", str(tmp_path / "eval.json")),
    )
    seed = written(tmp_path / "eval.json")["seed"]
    assert 0 < seed["metrics"]["accuracy"] <= 1  # type: ignore[index]
    assert "followup" in seed["by_label"]  # type: ignore[operator]
    # Its follow-ups again, each after the assistant's own answer to the question before.
    own = seed["own_answers_by_label"]
    assert list(own) == ["followup"]  # type: ignore[call-overload]
    assert own["followup"]["questions"] == seed["by_label"]["followup"]["questions"]  # type: ignore[index]
    assert (tmp_path / "c" / "seed-metrics.svg").exists()


def test_window_choice_on_the_seed_corpus_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "outcomes.json"
    run(
        "window_choice",
        "--corpora",
        "seed",
        "--work",
        str(tmp_path),
        "--show",
        "--save",
        str(saved),
    )
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| seed ")]
    (row,) = rows
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:3] == ["seed", "tuning", "36"]  # the answerable questions of its 50
    lead, composed, ceiling = (float(cell) for cell in cells[3:6])
    # The answer starts with the lead window; no answer holds what no window holds.
    assert 0 < lead <= composed <= ceiling <= 1
    assert 0 < float(cells[6]) <= 600
    # The counts summed over the corpora shown: here the one corpus's shares times its 36.
    totals = re.search(
        r"All 1 corpora shown, of 36 answerable questions: the answer holds a key fact for "
        r"(\d+), the lead window for (\d+), some window for (\d+)",
        out,
    )
    assert totals is not None, out
    counts = [int(value) for value in totals.groups()]
    assert counts == [round(share * 36) for share in (composed, lead, ceiling)]
    # --show lists the questions whose answer misses what some window holds, each with the
    # answer's windows, the first window that holds it, and the features the lead won by.
    listed = re.findall(r"^    (seed-\d+): ", out, re.M)
    assert len(listed) == counts[2] - counts[0]
    # ... after the table and its totals, so that the table stays one table.
    assert out.index("seed: the answers that miss what some window holds") > totals.end()
    assert out.count("        the lead wins by: ") == len(listed)
    assert len(re.findall(r"^        #\d+ \d\.\d\d ", out, re.M)) == len(listed)

    # The next run against the saved outcomes: one answer made a miss in the file reads as one
    # question better now, which chance gives as often as not; the leads are unchanged.
    kept = json.loads(saved.read_text("utf-8"))
    assert len(kept["questions"]) == 36
    assert not any(kept["questions"][f"seed/{question}"]["answer"] for question in listed)
    hit = next(key for key, outcome in kept["questions"].items() if outcome["answer"])
    assert hit.startswith("seed/")
    kept["questions"][hit]["answer"] = False
    saved.write_text(json.dumps(kept), "utf-8")
    run("window_choice", "--corpora", "seed", "--work", str(tmp_path), "--against", str(saved))
    out = capsys.readouterr().out
    assert "Against the saved outcomes (36 questions in both):" in out
    assert (
        "  answer holds a key fact: 1 better, 0 worse of 36 questions (p = 1.00, could be chance)"
        in out
    )
    assert "  lead holds a key fact: unchanged on all 36 questions" in out
    # A question the file lacks (another selection, a golden set changed since) is said so.
    del kept["questions"][hit]
    saved.write_text(json.dumps(kept), "utf-8")
    run("window_choice", "--corpora", "seed", "--work", str(tmp_path), "--against", str(saved))
    out = capsys.readouterr().out
    assert "(35 questions in both; 0 only in the file, 1 only in this run):" in out
    saved.write_text('{"schema": "window-choice/1", "questions": {"seed/x": {}}}', "utf-8")
    with pytest.raises(SystemExit, match="was not written by --save"):
        run("window_choice", "--corpora", "seed", "--work", str(tmp_path), "--against", str(saved))


def test_followups_are_asked_after_the_golden_answer_and_after_the_assistants_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "outcomes.json"
    run("followups", "--corpora", "seed", "--work", str(tmp_path), "--show", "--save", str(saved))
    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if line.startswith("| seed ")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:3] == ["seed", "tuning", "5"]  # the answerable follow-ups of its 50
    for cell in cells[3:5]:  # answers holding a key fact (some window holding one)
        answers, windows = (int(n) for n in re.fullmatch(r"(\d+) \((\d+)\)", cell).groups())
        assert 0 < answers <= windows <= 5
    # Each follow-up's rewrite after both histories, and the answer it was asked after.
    assert out.count("        golden -> ") == out.count("        own    -> ") == 5
    assert out.count("        (own answer: ") == 5
    assert "seed-034: What does he argue about it?" in out
    kept = json.loads(saved.read_text("utf-8"))
    assert len(kept["questions"]) == 5
    assert all(key.startswith("seed/seed-") for key in kept["questions"])
    run("followups", "--corpora", "seed", "--work", str(tmp_path), "--against", str(saved))
    out = capsys.readouterr().out
    assert "  answer holds a key fact: unchanged on all 5 questions" in out
    with pytest.raises(SystemExit, match="no tuning or pending corpus"):
        run("followups", "--corpora", "sqlite", "--work", str(tmp_path))


def test_encoder_finetune_trains_on_first_halves_and_scores_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = default_model_path() / "model.safetensors"
    bundled = hashlib.sha256(weights.read_bytes()).hexdigest()
    run("encoder_finetune", "--corpora", "seed", "--work", str(tmp_path), "--max-triplets", "32")
    out = capsys.readouterr().out
    assert "Fine-tuning every weight on 32 triplets from the tuning corpora's first halves" in out
    (row,) = [line for line in out.splitlines() if line.startswith("| seed ")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    # Seed's 50 questions alternate between the halves: 18 of its 36 answerable ones are scored.
    assert cells[:3] == ["seed", "tuning (second half)", "18"]
    leads = [int(n) for n in cells[3].split(" / ")]
    answers = [int(n) for n in cells[4].split(" / ")]
    for lead, answer in zip(leads, answers, strict=True):
        assert 0 < lead <= answer <= 18  # the answer starts with the lead window
    assert (
        f"Of 18 answerable questions scored: the lead holds a key fact for {leads[0]} / "
        f"{leads[1]}, the answer for {answers[0]} / {answers[1]} (bundled / fine-tuned)" in out
    )
    # The copy is trained in memory: the bundled model is left as it was.
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == bundled
    with pytest.raises(SystemExit, match="no tuning or pending corpus"):
        run("encoder_finetune", "--corpora", "sqlite", "--work", str(tmp_path))


def test_encoder_finetune_through_a_lora_adapter_or_says_what_it_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        run("encoder_finetune", "--corpora", "seed", "--work", str(tmp_path), "--lora", "-1")
    assert refused.value.code == 2
    assert "--lora wants a rank of 1 or more" in capsys.readouterr().err
    argv = ["--corpora", "seed", "--work", str(tmp_path), "--lora", "4", "--max-triplets", "32"]
    if importlib.util.find_spec("peft") is None:  # `make test` installs no bench extra
        with pytest.raises(SystemExit, match=r"--lora needs peft: pip install -e '\.\[bench\]'"):
            run("encoder_finetune", *argv)
        return
    run("encoder_finetune", *argv)
    out = capsys.readouterr().out
    assert "Fine-tuning a LoRA adapter of rank 4 on 32 triplets" in out
    (row,) = [line for line in out.splitlines() if line.startswith("| seed ")]
    assert row.split("|")[3].strip() == "18"


def test_encoder_finetune_halves_split_the_tuning_sets_and_keep_the_pending_whole() -> None:
    from benchmarks.encoder_finetune import halves

    given = {"a": list(range(5)), "b": list(range(4)), "p": list(range(3))}
    train, scored = halves(given, ["a", "b"])  # type: ignore[arg-type]
    assert train == {"a": [0, 2, 4], "b": [0, 2]}
    assert scored == {"a": [1, 3], "b": [1, 3], "p": [0, 1, 2]}


def test_refusal_choice_decides_every_question_as_the_answerer_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "outcomes.json"
    run(
        "refusal_choice",
        "--corpora",
        "seed",
        "--work",
        str(tmp_path),
        "--show",
        "--save",
        str(saved),
    )
    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if line.startswith("| seed ")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    # One tuning corpus alone: the shipped model decides, at its own threshold.
    assert cells[:2] == ["seed", "tuning"]
    assert float(cells[2]) == shipped_model().threshold
    assert (cells[3], cells[5]) == ("36", "14")  # answerable, unanswerable of its 50
    false, true, balanced = float(cells[4]), float(cells[6]), float(cells[7])
    assert 0 <= false < 0.5 < balanced <= 1
    assert balanced == pytest.approx(((1 - false) + true) / 2, abs=0.01)
    # --show lists exactly the questions decided wrongly, each with its confidence.
    wrong = re.findall(
        r"^    (seed-\d+) \((refused, answerable|answered, unanswerable), ", out, re.M
    )
    assert out.index("\nseed: the questions decided wrongly") > out.index("Balanced accuracy")
    kept = json.loads(saved.read_text("utf-8"))["questions"]
    assert len(kept) == 50
    assert sorted(q for q, _ in wrong) == sorted(
        key.removeprefix("seed/") for key, outcome in kept.items() if not outcome["right"]
    )
    assert round(false * 36) == sum(kind == "refused, answerable" for _, kind in wrong)
    assert round((1 - true) * 14) == sum(kind == "answered, unanswerable" for _, kind in wrong)
    # The same decisions as the assistant's own: each golden question asked, with its history.
    from assistant.core import Assistant
    from assistant.evaluation.golden import load_golden
    from benchmarks.corpora import corpus
    from benchmarks.eval_corpora import index_corpus

    seed = corpus("seed")
    assistant = Assistant(index_corpus(seed, tmp_path))
    for item in load_golden(seed.golden):
        refused = assistant.ask(item.question, item.history).refused
        assert kept[f"seed/{item.id}"]["right"] == (refused != item.answerable), item.id
    # Against its own outcomes nothing changed; a file of another benchmark is refused.
    run("refusal_choice", "--corpora", "seed", "--work", str(tmp_path), "--against", str(saved))
    assert "  refusal decided right: unchanged on all 50 questions" in capsys.readouterr().out
    saved.write_text(
        '{"schema": "window-choice/1", "questions": {"seed/x": {"answer": true, "lead": true}}}',
        "utf-8",
    )
    with pytest.raises(SystemExit, match="was not written by --save"):
        run("refusal_choice", "--corpora", "seed", "--work", str(tmp_path), "--against", str(saved))


def test_refusal_choice_can_decide_every_question_typed_casually(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.window_choice import casually

    assert casually("What's the PID of `don't`?") == "whats the pid of `dont`"
    assert casually(" Is it OK? Really?? ") == "is it ok? really"
    run("refusal_choice", "--corpora", "seed", "--work", str(tmp_path), "--casual", "--show")
    out = capsys.readouterr().out
    assert "Every question retyped (casually)" in out
    (row,) = [line for line in out.splitlines() if line.startswith("| seed ")]
    assert [cell.strip() for cell in row.strip("|").split("|")][3:6:2] == ["36", "14"]
    # What --show lists is the question as it was decided: typed casually.
    listed = re.findall(r"^    seed-\d+ \([^)]*\): (.*)$", out, re.M)
    assert listed
    assert all(question == casually(question) for question in listed)


def test_both_loops_can_ask_every_question_with_a_typo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.window_choice import with_a_slip

    assert with_a_slip("How do I rotate the certificates?") == "how do i rotate the cetrificates"
    # The first of the longest words; a question without a word of six letters has none.
    assert with_a_slip("Which branch or commit?") == "which brnach or commit"
    assert with_a_slip("Is it OK?") == "is it ok"
    for loop in ("window_choice", "refusal_choice"):
        run(loop, "--corpora", "seed", "--work", str(tmp_path), "--slip")
        out = capsys.readouterr().out
        assert "Every question retyped (with_a_slip)" in out, loop
        assert any(line.startswith("| seed ") for line in out.splitlines()), loop
    with pytest.raises(SystemExit):  # one way of typing at a time
        run("window_choice", "--corpora", "seed", "--work", str(tmp_path), "--casual", "--slip")


def test_refusal_curve_reads_the_recorded_confidences() -> None:
    from assistant.evaluation.results import EvalRun
    from benchmarks.corpora import all_corpora
    from benchmarks.eval_corpora import refusal_curve

    def item(kind: str, confidence: float) -> dict[str, object]:
        return {"kind": kind, "confidence": confidence, "draft": False}

    items = [item("unanswerable", c) for c in (0.1, 0.42, 0.7)]
    items += [item("factual", c) for c in (0.2, 0.5, 0.8, 0.9)] + [item("followup", 0.33)]
    curve = refusal_curve({"seed": EvalRun({}, {}, {}, {}, items)}, all_corpora(), 0.42)
    head, _, row = curve.splitlines()
    assert "**0.42** (fitted)" in head
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:2] == ["seed", "tuning"]
    # 0.30, 0.35, 0.40, 0.42 (fitted), 0.45 ... 0.60: unanswerable / answerable below each
    assert cells[2:6] == ["0.33 / 0.20", "0.33 / 0.40", "0.33 / 0.40", "0.33 / 0.40"]
    assert cells[6] == "0.67 / 0.40"
    assert cells[-1] == "0.67 / 0.60"


def test_a_benchmarks_scratch_folder_is_gone_when_it_exits() -> None:
    import subprocess
    import sys

    code = "from benchmarks.common import scratch_dir as s; p = s('bench-x-'); print(p)"
    code += "; (p / 'index').mkdir(); (p / 'index' / 'f').write_text('x')"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    folder = Path(done.stdout.strip())
    assert folder.name.startswith("bench-x-")
    assert not folder.exists()


def test_pdf_joins_lists_the_lines_a_sentence_runs_on_over(tmp_path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from benchmarks.pdf_joins import joins

    cut = "The function delete(string s) deletes a file. Unless the"
    goes_on = "--globalwrite option is enabled, the file must reside in the current directory."
    full = "A line that reaches the full width of the page as the margin ends it, "
    lines = [full + "one.", cut, goes_on, full + "two.", "show style line", full + "three."]
    path = tmp_path / "manual.pdf"
    page = canvas.Canvas(str(path), pagesize=A4)
    for row, line in enumerate(lines):
        page.drawString(72, 760 - 14 * row, line)
    page.showPage()
    page.save()
    assert [(a.strip(), b.strip()) for a, b in joins([path])] == [(cut, goes_on)]


def test_the_benchmarks_page_is_what_the_report_writes_from_the_results_and_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/benchmarks.md is regenerated whole by `make bench`: a hand edit to it would be lost
    at the next run, so the prose lives in benchmarks/notes/ and the page must equal the
    report's output. (The plots need the [bench] extra's matplotlib; the page's text does
    not depend on them.)"""
    report = importlib.import_module("benchmarks.report")
    drawn: list[str] = []
    monkeypatch.setattr(report, "_bar_plot", lambda _values, _label, path: drawn.append(path.name))
    monkeypatch.setattr(report, "_latency_plot", lambda _rows, path: drawn.append(path.name))
    assert report.main(["--results", str(RESULTS), "--docs", str(tmp_path)]) == 0
    written_page = (tmp_path / "benchmarks.md").read_text(encoding="utf-8")
    assert written_page == (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert {"bench-ingest.png", "bench-query.png"} <= set(drawn)
    notes = sorted((REPO / "benchmarks" / "notes").glob("*.md"))
    assert notes
    for note in notes:
        text = note.read_text(encoding="utf-8").rstrip("\n")
        assert not text.startswith("## "), note.name  # a note belongs to its section
        assert text in written_page, note.name

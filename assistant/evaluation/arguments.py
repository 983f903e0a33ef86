"""The options of `assistant eval` and `assistant eval generate`, and how they reach the
commands (`assistant/evaluation/command.py`)."""

from __future__ import annotations

import argparse

from assistant.command_options import finite_number, path_argument
from assistant.errors import BadQuestionError
from assistant.evaluation.metrics import LATENCY_STAGES, METRICS
from assistant.settings import Settings


def add_eval_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `eval` subcommand and its options."""
    evaluate = commands.add_parser(
        "eval",
        help="measure answer quality on golden questions",
        description="Ask every golden question and score retrieval (hit@k, recall@k, MRR, "
        "nDCG@10), answers (exact match, token F1, key terms), citations (ALCE precision and "
        "recall, faithfulness), refusals and latency. Writes result.json, report.html and SVG "
        "charts to the report directory; exits 1 when a threshold is not met. Defaults come "
        "from [tool.assistant.eval] in the nearest pyproject.toml. To draft golden questions "
        "from the index: assistant eval generate --help.",
        epilog="Metrics for --min/--max: "
        + ", ".join(METRICS)
        + ", latency_<stage>_p50_ms, latency_<stage>_p95_ms (stage: "
        + ", ".join(LATENCY_STAGES)
        + "). Exit codes: 0 every threshold met (or none set); 1 a threshold not met or the "
        "regression gate failed; 2 unusable input (a bad golden file or option, no index, a "
        "report place that cannot be written), said in one line before any question is asked.",
    )
    evaluate.add_argument(
        "golden",
        nargs="*",
        type=path_argument,
        metavar="GOLDEN",
        help="golden files (.jsonl, .yaml); default: golden in [tool.assistant.eval]",
    )
    evaluate.add_argument("--index", type=path_argument, metavar="DIR", help="index directory")
    evaluate.add_argument("--answerer", metavar="NAME", help="answerer backend")
    evaluate.add_argument("--k", type=int, metavar="N", help="passages per question (hit@k, ...)")
    evaluate.add_argument(
        "--collection",
        action="append",
        metavar="NAME",
        dest="collections",
        help="ask every question of this collection only (repeat for several; default: all)",
    )
    evaluate.add_argument(
        "--user",
        metavar="NAME",
        help="ask as this user: only the collections granted to them (docs/teams.md)",
    )
    evaluate.add_argument(
        "--report",
        type=path_argument,
        metavar="DIR",
        help="output directory (default: eval-report/)",
    )
    evaluate.add_argument(
        "--compare",
        type=path_argument,
        metavar="BASELINE.json",
        help="an earlier result.json to diff against (metrics, questions, index and settings; "
        "the questions that changed are weighed against chance)",
    )
    evaluate.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when a question that passed in the baseline fails, or a quality metric "
        "got worse by more than --tolerance (needs --compare)",
    )
    evaluate.add_argument(
        "--tolerance",
        type=finite_number,
        metavar="X",
        help="how much a quality metric may drop before --fail-on-regression fails (default 0)",
    )
    evaluate.add_argument(
        "--min", action="append", default=[], metavar="METRIC=VALUE", help="fail below VALUE"
    )
    evaluate.add_argument(
        "--max", action="append", default=[], metavar="METRIC=VALUE", help="fail above VALUE"
    )
    for metric in ("accuracy", "citation_precision", "refusal_accuracy"):
        evaluate.add_argument(
            f"--min-{metric.replace('_', '-')}",
            type=finite_number,
            metavar="X",
            help=f"same as --min {metric}=X",
        )
    evaluate.add_argument(
        "--calibrate", action="store_true", help="also print refusal thresholds fitted on this set"
    )
    evaluate.add_argument(
        "--include-drafts", action="store_true", help="also ask unreviewed draft questions"
    )
    evaluate.add_argument(
        "--own-answers",
        action="store_true",
        help="ask each follow-up after the assistant's own answer to the question before it, "
        "as the chat does (default: after the answer its golden history holds)",
    )
    evaluate.add_argument(
        "--pyproject",
        type=path_argument,
        metavar="FILE",
        help="read [tool.assistant.eval] from FILE",
    )


def build_generate_parser() -> argparse.ArgumentParser:
    """The parser of `assistant eval generate`."""
    parser = argparse.ArgumentParser(
        prog="assistant eval generate",
        description="Draft golden questions from the indexed documents without an LLM (defined "
        "terms, definitions, sentences opening with a name, numbers), each with its source "
        "quote and key terms, marked `draft: true` for a person to review.",
    )
    parser.add_argument("--index", type=path_argument, metavar="DIR", help="index directory")
    parser.add_argument(
        "--out",
        type=path_argument,
        metavar="FILE",
        help=".jsonl or .yaml file (default: print JSONL)",
    )
    parser.add_argument("-n", type=int, default=20, metavar="N", help="drafts (default: 20)")
    parser.add_argument(
        "--answerer",
        metavar="NAME",
        help="also ask each draft with this answerer and keep its cited answer as a candidate",
    )
    parser.add_argument("--append", action="store_true", help="add to an existing --out file")
    parser.add_argument("--seed", type=int, default=0, help="vary which sentences are drafted")
    return parser


def eval_from_args(settings: Settings, args: argparse.Namespace) -> int:
    """Run `assistant eval` with the parsed options."""
    from assistant.evaluation.command import EvalOptions, eval_command
    from assistant.evaluation.config import make_threshold, parse_threshold

    thresholds = [parse_threshold(text, "min") for text in args.min]
    thresholds += [parse_threshold(text, "max") for text in args.max]
    for metric in ("accuracy", "citation_precision", "refusal_accuracy"):
        value = getattr(args, f"min_{metric}")
        if value is not None:
            thresholds.append(make_threshold(metric, "min", value))
    options = EvalOptions(
        golden=tuple(args.golden),
        index=args.index,
        answerer=args.answerer,
        k=args.k,
        collections=None if args.collections is None else tuple(args.collections),
        user=args.user,
        report=args.report,
        compare=args.compare,
        fail_on_regression=args.fail_on_regression,
        tolerance=args.tolerance,
        thresholds=tuple(thresholds),
        calibrate=args.calibrate,
        include_drafts=args.include_drafts,
        own_answers=args.own_answers,
        pyproject=args.pyproject,
    )
    return eval_command(settings, options)


def generate_from_args(settings: Settings, args: argparse.Namespace) -> int:
    """Run `assistant eval generate` with the parsed options."""
    from assistant.evaluation.command import generate_command

    if args.n < 1:
        raise BadQuestionError("-n must be at least 1")
    return generate_command(settings, args.out, args.n, args.answerer, args.append, args.seed)

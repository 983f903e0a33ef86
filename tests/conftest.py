"""Shared fixtures: hermetic settings, a seed index built once per session."""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings as hypothesis_settings

from assistant import Assistant, Settings
from assistant.answerers import register_answerer, unregister_answerer
from assistant.evaluation.golden import load_golden, write_golden
from tests.fake_answerer import FAKE, FakeAnswerer

if TYPE_CHECKING:
    from tests.pg_server import Postgres

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SEED_FILE = SEEDS / "000_4f69a52559980107.txt"
GOLDEN = REPO / "tests" / "golden"
INJECTION_FILE = REPO / "tests" / "corpus" / "injection.txt"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

# Hypothesis: derandomised by default so `make check`/`make test`/CI never flake on a new
# random example; `make fuzz` (HYPOTHESIS_PROFILE=fuzz) explores randomly and for longer.
# Hypothesis's own files (its example database, cached constants) go to a temporary folder, not
# the repository, unless the run names one (`make fuzz` keeps its database between runs).
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "assistant-hypothesis")
)
hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None)
hypothesis_settings.register_profile("fuzz", max_examples=2000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ASSISTANT_* variable or assistant.toml of the developer leaks into a test."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSISTANT_CONFIG", "")  # no settings file
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))


def copy_index(source: Path, target: Path) -> None:
    """Copy an index another part of this process has open, in a child process.

    Opening and closing a SQLite file in this process (as shutil.copytree does) drops every
    POSIX lock this process's connections hold on it; another process that closes its last
    connection then deletes the write-ahead log's shared memory under them, and their next
    connection fails with "disk I/O error". A child's opens and closes leave our locks alone.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)


def copy_head(source: Path, target: Path, size: int = 6000) -> None:
    """The first paragraphs of a doc, up to about `size` characters: a test that ingests the
    project's docs does the same work however long they grow."""
    text = source.read_text("utf-8")
    cut = text.rfind("\n\n", 0, size)  # -1 or 0: no paragraph ends before `size`
    target.write_text(
        text if len(text) <= size else text[: cut if cut > 0 else size] + "\n", "utf-8"
    )


def ruled_sections(sections: int = 6, clauses: int = 12) -> list[str]:
    """Markdown sections of a long rule book, each long enough for a passage of its own: tests
    edit one and see which passages ingest keeps."""
    return [
        f"## Rule {n}\n\n"
        + " ".join(f"Clause {c} of rule {n} covers one case." for c in range(clauses))
        for n in range(sections)
    ]


def make_settings(index_dir: Path, **changes: object) -> Settings:
    """Settings for a test index, ignoring the environment."""
    return Settings.model_validate({"index_dir": index_dir, **changes})


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of seeds/, built once per test session (read-only for tests)."""
    index_dir = tmp_path_factory.mktemp("seed-index")
    report = Assistant(make_settings(index_dir)).ingest([SEEDS])
    assert report.added == 1
    assert not report.failed
    return index_dir


@pytest.fixture(scope="session")
def seed_assistant(seed_index: Path) -> Assistant:
    """An Assistant over the seed index."""
    return Assistant(make_settings(seed_index))


@pytest.fixture(scope="session")
def injection_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of seeds/ plus a document that tries a prompt injection (read-only for tests)."""
    index_dir = tmp_path_factory.mktemp("injection-index")
    report = Assistant(make_settings(index_dir)).ingest([SEEDS, INJECTION_FILE])
    assert report.added == 2
    return index_dir


@pytest.fixture
def fake_answerer() -> Iterator[str]:
    """The scriptable `fake` answerer (tests/fake_answerer.py), selectable by the name this
    yields for the one test: registered as a plugin would be, removed afterwards."""
    register_answerer(FAKE, FakeAnswerer)
    yield FAKE
    unregister_answerer(FAKE)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of seeds/ for tests that change files."""
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def fresh_index(tmp_path: Path) -> Path:
    """An empty index directory."""
    index_dir = tmp_path / "index"
    return index_dir


@dataclass(frozen=True)
class EvalRunOutput:
    """A finished `assistant eval` subprocess: exit code, output and its report directory."""

    returncode: int
    stdout: str
    stderr: str
    report: Path

    @property
    def result(self) -> dict[str, Any]:
        """The parsed result.json."""
        return dict(json.loads((self.report / "result.json").read_text("utf-8")))


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m assistant.cli ARGS` as a subprocess (the real console entry point)."""
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=cwd,
    )


@pytest.fixture(scope="session")
def seed_eval_runs(
    seed_index: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[EvalRunOutput, EvalRunOutput]:
    """Two `assistant eval` runs on the seed index, shared by the CLI and browser tests.

    The first takes everything from a team's pyproject.toml (8 questions, an impossible
    latency bound); the second runs the whole seed set with thresholds on the command line
    and compares itself with the first.
    """
    team = tmp_path_factory.mktemp("team")
    write_golden(load_golden(GOLDEN / "seed_qa.jsonl")[:8], team / "subset.jsonl")
    (team / "pyproject.toml").write_text(
        "[tool.assistant.eval]\n"
        'golden = ["subset.jsonl"]\n'
        f"index = {json.dumps(str(seed_index))}\n"
        'report = "old-report"\n'
        "min_accuracy = 0.5\n"
        "max_latency_total_p95_ms = 0.001\n",
        "utf-8",
    )
    first = run_cli("eval", cwd=team)
    old = EvalRunOutput(first.returncode, first.stdout, first.stderr, team / "old-report")
    new_report = tmp_path_factory.mktemp("seed-eval") / "report"
    second = run_cli(
        "eval",
        str(GOLDEN / "seed_qa.jsonl"),
        "--index",
        str(seed_index),
        "--report",
        str(new_report),
        "--compare",
        str(old.report / "result.json"),
        # Measured 0.66 / 1.00 / 0.76 / 0.14 / 1.00 (docs/evaluation.md); a drop fails.
        "--min-accuracy",
        "0.62",
        "--min-citation-precision",
        "0.95",
        "--min-refusal-accuracy",
        "0.64",
        "--max",
        "false_refusal_rate=0.46",
        "--min",
        "hit_at_k=0.95",
        "--calibrate",
        cwd=new_report.parent,
    )
    new = EvalRunOutput(second.returncode, second.stdout, second.stderr, new_report)
    return old, new


# -- tiers ------------------------------------------------------------------------------------
# Assigned from what a test uses, never by hand: `make check` runs the `fast` tier only. What a
# test uses is read from its code, the code of the fixtures it uses and of every function and
# class of tests/ (and benchmark module) those refer to, followed to any depth:
# - browser: a browser fixture, or Playwright itself (`sync_playwright`);
# - llm: llama.cpp (`llamacpp`, `llama_cpp`), or a fixture or module named for an LLM;
# - server: a process (`subprocess`, `multiprocessing`: every server, CLI run and crash test of
#   the suite starts its process that way) or a server in this process (`uvicorn`), or an index
#   of a whole real corpus (the Python docs: minutes of embedding);
# - fast: none of these.
_BROWSER_FIXTURES = {"browser", "page", "chat_page", "screenshot", "page_log", "viewport"}
_CORPUS_FIXTURES = {"pydocs_assistant"}
_USES = {
    "browser": {"sync_playwright"},
    "server": {"subprocess", "multiprocessing", "Popen", "pytester", "uvicorn"},
    "llm": {"llamacpp", "llama_cpp"},
}
_BENCHMARKS = {
    p.stem: p for p in (Path(__file__).resolve().parent.parent / "benchmarks").glob("*.py")
}


def _code_objects(code: CodeType) -> Iterator[CodeType]:
    """A function's code and the code of the functions and lambdas defined inside it."""
    yield code
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _code_objects(constant)


# Helpers whose child process is a moment's work, not a server: `copy_index` runs `cp`.
_BRIEF_CHILDREN = {"copy_index"}


def _helpers_of_tests(target: object) -> list[object]:
    """The functions of tests/ that `target` is: a function or fixture, or a class's methods."""
    if str(getattr(target, "__module__", "")).split(".")[0] != "tests":
        return []
    if getattr(target, "__name__", "") in _BRIEF_CHILDREN:
        return []
    if inspect.isclass(target):
        members = [getattr(m, "__func__", getattr(m, "fget", m)) for m in vars(target).values()]
        return [m for m in members if inspect.isfunction(m)]
    unwrapped = inspect.unwrap(target) if callable(target) else None
    return [unwrapped] if inspect.isfunction(unwrapped) else []


@functools.cache
def _benchmark_words(name: str) -> frozenset[str]:
    """The words of benchmarks/NAME.py (a test runs it by name), read, not imported."""
    path = _BENCHMARKS.get(name)
    return frozenset(re.findall(r"\w+", path.read_text("utf-8"))) if path else frozenset()


def _names_used(function: object, seen: dict[CodeType, frozenset[str]]) -> frozenset[str]:
    """The names `function` (a test, a fixture, a helper of tests/) refers to, with those of
    the functions, classes and benchmarks of this repository it refers to, to any depth."""
    inner = getattr(getattr(function, "hypothesis", None), "inner_test", None)
    function = inspect.unwrap(inner or function)  # type: ignore[arg-type]
    code = getattr(function, "__code__", None)
    if not isinstance(code, CodeType):
        return frozenset()
    if code in seen:
        return seen[code]
    seen[code] = frozenset()  # a cycle adds nothing
    parts = list(_code_objects(code))
    names = {name for part in parts for name in (*part.co_names, *part.co_varnames)}
    # A fixture or benchmark asked for by name (`request.getfixturevalue("chroma_server")`).
    names |= {c for p in parts for c in p.co_consts if isinstance(c, str) and c.isidentifier()}
    scope = getattr(function, "__globals__", {})
    found = set(names)
    for name in names:
        found |= _benchmark_words(name)
        for helper in _helpers_of_tests(scope.get(name)):
            found |= _names_used(helper, seen)
    seen[code] = frozenset(found)
    return seen[code]


# The longest modules (`make test` prints the slowest steps) start first: on two workers
# (`make test` runs pytest -n 2) the other worker takes the rest meanwhile, instead of one
# worker building the Python docs' index alone at the end.
_START_FIRST = ("test_eval_pydocs", "test_crash_safety", "test_concurrency")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its tier: browser, server, llm or fast; the longest start first."""
    rank = {name: position for position, name in enumerate(_START_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: else unchanged
    seen: dict[CodeType, frozenset[str]] = {}
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = item.path.stem
        info = getattr(item, "_fixtureinfo", None)
        defined = {} if info is None else info.name2fixturedefs
        used = [getattr(item, "function", None), *(d.func for ds in defined.values() for d in ds)]
        names = frozenset().union(*(_names_used(f, seen) for f in used if f is not None))
        if fixtures & _BROWSER_FIXTURES or names & _USES["browser"] or "browser" in item.keywords:
            tier = "browser"
        elif "llm" in module or any("llm" in name for name in fixtures) or names & _USES["llm"]:
            tier = "llm"
        elif names & _USES["server"] or fixtures & _CORPUS_FIXTURES:
            tier = "server"
        else:
            tier = "fast"
        item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL 15 server (Debian's) for a module's tests; each makes its own database."""
    from tests.pg_server import remove_postgres, start_postgres

    server = start_postgres()
    yield server
    remove_postgres(server)

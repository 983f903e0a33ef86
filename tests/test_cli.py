"""The `assistant` command, run as a real subprocess (in process where a test double answers)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import main
from tests.conftest import SEED_FILE, SEEDS


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def test_ingest_and_ask_json(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    ingested = run("ingest", str(SEEDS), "--index", str(index), "--json", "--progress")
    assert ingested.returncode == 0, ingested.stderr
    report = json.loads(ingested.stdout)  # one object: the progress goes to stderr
    lines = [json.loads(line) for line in ingested.stderr.splitlines() if line.startswith("{")]
    steps = [line["step"] for line in lines]
    assert steps[0] == "read"
    assert steps[-2:] == ["write", "done"]
    assert set(steps[1:-2]) == {"embed"}  # the model's batches, each its own line
    lines = [line for line in lines if line["step"] != "embed"]
    assert all(line["event"] == "progress" for line in lines)
    assert lines[0]["source"].endswith(SEED_FILE.name)
    assert lines[0]["eta_s"] is None  # no file done yet
    assert lines[1]["chunks_written"] == report["chunks"]
    assert (lines[2]["files_done"], lines[2]["files_total"], lines[2]["eta_s"]) == (1, 1, 0.0)
    assert report["documents"] == {
        "added": 1,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "renamed": 0,
        "failed": [],
    }
    assert report["chunks"] > 0
    assert report["seconds"] > 0

    asked = run(
        "ask",
        "--json",
        "--index",
        str(index),
        "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?",
    )
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert set(answer) >= {"answer", "refused", "citations", "timings_ms"}
    assert "Ant Group" in answer["answer"]
    assert "JD.com" in answer["answer"]
    assert not answer["refused"]
    text = SEED_FILE.read_text(encoding="utf-8")
    for citation in answer["citations"]:
        assert set(citation) >= {
            "id",
            "source",
            "start",
            "end",
            "quote",
            "score",
            "page",
            "section",
        }
        assert text[citation["start"] : citation["end"]] == citation["quote"]

    human = run("ask", "--index", str(index), "What is the capital city of Canada?")
    assert human.returncode == 0
    assert "The documents don't answer this." in human.stdout


def test_default_paths_and_settings_from_env(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.md").write_text("# Kitchen\n\nThe kettle is descaled on Fridays.\n")
    ingested = run("ingest", "--json", cwd=tmp_path, env={"ASSISTANT_INDEX_DIR": "myindex"})
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["documents"]["added"] == 1
    assert (tmp_path / "myindex" / "catalog.sqlite3").exists()
    text = run("ingest", cwd=tmp_path, env={"ASSISTANT_INDEX_DIR": "myindex"})
    assert "unchanged 1" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", ""], "the question is empty"),
        (["ask", "   "], "the question is empty"),
        (["ask", "y" * 5000], "too long"),
    ],
)
def test_bad_questions_exit_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = run(*args, "--index", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert message in result.stderr


def test_missing_index_exits_2(tmp_path: Path) -> None:
    result = run("ask", "--index", str(tmp_path / "none"), "Is there an index?")
    assert result.returncode == 2
    assert "run `assistant ingest`" in result.stderr


def test_invalid_setting_exits_2(tmp_path: Path) -> None:
    result = run("ask", "hello?", env={"ASSISTANT_TOP_K": "zero"})
    assert result.returncode == 2
    assert "invalid setting top_k" in result.stderr


@pytest.mark.parametrize("command", [("ingest", "seeds"), ("sync", "seeds"), ("ask", "hi?")])
def test_an_index_that_is_a_file_exits_2_with_one_line(
    tmp_path: Path, command: tuple[str, str]
) -> None:
    taken = tmp_path / "index"
    taken.write_text("not a folder", encoding="utf-8")
    result = run(*command, "--index", str(taken))
    assert result.returncode == 2, result.stderr
    assert f"invalid setting index_dir: Value error, {taken} is a file, not a folder" in (
        result.stderr
    )
    assert result.stderr.strip().count("\n") == 0  # no traceback
    assert taken.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize(
    "command", [("ask", "hi?"), ("ingest", str(SEEDS)), ("users", "list"), ("collections", "list")]
)
def test_a_catalog_that_is_not_a_database_exits_1_with_one_line_and_stays_as_it_was(
    tmp_path: Path, command: tuple[str, str]
) -> None:
    index = tmp_path / "index"
    index.mkdir()
    junk = b"these bytes are not an SQLite database, whatever the file's name says. " * 40
    (index / "catalog.sqlite3").write_bytes(junk)
    result = run(*command, "--index", str(index))
    assert result.returncode == 1, result.stderr
    assert f"the index at {index} cannot be used: file is not a database" in result.stderr
    assert result.stderr.strip().count("\n") == 0  # no traceback
    assert (index / "catalog.sqlite3").read_bytes() == junk


@pytest.mark.parametrize(
    "command", [("ask", "hi?"), ("ingest", str(SEEDS)), ("users", "list"), ("watch", str(SEEDS))]
)
def test_another_programs_catalog_exits_1_and_gets_none_of_our_tables(
    tmp_path: Path, command: tuple[str, str]
) -> None:
    index = tmp_path / "index"
    index.mkdir()
    with sqlite3.connect(index / "catalog.sqlite3") as db:
        db.execute("CREATE TABLE invoices (number INTEGER PRIMARY KEY, total REAL)")
    db.close()
    before = (index / "catalog.sqlite3").read_bytes()
    result = run(*command, "--index", str(index))
    assert result.returncode == 1, result.stderr
    assert (
        f"the index at {index} cannot be used: another program's SQLite database "
        "(catalog.sqlite3)" in result.stderr
    )
    # One line (`watch` logs what it watches first): it stops rather than retrying for ever.
    assert [line for line in result.stderr.splitlines() if "watching" not in line] == [
        line for line in result.stderr.splitlines() if line.startswith("assistant: error:")
    ]
    assert (index / "catalog.sqlite3").read_bytes() == before
    assert not [p.name for p in index.iterdir() if p.name.startswith("catalog.sqlite3-")]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (("ingest", ""), "argument PATH: an empty path names no file or folder"),
        (("ingest", "--rebuild", " "), "argument PATH: an empty path names no file or folder"),
        (("sync", ""), "argument FOLDER: an empty path names no file or folder"),
        (("ask", "hi?", "--index", ""), "argument --index: an empty path names no file or folder"),
        (("eval", "g.jsonl", "--report", ""), "argument --report: an empty path names no file"),
        (("watch", "seeds", "--quiet", "nan"), "argument --quiet: must be a finite number, not"),
        (("watch", "seeds", "--retry", "inf"), "argument --retry: must be a finite number, not"),
        (("eval", "g.jsonl", "--tolerance", "nan"), "argument --tolerance: must be a finite"),
        (("eval", "g.jsonl", "--min-accuracy", "nan"), "argument --min-accuracy: must be a"),
    ],
)
def test_an_empty_path_or_a_number_that_is_no_number_exits_2_and_touches_nothing(
    tmp_path: Path, command: tuple[str, ...], message: str
) -> None:
    """`ingest "$DOCS"` with DOCS unset read as the working folder; `--quiet nan` crashed
    watch and `--tolerance nan` passed every regression."""
    result = run(*command, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_file_name_never_sends_escape_sequences_to_the_terminal(tmp_path: Path) -> None:
    """Whoever names a file in a shared folder must not clear or recolour the terminal of the
    person who asks (the sources list, the verbose log, the failures listed)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "\x1b[2J\x1b[31mred.txt").write_text("Otters hold hands while they sleep.")
    (docs / "\x1b]0;owned\x07empty.txt").write_text("")
    index = str(tmp_path / "index")
    ingested = run("ingest", str(docs), "--index", index, "--verbose")
    asked = run("ask", "What do otters hold while they sleep?", "--index", index)
    assert ingested.returncode == 3, ingested.stderr
    assert asked.returncode == 0, asked.stderr
    for output in (ingested.stdout, ingested.stderr, asked.stdout, asked.stderr):
        assert "\x1b" not in output
        assert "\x07" not in output
    assert "docs/red.txt (chars 0-35)" in asked.stdout
    assert f"skipped {docs / 'empty.txt'}: empty file" in ingested.stdout
    assert f"committed {docs / 'red.txt'}" in ingested.stderr


def test_a_password_from_an_empty_standard_input_is_said_to_be_missing(tmp_path: Path) -> None:
    """`users add carol < /dev/null` said the password was too short."""
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "users", "add", "carol", "--index",
         str(tmp_path / "index")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "standard input ended before a line" in result.stderr
    assert not (tmp_path / "index").exists()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ("collections", "list", "nope"),
            "`assistant collections list` takes no name (got 'nope')",
        ),
        (("users", "list", "bob"), "`assistant users list` takes no name (got 'bob')"),
        (("api-keys", "list", "x"), "`assistant api-keys list` takes no name (got 'x')"),
        (("api-keys", "create", "x", "--user", "al"), "`assistant api-keys create` takes no name"),
    ],
)
def test_a_name_an_action_does_not_take_exits_2(
    tmp_path: Path, command: tuple[str, ...], message: str
) -> None:
    """`collections list nope` listed every collection, as if the name had been read."""
    (tmp_path / "index").mkdir()
    result = run(*command, "--index", str(tmp_path / "index"))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_ingest_exits_3_when_a_file_or_path_failed_and_indexes_the_rest(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text("Otters hold hands while they sleep.", encoding="utf-8")
    (docs / "empty.txt").write_text("", encoding="utf-8")
    index = tmp_path / "index"
    result = run("ingest", str(docs), str(tmp_path / "nope"), "--index", str(index), "--json")
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["documents"]["added"] == 1
    failed = {Path(item["source"]).name: item["error"] for item in report["documents"]["failed"]}
    assert failed == {"empty.txt": "empty file", "nope": "no such file or directory"}
    assert run("ingest", str(docs / "good.txt"), "--index", str(index)).returncode == 0


def test_an_empty_catalog_copy_target_exits_2_with_one_line(seed_index: Path) -> None:
    result = run("catalog-copy", "--to", "", "--index", str(seed_index))
    assert result.returncode == 2, result.stderr
    assert "--to needs the PostgreSQL URL to copy into" in result.stderr
    assert result.stderr.strip().count("\n") == 0


@pytest.mark.parametrize(
    "command", [("hash-password",), ("hash-api-key", "--stdin"), ("users", "add", "eve")]
)
def test_a_secret_on_stdin_that_is_not_utf8_exits_2_with_one_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", *command, "--index", str(tmp_path / "index")]
        if command[0] == "users"
        else [sys.executable, "-m", "assistant.cli", *command],
        input=b"\xff\xfe a long enough secret of twenty characters\n",
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode() == "assistant: error: standard input is not UTF-8 text\n"
    if command[0] == "users":  # and no user was added
        listed = run("users", "list", "--index", str(tmp_path / "index"))
        assert "eve" not in listed.stdout


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("ingest", "sync", "watch", "ask", "serve"):
        assert command in result.stdout


def test_ask_streams_then_lists_the_checked_sources(
    seed_index: Path, fake_answerer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """In process: the `fake` test double is registered in this process only."""
    question = "What is the central concern for authorities in Beijing?"
    code = main(["ask", "--index", str(seed_index), "--answerer", fake_answerer, question])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "[1]" in out
    assert "Sources:" in out
    assert "Checked answer:" not in out  # the fake quotes its source: nothing changed
    # Then where to read on: each place with where it is, then its sentence in quotes.
    also = out.split("Also found (not quoted above):\n", 1)[1].rstrip("\n").split("\n  - ")
    assert also[0].startswith("  - ")
    seed = SEED_FILE.read_text(encoding="utf-8")
    for entry in also:
        where, *quoted = entry.removeprefix("  - ").splitlines()
        start, end = (int(n) for n in where.rsplit(", chars ", 1)[1].split("-"))
        assert all(line.startswith("      ") for line in quoted)
        sentence = " ".join(" ".join(quoted).split())
        assert sentence.startswith("“")
        assert sentence.endswith("”")
        shown = sentence[1:-1].removesuffix("…")
        assert " ".join(seed[start:end].split()).startswith(shown)


def test_the_test_double_is_not_offered(seed_index: Path) -> None:
    help_text = run("ask", "--help").stdout
    assert "extractive, llamacpp, openai (default: extractive)" in " ".join(help_text.split())
    assert "fake" not in help_text
    result = run("ask", "--index", str(seed_index), "--answerer", "fake", "Who reported it?")
    assert result.returncode == 2
    assert result.stderr == (
        "assistant: error: unknown answerer 'fake' (known: extractive, llamacpp, openai)\n"
    )


def test_ask_with_an_unusable_model_shows_the_fallback_note(seed_index: Path) -> None:
    result = run(
        "ask",
        "--index",
        str(seed_index),
        "--answerer",
        "llamacpp",
        "--model",
        "/nonexistent/model.gguf",
        "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?",
    )
    assert result.returncode == 0, result.stderr
    assert "Note: The language model was unavailable (no model file at" in result.stdout
    assert "Ant Group" in result.stdout
    assert "Traceback" not in result.stderr

"""The README's Python example runs as written (in a scratch folder with seeds/)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, SEEDS


def test_readme_python_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert block is not None
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    exec(compile(block.group(1), "README.md", "exec"), {})
    output = capsys.readouterr().out
    first_answer = output.splitlines()[0]
    assert first_answer != "The documents don't answer this."
    assert "[1]" in first_answer
    seed_text = (SEEDS / "000_4f69a52559980107.txt").read_text("utf-8")
    cited = [line for line in output.splitlines() if line.startswith("1 seeds/")]
    assert cited, output
    _, _, start, end, quote = cited[0].split(" ", 4)
    assert seed_text[int(start) : int(end)] == quote
    also = [line.split() for line in output.splitlines() if line.startswith("also found: ")]
    assert also, output
    assert all(line[-3].endswith(".txt") and int(line[-2]) < int(line[-1]) for line in also)
    # The exported conversation: its title, the question, and the numbered sources.
    assert "\n# Which tech giants had their Hong Kong stablecoin plans…\n" in output
    assert "\nSources:\n\n[1] **" in output
    assert "\nAlso found:\n\n- **" in output  # the passages found that it does not quote


def test_readme_quickstart_is_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("##", 1)[0]
    block = re.search(r"```sh\n(.*?)```", quickstart, re.DOTALL)
    assert block is not None
    assert block.group(1).split("\n")[:2] == ["make run", "make test"]

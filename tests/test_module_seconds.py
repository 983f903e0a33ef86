"""The longest test files go to the workers first; their seconds come from a run's log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.module_seconds import TABLE, load_table, main, seconds_per_file

LOG = """\
============================= slowest durations ==============================
208.56s call     tests/test_crash_safety.py::test_killed_ingests_end_identical_to_a_clean_build
137.96s setup    tests/test_eval_pydocs.py::test_the_index_holds_the_pages_as_the_loaders_read_them
2.50s call     tests/test_eval_pydocs.py::test_gate[accuracy-min]
0.40s teardown tests/ui/test_chat.py::test_send
(12 durations < 0.005s hidden.  Use -vv to show these durations.)
=========== 1111 passed in 1574.48s (0:26:14) ===========
"""


def test_seconds_are_summed_per_file_over_setup_call_and_teardown() -> None:
    assert seconds_per_file(LOG) == {
        "tests/test_crash_safety.py": 208.6,
        "tests/test_eval_pydocs.py": 140.5,
        "tests/ui/test_chat.py": 0.4,
    }


def test_a_log_without_durations_is_refused_and_the_table_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = TABLE.read_bytes()
    log = tmp_path / "run.log"
    log.write_text("1 passed in 0.1s\n")
    assert main([str(log)]) == 1
    assert "--durations=0" in capsys.readouterr().out
    assert TABLE.read_bytes() == before
    assert main([]) == 2


def test_the_table_names_real_files_and_the_session_runs_them_longest_first(
    request: pytest.FixtureRequest,
) -> None:
    table = load_table()
    root = Path(__file__).resolve().parents[1]
    assert table, "tests/module_seconds.json is empty"
    missing = [path for path in table if not (root / path).is_file()]
    assert not missing, f"stale entries (regenerate: python -m tests.module_seconds LOG): {missing}"
    order = list(
        dict.fromkeys(item.path.relative_to(root).as_posix() for item in request.session.items)
    )
    known = [path for path in order if path in table]
    assert [table[path] for path in known] == sorted((table[path] for path in known), reverse=True)
    assert json.loads(TABLE.read_text()) == table

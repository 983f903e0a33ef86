"""Importing the package has no side effects a caller could notice: no thread is started."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_package_starts_no_thread() -> None:
    code = (
        "import threading\n"
        "import assistant, assistant.core, assistant.retrieval, assistant.cli\n"
        "print(sorted(t.name for t in threading.enumerate()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "['MainThread']"

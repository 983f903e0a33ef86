"""Importing the package has no side effects a caller could notice (no thread is started), and
each command imports only what its work uses: the heavy libraries are loaded lazily, so a
question or a no-op ingest starts fast (benchmarks/bench_startup.py measures how fast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SEEDS, copy_index

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
# Never needed by the command line's ask or ingest (the UI, the API, the torch backend, LDAP, the
# benchmarks), or imported by nltk although its stemmer and Punkt do not use them.
NEVER = {"torch", "sentence_transformers", "llama_index", "gradio", "fastapi", "uvicorn",
         "scipy", "sklearn", "transformers", "ldap3"}  # fmt: skip


def loaded_after(code: str, cwd: Path | None = None) -> set[str]:
    """The top-level packages and assistant modules imported after running `code` afresh."""
    script = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    names = json.loads(result.stdout.strip().splitlines()[-1])
    return {name if name.startswith("assistant.") else name.split(".")[0] for name in names}


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


def test_the_command_line_imports_no_heavy_library() -> None:
    loaded = loaded_after("import assistant.cli")
    heavy = NEVER | {"chromadb", "onnxruntime", "tokenizers", "nltk", "numpy"}
    assert not loaded & heavy


def test_a_question_imports_what_it_uses_and_nothing_more(seed_index: Path) -> None:
    code = (
        "from assistant.cli import main\n"
        f"assert main(['ask', {QUESTION!r}, '--index', {str(seed_index)!r}]) == 0\n"
    )
    loaded = loaded_after(code)
    assert {"chromadb", "onnxruntime", "nltk"} <= loaded  # it did search and answer
    assert not loaded & NEVER
    assert "assistant.ingest" not in loaded  # nor the ingest and its loaders
    assert "assistant.loaders" not in loaded


def test_a_no_op_ingest_loads_neither_the_model_nor_chroma(
    seed_index: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    copy_index(seed_index, index)
    code = (
        "import contextlib, io, json\n"
        "from assistant.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    assert main(['ingest', {str(SEEDS)!r}, '--index', {str(index)!r}, '--json']) == 0\n"
        "report = json.loads(out.getvalue())['documents']\n"
        "assert (report['unchanged'], report['added'], report['updated']) == (1, 0, 0), report\n"
    )
    loaded = loaded_after(code)
    assert not loaded & (NEVER | {"chromadb", "onnxruntime", "tokenizers", "nltk"})


def test_the_chat_imports_gradio_without_touching_its_type_stubs() -> None:
    """Gradio rewrites the `.pyi` stub of every component module as it imports (reading each
    one, then writing it if it differs); the chat's import skips that (assistant/ui/
    gradio_import.py) and builds the page all the same."""
    code = (
        "import sys\n"
        "opened = []\n"
        "sys.addaudithook(lambda event, args: event == 'open' and isinstance(args[0], str)"
        " and args[0].endswith('.pyi') and opened.append(args[0]))\n"
        "import assistant.ui.app\n"
        "import gradio, gradio.component_meta\n"
        "from assistant.ui.gradio_import import _no_stub\n"
        "assert gradio.component_meta.create_or_modify_pyi is _no_stub\n"
        "print(len(opened), opened[:3])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[0] == "0", result.stdout
    # Without the hook, the same import reads the stubs: the check above can fail.
    plain = "".join(
        line for line in code.splitlines(True) if "assistant" not in line and "_no_stub" not in line
    )
    result = subprocess.run(
        [sys.executable, "-c", plain], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[0]) > 10, result.stdout

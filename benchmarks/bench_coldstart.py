"""Cold start: from launching `assistant serve` until the page loads and the chat answers.

    python -m benchmarks.bench_coldstart [--runs 3] [--out DIR]

The seed index is built first (not timed). Each run starts a fresh server process on port 0 (it
prints the port it bound) and records: the page answering HTTP 200, and the first question
answered through the `ask` endpoint with gradio_client. For scale, `assistant ask` as a fresh
process (model load included) is timed too. Writes benchmarks/results/coldstart.json (or
DIR/coldstart.json with --out DIR).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from assistant import Assistant, Settings
from benchmarks.common import REPO, RESULTS, save, scratch_dir, stopwatch, summary_ms

QUESTION = "Which companies had to halt their stablecoin plans in Hong Kong?"


SERVING = re.compile(r"assistant: serving .*?at http://127\.0\.0\.1:(\d+)/")


def one_run(index_dir: Path) -> tuple[float, float]:
    """Seconds until the page loads and until the first answer."""
    from gradio_client import Client

    command = [sys.executable, "-m", "assistant.cli", "serve", "--port", "0",
               "--index", str(index_dir)]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # the server binds port 0 and prints the URL it got
            found = SERVING.search(line)
            if found:
                break
        else:
            raise RuntimeError("the server exited before serving")
        url = f"http://127.0.0.1:{found.group(1)}/"
        threading.Thread(target=process.stderr.read, daemon=True).start()  # never block it
        while True:
            if process.poll() is not None:
                raise RuntimeError("the server exited")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        page = time.perf_counter() - started
        Client(url, verbose=False).predict(QUESTION, api_name="/ask")
        answered = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)
    return page, answered


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and save."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where coldstart.json goes")
    args = parser.parse_args(argv)
    index_dir = scratch_dir("bench-cold-") / "index"
    Assistant(Settings.model_validate({"index_dir": index_dir})).ingest([REPO / "seeds"])
    pages, answers, cli = [], [], []
    for _ in range(args.runs):
        page, answered = one_run(index_dir)
        pages.append(page * 1000)
        answers.append(answered * 1000)
        with stopwatch() as elapsed:
            subprocess.run(
                [sys.executable, "-m", "assistant.cli", "ask", "--index", str(index_dir), QUESTION],
                check=True,
                capture_output=True,
            )
        cli.append(elapsed() * 1000)
    result = {
        "serve_page_ms": summary_ms(pages),
        "serve_first_answer_ms": summary_ms(answers),
        "cli_ask_ms": summary_ms(cli),
        "runs": args.runs,
    }
    save("coldstart", result, args.out)
    print(
        f"serve: page after {result['serve_page_ms']['p50'] / 1000:.1f} s, first answer after "
        f"{result['serve_first_answer_ms']['p50'] / 1000:.1f} s; "
        f"`assistant ask` cold {result['cli_ask_ms']['p50'] / 1000:.1f} s (p50 of {args.runs})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

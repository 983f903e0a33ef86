# Two commands do everything: `make run` (set up, index seeds/, serve the chat) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
LLM_STAMP := $(VENV)/.installed-llm-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: help setup setup-llm index run serve test lint typecheck pytest system-deps eval-benchmark bench clean

help:
	@echo "make run   - set up, build the index from seeds/ if needed, serve the chat at http://127.0.0.1:7860 and the API under /v1"
	@echo "make test  - set up (with the [llm] extra), then ruff, mypy and the whole pytest suite"
	@echo "make setup-llm - add the LLM answerers (llama.cpp, SmolLM2, OpenAI-compatible client)"
	@echo "make eval-benchmark - evaluate on both golden sets, refresh docs/evaluation charts"
	@echo "make bench - speed benchmarks; regenerates docs/benchmarks.md (about an hour on 2 cores)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch first: 2.13.0 is the CPU build on this machine's disk (a bare `torch` pulls CUDA).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

# The LLM answerers' extra compiles llama.cpp (~6 min on 2 cores the first time). `make run`
# skips it: the extractive default measured better (docs/answerers.md); `make test` needs it.
$(LLM_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,llm]'
	touch $@

setup: $(STAMP)

setup-llm: $(LLM_STAMP)

# Incremental: unchanged files are skipped, so this is quick when the index is current.
index: setup
	$(BIN)/assistant ingest

run: index
	$(BIN)/assistant serve

serve: setup
	$(BIN)/assistant serve

# Debian's Chromium for the browser tests (never `playwright install`), and the Python 3.11
# HTML docs: the real corpus of the evaluation tests (tests/golden/pydocs_corpus.txt).
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -d /usr/share/doc/python3.11/html ] || missing="$$missing python3.11-doc"; \
	if [ -n "$$missing" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y $$missing; \
	fi

lint: setup-llm
	$(BIN)/ruff check assistant tests benchmarks
	$(BIN)/ruff format --check assistant tests benchmarks

typecheck: setup-llm
	$(BIN)/mypy

pytest: setup-llm system-deps
	$(BIN)/pytest

test: lint typecheck pytest

# Refresh the numbers and charts of docs/evaluation.md (both corpora; several minutes).
eval-benchmark: setup system-deps
	$(BIN)/python -m benchmarks.eval_corpora --work .eval-work

BENCH_STAMP := $(VENV)/.installed-bench-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

$(BENCH_STAMP): $(LLM_STAMP)
	$(BIN)/pip install --quiet -e '.[test,llm,bench]'
	touch $@

# Speed: ingest, query latency up to 1M chunks, SmolLM2 generation, cold start.
bench: $(BENCH_STAMP) system-deps
	$(BIN)/python -m benchmarks.bench_ingest
	$(BIN)/python -m benchmarks.bench_query
	$(BIN)/python -m benchmarks.bench_generative
	$(BIN)/python -m benchmarks.bench_coldstart
	$(BIN)/python -m benchmarks.report

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .eval-work

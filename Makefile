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

.PHONY: help setup setup-llm index run serve test check fuzz lint typecheck pytest system-deps axe corpora eval-benchmark fit bench clean

help:
	@echo "make run   - set up, build the index from seeds/ if needed, serve the chat at http://127.0.0.1:7860 and the API under /v1"
	@echo "make test  - set up (with the [llm] extra), then ruff, mypy and the whole pytest suite"
	@echo "make check - ruff, mypy and the fast test tier (no servers, browser or llama.cpp)"
	@echo "make setup-llm - add the LLM answerers (llama.cpp, SmolLM2, OpenAI-compatible client)"
	@echo "make eval-benchmark - evaluate on every golden corpus (tuning leave-one-out, held-out), refresh docs/evaluation"
	@echo "make fit   - refit the extractive answerer's models on the tuning corpora, then evaluate"
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

# The LLM answerers' extra compiles llama.cpp (~6 min on 2 cores the first time on a machine).
# `make run` skips it: the extractive default measured better (docs/answerers.md); `make test`
# needs it. llama.cpp is compiled for any x86-64 (GGML_NATIVE=OFF), not for the build host's own
# instruction set: a native build on a host with AVX-512 FP16 and BF16 segfaulted on its first
# decode of SmolLM2 (llama-cpp-python 0.3.36). LLAVA_BUILD=OFF skips the multimodal library
# (mtmd), which no answerer loads (llama_cpp imports it only for image chat handlers): less to
# compile. The version range is pyproject.toml's. pip's own wheel cache ignores CMAKE_ARGS (it
# would hand back a native wheel built earlier on the same machine), so the wheel is built
# with --no-cache-dir into our own cache, one folder per hash of the version range, the
# CMAKE_ARGS and the Python (LLAMA_WHEELS), and installed from there: a later setup on the same
# machine (a new clone, a new venv) skips the compile. Built in a temporary folder (.build-*)
# and moved in whole, so an interrupted build never leaves a folder a later setup would take.
# `rm -r ~/.cache/assistant/wheels` to rebuild (a newer llama-cpp-python in the range is only
# picked up then).
LLAMA_CPP := $(shell sed -n 's/^ *"\(llama-cpp-python[^"]*\)".*/\1/p' pyproject.toml)
LLAMA_CPP_EXTRAS := $(shell echo '$(LLAMA_CPP)' | sed -n 's/^[^[]*\(\[[^]]*\]\).*/\1/p')
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF
LLAMA_WHEELS := $${XDG_CACHE_HOME:-$$HOME/.cache}/assistant/wheels
$(LLM_STAMP): $(STAMP)
	@set -e; \
	key=$$(printf '%s\n' '$(LLAMA_CPP)' '$(LLAMA_CMAKE_ARGS)' \
		"$$($(BIN)/python -c 'import sys, sysconfig; print(sys.version, sysconfig.get_platform())')" \
		| sha1sum | cut -c1-12); \
	dir="$(LLAMA_WHEELS)/$$key"; \
	if ! ls "$$dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then \
		echo "building llama-cpp-python into $$dir"; \
		mkdir -p "$(LLAMA_WHEELS)"; tmp=$$(mktemp -d "$(LLAMA_WHEELS)/.build-XXXXXX"); \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --quiet --no-deps --no-cache-dir \
			-w "$$tmp" '$(LLAMA_CPP)' || { rm -rf "$$tmp"; exit 1; }; \
		mv -T "$$tmp" "$$dir" 2>/dev/null || rm -rf "$$tmp"; \
	fi; \
	wheel=$$(ls "$$dir"/llama_cpp_python-*.whl | head -n 1); \
	echo "installing $$wheel"; \
	$(BIN)/pip install --quiet "$$wheel$(LLAMA_CPP_EXTRAS)"
	$(BIN)/pip install --quiet -e '.[test,llm]'
	touch $@

setup: $(STAMP)

setup-llm: $(LLM_STAMP)

# Incremental: unchanged files are skipped, so this is quick when the index is current. Exit 3
# (files reported as failed, the rest indexed) still lets `make run` serve what was indexed.
index: setup
	$(BIN)/assistant ingest || [ $$? -eq 3 ]

run: index
	$(BIN)/assistant serve

serve: setup
	$(BIN)/assistant serve

# Debian's Chromium for the browser tests (never `playwright install`), the Python 3.11
# HTML docs: the real corpus of the evaluation tests (tests/golden/pydocs_corpus.txt),
# OpenLDAP's slapd, which the directory tests start on loopback (tests/ldap_server.py), and
# nginx and systemd-analyze for deploy/'s site and units (tests/test_deploy.py), and
# PostgreSQL 15, which the server catalog's tests start in a temporary folder (tests/pg_server.py).
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/sbin/slapd ] || missing="$$missing slapd"; \
	[ -x /usr/bin/ldapsearch ] || missing="$$missing ldap-utils"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	[ -x /usr/bin/systemd-analyze ] || missing="$$missing systemd"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	[ -d /usr/share/doc/python3.11/html ] || missing="$$missing python3.11-doc"; \
	[ -x /usr/bin/tesseract ] || missing="$$missing tesseract-ocr"; \
	[ -f /usr/share/tesseract-ocr/5/tessdata/eng.traineddata ] || missing="$$missing tesseract-ocr-eng"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql-15"; \
	if [ -n "$$missing" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

# axe-core, injected by the browser tests into the chat to check accessibility
# (tests/ui/test_accessibility_browser.py): installed from npm into tests/ui/.axe once, pinned,
# never fetched while the tests run.
AXE_VERSION := 4.14.1
AXE := tests/ui/.axe/node_modules/axe-core/axe.min.js

$(AXE): | system-deps
	npm install --prefix tests/ui/.axe --no-audit --no-fund --save-exact axe-core@$(AXE_VERSION)

axe: $(AXE)

lint: setup-llm
	$(BIN)/ruff check assistant tests benchmarks
	$(BIN)/ruff format --check assistant tests benchmarks

# mypy's cache is kept outside the clone, one per set of installed packages (a hash of the names
# of the venv's dist-info folders: each package's name and version): a cold run of mypy costs
# ~2 min of CPU (this package and the typed libraries it imports: pydantic, numpy, ...), a warm
# one seconds. mypy checks every cached module against the hash of its source (whatever its
# path, so in any clone and venv) and the options, and checks again what differs: a new clone
# re-checks only what it changed. `rm -r ~/.cache/assistant/mypy` to start cold.
MYPY_CACHE = $${XDG_CACHE_HOME:-$$HOME/.cache}/assistant/mypy/$$(cd $(VENV)/lib/python*/site-packages && ls -d *.dist-info | sort | sha1sum | cut -c1-12)
MYPY = $(BIN)/mypy --cache-dir "$(MYPY_CACHE)"

typecheck: setup-llm
	$(MYPY)

# Two workers (the machines have 2 cores): much of the suite waits on servers, browsers and
# subprocesses, so a second worker uses the idle core. A test file stays on one worker
# (--dist loadfile): its module fixtures, such as the Python docs' index, are built once.
# Files go out in collection order, which tests/conftest.py starts with the longest modules.
# Measured 2026-12-01 and not kept: all files longest first (pytest 25 min 4 s against 26 min
# 14 s, but load-sensitive tests failed in both clean-clone runs: the heaviest files then run
# side by side); three workers (27 min 11 s, load timeouts).
pytest: setup-llm system-deps $(AXE)
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=25

test: lint typecheck pytest

# Random, longer hypothesis runs (the default profile is derandomised); not part of CI. Its
# example database (failures replay first next time) lives outside the repository.
FUZZ_DIR ?= $(or $(TMPDIR),/tmp)/assistant-hypothesis
fuzz: setup
	HYPOTHESIS_PROFILE=fuzz HYPOTHESIS_STORAGE_DIRECTORY=$(FUZZ_DIR) \
		$(BIN)/pytest -m fast -q --hypothesis-show-statistics tests/test_properties.py

# The loop you live in: lint, types and the fast tier (no servers, browser or llama.cpp).
check: setup
	$(BIN)/ruff check assistant tests benchmarks
	$(BIN)/ruff format --check assistant tests benchmarks
	$(MYPY)
	$(BIN)/pytest -m fast -q

# The golden corpora beyond seeds/ and the Python docs (docs/evaluation.md): Debian's PostgreSQL,
# SQLite, gnuplot, R, git, Apache, Asymptote, Postfix, BIND, HAProxy, zsh, Exim and Octave
# manuals, Node.js API pages, the GNU Coding Standards and the GNU maintainers' guide, the
# Markdown docs inside the npm CLI's own package, and the Markdown docs inside Hatch's source
# distribution on PyPI.
NPM_DOCS_VERSION := 10.9.2
HATCH_DOCS_VERSION := 1.14.0
corpora: system-deps | $(BIN)/python
	@missing=""; \
	for p in postgresql-doc-15 sqlite3-doc gnuplot-doc r-doc-pdf git-doc apache2-doc nodejs gnu-standards asymptote-doc postfix-doc bind9-doc haproxy-doc zsh-doc exim4-doc-html octave-doc poppler-utils; do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends $$missing; \
	fi
	@if [ ! -d .corpora/npm-$(NPM_DOCS_VERSION)/package/docs ]; then \
		mkdir -p .corpora/npm-$(NPM_DOCS_VERSION) && cd .corpora/npm-$(NPM_DOCS_VERSION) && \
		npm pack --silent npm@$(NPM_DOCS_VERSION) >/dev/null && tar -xzf npm-$(NPM_DOCS_VERSION).tgz; \
	fi
	@if [ ! -d .corpora/hatch-$(HATCH_DOCS_VERSION)/hatch-$(HATCH_DOCS_VERSION)/docs ]; then \
		mkdir -p .corpora/hatch-$(HATCH_DOCS_VERSION) && \
		$(BIN)/python -m pip download --quiet --no-deps --no-binary :all: \
			--dest .corpora/hatch-$(HATCH_DOCS_VERSION) hatch==$(HATCH_DOCS_VERSION) && \
		tar -xzf .corpora/hatch-$(HATCH_DOCS_VERSION)/hatch-$(HATCH_DOCS_VERSION).tar.gz \
			-C .corpora/hatch-$(HATCH_DOCS_VERSION); \
	fi

# Refresh the numbers and charts of docs/evaluation.md: every golden corpus, the tuning ones
# leave-one-corpus-out, the held-out ones with the shipped model (about 20 minutes).
eval-benchmark: setup corpora
	$(BIN)/python -m benchmarks.eval_corpora --work .eval-work

# Refit the extractive answerer's models on the tuning corpora, then evaluate as above.
fit: setup corpora
	$(BIN)/python -m benchmarks.eval_corpora --work .eval-work --fit

BENCH_STAMP := $(VENV)/.installed-bench-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

$(BENCH_STAMP): $(LLM_STAMP)
	$(BIN)/pip install --quiet -e '.[test,llm,bench]'
	touch $@

# Speed: ingest, query latency up to 1M chunks, SmolLM2 generation, cold start of the server,
# start-up of the command line (ask, no-op ingest, --help).
bench: $(BENCH_STAMP) system-deps
	$(BIN)/python -m benchmarks.bench_ingest
	$(BIN)/python -m benchmarks.bench_query
	$(BIN)/python -m benchmarks.bench_restricted
	$(BIN)/python -m benchmarks.bench_generative
	$(BIN)/python -m benchmarks.bench_coldstart
	$(BIN)/python -m benchmarks.bench_startup
	$(BIN)/python -m benchmarks.bench_ocr
	$(BIN)/python -m benchmarks.report

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .eval-work .corpora tests/ui/.axe

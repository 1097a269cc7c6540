# The BERT Encoder, built from scratch: setup, tests and benchmarks.
#
#   make lab     create .venv (first time), install, start JupyterLab on notebooks/
#   make test    create .venv (first time), install with test tools (and Chromium for the
#                browser tests, via apt-get when allowed), run every check
#   make bench   full speed benchmark with the peers (benchmarks/run.py, benchmarks/requirements.txt)
#   make notebooks  re-execute every notebook offline, save clean outputs, re-sync .py twins
#   make check   pre-flight check of this machine for a class (python -m course_kit.doctor)
#   make site    build the course site (HTML of every notebook with its saved outputs) in build/site
#   make clean   remove .venv and caches
#
# Variables you may override on the command line:
#   TORCH   what pip installs for PyTorch, first and on its own (default: torch==2.13.0,
#           which is a CPU wheel on the course machines). A GPU user picks a CUDA build, e.g.
#           make lab TORCH="torch --index-url https://download.pytorch.org/whl/cu124"
#           The choice is remembered in .venv/.torch-spec until `make clean`.
#   PYTHON  the interpreter that creates .venv (default: python3.11, else python3)
#   VENV    where the virtual environment lives (default: .venv)
#   LAB_ARGS  extra arguments for `jupyter lab`, e.g. LAB_ARGS="--no-browser --port 8890"
#   PYTEST_ARGS  extra arguments for pytest, e.g. PYTEST_ARGS="-m 'not browser' -x"
#   PYTEST_WORKERS  how many processes `make pytest`, `make test` and `make test-fast` run on
#           (pytest-xdist; default 2, one per core of the course's test machine; 0: one process,
#           no xdist). tests/parallel.py keeps each notebook and each test file on one worker.
#   BENCH_ARGS   extra arguments for benchmarks/run.py (make bench)
#
# `make pytest` runs only the pytest part of `make test`, `make lint` only ruff.
# `make test-fast` is the fast tier (about 35 s on 2 cores, 2 workers): the model's unit tests, the
# comparison with the reference implementation and the checkers, without notebooks or tests marked slow.
# `make test` took 10.3 minutes from a fresh clone (pytest 8.5 of them, 2,378 tests) on the shared
# 2-core test machine (AMD EPYC, 2026-12-06; 11.4 and 12.4 in two earlier runs).
#
# Every notebook has a jupytext twin (notebooks/NN_x.py, see jupytext.toml); `make test`
# fails when a pair is out of sync (tests/test_notebook_pairs.py says how to fix it).

SHELL := /bin/bash

# TORCH defaults to what this .venv was last installed with, else torch==2.13.0, so a
# `make lab TORCH=...` choice sticks for later `make test` runs until `make clean`.
VENV    ?= .venv
TORCH_DEFAULT := torch==2.13.0
ifeq ($(origin TORCH),undefined)
TORCH := $(or $(shell cat $(VENV)/.torch-spec 2>/dev/null),$(TORCH_DEFAULT))
endif
PYTHON  ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
LAB_ARGS ?=
PYTEST_WORKERS ?= 2
# Jupyter refuses to start as root unless told; containers and CI machines often are root.
ROOT_ARG := $(if $(filter 0,$(shell id -u)),--allow-root)

# configurable-http-proxy for the class-load test (tests/test_hub.py), from npm, kept in build/.
HUB_PROXY := build/hub-proxy/node_modules/.bin/configurable-http-proxy

BIN := $(VENV)/bin
PY  := $(BIN)/python
PIP := $(PY) -m pip --disable-pip-version-check

# Stamp files: reinstall only when a requirements file, pyproject.toml or TORCH changed.
STAMP_LAB := $(VENV)/.installed-lab
STAMP_DEV := $(VENV)/.installed-dev
TORCH_SPEC := $(VENV)/.torch-spec
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings

# The tests and `make notebooks` never touch the network and never depend on the hash seed;
# they import course_lib from this checkout (also when .venv was installed from another one),
# and keep the checkers' progress records (kit.progress) out of the developer's own.
TEST_ENV := PYTHONPATH=$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH} \
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 \
	PYTHONHASHSEED=0 JUPYTER_PLATFORM_DIRS=1 PYDEVD_DISABLE_FILE_VALIDATION=1 \
	COURSE_PROGRESS_FILE=$(CURDIR)/build/test-progress.json

.PHONY: lab test test-fast browser lint pytest bench notebooks site check clean FORCE

lab: $(STAMP_LAB)
	$(BIN)/jupyter lab notebooks/ --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
		$(ROOT_ARG) $(LAB_ARGS)

test: $(STAMP_DEV) browser $(HUB_PROXY)
	$(BIN)/ruff check .
	@$(MAKE) --no-print-directory pytest
	@if [ -f benchmarks/run.py ]; then \
		echo "+ python benchmarks/run.py --smoke"; \
		$(TEST_ENV) $(PY) benchmarks/run.py --smoke; \
	else echo "benchmarks/run.py not found: benchmark smoke run skipped"; fi

# One pytest run: the Python tests and every notebook (notebooks/ and notebooks/solutions/),
# each notebook executed top to bottom by nbval (outputs compared only in cells marked
# "# NBVAL_CHECK_OUTPUT"), on PYTEST_WORKERS processes: each notebook (its own kernel) and each
# test file runs whole on one of them, the longest first (tests/parallel.py). Folders that do
# not exist yet are left out; "no tests collected" (exit 5) is reported but not treated as a
# failure.
pytest: $(STAMP_DEV)
	@paths=""; for d in tests notebooks; do [ -d "$$d" ] && paths="$$paths $$d"; done; \
	if [ -z "$$paths" ]; then echo "no tests/ or notebooks/ folder: nothing to test"; exit 0; fi; \
	echo "+ pytest$$paths -n $(PYTEST_WORKERS) --nbval-lax --nbval-current-env"; \
	rc=0; $(TEST_ENV) COURSE_REQUIRE_BROWSER=1 $(PY) -m pytest $$paths -n $(PYTEST_WORKERS) \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=600 -ra $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "WARNING: pytest collected no tests"; rc=0; fi; \
	exit $$rc

$(HUB_PROXY):
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20 (it brings npm)," \
		"or run: npm install --prefix build/hub-proxy configurable-http-proxy@5"; exit 1; }
	npm install --silent --no-audit --no-fund --prefix build/hub-proxy configurable-http-proxy@5

# The browser tests drive Debian's Chromium (Playwright's own download is never used). Installed
# here when this user may (root, or sudo without a password) and apt-get exists; otherwise this
# fails with the command to run. `make pytest` turns a skipped browser test into an error
# (COURSE_REQUIRE_BROWSER=1, tests/browser_required.py), so a missing browser is never a pass.
BROWSER_PACKAGES := chromium fonts-dejavu-core
CHROMIUM ?= /usr/bin/chromium
APT_GET ?= apt-get
browser:
	@missing=""; [ -x $(CHROMIUM) ] || missing="chromium"; \
	dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing="$$missing fonts-dejavu-core"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo -n"; \
	if command -v $(APT_GET) >/dev/null 2>&1 && { [ -z "$$sudo" ] || sudo -n true 2>/dev/null; }; then \
		echo "+ apt-get install $$missing (for the browser tests)"; \
		DEBIAN_FRONTEND=noninteractive $$sudo $(APT_GET) update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo $(APT_GET) install -y -qq --no-install-recommends $$missing; \
	else \
		echo "The browser tests need Chromium at $(CHROMIUM) and DejaVu fonts. Run:"; \
		echo "    sudo apt-get install $(BROWSER_PACKAGES)"; \
		echo "then make test again. To leave the browser tests out on purpose:"; \
		echo "    make test PYTEST_ARGS=\"-m 'not browser'\""; \
		exit 1; \
	fi
# The fast tier: unit, reference and checker tests (FAST_TESTS), no notebook, nothing marked slow.
FAST_TESTS := tests/test_model.py tests/test_reference.py tests/test_tokenizer.py \
	tests/test_checks_00_05.py tests/test_checks_06_10.py tests/test_checks_pretraining.py
test-fast: $(STAMP_DEV)
	$(TEST_ENV) $(PY) -m pytest $(FAST_TESTS) -n $(PYTEST_WORKERS) -m "not slow and not browser" -q \
		$(PYTEST_ARGS)

lint: $(STAMP_DEV)
	$(BIN)/ruff check .

# The peers (ONNX Runtime, CTranslate2) come from benchmarks/requirements.txt, installed here
# only: `make test` runs the benchmark's --smoke without them (their rows say "not installed").
STAMP_BENCH := $(VENV)/.installed-bench
$(STAMP_BENCH): $(STAMP_DEV) benchmarks/requirements.txt
	$(PIP) install --quiet -r benchmarks/requirements.txt
	@touch $@

bench: $(STAMP_BENCH)
	@if [ ! -f benchmarks/run.py ]; then echo "benchmarks/run.py not found"; exit 1; fi
	$(TEST_ENV) $(PY) benchmarks/run.py $(BENCH_ARGS)

# Re-execute every notebook (notebooks/ and notebooks/solutions/) top to bottom in a fresh
# kernel, offline, with the tests' environment (each first synced with its .py twin: the more
# recently edited of the two wins); save the outputs cleaned (no machine paths, memory
# addresses, timestamps or widget state) and rewrite each .py twin (tools/run_notebooks.py).
# NOTEBOOKS="notebooks/03_self_attention.ipynb ..." runs only those. Prints the time taken.
NOTEBOOKS ?=
notebooks: $(STAMP_DEV)
	$(TEST_ENV) $(PY) tools/run_notebooks.py $(NOTEBOOKS)

# The course site: every notebook with its saved outputs (never re-executed), the README as the
# home page, the explorers live (site/build.py, site/README.md). Offline; prints the time taken.
# Open build/site/index.html, or serve it: python -m http.server -d build/site
site: $(STAMP_DEV)
	$(TEST_ENV) $(PY) site/build.py

# Pre-flight check before a class: versions, shipped models and their SHA-256, a kernel, the
# explorer in a browser (when Chromium is there), free memory and disk, one forward pass.
check: $(STAMP_LAB)
	$(TEST_ENV) JUPYTER_PLATFORM_DIRS=1 $(PY) -m course_kit.doctor

# --- the virtual environment -------------------------------------------------------------

$(PY):
	@if [ -z "$(PYTHON)" ]; then echo "Python 3 not found: install Python 3.11 (or set PYTHON=...)"; exit 1; fi
	$(PYTHON) -m venv $(VENV)

# Rewritten only when TORCH differs from what was installed last, so changing it reinstalls.
$(TORCH_SPEC): FORCE | $(PY)
	@echo '$(TORCH)' | cmp -s - $@ || echo '$(TORCH)' > $@

$(STAMP_LAB): requirements.txt pyproject.toml $(TORCH_SPEC) | $(PY)
	@# TORCH may hold several words (a spec and pip options) and characters such as ">":
	@# split it into words, but never let the shell read ">" as a redirection.
	set -f; torch_args='$(TORCH)'; $(PIP) install $$torch_args
	$(PIP) install -r requirements.txt -e .
	@# JupyterLab settings for this venv: no news or update checks (offline, clean screenshots).
	@mkdir -p $(LAB_SETTINGS)
	@echo '{"@jupyterlab/apputils-extension:notification":' \
		'{"fetchNews": "false", "checkForUpdates": false}}' > $(LAB_SETTINGS)/overrides.json
	@touch $@

$(STAMP_DEV): $(STAMP_LAB) requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@

FORCE:

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info test-artifacts
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

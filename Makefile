# `make demo` and `make test` are the two commands of the README. Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip -q --disable-pip-version-check
PYTEST_ARGS ?=

.PHONY: demo test install install-dev lint typecheck unit eval-check bench-smoke bench clean

$(VENV)/.torch:
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	# CPU build of torch from this machine's disk first; a plain `torch` would pull a multi-GB CUDA build.
	$(PIP) install torch==2.13.0
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(VENV)/bin/newsdesk demo

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy

unit: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

# Answer quality on the bundled sample must stay above the recorded floors (evaluation/thresholds.json).
eval-check: install
	rm -rf eval-runs/ci
	NEWSDESK_DATA_DIR=$$(mktemp -d) $(VENV)/bin/newsdesk eval -d evaluation/datasets/sample.jsonl \
	  -i examples/articles -o eval-runs/ci --no-progress --thresholds evaluation/thresholds.json

test: lint typecheck unit eval-check

# Benchmarks (README "Benchmarks"): the smoke run also runs inside the test suite.
bench-smoke: install-dev
	$(PY) -m benchmarks.run --smoke --out bench-runs/smoke

bench: install-dev
	$(PY) -m benchmarks.run --corpus ../shared/corpora/bbc-news-2225.jsonl --out bench-runs/bbc --repeats 2

clean:
	rm -rf $(VENV) .newsdesk .mypy_cache .pytest_cache .ruff_cache

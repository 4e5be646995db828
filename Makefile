# The two quickstart commands: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

DEMO_FLOW := workflows/reactive_retention.rflow
DEMO_CASES := examples/reactive_retention.cases.yaml

# Lint the reference playbooks, then run one of them on its example cases. The example
# file holds one case with bad data on purpose, so `run` exits 1 there: that is expected.
demo: $(STAMP)
	@echo "== retainflow lint workflows"
	@$(BIN)/retainflow lint workflows
	@echo
	@echo "== retainflow run $(DEMO_FLOW) $(DEMO_CASES) --format text"
	@$(BIN)/retainflow run $(DEMO_FLOW) $(DEMO_CASES) --format text || test $$? -eq 1
	@mkdir -p out
	@$(BIN)/retainflow run $(DEMO_FLOW) $(DEMO_CASES) --format jsonl --out out/results.jsonl \
		|| test $$? -eq 1
	@$(BIN)/retainflow report out/results.jsonl --workflow $(DEMO_FLOW) --format html \
		--out out/report.html
	@echo
	@echo "== retention report: $(CURDIR)/out/report.html"

test: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/retainflow lint --strict workflows
	$(BIN)/retainflow fmt --check workflows
	$(BIN)/python -m pytest

format: $(DEV_STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache

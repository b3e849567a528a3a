# The two commands: `make demo` and `make test`. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck unit system-deps bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/activate
	$(PY) -m pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/patchwave demo $(DEMO_ARGS)

system-deps:
	./scripts/install-system-deps.sh

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src flows tasks tests bench
	$(BIN)/ruff format --check src flows tasks tests bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

test: $(VENV)/.installed-dev system-deps lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

unit: $(VENV)/.installed-dev
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

bench: $(VENV)/.installed
	for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf .patchwave .pytest_cache .mypy_cache .ruff_cache

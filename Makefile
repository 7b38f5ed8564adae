# The two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint soak bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/gsync demo

lint: $(BIN)/.installed
	$(BIN)/ruff check gsync tests
	$(BIN)/ruff format --check gsync tests
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q -m "not soak" -n auto

soak: $(BIN)/.installed
	$(BIN)/pytest -q -m soak

bench: $(BIN)/.installed
	$(BIN)/python -m bench --out bench/last-run.md --json bench/last-run.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist

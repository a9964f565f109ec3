# Two commands do all set-up on a fresh machine (Python >= 3.11 with venv):
#   make run   - install into .venv and open the reader on sample_data/
#   make test  - install into .venv (with test extras) and run the tests
#   make lint  - ruff, mypy --strict and the import contracts (run before every commit)
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: run test lint bench install install-test install-lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Each install ends by saying which search backend runs: the C accelerator, or
# Python/numpy and why (no C compiler: pip's warning is hidden by --quiet).
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@$(BIN)/reader --version

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@$(BIN)/reader --version

install-lint: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'

# The house rules: ruff's lints and format, mypy --strict (pyproject.toml), and the
# import contracts of .importlinter (the core never imports Textual; layers import down).
lint: install-lint
	$(BIN)/ruff check src tests benchmarks hatch_build.py
	$(BIN)/ruff format --check src tests benchmarks hatch_build.py
	$(BIN)/mypy src/reader
	$(BIN)/lint-imports

run: install
	$(BIN)/reader sample_data

test: install-test
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build dist

# make demo | make test | make lint | make clean
# The virtualenv is (re)installed only when pyproject.toml or constraints.txt change.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# simulators/ may not exist yet in a fresh clone; ruff fails on a missing path.
LINT_PATHS := $(wildcard hub tests simulators)

.PHONY: demo test lint clean

demo: $(STAMP)
	$(BIN)/hub demo

# -n auto: one worker per core (pytest-xdist); loadgroup keeps the shared-broker tests on one.
test: $(STAMP)
	$(BIN)/pytest -q -n auto --dist loadgroup --durations=25

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy hub

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find hub tests $(wildcard simulators) -name __pycache__ -type d -prune -exec rm -rf {} +

# The README's commands. `make demo` and `make test` work on a fresh clone with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_CUSTOMERS ?= 5000
DEMO_DAYS ?= 730

.PHONY: install demo test ui bench bench-smoke lint format lock clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "segmint needs Python 3.11+")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

install: $(STAMP)  ## create .venv and install the locked dependencies

demo: install  ## generate sample data, run the whole pipeline, print a summary
	$(BIN)/segmint generate --customers $(DEMO_CUSTOMERS) --days $(DEMO_DAYS) --out landing --past-exports
	$(BIN)/segmint run
	$(BIN)/segmint status

test: install  ## run the test suite
	$(BIN)/pytest

ui: install  ## Dagster UI on http://127.0.0.1:3000
	$(BIN)/segmint ui

bench: install  ## standard-scale benchmarks (not part of the tests)
	$(BIN)/python -m benchmarks

bench-smoke: install  ## the whole benchmark at a tiny scale (~3 min), so it cannot rot
	$(BIN)/pytest -m slow tests/benchmarks

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock:  ## re-resolve and pin every transitive dependency (setuptools too: dlt needs >=65.6)
	$(BIN)/pip freeze --all --exclude-editable | grep -v -e '^segmint' -e '^pip==' > requirements.lock

clean:
	rm -rf warehouse landing exports dbt_project/target dbt_project/logs
